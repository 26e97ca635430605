/* JSON strings from hostile bytes are always valid JSON and UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/kg_json.h"

/* Encodes s, dumps it, parses it back: returns the decoded string. */
static char *round_trip(const char *s, size_t len)
{
	json_t *arr = json_array(), *back;
	json_error_t e;
	char *dump, *out;

	json_array_append_new(arr, kg_json_strn(s, len));
	dump = json_dumps(arr, JSON_ENCODE_ANY);
	assert_non_null(dump);
	back = json_loads(dump, 0, &e);
	assert_non_null(back); /* always parses */
	out = strdup(json_string_value(json_array_get(back, 0)));
	free(dump);
	json_decref(back);
	json_decref(arr);
	return out;
}

static void test_hostile(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
	        {"plain", 5, "plain"},
	        {"quote\" back\\slash", 17, "quote\" back\\slash"},
	        {"ctl\x01\x1f\n\t", 7, "ctl\x01\x1f\n\t"},
	        {"nul\0mid", 7, "nul\xef\xbf\xbdmid"},
	        {"bad\xff", 4, "bad\xef\xbf\xbd"},
	        {"\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd"}, /* overlong '/' */
	        {"\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
	        {"cut\xe2\x82", 5, "cut\xef\xbf\xbd\xef\xbf\xbd"},
	        {"\xf4\x90\x80\x80", 4,
	         "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
	        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91", 14,
	         "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91"},
	        {"</script>\u2028", 12, "</script>\u2028"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = round_trip(cases[i].in, cases[i].len);

		assert_string_equal(got, cases[i].want);
		free(got);
	}
}

static void test_null_and_hex(void **state)
{
	json_t *j = kg_json_str(NULL);
	const unsigned char b[] = {0x00, 0xab, 0xff};

	assert_true(json_is_null(j));
	json_decref(j);
	j = kg_json_hex(b, sizeof(b));
	assert_string_equal(json_string_value(j), "00abff");
	json_decref(j);
	j = kg_json_hex(b, 0);
	assert_string_equal(json_string_value(j), "");
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_hostile),
	        cmocka_unit_test(test_null_and_hex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
