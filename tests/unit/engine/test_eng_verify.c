/* engine/eng_verify.c: chain verify's purpose. (Path validation itself is
 * checked against x509-limbo, tests/limbo, and by t_trust.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "engine/eng_trust.h"

static void test_purpose(void **state)
{
	static const struct {
		const char *in;
		enum kg_code rc;
		enum eng_purpose p;
	} cases[] = {
	        {NULL, KG_OK, ENG_PURPOSE_ANY},
	        {"any", KG_OK, ENG_PURPOSE_ANY},
	        {"server", KG_OK, ENG_PURPOSE_SERVER},
	        {"client", KG_OK, ENG_PURPOSE_CLIENT},
	        {"Server", KG_E_USAGE, ENG_PURPOSE_ANY},
	        {"", KG_E_USAGE, ENG_PURPOSE_ANY},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum eng_purpose p = ENG_PURPOSE_ANY;
		struct kg_err err;

		assert_int_equal(eng_purpose_parse(cases[i].in, &p, &err),
		                 cases[i].rc);
		if (cases[i].rc == KG_OK)
			assert_int_equal(p, cases[i].p);
		else
			assert_non_null(strstr(err.msg, "unknown purpose"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_purpose),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
