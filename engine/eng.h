/*
 * engine: the decisions. Builds and checks X.509 objects with OpenSSL only;
 * knows nothing of argv, output formats or PKCS#11. A signing key is any
 * EVP_PKEY: a software key and a token key take the same path.
 */
#ifndef ENG_H
#define ENG_H

#include <stddef.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/kg_err.h"

/* ---- names (eng_name.c) ---------------------------------------------- */

/*
 * Parses a distinguished name. Two forms:
 *   "CN=api.example.com,O=Example"  RFC 4514: most specific first, so the
 *                                   encoded order is reversed; "+" joins
 *                                   a multi-valued RDN;
 *   "/O=Example/CN=api.example.com" OpenSSL's -subj: in encoded order.
 * Backslash escapes the next character ("\,") or two hex digits ("\2C").
 * Attribute names are OpenSSL's (CN, O, OU, C, ST, L, emailAddress, DC,
 * ...; any case) or dotted OIDs. On success *out is new (X509_NAME_free).
 */
enum kg_code eng_dn_parse(const char *dn, X509_NAME **out, struct kg_err *err);

/*
 * Parses "DNS:a.example,IP:10.0.0.1,email:x@y.example,URI:https://..."
 * (type prefixes are case-insensitive; a bare entry is an IP address if
 * it parses as one, else a DNS name). Every entry is validated. On
 * success *out is new (GENERAL_NAMES_free).
 */
enum kg_code eng_san_parse(const char *list, GENERAL_NAMES **out,
                           struct kg_err *err);

/* A DNS name as a certificate may carry it (LDH labels, "*." first). */
int eng_is_dns_name(const char *s, int allow_wildcard);
/* A domain name: a DNS name of two labels or more. */
int eng_is_domain(const char *s);

/*
 * 1 if s[0..n) is well-formed UTF-8 with no NUL and no C0 or C1 control
 * character (what a DN value or SAN entry may hold), else 0.
 */
int eng_text_ok(const char *s, size_t n);

/*
 * s made safe to echo in a message: control bytes, backslashes and invalid
 * UTF-8 as \xNN, cut with "..." to fit cap. Returns out.
 */
const char *eng_text_shown(const char *s, char *out, size_t cap);
/* An IPv4 or IPv6 address literal. */
int eng_is_ip(const char *s);

/*
 * The SAN a request gets when none was given: the CN if it is a domain
 * name or an IP address, else none (*out = NULL).
 */
enum kg_code eng_san_from_cn(const X509_NAME *subject, GENERAL_NAMES **out,
                             struct kg_err *err);

/* ---- signing (eng_sign.c) -------------------------------------------- */

enum eng_profile {
	ENG_PROFILE_SERVER,
	ENG_PROFILE_CLIENT,
	ENG_PROFILE_CA,
	ENG_PROFILE_INTERMEDIATE, /* CA:TRUE, pathlen 0, issued by a CA */
};

enum kg_code eng_profile_parse(const char *s, enum eng_profile *out,
                               struct kg_err *err);
const char *eng_profile_name(enum eng_profile p);
int eng_profile_default_days(enum eng_profile p);

/* "sha256" (default for NULL), "sha384", "sha512". Borrowed EVP_MD. */
enum kg_code eng_digest(const char *name, const EVP_MD **out,
                        struct kg_err *err);

struct eng_request {
	const X509_NAME *subject;
	const GENERAL_NAMES *san; /* NULL: from the CN when it is a domain */
	const EVP_MD *md;
	int pss; /* RSASSA-PSS (salt = digest length, MGF1 with md) */
};

/* --sig-alg: "pkcs1" (default for NULL) or "rsa-pss" into *pss. */
enum kg_code eng_sig_alg_parse(const char *s, int *pss, struct kg_err *err);

/*
 * A PKCS#10 request for key, signed by key. The signature is checked
 * against the request's own public key before it is returned. On success
 * *out is new (X509_REQ_free).
 */
