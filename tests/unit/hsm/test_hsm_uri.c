/* RFC 7512 URIs: parse and print round trips, what keygate builds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "hsm/hsm_int.h"

static void test_round_trip(void **state)
{
	static const struct {
		const char *in;
		enum kg_code want;
		const char *out; /* NULL: same as in */
	} cases[] = {
	        {"pkcs11:token=ci", KG_OK, NULL},
	        {"pkcs11:token=ci;object=web;type=private", KG_OK, NULL},
	        {"pkcs11:object=my%20key;id=%01%02", KG_OK,
	         "pkcs11:id=%01%02;object=my%20key"},
	        {"pkcs11:token=a%3Bb", KG_OK, "pkcs11:token=a%3Bb"},
	        {"pkcs11:serial=1234;token=ci?module-path=/usr/lib/x.so",
	         KG_OK,
	         "pkcs11:serial=1234;token=ci?module-path=%2Fusr%2Flib%2Fx."
	         "so"},
	        {"pkcs11:", KG_OK, NULL},
	        {"http://example.com", KG_E_USAGE, NULL},
	        {"pkcs11:token=%zz", KG_E_USAGE, NULL},
	        {"pkcs11:id=%0", KG_E_USAGE, NULL},
	        /* issue 9 #16: RFC 7512 allows a path attribute once */
	        {"pkcs11:token=a;token=b", KG_E_USAGE, NULL},
	        {"pkcs11:token=a;object=k;token=a", KG_E_USAGE, NULL},
	        {"pkcs11:object=k;id=%01;id=%02?module-path=/x.so", KG_E_USAGE,
	         NULL},
	        {"pkcs11:token=a;tok=b", KG_OK, "pkcs11:token=a"},
	        {"pkcs11:token=a?module-name=x&pin-source=/p", KG_OK,
	         "pkcs11:token=a?pin-source=%2Fp&module-name=x"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL, *again = NULL;
		struct kg_err err = {0};
		enum kg_code rc = hsm_uri_normalize(cases[i].in, &out, &err);

		if (rc != cases[i].want)
			fail_msg("'%s': got %d (%s)", cases[i].in, rc,
			         err.msg);
		if (rc != KG_OK) {
			assert_non_null(strstr(err.msg, "URI"));
			continue;
		}
		assert_string_equal(out,
		                    cases[i].out ? cases[i].out : cases[i].in);
		/* printing is a fixed point: what we print pastes back in */
		assert_int_equal(hsm_uri_normalize(out, &again, &err), KG_OK);
		assert_string_equal(out, again);
		free(out);
		free(again);
	}
}

static void test_build(void **state)
{
	CK_TOKEN_INFO ti;
	const unsigned char id[] = {0xab, 0x01};
	char *s = NULL;
	P11KitUri *u = NULL;
	struct kg_err err;

	memset(&ti, ' ', sizeof(ti));
	memcpy(ti.label, "my token", 8);
	memcpy(ti.serialNumber, "42", 2);
	assert_int_equal(hsm_uri_build(&ti, "/usr/lib/softhsm/libsofthsm2.so",
	                               "ignored", "web;key", id, sizeof(id),
	                               CKO_PRIVATE_KEY, &s, &err),
	                 KG_OK);
	assert_non_null(strstr(s, "token=my%20token"));
	assert_non_null(strstr(s, "serial=42"));
	assert_non_null(strstr(s, "object=web%3Bkey"));
	assert_non_null(strstr(s, "id=%AB%01"));
	assert_non_null(strstr(s, "type=private"));
	assert_non_null(strstr(s, "module-path="));
	/* and it parses back to the same attributes */
	assert_int_equal(hsm_uri_parse(s, &u, &err), KG_OK);
	assert_int_equal(p11_kit_uri_get_attribute(u, CKA_ID)->ulValueLen, 2);
	assert_string_equal(p11_kit_uri_get_module_path(u),
	                    "/usr/lib/softhsm/libsofthsm2.so");
	assert_true(p11_kit_uri_match_token_info(u, &ti));
	assert_null(p11_kit_uri_get_module_name(u));
	p11_kit_uri_free(u);
	free(s);
	/* a registry module by its name: its configuration comes along */
	assert_int_equal(hsm_uri_build(&ti, NULL, "kg-nss", NULL, NULL, 0,
	                               (CK_OBJECT_CLASS)-1, &s, &err),
	                 KG_OK);
	assert_non_null(strstr(s, "module-name=kg-nss"));
	assert_null(strstr(s, "module-path="));
	assert_int_equal(hsm_uri_parse(s, &u, &err), KG_OK);
	assert_string_equal(p11_kit_uri_get_module_name(u), "kg-nss");
	p11_kit_uri_free(u);
	free(s);
	assert_true(hsm_is_uri("PKCS11:token=x"));
	assert_false(hsm_is_uri("key.pem"));
	assert_false(hsm_is_uri(NULL));
}

/* token init --token LABEL: a bare label becomes a token URI, encoded */
static void test_for_label(void **state)
{
	static const struct {
		const char *label;
		enum kg_code want;
		const char *uri;
	} cases[] = {
	        {"ci", KG_OK, "pkcs11:token=ci"},
	        {"a;b c", KG_OK, "pkcs11:token=a%3Bb%20c"},
	        {"x/y?z", KG_OK, "pkcs11:token=x%2Fy%3Fz"},
	        {"", KG_E_USAGE, NULL},
	        {"123456789012345678901234567890123", KG_E_USAGE, NULL},
	};
	struct kg_err err;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *uri = NULL, *back = NULL;

		assert_int_equal(hsm_uri_for_label(cases[i].label, &uri, &err),
		                 cases[i].want);
		if (cases[i].want != KG_OK)
			continue;
		assert_string_equal(uri, cases[i].uri);
		/* and it parses back to the same label */
		assert_int_equal(hsm_uri_normalize(uri, &back, &err), KG_OK);
		assert_string_equal(back, uri);
		free(back);
		free(uri);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_round_trip),
	        cmocka_unit_test(test_build),
	        cmocka_unit_test(test_for_label),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
