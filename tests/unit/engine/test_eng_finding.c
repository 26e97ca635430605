/* engine/eng_finding.c: the findings container and its table of codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "engine/eng_finding.h"

/* the allocator OpenSSL uses: fail_after allocations, then NULL */
static long fail_after = -1;

static void *t_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	if (fail_after == 0)
		return NULL;
	if (fail_after > 0)
		fail_after--;
	return malloc(n);
}

static void *t_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	if (fail_after == 0)
		return NULL;
	if (fail_after > 0)
		fail_after--;
	return realloc(p, n);
}

static void t_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

/* every row well formed, no code twice, the SPEC's codes all there */
static void test_table(void **state)
{
	static const char *spec[] = {
	        "pem-invalid",        "pem-whitespace",
	        "size-limit",         "cert-multiple",
	        "cert-not-v3",        "cert-expired",
	        "cert-not-yet-valid", "cert-purpose",
	        "cert-no-domain",     "key-encrypted",
	        "key-algorithm",      "key-mismatch",
	        "key-not-exportable", "chain-missing",
	        "chain-order",        "chain-incomplete",
	        "chain-unrelated",    "chain-contains-leaf",
	        "chain-blank-lines",  "chain-signature",
	        "ts-empty",           "ts-expired",
	        "ts-not-yet-valid",   "ts-weak-signature",
	        "ts-weak-key",        "ts-chain-incomplete",
	        "ts-chain-too-long",  "ts-signature",
	        "ts-not-ca",          "ts-duplicate",
	        "ts-subject-conflict"};
	static const char *warnings[] = {"ts-not-ca", "ts-duplicate",
	                                 "ts-subject-conflict"};
	size_t i, j;

	for (i = 0; i < eng_ncodes; i++) {
		const char *c = eng_codes[i].code;

		assert_non_null(c);
		assert_true(
		        strspn(c, "abcdefghijklmnopqrstuvwxyz0123456789-") ==
		        strlen(c));
		assert_non_null(eng_codes[i].check);
		assert_ptr_equal(eng_code_find(c), &eng_codes[i]);
		for (j = i + 1; j < eng_ncodes; j++)
			assert_string_not_equal(c, eng_codes[j].code);
	}
	for (i = 0; i < sizeof(spec) / sizeof(spec[0]); i++) {
		const struct eng_code *c = eng_code_find(spec[i]);
		int warn = 0;

		assert_non_null(c);
		for (j = 0; j < sizeof(warnings) / sizeof(warnings[0]); j++)
			warn |= strcmp(spec[i], warnings[j]) == 0;
		assert_int_equal(c->sev,
		                 warn ? ENG_SEV_WARNING : ENG_SEV_ERROR);
	}
	assert_null(eng_code_find("no-such-code"));
	assert_null(eng_code_find(NULL));
}

static void test_add(void **state)
{
	struct eng_findings f = {0};

	assert_int_equal(eng_finding_add(&f, "ts-not-ca", "ts.pem", 2, "CN=a",
	                                 NULL, "certificate %d", 2),
	                 1);
	assert_int_equal(eng_finding_add(&f, "key-mismatch", NULL, -1, NULL,
	                                 "hint", "%s", "not its key"),
	                 1);
	assert_int_equal(f.n, 2);
	assert_int_equal(eng_findings_errors(&f), 1);
	assert_int_equal(eng_findings_warnings(&f), 1);
	assert_string_equal(f.v[0].message, "certificate 2");
	assert_int_equal(f.v[0].sev, ENG_SEV_WARNING);
	assert_string_equal(f.v[0].input, "ts.pem");
	assert_int_equal(f.v[0].index, 2);
	assert_null(f.v[1].input);
	assert_string_equal(f.v[1].hint, "hint");
	eng_findings_free(&f);
	assert_int_equal(f.n, 0);
}

/* a finding that cannot be recorded fails the check, never passes it */
static void test_lost_fails(void **state)
{
	struct eng_findings f = {0};
	long k;

	/* a code not in the table: a bug, counted, not dropped */
	assert_int_equal(
	        eng_finding_add(&f, "no-such-code", NULL, -1, NULL, NULL, "x"),
	        0);
	assert_int_equal(f.lost, 1);
	assert_int_equal(eng_findings_errors(&f), 1);
	eng_findings_free(&f);
	/* out of memory at each of the add's allocations in turn; even a
	 * warning that is lost fails the check */
	for (k = 0; k < 5; k++) {
		fail_after = k;
		assert_int_equal(eng_finding_add(&f, "ts-duplicate", "in", 0,
		                                 "CN=s", "h", "m"),
		                 0);
		fail_after = -1;
		assert_int_equal(f.n, 0);
		assert_int_equal(eng_findings_errors(&f), 1);
		eng_findings_free(&f);
	}
	fail_after = 5;
	assert_int_equal(
	        eng_finding_add(&f, "ts-duplicate", "in", 0, "CN=s", "h", "m"),
	        1);
	fail_after = -1;
	assert_int_equal(eng_findings_errors(&f), 0);
	eng_findings_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_table),
	        cmocka_unit_test(test_add),
	        cmocka_unit_test(test_lost_fails),
	};

	/* before OpenSSL allocates anything */
	if (!CRYPTO_set_mem_functions(t_malloc, t_realloc, t_free))
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
