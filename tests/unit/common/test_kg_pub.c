/* kg_pub builds the same SubjectPublicKeyInfo that OpenSSL's encoder does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/kg_pub.h"

static void check_key(EVP_PKEY *k)
{
	unsigned char *want = NULL, *got = NULL;
	int wlen = i2d_PUBKEY(k, &want), glen;
	X509_PUBKEY *xp = kg_pub_from_pkey(k), *copy = X509_PUBKEY_new();
	EVP_PKEY *back;

	assert_non_null(xp);
	glen = i2d_X509_PUBKEY(xp, &got);
	assert_int_equal(glen, wlen);
	assert_memory_equal(got, want, (size_t)wlen);
	OPENSSL_free(got);
	got = NULL;
	/* a copy into another X509_PUBKEY encodes the same */
	assert_true(kg_pub_copy(copy, xp));
	glen = i2d_X509_PUBKEY(copy, &got);
	assert_int_equal(glen, wlen);
	assert_memory_equal(got, want, (size_t)wlen);
	/* and the public copy is the same key */
	back = kg_pub_to_pkey(xp);
	assert_non_null(back);
	assert_int_equal(EVP_PKEY_eq(back, k), 1);
	EVP_PKEY_free(back);
	OPENSSL_free(got);
	OPENSSL_free(want);
	X509_PUBKEY_free(copy);
	X509_PUBKEY_free(xp);
}

static void test_rsa_and_ec(void **state)
{
	static const char *curves[] = {"P-256", "P-384", "P-521"};
	EVP_PKEY *k;
	size_t i;

	k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	check_key(k);
	EVP_PKEY_free(k);
	k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	check_key(k);
	EVP_PKEY_free(k);
	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curves[i]);
		check_key(k);
		EVP_PKEY_free(k);
	}
}

static void test_refusals(void **state)
{
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	/* no components as parameters: the caller takes the generic path */
	assert_null(kg_pub_from_pkey(ed));
	EVP_PKEY_free(ed);
	assert_null(
	        kg_pub_ec(NID_X9_62_prime256v1, (const unsigned char *)"", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_rsa_and_ec),
	        cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
