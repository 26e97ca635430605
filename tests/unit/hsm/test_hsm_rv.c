/* CK_RV to message: the ones users see must say what to do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hsm/hsm_int.h"

static void test_messages(void **state)
{
	static const struct {
		CK_RV rv;
		const char *needle;
	} cases[] = {
	        {CKR_PIN_INCORRECT, "PIN incorrect for token 'ci'"},
	        {CKR_PIN_LOCKED, "PIN locked for token 'ci'"},
	        {CKR_PIN_LEN_RANGE, "PIN rejected"},
	        {CKR_MECHANISM_INVALID, "does not support this key type"},
	        {CKR_TOKEN_WRITE_PROTECTED, "read-only"},
	        {CKR_DEVICE_ERROR,
	         "C_X on token 'ci' failed: CKR_DEVICE_ERROR"},
	        {0x80001234UL, "CKR 0x80001234"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kg_err err;

		assert_int_equal(hsm_rv_err(&err, cases[i].rv, "C_X", "ci"),
		                 KG_E_TOKEN);
		if (strstr(err.msg, cases[i].needle) == NULL)
			fail_msg("0x%lx: '%s' lacks '%s'", cases[i].rv,
			         err.msg, cases[i].needle);
	}
	assert_string_equal(hsm_rv_name(CKR_OK), "CKR_OK");
	assert_null(hsm_rv_name(0x7fffffffUL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
