/*
 * The gates: ACM import checks (bundle check/assemble/export) and the
 * export verdict on a token key. Every check runs; findings collect every
 * problem with its code (SPEC.md "ACM import gate"), input, index,
 * subject, message and hint.
 */
#ifndef ENG_GATE_H
#define ENG_GATE_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

#include "common/kg_err.h"
#include "engine/eng_finding.h"

enum eng_target { ENG_TARGET_ACM_INTEGRATED, ENG_TARGET_ACM };

enum kg_code eng_target_parse(const char *s, enum eng_target *out,
                              struct kg_err *err);
const char *eng_target_name(enum eng_target t);

/*
 * A key's algorithm as ACM names what it takes: "RSA", or the NIST curve
 * "P-256", "P-384", "P-521" of an EC key on a named curve; NULL for
 * anything else (Ed25519, secp256k1, RSA-PSS, ...). Static string.
 */
const char *eng_key_acm_alg(const EVP_PKEY *k);

/*
 * Is this key allowed for the target? alg as eng_key_acm_alg gives it
 * (NULL: never); bits is the RSA modulus size (ignored for EC, whose
 * curve says it all).
 */
int eng_key_algorithm_ok(enum eng_target t, const char *alg, int bits);

/*
 * The export verdict on a token key. code: NULL (it may leave),
 * "key-not-exportable" (sensitive or not extractable, checked first) or
 * "key-algorithm"; reason: why, in words ("the key is sensitive and not
 * extractable"); state: for key-not-exportable, what the key is
 * ("sensitive and not extractable"). Static strings. sensitive/extractable: 1,
 * 0 or -1 (unknown, treated as refusing); alg and bits as for
 * eng_key_algorithm_ok.
 */
struct eng_export_verdict {
	const char *code;
	const char *reason;
	const char *state; /* key-not-exportable: "sensitive", ... */
};
struct eng_export_verdict eng_export_verdict(enum eng_target t,
                                             const char *alg, int bits,
                                             int sensitive, int extractable);

/*
 * A key type as --type and manifests name it ("rsa:2048", "ec:p256", any
 * case): bits (RSA modulus, or the curve's), and for EC the curve's NID
 * and ACM name ("P-256"), else 0 and NULL.
 */
struct eng_key_type {
	const char *name;
	int bits;
	int curve_nid;
	const char *curve;
};
/* 1 for ed25519 and ed448 (curve_nid NID_ED25519/NID_ED448) */
int eng_key_type_is_ed(const struct eng_key_type *kt);
/* *out: a static row. An unknown type is KG_E_USAGE, listing the types. */
enum kg_code eng_key_type_parse(const char *s, const struct eng_key_type **out,
                                struct kg_err *err);

/*
 * bundle fallback's key type: type (eng_key_type_parse) if target t takes
 * it, else KG_E_USAGE saying what t takes. *out: a static row.
 */
enum kg_code eng_fallback_type(enum eng_target t, const char *type,
                               const struct eng_key_type **out,
                               struct kg_err *err);
/* A new software key of type kt. *out: EVP_PKEY_free. */
enum kg_code eng_key_type_new(const struct eng_key_type *kt, EVP_PKEY **out,
                              struct kg_err *err);

/* What to do instead when a token key may not leave: the fallback. */
extern const char eng_fallback_hint[];

/*
 * bundle export's gate on the key itself: adds key-not-exportable (about
 * input) to f when the key may not leave the token. The key's algorithm
 * is the certificate checks' (eng_acm_check with its public half).
 * Returns 1 if a finding was added.
 */
int eng_export_check(struct eng_findings *f, enum eng_target t,
                     const char *alg, int bits, int sensitive, int extractable,
                     const char *input);

/* ---- the ACM import gate --------------------------------------------- */

struct eng_input {
	const char *name; /* for messages */
	const unsigned char *buf;
	size_t len; /* buf NULL: not given */
	/* over its read cap: the whole input's size (SIZE_MAX for a stream
	 * of unknown size), of which buf holds the first len bytes; else 0 */
	size_t size;
};

/* The gate's inputs, and ACM's size limit for each. */
enum eng_input_kind { ENG_IN_CERT, ENG_IN_KEY, ENG_IN_CHAIN, ENG_IN_OLD };
#define ENG_ACM_CERT_MAX  32768
#define ENG_ACM_KEY_MAX   5120
#define ENG_ACM_CHAIN_MAX 2097152
size_t eng_acm_limit(enum eng_input_kind kind);

/*
 * Of an input, read at most this many times ACM's limit: a larger one is
 * read no further, its size goes in eng_input.size, and the gate reports
 * size-limit and checks the part read.
 */
#define ENG_ACM_READ_FACTOR 4

struct eng_acm_req {
	struct eng_input cert, key, chain, old;
	EVP_PKEY *key_pub; /* instead of key: a token key's public half */
	enum eng_target target;
	time_t at;
	/* API Gateway's mTLS custom domain rules (eng_mtls_domain.h): the
	 * domain name, or NULL for none; the ownership verification
	 * certificate (buf NULL: not given) */
	const char *mtls_domain;
	struct eng_input ownership;
};

/*
 * Runs every ACM check on the inputs and adds the findings to f. Returns
 * KG_OK when the checks ran (look at f), else a run-time error.
 */
enum kg_code eng_acm_check(const struct eng_acm_req *r, struct eng_findings *f,
                           struct kg_err *err);

/*
 * bundle assemble: takes certificates from cert and chain (any order,
 * blank lines, text around blocks), the key from key; finds the leaf (the
 * key's certificate), orders the path leaf->root, drops the leaf and
 * unrelated certificates from the chain, and re-encodes all three. Then
 * checks the result with eng_acm_check into f. On KG_OK *cert, *key and
 * *chain are new NUL-terminated PEM (OPENSSL_free; *chain may be "") --
 * to be written only if f holds no error.
 */
enum kg_code eng_acm_assemble(const struct eng_acm_req *r, char **cert,
                              char **key, char **chain, struct eng_findings *f,
                              struct kg_err *err);

/* An unencrypted PKCS#8 PEM of a private key (OPENSSL_clear_free). */
enum kg_code eng_pem_private(EVP_PKEY *k, char **out, size_t *len,
                             struct kg_err *err);

#endif
