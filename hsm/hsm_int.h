/* hsm internals, shared by the files of hsm/ only. */
#ifndef HSM_INT_H
#define HSM_INT_H

#include <pthread.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>

#include "hsm/hsm.h"

/* The modules a command searches: one by path, or p11-kit's registry. */
struct hsm_modset {
	CK_FUNCTION_LIST **registry; /* p11_kit_modules_load_and_initialize */
	CK_FUNCTION_LIST *single;    /* p11_kit_module_load */
	CK_FUNCTION_LIST **list;     /* what to search (NULL-terminated) */
	CK_FUNCTION_LIST *one[2];
	const char *hint_tokens; /* the caller's (hsm_conf), or NULL */
};

/*
 * SoftHSM's file object store is not safe when one thread creates objects
 * while another reads the store (SoftHSMv2 issue #573: C_GenerateKeyPair
 * then fails with CKR_GENERAL_ERROR). For such a token the sessions of one
 * process share this lock: making objects takes it exclusively, finding
 * keys and signing take it shared. Other tokens have none.
 */
struct hsm_share {
	pthread_rwlock_t lock;
	int refs;   /* the token and its forks; changed on one thread only */
	int serial; /* shared is exclusive too: one call at a time */
};
void hsm_lock_shared(struct hsm_share *sh); /* NULL-safe */
void hsm_lock_excl(struct hsm_share *sh);   /* NULL-safe */
void hsm_unlock(struct hsm_share *sh);      /* NULL-safe */

struct hsm_token {
	struct hsm_modset *mods;
	CK_FUNCTION_LIST *f;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE s;
	int have_session;
	struct hsm_share *sh; /* NULL: the token needs no lock */
	int rw;               /* the session is read-write */
	int forked;           /* hsm_token_fork: mods is the parent's */
	CK_TOKEN_INFO info;
	char label[33], serial[17];
	char *module_path; /* for URIs: module-path=, or */
	char *module_name; /* module-name= (hsm_module_ref) */
	char *uri;
	/* for hsm_token_restart: how it was opened, the PIN (locked
	 * memory, wiped at close), and what holds handles of it */
	P11KitUri *open_u;
	const struct hsm_conf *conf;
	int lg;
	struct kg_secret *pin;
	struct hsm_token *parent; /* a fork's */
	int forks;                /* open forks of this token */
	int keys;                 /* live hsm_keys of this session */
	/* hsm_mech_read: the token's mechanisms, asked once */
	CK_MECHANISM_TYPE *mechs;
	size_t nmechs;
	int mechs_read, mechs_known;
};

/* The user PIN the token (or the token it was forked from) logged in
 * with, or NULL (protected authentication path, no login). */
const struct kg_secret *hsm_token_pin(const struct hsm_token *t);

/*
 * hsm_mech.c: mechanisms asked of the token and the key.
 * hsm_mech_read: the token's list into t (once; a module that does not
 * support the call leaves mechs_known 0: everything is tried as asked).
 * hsm_mech_keygen_check: can t make and sign with the key g asks for?
 * KG_E_TOKEN naming the module and what it offers, before anything is
 * made.
 * hsm_mech_usable: the signing mechanisms (a mask over hsm_mech.c's
 * table) of a key of type that its CKA_ALLOWED_MECHANISMS (allowed_set)
 * and the token (token_known) both allow.
 * hsm_mech_pick: from usable, the raw mechanism, else the hashed one for
 * md_nid (*hashed = 1: C_Sign gets the message), PKCS#1 v1.5 or (pss)
 * RSASSA-PSS, else
 * CK_UNAVAILABLE_INFORMATION. hsm_mech_names: usable as names.
 */
enum kg_code hsm_mech_read(struct hsm_token *t, struct kg_err *err);
enum kg_code hsm_mech_keygen_check(struct hsm_token *t,
                                   const struct hsm_keygen *g,
                                   struct kg_err *err);
uint32_t hsm_mech_usable(enum hsm_key_type type,
                         const CK_MECHANISM_TYPE *allowed, size_t nallowed,
                         int allowed_set, const CK_MECHANISM_TYPE *token,
                         size_t ntoken, int token_known);
CK_MECHANISM_TYPE hsm_mech_pick(uint32_t usable, int md_nid, int pss,
                                int *hashed);
