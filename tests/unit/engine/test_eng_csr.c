/* engine/eng_csr.c: requests read from any bytes, their signature checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/pem.h>

#include "engine/eng.h"
#include "tests/unit/fx/fx.h"

/* a request for CN=cn signed by k, as PEM (pem) or DER (der) */
static int request(EVP_PKEY *k, const char *cn, int der, unsigned char *out,
                   size_t cap)
{
	X509_NAME *n = NULL;
	X509_REQ *req = NULL;
	struct eng_request r = {0};
	struct kg_err err;
	BIO *b = BIO_new(BIO_s_mem());
	char dn[64], *p;
	long len;

	snprintf(dn, sizeof(dn), "CN=%s", cn);
	assert_int_equal(eng_dn_parse(dn, &n, &err), KG_OK);
	r.subject = n;
	assert_int_equal(eng_digest(NULL, &r.md, &err), KG_OK);
	assert_int_equal(eng_csr_build(&r, k, &req, &err), KG_OK);
	if (der)
		i2d_X509_REQ_bio(b, req);
	else
		PEM_write_bio_X509_REQ(b, req);
	len = BIO_get_mem_data(b, &p);
	assert_true(len > 0 && (size_t)len < cap);
	memcpy(out, p, (size_t)len);
	BIO_free(b);
	X509_REQ_free(req);
	X509_NAME_free(n);
	return (int)len;
}

static void test_parse(void **state)
{
	EVP_PKEY *k = fx_key("ec");
	unsigned char pem[4096], der[4096], bad[4096];
	int lp = request(k, "a.example.com", 0, pem, sizeof(pem));
	int ld = request(k, "a.example.com", 1, der, sizeof(der));
	struct eng_csr *c = NULL;
	struct kg_err err;
	char *s;

	/* PEM and DER read alike, the signature holds */
	assert_int_equal(eng_csr_parse(pem, (size_t)lp, "a.csr", &c, &err),
	                 KG_OK);
	assert_int_equal(eng_csr_verify(c), 1);
	s = eng_name_str(eng_csr_subject(c));
	assert_string_equal(s, "CN=a.example.com");
	OPENSSL_free(s);
	eng_csr_free(c);
	assert_int_equal(eng_csr_parse(der, (size_t)ld, "a.der", &c, &err),
	                 KG_OK);
	assert_int_equal(eng_csr_verify(c), 1);
	eng_csr_free(c);
	/* a flipped bit in the signature: read, but it does not verify */
	memcpy(bad, der, (size_t)ld);
	bad[ld - 2] ^= 0x01;
	if (eng_csr_parse(bad, (size_t)ld, "bad.der", &c, &err) == KG_OK) {
		assert_int_equal(eng_csr_verify(c), 0);
		eng_csr_free(c);
	}
	/* not a request at all */
	assert_int_not_equal(eng_csr_parse((const unsigned char *)"hello", 5,
	                                   "x.csr", &c, &err),
	                     KG_OK);
	assert_non_null(strstr(err.msg, "x.csr"));
	assert_int_not_equal(
	        eng_csr_parse(der, (size_t)ld / 2, "half.der", &c, &err),
	        KG_OK);
	EVP_PKEY_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