enum kg_code eng_csr_build(const struct eng_request *r, EVP_PKEY *key,
                           X509_REQ **out, struct kg_err *err);

/*
 * A self-signed X.509 v3 certificate: profile extensions, SKI/AKI, a 128-bit
 * random serial, valid from now for days. Checked like eng_csr_build.
 */
enum kg_code eng_cert_selfsign(const struct eng_request *r,
                               enum eng_profile profile, int days, time_t now,
                               EVP_PKEY *key, X509 **out, struct kg_err *err);

/*
 * A PKCS#10 request as cert sign reads it (eng_csr.c): its key is kept as
 * it came and imported, not decoded (OpenSSL 3.0's decoder set-up costs
 * more than a token's ECDSA signature). RSA and EC keys only.
 */
struct eng_csr;
/* From PEM or DER; anything else, or another key type, is KG_REFUSED. */
enum kg_code eng_csr_parse(const unsigned char *buf, size_t len,
                           const char *name, struct eng_csr **out,
                           struct kg_err *err);
void eng_csr_free(struct eng_csr *c); /* NULL-safe */
const X509_NAME *eng_csr_subject(const struct eng_csr *c);
const X509_PUBKEY *eng_csr_spki(const struct eng_csr *c);
EVP_PKEY *eng_csr_pubkey(const struct eng_csr *c);
/* Its extensionRequest, or NULL. */
const STACK_OF(X509_EXTENSION) * eng_csr_extensions(const struct eng_csr *c);
/* 1 if its signature verifies with its own key over the bytes received. */
int eng_csr_verify(const struct eng_csr *c);

/* What cert sign needs: a request, the CA, and the profile. */
struct eng_issue {
	const struct eng_csr *csr;
	X509 *ca_cert;
	EVP_PKEY *ca_key;         /* a token key or a software key */
	enum eng_profile profile; /* server, client or intermediate */
	int days;
	time_t now;
	const X509_NAME *subject; /* override, or NULL: the request's */
	const GENERAL_NAMES *san; /* override, or NULL: the request's */
	int copy_extensions;      /* copy the request's other extensions */
	const EVP_MD *md;
	int pss;     /* RSASSA-PSS, as eng_request's */
	int *capped; /* may be NULL: set when --days met the CA's notAfter */
	int ca_checked; /* eng_issuer_check passed: not again per request */
};

/*
 * What does not change from one request to the next: the CA key is the CA
 * certificate's, the CA certificate is a CA and valid at in->now, and the
 * profile is one cert sign issues. A batch checks once and sets
 * ca_checked; eng_cert_issue checks otherwise.
 */
enum kg_code eng_issuer_check(const struct eng_issue *in, struct kg_err *err);

/*
 * Issues a certificate from a request, as an offline CA does: the
 * request's signature is checked first (KG_REFUSED if it fails), the CA
 * key must be the CA certificate's and the CA valid now, a server or
 * client profile refuses a request for CA:TRUE, and the validity is cut at
 * the CA's own notAfter. 128-bit random serial, SKI/AKI. *out: X509_free.
 */
enum kg_code eng_cert_issue(const struct eng_issue *in, X509 **out,
                            struct kg_err *err);

/*
 * A signing context for key (eng_sign.c): md (none for EdDSA), RSASSA-PSS
 * when pss. For whatever else engine/ signs (eng_crl.c). *out:
 * EVP_MD_CTX_free.
 */
enum kg_code eng_sign_ctx(EVP_PKEY *key, const EVP_MD *md, int pss,
                          EVP_MD_CTX **out, struct kg_err *err);

/* ---- revocation (eng_crl.c) ------------------------------------------ */

