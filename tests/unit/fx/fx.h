/*
 * Fixtures for the engine's unit tests: certificates made with OpenSSL at
 * test time (no files in the tree to go stale).
 */
#ifndef FX_H
#define FX_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* a key: "ec" (P-256), "rsa1024", "rsa2048" */
EVP_PKEY *fx_key(const char *kind);

struct fx_cert {
	const char *cn;
	EVP_PKEY *key;  /* the certificate's */
	X509 *issuer;   /* NULL: self-signed */
	EVP_PKEY *ikey; /* the issuer's key (self-signed: key) */
	int ca;         /* basicConstraints CA:TRUE, keyCertSign */
	time_t not_before, not_after;
	const char *md;  /* "sha256" (NULL), "sha1" */
	const char *san; /* "DNS:a.example.com", or NULL */
};
/* A v3 certificate as c says; aborts the test on failure. */
X509 *fx_cert(const struct fx_cert *c);

/*
 * PEM of the certificates xs (NULL-terminated; NULL: none), then of the
 * private key k (NULL: none), into buf (cap bytes, NUL-terminated);
 * aborts if it does not fit. Returns buf.
 */
char *fx_pem(X509 **xs, EVP_PKEY *k, char *buf, size_t cap);

#endif
