/* engine/eng_kdf.c: an encrypted key's own cost, bounded before deriving. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "engine/eng.h"

enum kind { PBKDF2, SCRYPT, PBES1 };

/* PBES2 with scrypt N, r, p, built by hand: OpenSSL's own builder
 * refuses what it would not derive. */
static X509_ALGOR *scrypt_alg(uint64_t n, uint64_t r, uint64_t p)
{
	SCRYPT_PARAMS *sp = SCRYPT_PARAMS_new();
	PBE2PARAM *p2 = PBE2PARAM_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_STRING *seq = NULL;

	assert_true(sp && p2 && alg);
	assert_int_equal(
	        ASN1_OCTET_STRING_set(sp->salt,
	                              (const unsigned char *)"saltsalt", 8),
	        1);
	assert_int_equal(ASN1_INTEGER_set_uint64(sp->costParameter, n), 1);
	assert_int_equal(ASN1_INTEGER_set_uint64(sp->blockSize, r), 1);
	assert_int_equal(
	        ASN1_INTEGER_set_uint64(sp->parallelizationParameter, p), 1);
	assert_non_null(
	        ASN1_item_pack(sp, ASN1_ITEM_rptr(SCRYPT_PARAMS), &seq));
	assert_int_equal(X509_ALGOR_set0(p2->keyfunc,
	                                 OBJ_nid2obj(NID_id_scrypt),
	                                 V_ASN1_SEQUENCE, seq),
	                 1);
	assert_int_equal(X509_ALGOR_set0(p2->encryption,
	                                 OBJ_nid2obj(NID_aes_256_cbc),
	                                 V_ASN1_NULL, NULL),
	                 1);
	seq = NULL;
	assert_non_null(ASN1_item_pack(p2, ASN1_ITEM_rptr(PBE2PARAM), &seq));
	assert_int_equal(X509_ALGOR_set0(alg, OBJ_nid2obj(NID_pbes2),
	                                 V_ASN1_SEQUENCE, seq),
	                 1);
	SCRYPT_PARAMS_free(sp);
	PBE2PARAM_free(p2);
	return alg;
}

/* An EncryptedPrivateKeyInfo with these parameters (no derivation made:
 * the algorithm is only described). *der: OPENSSL_free. */