/*
 * A CRLReason (RFC 5280 5.3.1) by name, case-insensitively, as openssl ca
 * -crl_reason takes them: unspecified, keyCompromise, cACompromise,
 * affiliationChanged, superseded, cessationOfOperation,
 * privilegeWithdrawn. NULL is unspecified. certificateHold is refused: a
 * hold is lifted by removeFromCRL, which keygate does not do.
 * *out is OpenSSL's CRL_REASON_* value.
 */
enum kg_code eng_crl_reason_parse(const char *s, int *out, struct kg_err *err);
/* The RFC 5280 name of a reason code, or NULL. */
const char *eng_crl_reason_name(int reason);

/*
 * Can this CA key and certificate sign CRLs: the key is the certificate's
 * (KG_REFUSED otherwise, before anything is signed), the certificate is a
 * CA, and its key usage (if any) allows cRLSign.
 */
enum kg_code eng_crl_ca_check(X509 *ca_cert, EVP_PKEY *ca_key,
                              struct kg_err *err);

struct eng_crl_entry {
	const char *serial; /* hex, as kg_cadb_serial gives it */
	int reason;         /* CRL_REASON_*; unspecified: no extension */
	time_t revoked;
};

struct eng_crl_req {
	X509 *ca_cert;
	EVP_PKEY *ca_key; /* a token key or a software key */
	const struct eng_crl_entry *entries;
	size_t n;
	unsigned long long number; /* the cRLNumber, >= 1 */
	time_t this_update;
	int days; /* nextUpdate = thisUpdate + days */
	const EVP_MD *md;
	int pss;
};

/*
 * A v2 CRL: issuer the CA's subject, thisUpdate, nextUpdate, each entry
 * with its revocation date and (unless unspecified) reasonCode, sorted by
 * serial; extensions authorityKeyIdentifier (the CA's subject key id) and
 * cRLNumber. Signed with ca_key, then verified with the CA certificate's
 * public key before it is returned. *out: X509_CRL_free.
 */
enum kg_code eng_crl_build(const struct eng_crl_req *r, X509_CRL **out,
                           struct kg_err *err);

/*
 * A CA's identity in the audit log: the SHA-256 of its public key's
 * SubjectPublicKeyInfo DER, lower-case hex, into out. Of a certificate's
 * key, or of a key (software or token, as kg_pub_from_pkey reads it):
 * equal when eng_crl_ca_check passes. 1, or 0 on failure.
 */
int eng_spki_sha256(const X509_PUBKEY *p, char out[65]);
int eng_key_spki_sha256(const EVP_PKEY *k, char out[65]);

/* PEM of a CRL into a new buffer (OPENSSL_free). */
enum kg_code eng_pem_crl(X509_CRL *crl, char **out, size_t *len,
                         struct kg_err *err);

/* ---- keys (eng_show.c) ----------------------------------------------- */

/*
 * Loads a private key from PEM or DER bytes. An encrypted key needs pass
 * (NULL: the key is refused as encrypted, KG_E_USAGE, never a prompt).
 * On success *out is new (EVP_PKEY_free).
 */
enum kg_code eng_key_load(const unsigned char *buf, size_t len,
                          const char *name, const char *pass, EVP_PKEY **out,
                          struct kg_err *err);

/*
 * Bounds on the work an encrypted key's own parameters ask of its reader
 * (eng_kdf.c): openssl writes 2 048 PBKDF2 iterations (OWASP asks 600 000)
 * and scrypt N=16384 r=8 p=1 (work 2^17, 16 MiB).
 */
#define ENG_KDF_MAX_ITER        10000000ull
#define ENG_KDF_MAX_SCRYPT_WORK (1ull << 24)
#define ENG_KDF_MAX_SCRYPT_MEM  (256ull << 20)

/*
 * Checks every EncryptedPrivateKeyInfo in buf (PEM blocks or DER) against
 * those bounds before anything is derived: one beyond them is KG_E_USAGE,
 * naming the parameter, its value and the bound. Anything else is KG_OK
 * (what is not an encrypted key is the decoder's to refuse).
 */
