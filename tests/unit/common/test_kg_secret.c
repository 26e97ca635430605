/* PIN sources: file:, env:, fd:, bare paths, and the bad forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/kg_secret.h"

static void test_parse_forms(void **state)
{
	static const struct {
		const char *spec;
		enum kg_code want;
		enum kg_secret_kind kind;
		const char *arg;
	} cases[] = {
	        {"file:/tmp/pin", KG_OK, KG_SRC_FILE, "/tmp/pin"},
	        {"file:///tmp/pin", KG_OK, KG_SRC_FILE, "/tmp/pin"},
	        {"env:MY_PIN", KG_OK, KG_SRC_ENV, "MY_PIN"},
	        {"fd:3", KG_OK, KG_SRC_FD, "3"},
	        {"/abs/path", KG_OK, KG_SRC_FILE, "/abs/path"},
	        {"./rel", KG_OK, KG_SRC_FILE, "./rel"},
	        {"pinfile", KG_OK, KG_SRC_FILE, "pinfile"},
	        {"", KG_E_USAGE, 0, NULL},
	        {"fd:", KG_E_USAGE, 0, NULL},
	        {"fd:x", KG_E_USAGE, 0, NULL},
	        {"fd:-1", KG_E_USAGE, 0, NULL},
	        {"fd:99999999999", KG_E_USAGE, 0, NULL},
	        {"env:", KG_E_USAGE, 0, NULL},
	        {"file:", KG_E_USAGE, 0, NULL},
	        {"pass:1234", KG_E_USAGE, 0,
	         NULL}, /* openssl's form: refused */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum kg_secret_kind kind;
		const char *arg = NULL;
		struct kg_err err;
		enum kg_code rc = kg_secret_parse_source(cases[i].spec, &kind,
		                                         &arg, &err);

		assert_int_equal(rc, cases[i].want);
		if (rc == KG_OK) {
			assert_int_equal(kind, cases[i].kind);
			assert_string_equal(arg, cases[i].arg);
		} else {
			assert_true(strlen(err.msg) > 0);
		}
	}
}

static void test_read_env_file_fd(void **state)
{
	char path[] = "/tmp/kg_secret_XXXXXX";
	char spec[64];
	struct kg_secret *s = NULL;
	struct kg_err err;
	int fd = mkstemp(path), p[2];

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "12 34\r\n", 7), 7);
	close(fd);
	snprintf(spec, sizeof(spec), "file:%s", path);
	assert_int_equal(kg_secret_from_source(spec, "PIN", &s, &err), KG_OK);
	assert_string_equal(s->buf, "12 34"); /* one CRLF dropped, not more */
	assert_int_equal(s->len, 5);
	kg_secret_free(s);
	unlink(path);

	setenv("KG_TEST_PIN", "s3cr3t", 1);
	assert_int_equal(
	        kg_secret_from_source("env:KG_TEST_PIN", "PIN", &s, &err),
	        KG_OK);
	assert_string_equal(s->buf, "s3cr3t");
	kg_secret_free(s);
	assert_int_equal(
	        kg_secret_from_source("env:KG_TEST_UNSET_X", "PIN", &s, &err),
	        KG_E_USAGE);
	assert_null(s);
	assert_non_null(strstr(err.msg, "not set"));

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "fromfd\n", 7), 7);
	close(p[1]);
	snprintf(spec, sizeof(spec), "fd:%d", p[0]);
	assert_int_equal(kg_secret_from_source(spec, "PIN", &s, &err), KG_OK);
	assert_string_equal(s->buf, "fromfd");
	kg_secret_free(s);
	close(p[0]);
}

static void test_missing_and_too_long(void **state)
{
	char path[] = "/tmp/kg_secret_XXXXXX", spec[64],
	     big[KG_SECRET_MAX + 10];
	struct kg_secret *s = NULL;
	struct kg_err err;
	int fd;

	assert_int_equal(kg_secret_from_source("file:/nonexistent/pin", "PIN",
	                                       &s, &err),
	                 KG_E_USAGE);
	assert_non_null(strstr(err.msg, "/nonexistent/pin"));
	fd = mkstemp(path);
	memset(big, 'x', sizeof(big));
	assert_int_equal(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
	close(fd);
	snprintf(spec, sizeof(spec), "file:%s", path);
	assert_int_equal(kg_secret_from_source(spec, "PIN", &s, &err),
	                 KG_E_USAGE);
	assert_null(s);
	assert_non_null(strstr(err.msg, "longer than"));
	unlink(path);
	kg_secret_free(NULL); /* NULL-safe */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_forms),
	        cmocka_unit_test(test_read_env_file_fd),
	        cmocka_unit_test(test_missing_and_too_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
