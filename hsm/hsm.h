/*
 * hsm: everything that talks to a PKCS#11 module. Modules come from p11-kit
 * (by path or from its registry), objects are named by RFC 7512 URIs, and a
 * token key is handed to engine/ as an ordinary EVP_PKEY that signs on the
 * token (hsm_prov.c). No printing, no exit(): results and kg_err only.
 */
#ifndef HSM_H
#define HSM_H

#include <stddef.h>

#include <openssl/evp.h>

#include "common/kg_err.h"

struct kg_secret;

struct hsm_token; /* a token with an open session; body in hsm_token.c */
struct hsm_key;   /* a private key on an open token; body in hsm_key.c */

/* Where modules and PINs come from, beyond what a URI says. */
/*
 * What the caller tells hsm/ of its environment: hsm/ reads no
 * environment variable and prompts on no terminal itself.
 */
struct hsm_conf {
	const char *module; /* --module, else KEYGATE_MODULE; may be NULL */
	const char *pin_source; /* --pin-source; may be NULL */
	const char *pin;    /* a PIN given as is (KEYGATE_PIN); may be NULL */
	const char *so_pin; /* the same for the SO PIN (KEYGATE_SO_PIN) */
	/* asks for a secret on a terminal ("PIN for token 'ci'"); NULL: no
	 * prompt can be made */
	enum kg_code (*prompt)(const char *what, struct kg_secret **out,
	                       struct kg_err *err);
	/* warnings (pin-value in a URI, ...); may be NULL */
	void (*warn)(void *arg, const char *msg);
	void *warn_arg;
	/*
	 * What to do, in the caller's words, added to a message after "; ":
	 * how to give a PIN, an SO PIN, a module; where to see a token's
	 * keys (followed by the token's URI); how to replace a key; where to
	 * see the tokens there are. NULL: nothing.
	 */
	const char *hint_pin, *hint_so_pin, *hint_module, *hint_keys,
	        *hint_replace, *hint_tokens;
};

/*
 * Start-up, before any thread: how many times a transient PKCS#11
 * failure is tried again (0-9; HSM_RETRIES by default).
 */
void hsm_set_retries(int n);
/*
 * Start-up, before any thread: every PKCS#11 call is traced as one line
 * (module, function, handles, mechanism, attribute types, CKR,
 * milliseconds; never a PIN or key material) handed to fn. NULL: off.
 */
void hsm_trace_start(void (*fn)(void *arg, const char *line), void *arg);

/* ---- token list ------------------------------------------------------ */

struct hsm_slot_info {
	char *module;       /* module path or registry name (owned) */
	int module_by_name; /* module is p11-kit's registry name */
	char *module_desc;  /* library description (owned) */
	unsigned long slot_id;
	char *slot_desc; /* owned */
	int has_token;
	/* the rest only when has_token */
	char *uri; /* owned; pastes back into --token */
	char label[33], manufacturer[33], model[17], serial[17];
	int initialized, login_required, user_pin_initialized, write_protected;
	int pin_locked, pin_count_low, protected_auth_path;
};

/*
 * Every slot of every module the conf selects (or the p11-kit registry).
 * On success *out is a new array of *n entries; free with
 * hsm_slot_info_free().
 */
enum kg_code hsm_token_list(const struct hsm_conf *conf,
                            struct hsm_slot_info **out, size_t *n,
                            struct kg_err *err);
void hsm_slot_info_free(struct hsm_slot_info *s, size_t n);

/* ---- open a token ---------------------------------------------------- */

/* How to open a token: flags, or'ed. */
enum hsm_login {
	HSM_NO_LOGIN = 0,
	HSM_LOGIN_USER = 1, /* log the user in (the PIN from its sources) */
	HSM_RW = 2,         /* a read-write session: only to make objects */
};

/*
 * Opens a session on the one token that uri names (a pkcs11: URI; object
 * attributes in it are ignored here). No match or two matches are
 * KG_E_TOKEN; two matches list both URIs. login is enum hsm_login flags:
 * with HSM_LOGIN_USER the PIN is taken from its sources (SPEC order) and
 * kept in locked memory until hsm_token_close (a module that must be
 * started anew mid-command needs it again); HSM_RW opens a read-write
 * session.
 * On success *out is new; close with hsm_token_close().
 */
enum kg_code hsm_token_open(const char *uri, const struct hsm_conf *conf,
                            int login, struct hsm_token **out,
                            struct kg_err *err);
void hsm_token_close(struct hsm_token *t); /* NULL-safe */

