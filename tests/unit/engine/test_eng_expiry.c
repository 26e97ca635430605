/* engine/eng_expiry.c: cert expiry's window and verdict. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "engine/eng_trust.h"

static void test_window(void **state)
{
	static const struct {
		const char *in;
		int ok;
		long long secs;
	} cases[] = {
	        {NULL, 1, 30LL * 86400},
	        {"30d", 1, 30LL * 86400},
	        {"30", 1, 30LL * 86400},
	        {"12h", 1, 12LL * 3600},
	        {"2w", 1, 14LL * 86400},
	        {"0d", 1, 0},
	        {"36600d", 1, 36600LL * 86400},
	        {"36601d", 0, 0}, /* over a century */
	        {"99999999999999999999d", 0, 0},
	        {"9223372036854775807w", 0, 0}, /* no overflow */
	        {"-1d", 0, 0},
	        {" 5d", 0, 0},
	        {"5dd", 0, 0},
	        {"5m", 0, 0},
	        {"d", 0, 0},
	        {"", 0, 0},
	        {"soon", 0, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long s = -1;
		struct kg_err err;

		assert_int_equal(eng_window_parse(cases[i].in, &s, &err),
		                 cases[i].ok ? KG_OK : KG_E_USAGE);
		if (cases[i].ok)
			assert_true(s == cases[i].secs);
		else
			assert_non_null(strstr(err.msg, "not a duration"));
	}
}

static void test_expiry(void **state)
{
	static const struct {
		long long after; /* notAfter - at, seconds */
		long long window;
		long days;
		int expired, within;
	} cases[] = {
	        {10 * 86400, 30 * 86400, 10, 0, 1},
	        {30 * 86400, 30 * 86400, 30, 0, 1}, /* inclusive */
	        {30 * 86400 + 1, 30 * 86400, 30, 0, 0},
	        {0, 0, 0, 0, 1},
	        {-1, 0, -1, 1, 1},
	        {-86400, 30 * 86400, -1, 1, 1},
	        {-86401, 30 * 86400, -2, 1, 1},
	};
	const time_t at = 1700000000;
	X509 *x = X509_new();
	size_t i;

	assert_non_null(x);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct eng_expiry ex;

		assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x),
		                              at + (time_t)cases[i].after));
		eng_expiry_of(x, at, cases[i].window, &ex);
		assert_true(ex.not_after == at + (time_t)cases[i].after);
		assert_int_equal(ex.days, cases[i].days);
		assert_int_equal(ex.expired, cases[i].expired);
		assert_int_equal(ex.within, cases[i].within);
	}
	X509_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_window),
	        cmocka_unit_test(test_expiry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