static int make(enum kind k, uint64_t a, uint64_t r, uint64_t p,
                unsigned char **der)
{
	unsigned char salt[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	unsigned char iv[16] = {0};
	X509_ALGOR *alg = NULL, *slot;
	ASN1_OCTET_STRING *data;
	X509_SIG *sig = X509_SIG_new();
	int len;

	if (k == PBKDF2)
		alg = PKCS5_pbe2_set_iv(EVP_aes_256_cbc(), (int)a, salt, 8, iv,
		                        NID_hmacWithSHA256);
	else if (k == SCRYPT)
		alg = scrypt_alg(a, r, p); /* PKCS5_pbe2_set_scrypt checks */
	else
		alg = PKCS5_pbe_set(NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
		                    (int)a, salt, 8);
	assert_non_null(alg);
	X509_SIG_getm(sig, &slot, &data);
	assert_int_equal(X509_ALGOR_copy(slot, alg), 1);
	assert_int_equal(ASN1_OCTET_STRING_set(data, iv, sizeof(iv)), 1);
	*der = NULL;
	len = i2d_X509_SIG(sig, der);
	X509_ALGOR_free(alg);
	X509_SIG_free(sig);
	assert_true(len > 0);
	return len;
}

/* the DER as an ENCRYPTED PRIVATE KEY PEM block, after some text */
static char *as_pem(const unsigned char *der, int len)
{
	static const char head[] = "a comment before the block\n"
	                           "-----BEGIN ENCRYPTED PRIVATE KEY-----\n";
	static const char tail[] = "-----END ENCRYPTED PRIVATE KEY-----\n";
	char *out = malloc(sizeof(head) + sizeof(tail) + 2 * (size_t)len + 64);
	int n;

	assert_non_null(out);
	strcpy(out, head);
	n = EVP_EncodeBlock((unsigned char *)out + strlen(out), der, len);
	assert_true(n > 0);
	strcat(out, "\n");
	strcat(out, tail);
	return out;
}

static void test_bounds(void **state)
{
	static const struct {
		enum kind k;
		uint64_t a, r, p;
		enum kg_code want;
		const char *said; /* in the message when refused */
	} cases[] = {
	        /* what tools write */
	        {PBKDF2, 2048, 0, 0, KG_OK, NULL},
	        {PBKDF2, 600000, 0, 0, KG_OK, NULL},
	        {PBKDF2, ENG_KDF_MAX_ITER, 0, 0, KG_OK, NULL},
	        {SCRYPT, 16384, 8, 1, KG_OK, NULL},
	        {SCRYPT, 1u << 17, 8, 1, KG_OK, NULL}, /* 128 MiB */
	        {PBES1, 2048, 0, 0, KG_OK, NULL},
	        /* what a hostile file asks */
	        {PBKDF2, ENG_KDF_MAX_ITER + 1, 0, 0, KG_E_USAGE,
	         "10000001 PBKDF2 iterations"},
	        {PBKDF2, 2147483647, 0, 0, KG_E_USAGE, "2147483647 PBKDF2"},
	        {SCRYPT, 1u << 22, 8, 1, KG_E_USAGE, "bytes of scrypt memory"},
	        {SCRYPT, 1u << 14, 8, 1u << 20, KG_E_USAGE,
	         "scrypt block mixes"},
	        {SCRYPT, 1u << 14, UINT32_MAX, 1, KG_E_USAGE, "scrypt memory"},
	        {PBES1, 2147483647, 0, 0, KG_E_USAGE, "PBE iterations"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char *der;
		int len = make(cases[i].k, cases[i].a, cases[i].r, cases[i].p,
		               &der);
		char *pem = as_pem(der, len);
		struct kg_err e1, e2;

		assert_int_equal(
		        eng_key_kdf_check(der, (size_t)len, "k.der", &e1),
		        cases[i].want);
		assert_int_equal(eng_key_kdf_check((unsigned char *)pem,
		                                   strlen(pem), "k.pem", &e2),
		                 cases[i].want);
		if (cases[i].said != NULL) {
			assert_non_null(strstr(e1.msg, cases[i].said));
			assert_non_null(strstr(e1.msg, "'k.der'"));
			assert_non_null(strstr(e2.msg, "'k.pem'"));
		}
		OPENSSL_free(der);
		free(pem);
	}
}

/* what is not an encrypted key passes: the decoder refuses it */
static void test_not_encrypted(void **state)
{
	static const struct {
		const char *s;
		size_t len;
	} inputs[] = {
	        {"", 0},
	        {"-----BEGIN ", 11},
	        {"-----BEGIN ENCRYPTED PRIVATE KEY-----\n", 38},
	        {"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n"
	         "-----END ENCRYPTED PRIVATE KEY-----\n",
	         79},
	        {"\x30\x03\x02\x01\x00", 5}, /* an INTEGER, no X509_SIG */
	};
	struct kg_err err;
	size_t i;

	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
		assert_int_equal(
		        eng_key_kdf_check((const unsigned char *)inputs[i].s,
		                          inputs[i].len, "x", &err),
		        KG_OK);
}

/* a hostile file refused by eng_key_load before anything is derived */
static void test_key_load_refuses(void **state)
{
	unsigned char *der;
	/* just past the bound: without it, seconds of PBKDF2, then "wrong
	 * passphrase" (KG_REFUSED) */
	int len = make(PBKDF2, ENG_KDF_MAX_ITER + 1, 0, 0, &der);
	EVP_PKEY *k = NULL;
	struct kg_err err;

	assert_int_equal(
	        eng_key_load(der, (size_t)len, "k.der", "secret", &k, &err),
	        KG_E_USAGE);
	assert_null(k);
	assert_non_null(strstr(err.msg, "PBKDF2 iterations"));
	OPENSSL_free(der);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_bounds),
	        cmocka_unit_test(test_not_encrypted),
	        cmocka_unit_test(test_key_load_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
