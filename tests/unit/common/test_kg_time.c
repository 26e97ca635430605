/* kg_time: X.509's range, and printing that never crashes (issue 9 #5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/kg_time.h"

static void test_range_and_str(void **state)
{
	static const struct {
		long long t;
		int in_range;
		const char *str;
	} cases[] = {
	        {0, 1, "1970-01-01T00:00:00Z"},
	        {KG_TIME_MAX, 1, "9999-12-31T23:59:59Z"},
	        {KG_TIME_MIN, 1, "0001-01-01T00:00:00Z"},
	        {KG_TIME_MAX + 1, 0, NULL},
	        {KG_TIME_MIN - 1, 0, NULL},
	        {99999999999999999LL, 0, "(out of range)"},
	        {-99999999999999999LL, 0, "(out of range)"},
	};
	size_t i;
	char buf[KG_TIME_LEN];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(kg_time_in_range(cases[i].t),
		                 cases[i].in_range);
		kg_time_str((time_t)cases[i].t, buf);
		if (cases[i].str != NULL)
			assert_string_equal(buf, cases[i].str);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_range_and_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