/*
 * Another session on t's token, for another thread: the same module and
 * the same login (PKCS#11 logs in the application, not the session), read-
 * write if t's is. Each session must be used by one thread at a time.
 * Close with hsm_token_close() before t. A token that allows no more
 * sessions gives KG_E_TOKEN (CKR_SESSION_COUNT).
 */
enum kg_code hsm_token_fork(struct hsm_token *t, struct hsm_token **out,
                            struct kg_err *err);

/* Borrowed, valid until hsm_token_close(). */
const char *hsm_token_label(const struct hsm_token *t);
const char *hsm_token_serial(const struct hsm_token *t);
const char *hsm_token_uri(const struct hsm_token *t);

/*
 * Initialises a token: C_InitToken with the SO PIN, then C_InitPIN with the
 * user PIN. uri picks the slot (NULL: the only uninitialised token). The
 * user PIN comes from the usual sources, the SO PIN from so_pin_source or
 * KEYGATE_SO_PIN. On success *uri_out is the new token's URI (caller
 * frees with free()).
 */
enum kg_code hsm_token_init(const char *uri, const char *label,
                            const char *so_pin_source,
                            const struct hsm_conf *conf, char **uri_out,
                            struct kg_err *err);

/*
 * Writes DIR/softhsm2.conf and DIR/tokens for a private SoftHSM2 token
 * store. On success *conf_out is the absolute path of the config (caller
 * frees with free()); pointing the process at it (SOFTHSM2_CONF) is the
 * caller's.
 */
enum kg_code hsm_softhsm_prepare(const char *dir, char **conf_out,
                                 struct kg_err *err);

/* The SoftHSM2 module path on this system, or NULL. Borrowed. */
const char *hsm_softhsm_module(void);

/* ---- keys ------------------------------------------------------------ */

enum hsm_key_type { HSM_KEY_RSA = 1, HSM_KEY_EC = 2, HSM_KEY_ED = 3 };

/*
 * What a private key may be used for (its CKA_SIGN, CKA_DECRYPT, ...);
 * the public half of a new key gets the matching verify, encrypt, wrap and
 * verify-recover. HSM_USE_DEFAULT: what the SPEC says (sign; RSA also
 * decrypt).
 */
enum {
	HSM_USE_SIGN = 1 << 0,
	HSM_USE_DECRYPT = 1 << 1,
	HSM_USE_UNWRAP = 1 << 2,
	HSM_USE_DERIVE = 1 << 3,
	HSM_USE_SIGN_RECOVER = 1 << 4,
	HSM_USE_ALL = (1 << 5) - 1,
	HSM_USE_DEFAULT = 0
};
/* "sign,decrypt,..." into a mask; KG_E_USAGE naming a bad word. */
enum kg_code hsm_usage_parse(const char *s, unsigned *out, struct kg_err *err);
/* The usages a key of this type may be given (RSA: no derive; EC: no
 * decrypt, unwrap or sign-recover), and the default. */
unsigned hsm_usage_allowed(enum hsm_key_type type);
unsigned hsm_usage_default(enum hsm_key_type type);
/* The mask as "sign,decrypt" into buf (cap bytes). */
void hsm_usage_str(unsigned mask, char *buf, size_t cap);

struct hsm_keygen {
	enum hsm_key_type type;
	int bits;                /* RSA modulus bits */
	int curve_nid;           /* EC: NID_X9_62_prime256v1, ... */
	const char *label;       /* required */
	const unsigned char *id; /* NULL: SHA-1 of modulus or EC point */
	size_t id_len;
	int exportable; /* sensitive=false, extractable=true */
	unsigned usage; /* HSM_USE_*; HSM_USE_DEFAULT: the SPEC's */
	int force;      /* replace keys already holding the label */
	/* the caller has made sure no key holds the label (a batch checks
	 * all its labels with one hsm_key_list): no search per key */
	int label_checked;
};

