/* engine/eng_certs.c: certificate files, each certificate once, removal by
 * fingerprint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "engine/eng_trust.h"

/* a small self-signed certificate named cn */
static X509 *cert(const char *cn)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	assert_true(k && x && n);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	                           (const unsigned char *)cn, -1, -1, 0);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, k);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	X509_NAME_free(n);
	EVP_PKEY_free(k);
	return x;
}

static void test_fp_parse(void **state)
{
	static const struct {
		const char *in;
		int ok;
	} cases[] = {
	        {"00112233445566778899aabbccddeeff00112233445566778899aabbccdd"
	         "eeff",
	         1},
	        {"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:"
	         "44:"
	         "55:66:77:88:99:AA:BB:CC:DD:EE:FF",
	         1},
	        {"abc", 0},
	        {"00112233445566778899aabbccddeeff00112233445566778899aabbccdd"
	         "ee",
	         0}, /* 31 bytes */
	        {"00112233445566778899aabbccddeeff00112233445566778899aabbccdd"
	         "eeff"
	         "00",
	         0}, /* 33 */
	        {"", 0},
	        {NULL, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char fp[32];
		struct kg_err err;

		assert_int_equal(eng_fp_parse(cases[i].in, fp, &err),
		                 cases[i].ok ? KG_OK : KG_E_USAGE);
		if (cases[i].ok)
			assert_int_equal(fp[1], 0x11);
		else
			assert_non_null(
			        strstr(err.msg, "SHA-256 fingerprint"));
	}
}

/* a, b, a, c: removing a leaves b, c in order; unique keeps a, b, c */
static void test_without_and_unique(void **state)
{
	X509 *a = cert("a"), *b = cert("b"), *c = cert("c");
	STACK_OF(X509) *sk = sk_X509_new_null(), *keep, *uniq;
	unsigned char fp[32];
	unsigned int len;
	int removed, dropped;

	sk_X509_push(sk, a);
	sk_X509_push(sk, b);
	sk_X509_push(sk, a);
	sk_X509_push(sk, c);
	assert_int_equal(X509_digest(a, EVP_sha256(), fp, &len), 1);
	keep = eng_certs_without(sk, fp, &removed);
	assert_non_null(keep);
	assert_int_equal(removed, 2);
	assert_int_equal(sk_X509_num(keep), 2);
	assert_ptr_equal(sk_X509_value(keep, 0), b);
	assert_ptr_equal(sk_X509_value(keep, 1), c);
	/* a fingerprint no certificate has: nothing removed */
	memset(fp, 0, sizeof(fp));
	sk_X509_pop_free(keep, X509_free);
	keep = eng_certs_without(sk, fp, &removed);
	assert_int_equal(removed, 0);
	assert_int_equal(sk_X509_num(keep), 4);
	sk_X509_pop_free(keep, X509_free);
	uniq = eng_certs_unique(sk, &dropped);
	assert_int_equal(dropped, 1);
	assert_int_equal(sk_X509_num(uniq), 3);
	assert_ptr_equal(sk_X509_value(uniq, 0), a);
	assert_ptr_equal(sk_X509_value(uniq, 1), b);
	assert_ptr_equal(sk_X509_value(uniq, 2), c);
	sk_X509_pop_free(uniq, X509_free);
	sk_X509_free(sk);
	X509_free(a);
	X509_free(b);
	X509_free(c);
}

/* PEM with text around it, and a truncated block: f gets pem-invalid */
static void test_parse(void **state)
{
	X509 *a = cert("a");
	BIO *bio = BIO_new(BIO_s_mem());
	STACK_OF(X509) *sk = NULL;
	struct eng_findings f = {0};
	struct kg_err err;
	char *pem;
	long n;

	BIO_puts(bio, "text before\n");
	PEM_write_bio_X509(bio, a);
	PEM_write_bio_X509(bio, a);
	n = BIO_get_mem_data(bio, &pem);
	assert_int_equal(eng_certs_parse((unsigned char *)pem, (size_t)n,
	                                 "two.pem", &sk, NULL, &err),
	                 KG_OK);
	assert_int_equal(sk_X509_num(sk), 2);
	sk_X509_pop_free(sk, X509_free);
	/* the last block cut short */
	assert_int_equal(eng_certs_parse((unsigned char *)pem, (size_t)n - 100,
	                                 "cut.pem", &sk, NULL, &err),
	                 KG_REFUSED);
	assert_non_null(strstr(err.msg, "cut.pem"));
	assert_int_equal(eng_certs_parse((unsigned char *)pem, (size_t)n - 100,
	                                 "cut.pem", &sk, &f, &err),
	                 KG_OK);
	assert_true(f.n >= 1);
	assert_string_equal(f.v[0].code, "pem-invalid");
	sk_X509_pop_free(sk, X509_free);
	eng_findings_free(&f);
	BIO_free(bio);
	X509_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_fp_parse),
	        cmocka_unit_test(test_without_and_unique),
	        cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
