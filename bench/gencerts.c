/*
 * gencerts: a large synthetic truststore for bench/trust.sh. Writes N
 * certificates as PEM to stdout: 100 self-signed EC P-256 roots, then
 * intermediates (CA:TRUE) issued by them in turn, each with its own
 * subject. Keys are reused across intermediates: the lint is about
 * certificates, not keys. Usage: gencerts N > store.pem
 */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define ROOTS 100

static X509 *make(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey,
                  long serial)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509_EXTENSION *e;
	X509V3_CTX ctx;

	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	                           (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 86400);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	e = X509V3_EXT_nconf_nid(NULL, &ctx, NID_basic_constraints,
	                         "critical,CA:TRUE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	X509_sign(x, ikey ? ikey : key, EVP_sha256());
	X509_NAME_free(n);
	return x;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 0, i;
	X509 *roots[ROOTS];
	EVP_PKEY *rkeys[ROOTS], *ikey;
	char cn[64];

	if (n < ROOTS) {
		fprintf(stderr, "usage: gencerts N (N >= %d) > store.pem\n",
		        ROOTS);
		return 2;
	}
	ikey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	for (i = 0; i < ROOTS; i++) {
		rkeys[i] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		snprintf(cn, sizeof(cn), "Bench Root %ld", i);
		roots[i] = make(rkeys[i], cn, NULL, NULL, i + 1);
		PEM_write_X509(stdout, roots[i]);
	}
	for (i = ROOTS; i < n; i++) {
		X509 *x;

		snprintf(cn, sizeof(cn), "Bench Intermediate %ld", i);
		x = make(ikey, cn, roots[i % ROOTS], rkeys[i % ROOTS], i + 1);
		PEM_write_X509(stdout, x);
		X509_free(x);
	}
	for (i = 0; i < ROOTS; i++) {
		X509_free(roots[i]);
		EVP_PKEY_free(rkeys[i]);
	}
	EVP_PKEY_free(ikey);
	return 0;
}
