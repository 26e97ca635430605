/* engine/eng_pem.c: the PEM lexer, as the gate's findings need it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "engine/eng_pem.h"

#define B    "-----BEGIN CERTIFICATE-----\n"
#define E    "-----END CERTIFICATE-----\n"
#define BODY "AAEC\n" /* bytes 00 01 02 */

static void test_scan(void **state)
{
	static const struct {
		const char *in;
		size_t blocks;
		int bad0, trailing, outside, blank_between, unterminated, crlf;
	} cases[] = {
	        {B BODY E, 1, 0, 0, 0, 0, 0, 0},
	        {B BODY E B BODY E, 2, 0, 0, 0, 0, 0, 0},
	        {B BODY E "\n" B BODY E, 2, 0, 0, 0, 1, 0, 0},
	        {"text\n" B BODY E, 1, 0, 0, 1, 0, 0, 0},
	        {B "AAEC \n" E, 1, 0, 1, 0, 0, 0, 0},
	        {B BODY, 1, 1, 0, 0, 0, 1, 0},
	        {"-----BEGIN CERTIFICATE-----\r\nAAEC\r\n"
	         "-----END CERTIFICATE-----\r\n",
	         1, 0, 0, 0, 0, 0, 1},
	        {B "!!!!\n" E, 1, 1, 0, 0, 0, 0, 0},
	        {B BODY "-----END X509 CRL-----\n", 1, 1, 0, 0, 0, 0, 0},
	        {"", 0, 0, 0, 0, 0, 0, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct eng_pem_scan s;

		assert_int_equal(
		        eng_pem_scan((const unsigned char *)cases[i].in,
		                     strlen(cases[i].in), &s),
		        1);
		if (s.n != cases[i].blocks)
			fail_msg("case %zu: %zu blocks, want %zu", i, s.n,
			         cases[i].blocks);
		if (s.n > 0) {
			assert_int_equal(s.blocks[0].bad != 0, cases[i].bad0);
			if (!cases[i].bad0 && !cases[i].unterminated) {
				assert_string_equal(s.blocks[0].label,
				                    "CERTIFICATE");
				assert_int_equal(s.blocks[0].der_len, 3);
				assert_memory_equal(s.blocks[0].der, "\0\1\2",
				                    3);
			}
		}
		if ((s.trailing_ws_line != 0) != cases[i].trailing ||
		    (s.outside_text_line != 0) != cases[i].outside ||
		    (s.blank_between_line != 0) != cases[i].blank_between ||
		    (s.unterminated_line != 0) != cases[i].unterminated ||
		    (s.crlf != 0) != cases[i].crlf)
			fail_msg("case %zu: trailing %d outside %d blank %d "
			         "unterminated %d crlf %d",
			         i, s.trailing_ws_line, s.outside_text_line,
			         s.blank_between_line, s.unterminated_line,
			         s.crlf);
		eng_pem_scan_free(&s);
	}
}

/* NUL bytes: binary, not text */
static void test_binary(void **state)
{
	struct eng_pem_scan s;
	static const unsigned char der[] = {0x30, 0x03, 0x02, 0x01, 0x00};

	assert_int_equal(eng_pem_scan(der, sizeof(der), &s), 1);
	assert_int_equal(s.binary, 1);
	assert_int_equal(s.n, 0);
	eng_pem_scan_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_scan),
	        cmocka_unit_test(test_binary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
