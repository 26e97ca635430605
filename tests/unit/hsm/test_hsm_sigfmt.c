/* hsm/hsm_sigfmt.c: what a token signs (RSA) and gives back (EC). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "hsm/hsm_int.h"

/* RFC 8017 9.2 note 1: the DigestInfo prefixes */
static void test_digest_info(void **state)
{
	static const struct {
		const char *md;
		const char *prefix;
		size_t plen;
	} cases[] = {
	        {"SHA256",
	         "\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01"
	         "\x05\x00\x04\x20",
	         19},
	        {"SHA384",
	         "\x30\x41\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x02"
	         "\x05\x00\x04\x30",
	         19},
	        {"SHA512",
	         "\x30\x51\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x03"
	         "\x05\x00\x04\x40",
	         19},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EVP_MD *md = EVP_MD_fetch(NULL, cases[i].md, NULL);
		unsigned char h[64], *di = NULL;
		unsigned int hlen = (unsigned int)EVP_MD_get_size(md);
		int len;

		memset(h, 0xab, sizeof(h));
		len = hsm_sig_digest_info(md, h, hlen, &di);
		assert_int_equal(len, (int)(cases[i].plen + hlen));
		assert_memory_equal(di, cases[i].prefix, cases[i].plen);
		assert_memory_equal(di + cases[i].plen, h, hlen);
		OPENSSL_free(di);
		EVP_MD_free(md);
	}
}

/* a software ECDSA signature as a token returns it (r || s) comes back as
 * DER that verifies */
static void test_ecdsa(void **state)
{
	static const char *curves[] = {"P-256", "P-384", "P-521"};
	size_t i;

	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curves[i]);
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(k, NULL);
		unsigned char h[32], der[160], raw[132], out[160];
		const unsigned char *p = der;
		size_t dlen = sizeof(der), olen = 0, half;
		ECDSA_SIG *es;
		int bits = EVP_PKEY_get_bits(k);

		memset(h, 0x5a, sizeof(h));
		assert_int_equal(EVP_PKEY_sign_init(c), 1);
		assert_int_equal(EVP_PKEY_sign(c, der, &dlen, h, sizeof(h)),
		                 1);
		es = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
		assert_non_null(es);
		half = (size_t)(bits + 7) / 8;
		assert_true(BN_bn2binpad(ECDSA_SIG_get0_r(es), raw,
		                         (int)half) > 0);
		assert_true(BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + half,
		                         (int)half) > 0);
		ECDSA_SIG_free(es);
		assert_int_equal(hsm_sig_ecdsa_der(raw, 2 * half, out,
		                                   sizeof(out), &olen),
		                 1);
		assert_int_equal(EVP_PKEY_verify_init(c), 1);
		assert_int_equal(EVP_PKEY_verify(c, out, olen, h, sizeof(h)),
		                 1);
		/* odd, empty, too long, or no room: refused, nothing written
		 */
		olen = 7;
		assert_int_equal(hsm_sig_ecdsa_der(raw, 2 * half - 1, out,
		                                   sizeof(out), &olen),
		                 0);
		assert_int_equal(
		        hsm_sig_ecdsa_der(raw, 0, out, sizeof(out), &olen), 0);
		assert_int_equal(
		        hsm_sig_ecdsa_der(raw, 134, out, sizeof(out), &olen),
		        0);
		assert_int_equal(
		        hsm_sig_ecdsa_der(raw, 2 * half, out, 8, &olen), 0);
		assert_int_equal(olen, 7);
		EVP_PKEY_CTX_free(c);
		EVP_PKEY_free(k);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_digest_info),
	        cmocka_unit_test(test_ecdsa),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
