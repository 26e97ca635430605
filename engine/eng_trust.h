/*
 * eng_trust: truststore lint, path validation (OpenSSL's X509_verify_cert
 * with keygate's policy on top) and API Gateway's mutual-TLS decision.
 */
#ifndef ENG_TRUST_H
#define ENG_TRUST_H

#include <time.h>

#include <openssl/x509.h>

#include "common/kg_err.h"
#include "engine/eng_gate.h"

/*
 * Every certificate in buf (PEM; or one DER certificate), in order. Blocks
 * that are not certificates, or do not parse, are pem-invalid findings
 * when f is given, else KG_REFUSED. *out: sk_X509_pop_free(, X509_free).
 */
enum kg_code eng_certs_parse(const unsigned char *buf, size_t len,
                             const char *name, STACK_OF(X509) * *out,
                             struct eng_findings *f, struct kg_err *err);

/*
 * What the truststore code did in this process, so that tests can fail
 * when a case turns quadratic again (KEYGATE_DEBUG_COUNTS=1 makes the
 * commands print it on stderr).
 */
struct eng_trust_counts {
	unsigned long verify;     /* signature verifications (lint) */
	unsigned long candidates; /* issuer candidates examined (lint) */
	unsigned long compare;    /* certificate and name comparisons */
};
extern struct eng_trust_counts eng_trust_counts;

/* API Gateway: at most four certificates on a path, the client's and the
 * root's included */
#define ENG_MAX_PATH 4

/*
 * The certificates of sk, each once (its first copy, X509_cmp), in sk's
 * order: a new stack with references of its own (sk_X509_pop_free);
 * *dropped: how many copies were left out. Sorted, not compared pairwise.
 * NULL when out of memory.
 */
STACK_OF(X509) * eng_certs_unique(STACK_OF(X509) * sk, int *dropped);

/* A SHA-256 fingerprint: 64 hex digits, colons allowed. Else KG_E_USAGE. */
enum kg_code eng_fp_parse(const char *s, unsigned char fp[32],
                          struct kg_err *err);

/*
 * truststore remove: sk less every certificate whose SHA-256 fingerprint
 * is fp, in sk's order (a new stack with references of its own); how many
 * went in *removed. NULL when out of memory: nothing is ever dropped
 * silently.
 */
STACK_OF(X509) * eng_certs_without(STACK_OF(X509) * sk,
                                   const unsigned char fp[32], int *removed);

/* Every X509 CRL block of buf (PEM). *out: sk_X509_CRL_pop_free. */
enum kg_code eng_crls_parse(const unsigned char *buf, size_t len,
                            const char *name, STACK_OF(X509_CRL) * *out,
                            struct kg_err *err);

/*
 * The truststore rules of SPEC.md, a finding per certificate. Linear or
 * n log n in the certificates, hostile stores included: the search for a
 * certificate's issuer examines at most ENG_TS_MAX_CANDIDATES certificates
 * with its issuer's name and verifies its signature with at most
 * ENG_TS_MAX_VERIFY distinct keys; a certificate whose issuer is not
 * found within that gets its ts-signature finding, saying so.
 */
#define ENG_TS_MAX_CANDIDATES 64
#define ENG_TS_MAX_VERIFY     8
void eng_ts_lint(STACK_OF(X509) * certs, const char *name, time_t at,
                 struct eng_findings *f);

/* Is the certificate's signature below SHA-256, or its key too weak? */
const char *eng_weak_signature(const X509 *x); /* NULL if fine */
const char *eng_weak_key(const X509 *x);       /* NULL if fine */

enum eng_purpose { ENG_PURPOSE_ANY, ENG_PURPOSE_SERVER, ENG_PURPOSE_CLIENT };
/* "client", "server" or "any" (NULL: any); else KG_E_USAGE */
enum kg_code eng_purpose_parse(const char *s, enum eng_purpose *out,
                               struct kg_err *err);

struct eng_verify_req {
	STACK_OF(X509) * trusted;   /* the anchors */
	STACK_OF(X509) * untrusted; /* may be NULL */
	X509 *leaf;
	/* certificates that came after the leaf in its own input: untrusted
	 * too, as a peer's chain is; may be NULL */
	STACK_OF(X509) * sent_after;
	STACK_OF(X509_CRL) * crls; /* may be NULL: no revocation check */
	enum eng_purpose purpose;
	const char *host; /* DNS name or IP address, or NULL */
	int max_depth;    /* intermediates allowed, or -1 */
	int check_time;
	time_t at;
	/* X509_STRICT and keygate's RFC 5280 rules (chain verify); off for
	 * API Gateway's own validation (mtls check) */
	int strict;
};

struct eng_verify_res {
	int ok;
	int error;             /* X509_V_ERR_*, or -1 for a keygate policy */
	int error_depth;       /* where on the path */
	char reason[256];      /* what failed, for people */
	STACK_OF(X509) * path; /* leaf first; may be partial on failure */
};

/*
 * Path validation as RFC 5280 and the web PKI require: X509_verify_cert
 * (strict) with keygate's policy checks on the path it built. KG_OK means
 * it ran; res->ok says valid or not. Free res with eng_verify_res_free.
 */
enum kg_code eng_verify(const struct eng_verify_req *r,
                        struct eng_verify_res *res, struct kg_err *err);
void eng_verify_res_free(struct eng_verify_res *res);

struct eng_mtls_res {
	int allow;
	int status;         /* 200 or 403 */
	const char *reason; /* NULL when allowed; SPEC's reason codes */
	char detail[256];
	STACK_OF(X509) * path;
};

/*
 * What API Gateway's mutual TLS does with a client certificate (sent[0])
 * and any chain sent after it, against a truststore: allow (200) or deny
 * (403) with the reason. Free res with eng_mtls_res_free.
 */
enum kg_code eng_mtls_check(STACK_OF(X509) * truststore, STACK_OF(X509) * sent,
                            time_t at, struct eng_mtls_res *res,
                            struct kg_err *err);
void eng_mtls_res_free(struct eng_mtls_res *res);

/* ---- cert expiry (eng_expiry.c) --------------------------------------- */

/*
 * A window as cert expiry takes it: "30d", "12h", "2w" (a bare number is
 * days), at most 100 years; NULL is 30 days. Else KG_E_USAGE.
 */
enum kg_code eng_window_parse(const char *s, long long *seconds,
                              struct kg_err *err);

struct eng_expiry {
	time_t not_after; /* 0 if it cannot be read */
	long days;        /* whole days left; past: negative, rounded down */
	int expired;      /* notAfter is before at */
	int within;       /* notAfter is at most window seconds after at */
};
void eng_expiry_of(const X509 *x, time_t at, long long window,
                   struct eng_expiry *out);

#endif