void hsm_mech_names(uint32_t usable, char *buf, size_t cap);
/* The file name of t's module, for messages ("libsofthsm2.so"). */
const char *hsm_module_name(const struct hsm_token *t);
/* The name of m ("CKM_ECDSA", else "CKM_0x..." in buf). */
const char *hsm_mech_name(CK_MECHANISM_TYPE m, char *buf, size_t cap);
/* v as "CKM_A,CKM_B" (malloc; NULL if out of memory). */
char *hsm_mech_list_str(const CK_MECHANISM_TYPE *v, size_t n);

/*
 * Starts t's module anew and opens the same token again (same serial),
 * logged in as before: for a module that keeps a token it could not read
 * broken for the rest of the process (SoftHSM2 under a parallel writer).
 * Every object handle of t is void after it, so it is refused
 * (KG_E_TOKEN) while t has forks or live keys. The module stays loaded:
 * if the token cannot be opened again, t holds no session and every
 * later call on it fails cleanly.
 */
enum kg_code hsm_token_restart(struct hsm_token *t, struct kg_err *err);

/*
 * hsm_template.c: the templates and mechanism of a new key pair under a
 * fresh temporary label ("keygate-new-<16 hex>"), every usage attribute
 * set true or false (g->usage, checked by hsm_usage_check first). The
 * attributes point into t itself: keep t in place while they are used; clear
 * it after.
 */
struct hsm_keygen_tmpl {
	CK_MECHANISM mech;
	CK_ATTRIBUTE pub[14], priv[14];
	CK_ULONG npub, npriv;
	CK_BBOOL yes, no, sens, extr;
	CK_BBOOL use[5]; /* by bit of HSM_USE_*: sign, decrypt, ... */
	unsigned usage;  /* what the key is to have */
	int lean;        /* the usages that are false left out */
	CK_ULONG bits;
	unsigned char *params; /* EC: the curve's OID, DER */
	char label[32];
};
enum kg_code hsm_keygen_tmpl_make(const struct hsm_keygen *g, int lean,
                                  struct hsm_keygen_tmpl *t,
                                  struct kg_err *err);
/*
 * A lean template leaves the false usages out, for a module that refuses
 * the full one (tpm2-pkcs11 fails an EC key with CKA_DECRYPT false): they
 * are then set false on the new pair, one by one. Returns the usages the
 * token kept true against usage (HSM_USE_*), 0 if none.
 */
unsigned hsm_keygen_usage_fix(struct hsm_token *t, CK_OBJECT_HANDLE priv,
                              CK_OBJECT_HANDLE pub, unsigned usage);
void hsm_keygen_tmpl_clear(struct hsm_keygen_tmpl *t);
/* The usage g asks for (its default resolved); KG_E_USAGE for one its
 * key type cannot have. */
enum kg_code hsm_usage_check(const struct hsm_keygen *g, unsigned *out,
                             struct kg_err *err);

/*
 * hsm_sigfmt.c: what a token signs and gives back, in X.509's forms.
 * hsm_sig_digest_info: the PKCS#1 v1.5 DigestInfo DER of hash h made with
 * md, for CKM_RSA_PKCS (*out: OPENSSL_free; its length, or -1).
 * hsm_sig_ecdsa_der: CKM_ECDSA's r || s (halves of equal length, at most
 * P-521's 2 x 66 bytes) as ECDSA-Sig-Value DER into out (cap bytes);
 * 1, or 0 (nothing written to *outlen) if it is not one or does not fit.
 */
int hsm_sig_digest_info(const EVP_MD *md, const unsigned char *h,
                        unsigned int hlen, unsigned char **out);
int hsm_sig_ecdsa_der(const unsigned char *raw, size_t rawlen,
                      unsigned char *out, size_t cap, size_t *outlen);

/* "; hint" from conf (NULL-safe), or "" */
const char *hsm_hint(const char *hint);

/* hsm_rv.c */
const char *hsm_rv_name(CK_RV rv);
/* Sets err from a failed PKCS#11 call: "fn on token 'x': CKR_... (hint)". */
enum kg_code hsm_rv_err(struct kg_err *err, CK_RV rv, const char *fn,
                        const char *label);
