/* Option parsing and --at times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "cli/cli.h"

static void test_times(void **state)
{
	static const struct {
		const char *s;
		enum kg_code want;
		long long t;
	} cases[] = {
	        {"1970-01-01T00:00:00Z", KG_OK, 0},
	        {"2026-11-22T15:00:00Z", KG_OK, 1795359600},
	        {"2026-11-22T16:00:00+01:00", KG_OK, 1795359600},
	        {"2024-02-29T00:00:00Z", KG_OK, 1709164800},
	        {"2026-11-22 15:00:00.123Z", KG_OK, 1795359600},
	        {"@1795359600", KG_OK, 1795359600},
	        {"@-1", KG_OK, -1},
	        {"2023-02-29T00:00:00Z", KG_E_USAGE, 0},
	        {"2026-11-22", KG_E_USAGE, 0},
	        {"2026-11-22T15:00:00", KG_E_USAGE, 0},
	        {"2026-13-01T00:00:00Z", KG_E_USAGE, 0},
	        {"@", KG_E_USAGE, 0},
	        {"@12x", KG_E_USAGE, 0},
	        {"tomorrow", KG_E_USAGE, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		time_t t = 0;
		struct kg_err err;
		enum kg_code rc = cli_parse_time(cases[i].s, &t, &err);

		if (rc != cases[i].want)
			fail_msg("'%s': got %d", cases[i].s, rc);
		if (rc == KG_OK)
			assert_int_equal((long long)t, cases[i].t);
	}
}

static const struct cli_opt opts[] = {{"flag", CLI_FLAG, NULL, "a flag"},
                                      {"out", CLI_VALUE, "FILE", "a value"},
                                      CLI_OPT_END};
static const struct cli_cmd cmd = {"grp", "verb", NULL, "test", "[ARG]",
                                   opts,  0,      1,    NULL};

static enum kg_code parse(int argc, const char **argv, struct cli_args *a,
                          struct cli_ctx *c, struct kg_err *err)
{
	int help;

	memset(c, 0, sizeof(*c));
	return cli_parse(c, &cmd, argc, (char **)argv, a, &help, err);
}

static void test_parse(void **state)
{
	struct cli_args a;
	struct cli_ctx c;
	struct kg_err err;
	const char *ok1[] = {"--out", "f.pem", "--flag", "pos", "--json"};
	const char *ok2[] = {"--out=g.pem", "--pin-source", "env:X"};
	const char *bad1[] = {"--nope"};
	const char *bad2[] = {"--out"};
	const char *bad3[] = {"--flag=1"};
	const char *bad4[] = {"a", "b"};
	const char *bad5[] = {"--out", "a", "--out", "b"};
	const char *bad6[] = {"--out="};

	assert_int_equal(parse(5, ok1, &a, &c, &err), KG_OK);
	assert_string_equal(cli_opt(&cmd, &a, "out"), "f.pem");
	assert_true(cli_flag(&cmd, &a, "flag"));
	assert_int_equal(a.npos, 1);
	assert_true(c.json);
	assert_int_equal(parse(3, ok2, &a, &c, &err), KG_OK);
	assert_string_equal(cli_opt(&cmd, &a, "out"), "g.pem");
	assert_string_equal(c.pin_source, "env:X");
	assert_false(cli_flag(&cmd, &a, "flag"));
	assert_int_equal(parse(1, bad1, &a, &c, &err), KG_E_USAGE);
	assert_non_null(strstr(err.msg, "--nope"));
	assert_int_equal(parse(1, bad2, &a, &c, &err), KG_E_USAGE);
	assert_int_equal(parse(1, bad3, &a, &c, &err), KG_E_USAGE);
	assert_int_equal(parse(2, bad4, &a, &c, &err), KG_E_USAGE);
	assert_int_equal(parse(4, bad5, &a, &c, &err), KG_E_USAGE);
	assert_int_equal(parse(1, bad6, &a, &c, &err), KG_E_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_times),
	        cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
