/* hsm/hsm_mech.c: which mechanism a key signs with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/obj_mac.h>

#include "hsm/hsm_int.h"

#define NONE CK_UNAVAILABLE_INFORMATION
#define END  ((CK_MECHANISM_TYPE)-1)

static size_t count(const CK_MECHANISM_TYPE *v)
{
	size_t n = 0;

	while (v[n] != END)
		n++;
	return n;
}

static void test_pick(void **state)
{
	static const struct {
		const char *what;
		enum hsm_key_type type;
		CK_MECHANISM_TYPE allowed[4]; /* END-terminated */
		int allowed_set;
		CK_MECHANISM_TYPE token[6];
		int token_known, md;
		CK_MECHANISM_TYPE want;
		int hashed;
	} cases[] = {
	        {"RSA, any",
	         HSM_KEY_RSA,
	         {END},
	         0,
	         {END},
	         0,
	         NID_sha256,
	         CKM_RSA_PKCS,
	         0},
	        {"EC, any",
	         HSM_KEY_EC,
	         {END},
	         0,
	         {END},
	         0,
	         NID_sha384,
	         CKM_ECDSA,
	         0},
	        {"key allows only SHA256-RSA-PKCS",
	         HSM_KEY_RSA,
	         {CKM_SHA256_RSA_PKCS, END},
	         1,
	         {CKM_RSA_PKCS, CKM_SHA256_RSA_PKCS, END},
	         1,
	         NID_sha256,
	         CKM_SHA256_RSA_PKCS,
	         1},
	        {"... but SHA-384 is asked",
	         HSM_KEY_RSA,
	         {CKM_SHA256_RSA_PKCS, END},
	         1,
	         {END},
	         0,
	         NID_sha384,
	         NONE,
	         0},
	        {"token has only hashed ECDSA",
	         HSM_KEY_EC,
	         {END},
	         0,
	         {CKM_ECDSA_SHA256, CKM_ECDSA_SHA384, CKM_RSA_PKCS, END},
	         1,
	         NID_sha384,
	         CKM_ECDSA_SHA384,
	         1},
	        {"key allows ECDSA-SHA384, token has none",
	         HSM_KEY_EC,
	         {CKM_ECDSA_SHA384, END},
	         1,
	         {CKM_ECDSA, END},
	         1,
	         NID_sha384,
	         NONE,
	         0},
	        {"an empty allowed list that is set",
	         HSM_KEY_EC,
	         {END},
	         1,
	         {END},
	         0,
	         NID_sha256,
	         NONE,
	         0},
	        {"RSA mechanisms are not for an EC key",
	         HSM_KEY_EC,
	         {CKM_RSA_PKCS, CKM_SHA256_RSA_PKCS, END},
	         1,
	         {END},
	         0,
	         NID_sha256,
	         NONE,
	         0},
	        {"EdDSA: the token gets the message",
	         HSM_KEY_ED,
	         {END},
	         0,
	         {CKM_ECDSA, CKM_EDDSA, END},
	         1,
	         NID_undef,
	         CKM_EDDSA,
	         1},
	        {"EdDSA: a token without CKM_EDDSA",
	         HSM_KEY_ED,
	         {END},
	         0,
	         {CKM_ECDSA, END},
	         1,
	         NID_undef,
	         NONE,
	         0},
	        {"raw preferred over hashed",
	         HSM_KEY_RSA,
	         {CKM_SHA256_RSA_PKCS, CKM_RSA_PKCS, END},
	         1,
	         {END},
	         0,
	         NID_sha256,
	         CKM_RSA_PKCS,
	         0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t m = hsm_mech_usable(
		        cases[i].type, cases[i].allowed,
		        count(cases[i].allowed), cases[i].allowed_set,
		        cases[i].token, count(cases[i].token),
		        cases[i].token_known);
		int hashed = -1;
		CK_MECHANISM_TYPE got =
		        hsm_mech_pick(m, cases[i].md, 0, &hashed);

		if (got != cases[i].want)
			fail_msg("%s: got 0x%lx", cases[i].what,
			         (unsigned long)got);
		if (got != NONE)
			assert_int_equal(hashed, cases[i].hashed);
	}
}

/* RSASSA-PSS: its own mechanisms, never PKCS#1 v1.5's, nor the other
 * way round */
static void test_pick_pss(void **state)
{
	static const struct {
		CK_MECHANISM_TYPE allowed[3];
		int allowed_set, md, pss;
		CK_MECHANISM_TYPE want;
		int hashed;
	} cases[] = {
	        {{END}, 0, NID_sha256, 1, CKM_RSA_PKCS_PSS, 0},
	        {{CKM_SHA384_RSA_PKCS_PSS, END},
	         1,
	         NID_sha384,
	         1,
	         CKM_SHA384_RSA_PKCS_PSS,
	         1},
	        {{CKM_SHA384_RSA_PKCS_PSS, END}, 1, NID_sha256, 1, NONE, 0},
	        {{CKM_RSA_PKCS, END}, 1, NID_sha256, 1, NONE, 0},
	        {{CKM_RSA_PKCS_PSS, END}, 1, NID_sha256, 0, NONE, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t m = hsm_mech_usable(HSM_KEY_RSA, cases[i].allowed,
		                             count(cases[i].allowed),
		                             cases[i].allowed_set, NULL, 0, 0);
		int hashed = -1;

		assert_int_equal(
		        hsm_mech_pick(m, cases[i].md, cases[i].pss, &hashed),
		        cases[i].want);
		if (cases[i].want != NONE)
			assert_int_equal(hashed, cases[i].hashed);
	}
}

static void test_names(void **state)
{
	CK_MECHANISM_TYPE v[] = {CKM_ECDSA_SHA256, 0x80001234UL};
	char buf[128], one[32];
	char *s;
	uint32_t m;

	m = hsm_mech_usable(HSM_KEY_RSA, NULL, 0, 0, NULL, 0, 0);
	hsm_mech_names(m & 3, buf, sizeof(buf));
	assert_string_equal(buf, "CKM_RSA_PKCS, CKM_SHA256_RSA_PKCS");
	hsm_mech_names(0, buf, sizeof(buf));
	assert_string_equal(buf, "none");
	assert_string_equal(hsm_mech_name(0x80001234UL, one, sizeof(one)),
	                    "CKM_0x80001234");
	s = hsm_mech_list_str(v, 2);
	assert_non_null(s);
	assert_string_equal(s, "CKM_ECDSA_SHA256,CKM_0x80001234");
	free(s);
	/* a buffer too small is cut, never overrun */
	hsm_mech_names(m, buf, 10);
	assert_true(strlen(buf) < 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_pick),
	        cmocka_unit_test(test_pick_pss),
	        cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