/* The same where no token is open yet: where says what was asked ("slot 3
 * of libsofthsm2.so"); label names the token for PIN messages. */
enum kg_code hsm_rv_err_at(struct kg_err *err, CK_RV rv, const char *fn,
                           const char *where, const char *label);

/*
 * Retrying. Some failures pass if the call is made again: SoftHSM2's
 * file store, read while another process writes it, fails a read now and
 * then (CKR_GENERAL_ERROR); pkcs11-tool fails the same way. A call that is
 * safe to repeat (enumeration, search, attribute reads, signing, session
 * open, login) loops:
 *
 *	int tries = 0;
 *	do
 *		rv = f->C_GetTokenInfo(slot, &ti);
 *	while (hsm_again(rv, &tries));
 *
 * hsm_again is 1 (after a short, growing, jittered sleep) while rv is
 * transient and tries are left: HSM_RETRIES, or KEYGATE_RETRIES (0-9).
 * Key generation is retried only where keygate proves nothing was made.
 */
#define HSM_RETRIES 9
/* Rescans for a token that read as blank (hsm_token.c): at most this. */
#define HSM_RESCANS 3
/* Starts anew of a module whose token could not be opened: at most. */
#define HSM_RESTARTS 4
/* ... of one where nothing matched but a token read as blank. */
#define HSM_RESTARTS_BLANK 2
int hsm_rv_transient(CK_RV rv);
int hsm_again(CK_RV rv, int *tries);
/* The pause before try n (0-based): 2^n ms and up to as much again. */
void hsm_pause(int n);

/*
 * hsm_trace.c: every PKCS#11 call goes through hsm_C_<Function>(f, ...),
 * which calls f->C_<Function> and traces it when hsm_trace_start gave a
 * sink. hsm_trace_note traces a call made elsewhere (C_Initialize and
 * C_Finalize, which p11-kit makes), started at hsm_trace_t0().
 */
int hsm_tracing(void);
double hsm_trace_t0(void);
void hsm_trace_note(CK_FUNCTION_LIST *f, const char *fn, CK_RV rv, double t0);
CK_RV hsm_C_GetInfo(CK_FUNCTION_LIST *f, CK_INFO *ci);
CK_RV hsm_C_GetSlotList(CK_FUNCTION_LIST *f, CK_BBOOL present, CK_SLOT_ID *v,
                        CK_ULONG *n);
CK_RV hsm_C_GetSlotInfo(CK_FUNCTION_LIST *f, CK_SLOT_ID slot,
                        CK_SLOT_INFO *si);
CK_RV hsm_C_GetTokenInfo(CK_FUNCTION_LIST *f, CK_SLOT_ID slot,
                         CK_TOKEN_INFO *ti);
CK_RV hsm_C_GetMechanismList(CK_FUNCTION_LIST *f, CK_SLOT_ID slot,
                             CK_MECHANISM_TYPE *v, CK_ULONG *n);
CK_RV hsm_C_GetMechanismInfo(CK_FUNCTION_LIST *f, CK_SLOT_ID slot,
                             CK_MECHANISM_TYPE m, CK_MECHANISM_INFO *mi);
CK_RV hsm_C_InitToken(CK_FUNCTION_LIST *f, CK_SLOT_ID slot, CK_UTF8CHAR *so,
                      CK_ULONG so_len, CK_UTF8CHAR *label);
CK_RV hsm_C_InitPIN(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_UTF8CHAR *pin,
                    CK_ULONG len);
CK_RV hsm_C_OpenSession(CK_FUNCTION_LIST *f, CK_SLOT_ID slot, CK_FLAGS flags,
                        void *app, CK_NOTIFY notify, CK_SESSION_HANDLE *s);
CK_RV hsm_C_CloseSession(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s);
CK_RV hsm_C_Login(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_USER_TYPE u,
                  CK_UTF8CHAR *pin, CK_ULONG len);
CK_RV hsm_C_Logout(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s);
CK_RV hsm_C_DestroyObject(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                          CK_OBJECT_HANDLE h);
CK_RV hsm_C_CreateObject(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                         CK_ATTRIBUTE *a, CK_ULONG n, CK_OBJECT_HANDLE *h);
CK_RV hsm_C_SetPIN(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                   CK_UTF8CHAR *old_pin, CK_ULONG old_len,
                   CK_UTF8CHAR *new_pin, CK_ULONG new_len);
