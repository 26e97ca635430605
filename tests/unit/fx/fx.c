/* Fixtures for the engine's unit tests (fx.h). */
#include "tests/unit/fx/fx.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

EVP_PKEY *fx_key(const char *kind)
{
	EVP_PKEY *k = NULL;

	if (strcmp(kind, "ec") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (strcmp(kind, "rsa1024") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	else if (strcmp(kind, "rsa2048") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (k == NULL)
		abort();
	return k;
}

static void ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (e == NULL || !X509_add_ext(x, e, -1))
		abort();
	X509_EXTENSION_free(e);
}

X509 *fx_cert(const struct fx_cert *c)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509 *issuer = c->issuer ? c->issuer : x;
	EVP_PKEY *ikey = c->ikey ? c->ikey : c->key;
	time_t now = time(NULL);

	if (x == NULL || n == NULL ||
	    !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	                                (const unsigned char *)c->cn, -1, -1,
	                                0))
		abort();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x,
	                     c->issuer ? X509_get_subject_name(c->issuer) : n);
	ASN1_TIME_set(X509_getm_notBefore(x),
	              c->not_before ? c->not_before : now - 3600);
	ASN1_TIME_set(X509_getm_notAfter(x),
	              c->not_after ? c->not_after : now + 30 * 86400);
	X509_set_pubkey(x, c->key);
	ext(x, issuer, NID_subject_key_identifier, "hash");
	if (c->issuer != NULL)
		ext(x, issuer, NID_authority_key_identifier, "keyid");
	ext(x, issuer, NID_basic_constraints,
	    c->ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	ext(x, issuer, NID_key_usage,
	    c->ca ? "critical,keyCertSign,cRLSign"
	          : "critical,digitalSignature");
	if (c->san != NULL)
		ext(x, issuer, NID_subject_alt_name, c->san);
	if (!X509_sign(x, ikey,
	               c->md && strcmp(c->md, "sha1") == 0 ? EVP_sha1()
	                                                   : EVP_sha256()))
		abort();
	X509_NAME_free(n);
	return x;
}

char *fx_pem(X509 **xs, EVP_PKEY *k, char *buf, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	if (b == NULL)
		abort();
	for (; xs != NULL && *xs != NULL; xs++)
		if (!PEM_write_bio_X509(b, *xs))
			abort();
	if (k != NULL &&
	    !PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL))
		abort();
	n = BIO_get_mem_data(b, &p);
	if (n < 0 || (size_t)n >= cap)
		abort();
	memcpy(buf, p, (size_t)n);
	buf[n] = '\0';
	BIO_free(b);
	return buf;
}