enum kg_code eng_key_kdf_check(const unsigned char *buf, size_t len,
                               const char *name, struct kg_err *err);

/* 1 if buf is a PEM encrypted private key (PKCS#8 or Proc-Type). */
int eng_key_encrypted(const unsigned char *buf, size_t len);

/* "RSA 2048", "EC P-256", ... into buf. */
void eng_key_describe(const EVP_PKEY *k, char *buf, size_t len);

/* ---- decoding (eng_show.c) ------------------------------------------- */

enum eng_obj_kind {
	ENG_OBJ_CERT,
	ENG_OBJ_CSR,
	ENG_OBJ_PRIVATE_KEY,
	ENG_OBJ_ENCRYPTED_KEY,
	ENG_OBJ_PUBLIC_KEY,
};

struct eng_obj {
	enum eng_obj_kind kind;
	const char *kind_name; /* static: "certificate", ... */
	char *text;            /* openssl -text style; never private values */
	char *subject, *issuer, *serial, *not_before, *not_after, *sigalg;
	char **san;
	size_t nsan;
	char key[32];                  /* "RSA 2048" */
	int version;                   /* X.509 version (1..3), CSR 1 */
	int is_ca;                     /* certificates: -1 no extension */
	unsigned char sha256[32];      /* of the DER object (certs, CSRs) */
	unsigned char spki_sha256[32]; /* of the public key's SPKI DER */
	int has_spki;
};

/*
 * Decodes every certificate, request and key in buf (PEM blocks, or one
 * DER object). name is for messages. On success *out is a new array of
 * *n >= 1 objects (eng_obj_free_array). Nothing recognisable is
 * KG_REFUSED with a message saying what was found.
 */
enum kg_code eng_decode_all(const unsigned char *buf, size_t len,
                            const char *name, struct eng_obj **out, size_t *n,
                            struct kg_err *err);
void eng_obj_free_array(struct eng_obj *o, size_t n);

/* ---- OpenSSL errors (eng_ossl.c) ------------------------------------- */

/* Drains OpenSSL's queue into err: "what: earliest reason (detail)". */
enum kg_code eng_ossl_err(struct kg_err *err, enum kg_code code,
                          const char *what);

/* A memory BIO's contents as a new NUL-terminated string (OPENSSL_free),
 * or NULL when out of memory; *len (if not NULL) gets the length. */
char *eng_bio_str(BIO *b, size_t *len);

/* x's subject, RFC 2253, into buf (truncated to cap). */
void eng_subject_str(const X509 *x, char *buf, size_t cap);

/* Has the key an RSA modulus (software and token keys alike)? */
int eng_key_is_rsa(const EVP_PKEY *k);

/* X509_NAME as a one-line RFC 2253 string. New; OPENSSL_free(). */
char *eng_name_str(const X509_NAME *n);

/* PEM of an object into a new buffer (OPENSSL_free). */
enum kg_code eng_pem_req(X509_REQ *r, char **out, size_t *len,
                         struct kg_err *err);
/* A certificate's DER and that of its subject, issuer and serial number
 * (for a token object); eng_cert_der_free() after. */
struct eng_cert_der {
	unsigned char *cert, *subject, *issuer, *serial;
	size_t cert_len, subject_len, issuer_len, serial_len;
};
enum kg_code eng_cert_der(X509 *x, struct eng_cert_der *d, struct kg_err *err);
void eng_cert_der_free(struct eng_cert_der *d);
/* k's public key as PEM SubjectPublicKeyInfo; *out: OPENSSL_free(). */
enum kg_code eng_pem_public(const EVP_PKEY *k, char **out, size_t *len,
                            struct kg_err *err);
/* Does x carry k's public key? */
int eng_cert_key_match(X509 *x, const EVP_PKEY *k);

enum kg_code eng_pem_cert(X509 *x, char **out, size_t *len,
                          struct kg_err *err);

#endif