CK_RV hsm_C_GetAttributeValue(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                              CK_OBJECT_HANDLE h, CK_ATTRIBUTE *a, CK_ULONG n);
CK_RV hsm_C_SetAttributeValue(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                              CK_OBJECT_HANDLE h, CK_ATTRIBUTE *a, CK_ULONG n);
CK_RV hsm_C_FindObjectsInit(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                            CK_ATTRIBUTE *a, CK_ULONG n);
CK_RV hsm_C_FindObjects(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                        CK_OBJECT_HANDLE *v, CK_ULONG max, CK_ULONG *got);
CK_RV hsm_C_FindObjectsFinal(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s);
CK_RV hsm_C_GenerateKeyPair(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                            CK_MECHANISM *m, CK_ATTRIBUTE *pub, CK_ULONG npub,
                            CK_ATTRIBUTE *priv, CK_ULONG npriv,
                            CK_OBJECT_HANDLE *hpub, CK_OBJECT_HANDLE *hpriv);
CK_RV hsm_C_SignInit(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_MECHANISM *m,
                     CK_OBJECT_HANDLE key);
CK_RV hsm_C_Sign(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_BYTE *in,
                 CK_ULONG inlen, CK_BYTE *out, CK_ULONG *outlen);

/* The object attributes of a parsed URI (label, id, and with_class its
 * type=) as a search template, borrowed from u: how many (at most 3). */
CK_ULONG hsm_uri_tmpl(P11KitUri *u, CK_ATTRIBUTE *tmpl, int with_class);

/* hsm_module.c */
enum kg_code hsm_modset_open(P11KitUri *uri, const struct hsm_conf *conf,
                             struct hsm_modset **out, struct kg_err *err);
void hsm_modset_close(struct hsm_modset *m);
/* The module's file name (new string, free()), or NULL. */
char *hsm_module_path(CK_FUNCTION_LIST *f);
/*
 * How printed URIs name module f of m: a module the user gave by path
 * by that path (*path); one found through p11-kit's registry by its
 * registry name (*name), so that its configuration (init arguments)
 * comes along when the URI is pasted back. One of them is set (free()).
 */
void hsm_module_ref(const struct hsm_modset *m, CK_FUNCTION_LIST *f,
                    char **path, char **name);
/* Copies a blank-padded PKCS#11 string into a NUL-terminated one. */
void hsm_pad_copy(char *dst, const CK_UTF8CHAR *src, size_t n);

/* hsm_uri.c */
/* Parses a pkcs11: URI; bad syntax is KG_E_USAGE. Free with p11_kit_uri_free.
 */
enum kg_code hsm_uri_parse(const char *s, P11KitUri **out, struct kg_err *err);
/* p11_kit_uri_free that first wipes the URI's pin-value. NULL-safe. */
void hsm_uri_free(P11KitUri *u);
/*
 * Formats a URI for a token (ti), optionally an object (label, id, class;
 * cls == (CK_OBJECT_CLASS)-1 for none) and its module: module-path= if
 * module_path, else module-name= if module_name. *out: free().
 */
enum kg_code hsm_uri_build(const CK_TOKEN_INFO *ti, const char *module_path,
                           const char *module_name, const char *label,
                           const unsigned char *id, size_t id_len,
                           CK_OBJECT_CLASS cls, char **out,
                           struct kg_err *err);

/* hsm_prov.c: the EVP_PKEY bridge */
struct hsm_signer {
	CK_FUNCTION_LIST *f;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE obj;
	enum hsm_key_type type;
	int bits;
	const unsigned char *spki; /* DER SubjectPublicKeyInfo */
	size_t spki_len;
	const unsigned char *pa, *pb; /* RSA n and e, or the EC point */
	size_t pa_len, pb_len;
	int curve_nid;
	const char *label; /* for messages */
	const char *token; /* the token's label, for messages */
	struct hsm_share *sh;
	uint32_t usable; /* hsm_mech_usable */
	/* CKA_ALWAYS_AUTHENTICATE: a C_Login(CKU_CONTEXT_SPECIFIC) with pin
	 * (borrowed from the token; NULL: a protected path) per signature */
	int always_auth;
	const struct kg_secret *pin;
};
enum kg_code hsm_prov_pkey(const struct hsm_signer *sg, EVP_PKEY **out,
                           struct kg_err *err);

