/* engine/eng_keytype.c: key types by name, and bundle fallback's choice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "engine/eng.h"
#include "engine/eng_gate.h"

static void test_parse(void **state)
{
	static const struct {
		const char *in;
		int ok, bits, nid;
		const char *curve;
	} cases[] = {
	        {"rsa:1024", 1, 1024, 0, NULL},
	        {"RSA:2048", 1, 2048, 0, NULL},
	        {"rsa:4096", 1, 4096, 0, NULL},
	        {"ec:p256", 1, 256, NID_X9_62_prime256v1, "P-256"},
	        {"EC:P384", 1, 384, NID_secp384r1, "P-384"},
	        {"ec:p521", 1, 521, NID_secp521r1, "P-521"},
	        {"rsa:512", 0, 0, 0, NULL},
	        {"ec:p192", 0, 0, 0, NULL},
	        {"ed25519", 1, 256, NID_ED25519, "Ed25519"},
	        {"ED448", 1, 456, NID_ED448, "Ed448"},
	        {"ed25518", 0, 0, 0, NULL},
	        {"rsa:2048 ", 0, 0, 0, NULL},
	        {"", 0, 0, 0, NULL},
	        {NULL, 0, 0, 0, NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct eng_key_type *kt;
		struct kg_err err;
		enum kg_code rc = eng_key_type_parse(cases[i].in, &kt, &err);

		if (!cases[i].ok) {
			assert_int_equal(rc, KG_E_USAGE);
			assert_null(kt);
			assert_non_null(
			        strstr(err.msg, "unsupported key type"));
			assert_non_null(strstr(err.msg, "ec:p521"));
			continue;
		}
		assert_int_equal(rc, KG_OK);
		assert_int_equal(kt->bits, cases[i].bits);
		assert_int_equal(kt->curve_nid, cases[i].nid);
		if (cases[i].curve)
			assert_string_equal(kt->curve, cases[i].curve);
		else
			assert_null(kt->curve);
	}
}

static void test_fallback(void **state)
{
	static const struct {
		enum eng_target t;
		const char *type;
		enum kg_code want;
	} cases[] = {
	        {ENG_TARGET_ACM_INTEGRATED, "rsa:2048", KG_OK},
	        {ENG_TARGET_ACM_INTEGRATED, "rsa:1024", KG_OK},
	        {ENG_TARGET_ACM_INTEGRATED, "rsa:3072", KG_E_USAGE},
	        {ENG_TARGET_ACM_INTEGRATED, "ec:p256", KG_E_USAGE},
	        {ENG_TARGET_ACM, "rsa:4096", KG_OK},
	        {ENG_TARGET_ACM, "ec:p384", KG_OK},
	        {ENG_TARGET_ACM, "rsa:512", KG_E_USAGE},
	        {ENG_TARGET_ACM, "ed25519", KG_E_USAGE},
	        {ENG_TARGET_ACM_INTEGRATED, "ed448", KG_E_USAGE},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct eng_key_type *kt;
		struct kg_err err;

		assert_int_equal(eng_fallback_type(cases[i].t, cases[i].type,
		                                   &kt, &err),
		                 cases[i].want);
		if (cases[i].want != KG_OK) {
			assert_null(kt);
			continue;
		}
		assert_string_equal(kt->name, cases[i].type);
	}
}

/* the key made is of the type asked */
static void test_new(void **state)
{
	static const char *types[] = {"rsa:1024", "ec:p256", "ec:p521",
	                              "ed25519", "ed448"};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		const struct eng_key_type *kt;
		EVP_PKEY *k = NULL;
		struct kg_err err;
		char desc[64];

		assert_int_equal(eng_key_type_parse(types[i], &kt, &err),
		                 KG_OK);
		assert_int_equal(eng_key_type_new(kt, &k, &err), KG_OK);
		assert_int_equal(EVP_PKEY_get_bits(k), kt->bits);
		eng_key_describe(k, desc, sizeof(desc));
		assert_non_null(strstr(desc, kt->curve ? kt->curve : "RSA"));
		EVP_PKEY_free(k);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse),
	        cmocka_unit_test(test_fallback),
	        cmocka_unit_test(test_new),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