/* A key's description, as key list / key show print it. */
struct hsm_key_info {
	char *uri;   /* owned */
	char *label; /* owned */
	unsigned char id[64];
	size_t id_len;
	enum hsm_key_type type;
	int bits;          /* RSA modulus bits, EC field bits */
	const char *curve; /* "P-256", ... or NULL (static) */
	/* attributes of the private key: 1 true, 0 false, -1 unknown */
	int sensitive, extractable, always_sensitive, never_extractable;
	int local, can_sign;
	int always_auth;      /* CKA_ALWAYS_AUTHENTICATE: 1, 0, -1 */
	unsigned usage;       /* HSM_USE_* the token says are true */
	unsigned usage_known; /* HSM_USE_* the token answered for */
	/* key gen: usages the token gave the new key beyond those asked
	 * for, and would not take back (HSM_USE_*) */
	unsigned usage_extra;
	/* key gen --force: the old key's certificates, retired with it (their
	 * URIs, newline-separated), or NULL (owned) */
	char *retired;
	/* CKA_ALLOWED_MECHANISMS as names ("CKM_ECDSA_SHA256,..."), or NULL
	 * when the key may use any mechanism (owned) */
	char *allowed;
};
void hsm_key_info_clear(struct hsm_key_info *k);

/*
 * Generates a key pair on t as g says. On success *out describes the new
 * private key. On failure nothing is left on the token.
 */
enum kg_code hsm_key_gen(struct hsm_token *t, const struct hsm_keygen *g,
                         struct hsm_key_info *out, struct kg_err *err);

/* hsm_key_gen that also opens the new key (*key: hsm_key_free), without
 * searching the token for it. */
enum kg_code hsm_key_gen_open(struct hsm_token *t, const struct hsm_keygen *g,
                              struct hsm_key_info *out, struct hsm_key **key,
                              struct kg_err *err);

/*
 * The private keys on t that match uri's object attributes (label, id;
 * NULL or none: all). *out is a new array of *n; free with
 * hsm_key_info_free_array().
 */
enum kg_code hsm_key_list(struct hsm_token *t, const char *uri,
                          struct hsm_key_info **out, size_t *n,
                          struct kg_err *err);
void hsm_key_info_free_array(struct hsm_key_info *k, size_t n);

/*
 * Finds the one private key on t that uri names. None or two are
 * KG_E_TOKEN (two list both URIs). On success *out is new; free with
 * hsm_key_free() before hsm_token_close().
 */
enum kg_code hsm_key_find(struct hsm_token *t, const char *uri,
                          struct hsm_key **out, struct kg_err *err);
void hsm_key_free(struct hsm_key *k); /* NULL-safe */

/* Borrowed, valid until hsm_key_free(). */
const struct hsm_key_info *hsm_key_describe(const struct hsm_key *k);
/* The key's public half as a software EVP_PKEY (new), whatever the key
 * may do: for `key pubkey` and for pairing a certificate with its key. */
enum kg_code hsm_key_public(const struct hsm_key *k, EVP_PKEY **out,
                            struct kg_err *err);

/*
 * The key as an EVP_PKEY whose signatures are made by C_Sign on the token;
 * its public half is the token's public key. On success *out is new (free
 * with EVP_PKEY_free(), before hsm_token_close()).
 */
enum kg_code hsm_key_pkey(struct hsm_key *k, EVP_PKEY **out,
                          struct kg_err *err);

/*
 * Reads the private key out of the token (its components, with
 * C_GetAttributeValue) as a software EVP_PKEY. Only for keys the export
 * gate has passed; a sensitive key is refused by the token (KG_E_TOKEN).
 * Every buffer that held a component is wiped. *out: EVP_PKEY_free().
 */
enum kg_code hsm_key_export(struct hsm_key *k, EVP_PKEY **out,
                            struct kg_err *err);
/* A refusal by the token at read-out (CKR_ATTRIBUTE_SENSITIVE) is
 * KG_REFUSED: the key is not exportable, whatever its flags said. */

/* CKA_SENSITIVE and CKA_EXTRACTABLE read afresh, each alone, for the
 * export gate (1, 0, or -1 unknown). */
enum kg_code hsm_key_export_flags(struct hsm_key *k, int *sensitive,
                                  int *extractable, struct kg_err *err);

/* A certificate object on a token. */
struct hsm_cert {
	unsigned char *der; /* CKA_VALUE (owned) */
	size_t der_len;
	char *label; /* owned, may be NULL */
	char *uri;   /* owned */
};

/*
 * The certificate objects on t matching uri's label/id (none: all). No
 * login is needed for public objects. *out: hsm_cert_free_array(). An
 * entry whose value the token withholds has der NULL.
 */
enum kg_code hsm_cert_list(struct hsm_token *t, const char *uri,
                           struct hsm_cert **out, size_t *n,
                           struct kg_err *err);
void hsm_cert_free_array(struct hsm_cert *c, size_t n);

/* What hsm_cert_import writes: the DER of the certificate and of its
 * subject, issuer and serial number (CKA_SUBJECT, _ISSUER,
 * _SERIAL_NUMBER), the label and the CKA_ID of the key it pairs with
 * (id_len 0: none). */
