/* engine/eng_show.c: keys described and loaded; cert show's decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/pem.h>

#include "engine/eng.h"
#include "tests/unit/fx/fx.h"

static void test_describe(void **state)
{
	static const struct {
		const char *kind, *want;
	} cases[] = {
	        {"ec", "EC P-256"},
	        {"rsa1024", "RSA 1024"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EVP_PKEY *k = fx_key(cases[i].kind);
		char d[64];

		eng_key_describe(k, d, sizeof(d));
		assert_string_equal(d, cases[i].want);
		EVP_PKEY_free(k);
	}
}

/* a key file: plain loads; encrypted needs its passphrase, names itself */
static void test_load(void **state)
{
	EVP_PKEY *k = fx_key("ec"), *got = NULL;
	BIO *plain = BIO_new(BIO_s_mem()), *enc = BIO_new(BIO_s_mem());
	struct kg_err err;
	char *p, *e;
	long lp, le;

	PEM_write_bio_PrivateKey(plain, k, NULL, NULL, 0, NULL, NULL);
	PEM_write_bio_PKCS8PrivateKey(enc, k, EVP_aes_256_cbc(), "pw", 2, NULL,
	                              NULL);
	lp = BIO_get_mem_data(plain, &p);
	le = BIO_get_mem_data(enc, &e);
	assert_int_equal(eng_key_load((unsigned char *)p, (size_t)lp, "k.pem",
	                              NULL, &got, &err),
	                 KG_OK);
	assert_int_equal(EVP_PKEY_eq(got, k), 1);
	EVP_PKEY_free(got);
	assert_int_equal(eng_key_encrypted((unsigned char *)p, (size_t)lp), 0);
	assert_int_equal(eng_key_encrypted((unsigned char *)e, (size_t)le), 1);
	assert_int_equal(eng_key_load((unsigned char *)e, (size_t)le, "e.pem",
	                              NULL, &got, &err),
	                 KG_E_USAGE);
	assert_non_null(strstr(err.msg, "'e.pem' is encrypted"));
	assert_int_equal(eng_key_load((unsigned char *)e, (size_t)le, "e.pem",
	                              "wrong", &got, &err),
	                 KG_REFUSED);
	assert_null(got);
	assert_int_equal(eng_key_load((unsigned char *)e, (size_t)le, "e.pem",
	                              "pw", &got, &err),
	                 KG_OK);
	assert_int_equal(EVP_PKEY_eq(got, k), 1);
	EVP_PKEY_free(got);
	BIO_free(plain);
	BIO_free(enc);
	EVP_PKEY_free(k);
}

/* cert show: a certificate and a key in one file, never the key's value */
static void test_decode_all(void **state)
{
	EVP_PKEY *k = fx_key("ec");
	X509 *x = fx_cert(&(struct fx_cert){.cn = "show.example.com",
	                                    .key = k,
	                                    .san = "DNS:show.example.com"});
	BIO *b = BIO_new(BIO_s_mem());
	struct eng_obj *o = NULL;
	struct kg_err err;
	size_t n = 0;
	char *p;
	long len;

	PEM_write_bio_X509(b, x);
	PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	len = BIO_get_mem_data(b, &p);
	assert_int_equal(eng_decode_all((unsigned char *)p, (size_t)len,
	                                "both.pem", &o, &n, &err),
	                 KG_OK);
	assert_int_equal(n, 2);
	assert_int_equal(o[0].kind, ENG_OBJ_CERT);
	assert_string_equal(o[0].subject, "CN=show.example.com");
	assert_int_equal(o[0].nsan, 1);
	assert_int_equal(o[1].kind, ENG_OBJ_PRIVATE_KEY);
	assert_string_equal(o[1].key, "EC P-256");
	/* no private value printed: no "priv:" block in the key's text */
	assert_true(o[1].text == NULL || strstr(o[1].text, "priv:") == NULL);
	eng_obj_free_array(o, n);
	assert_int_equal(eng_decode_all((const unsigned char *)"nothing", 7,
	                                "n.pem", &o, &n, &err),
	                 KG_REFUSED);
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_describe),
	        cmocka_unit_test(test_load),
	        cmocka_unit_test(test_decode_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