/* hsm_key.c: a private key on an open token */
struct hsm_key {
	struct hsm_token *t; /* borrowed */
	CK_OBJECT_HANDLE priv;
	struct hsm_key_info info;
	unsigned char *spki; /* SubjectPublicKeyInfo DER */
	size_t spki_len;
	unsigned char *pa, *pb; /* RSA n and e, or the EC point */
	size_t pa_len, pb_len;
	int curve_nid;
	/* CKA_ALLOWED_MECHANISMS (allowed_set 0: the key did not say) */
	CK_MECHANISM_TYPE *allowed;
	size_t nallowed;
	int allowed_set;
};

/*
 * Describes private key h: info always; with k (whose info is info) also
 * the public key that signing needs. known_pub: the public key object if
 * known (no search), else CK_INVALID_HANDLE.
 */
enum kg_code hsm_key_describe_obj(struct hsm_token *t, CK_OBJECT_HANDLE h,
                                  struct hsm_key_info *info, struct hsm_key *k,
                                  CK_OBJECT_HANDLE known_pub,
                                  struct kg_err *err);

/* CKA_SENSITIVE and CKA_EXTRACTABLE of key h, each read alone (NSS's
 * softokn answers CKA_SENSITIVE otherwise in a read of several). */
enum kg_code hsm_key_flags_alone(struct hsm_token *t, CK_OBJECT_HANDLE h,
                                 int *sensitive, int *extractable,
                                 struct kg_err *err);

/* hsm_obj.c: attributes and searches */
/*
 * Reads attrs in two calls however many there are (lengths, then values).
 * Every pValue is allocated (free() each, NUL-terminated); one the token
 * withholds or does not know is NULL with ulValueLen
 * CK_UNAVAILABLE_INFORMATION. Transient failures are retried; on failure
 * every pValue is NULL.
 */
CK_RV hsm_obj_attrs(struct hsm_token *t, CK_OBJECT_HANDLE h,
                    CK_ATTRIBUTE *attrs, CK_ULONG n);
/* One CK_ULONG attribute (a missing one: CKR_ATTRIBUTE_TYPE_INVALID). */
CK_RV hsm_obj_ulong(struct hsm_token *t, CK_OBJECT_HANDLE h,
                    CK_ATTRIBUTE_TYPE type, CK_ULONG *out);
/* One variable-length attribute. *buf: free(); NUL-terminated. */
CK_RV hsm_obj_var(struct hsm_token *t, CK_OBJECT_HANDLE h,
                  CK_ATTRIBUTE_TYPE type, unsigned char **buf, size_t *len);
/* A CK_BBOOL attribute read by hsm_obj_attrs: 1, 0, or -1 unknown. */
int hsm_attr_bool(const CK_ATTRIBUTE *a);
/* All objects matching tmpl. *out: free(). */
enum kg_code hsm_obj_find(struct hsm_token *t, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                          CK_OBJECT_HANDLE **out, size_t *count,
                          struct kg_err *err);
/* Objects of class cls matching the object part of uri (label, id). */
enum kg_code hsm_obj_find_uri(struct hsm_token *t, CK_OBJECT_CLASS cls,
                              const char *uri, CK_OBJECT_HANDLE **out,
                              size_t *n, struct kg_err *err);

/* hsm_ec.c */
/* The point in a CKA_EC_POINT value (DER OCTET STRING, or raw). */
int hsm_ec_point(const unsigned char *v, size_t len, size_t want,
                 const unsigned char **pt, size_t *ptlen);
/* The curve NID of CKA_EC_PARAMS (a named curve), or NID_undef. */
int hsm_ec_curve(const unsigned char *der, size_t len);
/* The field size of a curve keygate supports, or 0 (Ed25519: 256,
 * Ed448: 456, as OpenSSL 3.0 counts them). */
int hsm_ec_bits(int nid);
/* The public key size of an Edwards curve (32, 57), or 0. */
size_t hsm_ed_len(int nid);

#endif