struct hsm_cert_new {
	const unsigned char *der, *subject, *issuer, *serial;
	size_t der_len, subject_len, issuer_len, serial_len;
	const char *label;
	const unsigned char *id;
	size_t id_len;
};

/*
 * A certificate object on t (read-write session, logged in): a token,
 * public, X.509 object. Refused (KG_REFUSED, naming its URI) when the
 * same certificate or another certificate with the label is on the token
 * already. *uri: the new object's URI (free()).
 */
enum kg_code hsm_cert_import(struct hsm_token *t, const struct hsm_cert_new *c,
                             char **uri, struct kg_err *err);

/* ---- PINs (hsm_pin.c) ------------------------------------------------ */

/*
 * C_SetPIN on t (opened read-write). The user's: t logged in as the user,
 * the old PIN the one it logged in with. The SO's (so): t not logged in,
 * so_pin the old SO PIN. new_pin NULL on a protected authentication path.
 */
enum kg_code hsm_pin_change(struct hsm_token *t, int so,
                            const struct kg_secret *so_pin,
                            const struct kg_secret *new_pin, int *unsure,
                            struct kg_err *err);
/* The SO sets a new user PIN (C_InitPIN); t read-write, not logged in.
 * Both: *unsure when a failure leaves open whether the token took the new
 * PIN (a device error mid-call): the message says to try the new one. */
enum kg_code hsm_pin_unblock(struct hsm_token *t,
                             const struct kg_secret *so_pin,
                             const struct kg_secret *new_pin, int *unsure,
                             struct kg_err *err);
/* Does t's token read PINs on its own pad (no PIN from the host)? */
int hsm_token_pinpad(const struct hsm_token *t);

/* ---- every object (hsm_objlist.c, hsm_delete.c) --------------------- */

enum hsm_class {
	HSM_CLASS_PRIVATE,
	HSM_CLASS_PUBLIC,
	HSM_CLASS_SECRET,
	HSM_CLASS_CERT,
	HSM_CLASS_DATA,
	HSM_CLASS_OTHER,
};
/* "private", "public", "secret", "cert", "data", "other" */
const char *hsm_class_name(enum hsm_class c);
/* The class a name of hsm_class_name means; -1 for none. */
int hsm_class_parse(const char *name);
/* The class a URI's type= names; -1 for none (or a bad URI). */
int hsm_uri_class(const char *uri);

struct hsm_object {
	enum hsm_class cls;
	char *label; /* owned, or NULL */
	unsigned char *id;
	size_t id_len;
	const char *type;     /* "RSA", "EC", "EdDSA", "AES", "X.509", ... or
	                         NULL (static) */
	char *uri;            /* owned */
	unsigned long handle; /* valid while the session is open */
	/* the object it pairs with by CKA_ID: a private key's certificate,
	 * a certificate's private key, a public key's private key; -1 */
	long pair;
};

/*
 * The objects on t that uri's object attributes select (label, id, type;
 * none: all), of class cls only unless cls is -1. Pairs found by CKA_ID.
 * *out: hsm_object_free_array().
 */
enum kg_code hsm_object_list(struct hsm_token *t, const char *uri, int cls,
                             struct hsm_object **out, size_t *n,
                             struct kg_err *err);
void hsm_object_free_array(struct hsm_object *o, size_t n);

/*
 * Destroys o (read-write session). An object already gone counts as
 * destroyed; a transient failure is tried again after asking the token
 * whether the object is still there.
 */
enum kg_code hsm_object_delete(struct hsm_token *t, const struct hsm_object *o,
                               struct kg_err *err);

/* ---- URIs (hsm_uri.c) ----------------------------------------------- */

/*
 * Normalises a pkcs11: URI: parses it with p11-kit and prints it again.
 * Bad syntax is KG_E_USAGE naming what is wrong. *out: free with free().
 */
enum kg_code hsm_uri_normalize(const char *uri, char **out,
                               struct kg_err *err);

/* pkcs11:token=LABEL, percent-encoded as RFC 7512 wants. *out: free(). */
enum kg_code hsm_uri_for_label(const char *label, char **out,
                               struct kg_err *err);

/* 1 if s is a pkcs11: URI (the scheme, case-insensitive), else 0. */
int hsm_is_uri(const char *s);
/* Does a pkcs11: URI name an object (object=, id= or type=)? */
int hsm_uri_names_object(const char *uri);

#endif
