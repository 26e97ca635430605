/*
 * gencerts: a large synthetic truststore for bench/trust.sh. Writes N
 * certificates as PEM to stdout: 100 self-signed EC P-256 roots, then
 * intermediates (CA:TRUE) issued by them in turn, each with its own
 * subject. Keys are reused across intermediates: the lint is about
 * certificates, not keys. Usage: gencerts N > store.pem
 *
 * Hostile stores for bench/hostile.sh and tests/integration/t_scale.sh,
 * every certificate with a key of its own:
 *   gencerts same-subject N [LEAF]: N self-signed roots that all have one
 *     subject (with subject key identifiers); LEAF gets a client
 *     certificate issued by the last of them (with its key identifier).
 *   gencerts shared-roots N: N self-signed roots sharing one name, then N
 *     certificates that name it as their issuer but are signed by another
 *     key (no key identifiers: every root is a candidate issuer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
}

/*
 * A certificate named cn, issued by the name iname, signed by ikey. With
 * ids: key identifiers, the authority's from icert (NULL: itself).
 */
static X509 *hostile(EVP_PKEY *key, const char *cn, const char *iname,
                     EVP_PKEY *ikey, long serial, int ca, int ids, X509 *icert)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new(), *in = X509_NAME_new();

	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	                           (const unsigned char *)cn, -1, -1, 0);
	X509_NAME_add_entry_by_txt(in, "CN", MBSTRING_UTF8,
	                           (const unsigned char *)iname, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, in);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400);
	X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 86400);
	X509_set_pubkey(x, key);
	ext(x, x, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
	if (ca)
		ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	else
		ext(x, x, NID_ext_key_usage, "clientAuth");
	if (ids) {
		ext(x, x, NID_subject_key_identifier, "hash");
		ext(x, icert ? icert : x, NID_authority_key_identifier,
		    "keyid:always");
	}
	X509_sign(x, ikey, EVP_sha256());
	X509_NAME_free(n);
	X509_NAME_free(in);
	return x;
}

static EVP_PKEY *p256(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static int hostile_main(const char *mode, long n, const char *leaf)
{
	EVP_PKEY *k = NULL, *other = NULL;
	X509 *x = NULL;
	char cn[64];
	long i;

	if (strcmp(mode, "same-subject") == 0) {
		for (i = 0; i < n; i++) {
			EVP_PKEY_free(k);
			X509_free(x);
			k = p256();
			x = hostile(k, "Same Subject CA", "Same Subject CA", k,
			            i + 1, 1, 1, NULL);
			PEM_write_X509(stdout, x);
		}
		if (leaf != NULL && x != NULL) {
			FILE *fp = fopen(leaf, "w");
			X509 *y;

			other = p256();
			y = hostile(other, "client.example", "Same Subject CA",
			            k, n + 1, 0, 1, x);
			if (fp == NULL || !PEM_write_X509(fp, y))
				return 1;
			fclose(fp);
			X509_free(y);
		}
	} else if (strcmp(mode, "shared-roots") == 0) {
		for (i = 0; i < n; i++) {
			EVP_PKEY_free(k);
			X509_free(x);
			k = p256();
			x = hostile(k, "Shared Root", "Shared Root", k, i + 1,
			            1, 0, NULL);
			PEM_write_X509(stdout, x);
		}
		other = p256(); /* no root's key */
		for (i = 0; i < n; i++) {
			X509_free(x);
			snprintf(cn, sizeof(cn), "Orphan %ld", i);
			x = hostile(other, cn, "Shared Root", other, n + i + 1,
			            1, 0, NULL);
			PEM_write_X509(stdout, x);
		}
	} else {
		fprintf(stderr, "gencerts: unknown mode '%s'\n", mode);
		return 2;
	}
	X509_free(x);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
	return 0;
}

int main(int argc, char **argv)
{
	long n, i;
	X509 *roots[ROOTS];
	EVP_PKEY *rkeys[ROOTS], *ikey;
	char cn[64];

	if (argc > 2 && (argv[1][0] < '0' || argv[1][0] > '9'))
		return hostile_main(argv[1], atol(argv[2]),
		                    argc > 3 ? argv[3] : NULL);
	n = argc > 1 ? atol(argv[1]) : 0;
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
