/* engine/eng_acm_policy.c: what each ACM target takes; the export verdict. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/evp.h>

#include "engine/eng.h"
#include "engine/eng_gate.h"

static void test_targets(void **state)
{
	enum eng_target t;
	struct kg_err err;

	assert_int_equal(eng_target_parse(NULL, &t, &err), KG_OK);
	assert_int_equal(t, ENG_TARGET_ACM_INTEGRATED);
	assert_int_equal(eng_target_parse("acm", &t, &err), KG_OK);
	assert_int_equal(t, ENG_TARGET_ACM);
	assert_string_equal(eng_target_name(t), "acm");
	assert_int_equal(eng_target_parse("cloudfront", &t, &err), KG_E_USAGE);
}

static void test_export_verdict(void **state)
{
	static const struct {
		enum eng_target t;
		const char *alg;
		int bits, sensitive, extractable;
		const char *code, *reason;
	} cases[] = {
	        {ENG_TARGET_ACM_INTEGRATED, "RSA", 2048, 0, 1, NULL, NULL},
	        {ENG_TARGET_ACM_INTEGRATED, "RSA", 1024, 0, 1, NULL, NULL},
	        {ENG_TARGET_ACM_INTEGRATED, "RSA", 2048, 1, 0,
	         "key-not-exportable",
	         "the key is sensitive and not extractable"},
	        {ENG_TARGET_ACM_INTEGRATED, "RSA", 2048, -1, 1,
	         "key-not-exportable", "the key is sensitive"},
	        {ENG_TARGET_ACM_INTEGRATED, "RSA", 2048, 0, -1,
	         "key-not-exportable", "the key is not extractable"},
	        /* not exportable is said first, whatever the algorithm */
	        {ENG_TARGET_ACM_INTEGRATED, "P-256", 256, 1, 1,
	         "key-not-exportable", "the key is sensitive"},
	        {ENG_TARGET_ACM_INTEGRATED, "P-256", 256, 0, 1,
	         "key-algorithm",
	         "services integrated with ACM take RSA 1024 and 2048 only"},
	        {ENG_TARGET_ACM, "P-256", 256, 0, 1, NULL, NULL},
	        {ENG_TARGET_ACM, "RSA", 8192, 0, 1, "key-algorithm",
	         "ACM takes RSA 1024-4096 and EC P-256/384/521 only"},
	        {ENG_TARGET_ACM, NULL, 0, 0, 1, "key-algorithm", NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct eng_export_verdict v = eng_export_verdict(
		        cases[i].t, cases[i].alg, cases[i].bits,
		        cases[i].sensitive, cases[i].extractable);
		struct eng_findings f = {0};
		int added = eng_export_check(&f, cases[i].t, cases[i].alg,
		                             cases[i].bits, cases[i].sensitive,
		                             cases[i].extractable, "key");

		if (cases[i].code == NULL) {
			assert_null(v.code);
		} else {
			assert_string_equal(v.code, cases[i].code);
			if (cases[i].reason != NULL)
				assert_string_equal(v.reason, cases[i].reason);
		}
		/* the export gate's own finding: key-not-exportable only */
		assert_int_equal(added,
		                 cases[i].code != NULL &&
		                         strcmp(cases[i].code,
		                                "key-not-exportable") == 0);
		assert_int_equal(f.n, (size_t)added);
		if (added) {
			assert_string_equal(f.v[0].code, "key-not-exportable");
			assert_non_null(strstr(f.v[0].message, v.state));
			assert_string_equal(f.v[0].hint, eng_fallback_hint);
		}
		eng_findings_free(&f);
	}
}

/* issue 9 #18: ACM takes P-256/384/521 by curve, not by bit count */
static void test_acm_alg_by_curve(void **state)
{
	static const struct {
		const char *alg, *param; /* EVP_PKEY_Q_keygen's */
		size_t bits;
		const char *want_alg;
		int ok_acm, ok_integrated;
	} cases[] = {
	        {"RSA", NULL, 2048, "RSA", 1, 1},
	        {"EC", "P-256", 0, "P-256", 1, 0},
	        {"EC", "P-384", 0, "P-384", 1, 0},
	        {"EC", "secp256k1", 0, NULL, 0, 0},
	        {"EC", "brainpoolP256r1", 0, NULL, 0, 0},
	        {"ED25519", NULL, 0, NULL, 0, 0},
	        {"X25519", NULL, 0, NULL, 0, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EVP_PKEY *k =
		        cases[i].param
		                ? EVP_PKEY_Q_keygen(NULL, NULL, cases[i].alg,
		                                    cases[i].param)
		        : cases[i].bits
		                ? EVP_PKEY_Q_keygen(NULL, NULL, cases[i].alg,
		                                    cases[i].bits)
		                : EVP_PKEY_Q_keygen(NULL, NULL, cases[i].alg);
		const char *alg;

		assert_non_null(k);
		alg = eng_key_acm_alg(k);
		if (cases[i].want_alg == NULL)
			assert_null(alg);
		else
			assert_string_equal(alg, cases[i].want_alg);
		assert_int_equal(eng_key_algorithm_ok(ENG_TARGET_ACM, alg,
		                                      EVP_PKEY_get_bits(k)),
		                 cases[i].ok_acm);
		assert_int_equal(
		        eng_key_algorithm_ok(ENG_TARGET_ACM_INTEGRATED, alg,
		                             EVP_PKEY_get_bits(k)),
		        cases[i].ok_integrated);
		EVP_PKEY_free(k);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_targets),
	        cmocka_unit_test(test_export_verdict),
	        cmocka_unit_test(test_acm_alg_by_curve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
