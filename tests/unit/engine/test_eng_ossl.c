/* engine/eng_ossl.c: OpenSSL's objects as keygate prints them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>

#include "engine/eng.h"
#include "tests/unit/fx/fx.h"

static void test_strings(void **state)
{
	EVP_PKEY *ec = fx_key("ec"), *rsa = fx_key("rsa1024");
	X509 *x = fx_cert(&(struct fx_cert){.cn = "a,b", .key = ec});
	BIO *b = BIO_new(BIO_s_mem());
	char subj[128], *s, *pem = NULL;
	size_t len = 0;
	struct kg_err err;

	/* RFC 2253, the comma escaped */
	s = eng_name_str(X509_get_subject_name(x));
	assert_string_equal(s, "CN=a\\,b");
	OPENSSL_free(s);
	eng_subject_str(x, subj, sizeof(subj));
	assert_string_equal(subj, "CN=a\\,b");
	/* a BIO's bytes as a string of their own */
	BIO_write(b, "abc", 3);
	s = eng_bio_str(b, &len);
	assert_int_equal(len, 3);
	assert_string_equal(s, "abc");
	OPENSSL_free(s);
	assert_int_equal(eng_pem_cert(x, &pem, &len, &err), KG_OK);
	assert_true(len == strlen(pem));
	assert_non_null(strstr(pem, "-----BEGIN CERTIFICATE-----"));
	OPENSSL_free(pem);
	assert_int_equal(eng_key_is_rsa(rsa), 1);
	assert_int_equal(eng_key_is_rsa(ec), 0);
	/* OpenSSL's reason is kept, the queue emptied */
	ERR_raise_data(ERR_LIB_X509, X509_R_CERT_ALREADY_IN_HASH_TABLE, NULL);
	assert_int_equal(eng_ossl_err(&err, KG_E_RUNTIME, "adding x"),
	                 KG_E_RUNTIME);
	assert_non_null(strstr(err.msg, "adding x: "));
	assert_non_null(strstr(err.msg, "already in hash table"));
	assert_int_equal(ERR_peek_error(), 0);
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
