/* common/kg_hex.c: hex digits to bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/kg_hex.h"

static void test_unhex(void **state)
{
	static const struct {
		const char *in;
		size_t cap;
		int ok;
		size_t len;
		const char *bytes;
	} cases[] = {
	        {"", 4, 1, 0, ""},
	        {"01a2", 4, 1, 2, "\x01\xa2"},
	        {"01:A2", 4, 1, 2, "\x01\xa2"},
	        {"01:a2:", 4, 1, 2, "\x01\xa2"},
	        {"ff", 1, 1, 1, "\xff"},
	        {"0", 4, 0, 0, NULL},      /* odd */
	        {"0:1", 4, 0, 0, NULL},    /* colon inside a byte */
	        {"0g", 4, 0, 0, NULL},     /* not hex */
	        {"01 02", 4, 0, 0, NULL},  /* blank */
	        {"010203", 2, 0, 0, NULL}, /* over cap */
	        {"zz", 4, 0, 0, NULL},
	};
	size_t i, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char out[8];

		assert_int_equal(
		        kg_unhex(cases[i].in, out, cases[i].cap, &len),
		        cases[i].ok);
		if (!cases[i].ok)
			continue;
		assert_int_equal(len, cases[i].len);
		assert_memory_equal(out, cases[i].bytes, len);
	}
}

static void test_hexval(void **state)
{
	const char *d = "0123456789abcdef", *u = "ABCDEF";
	int c, i;

	for (i = 0; i < 16; i++)
		assert_int_equal(kg_hexval(d[i]), i);
	for (i = 0; i < 6; i++)
		assert_int_equal(kg_hexval(u[i]), 10 + i);
	for (c = -1; c < 256; c++)
		if (strchr("0123456789abcdefABCDEF", c) == NULL || c == 0)
			assert_int_equal(kg_hexval(c), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_unhex),
	        cmocka_unit_test(test_hexval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
