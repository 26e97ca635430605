/* The batch pool: every item worked once, committed once, in item order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

#define N 3000

struct rec {
	int worked[N], committed[N];
	size_t next_commit, runs, max_run;
	int bad_order, worker_range;
	int nworkers;
};

static void work(void *ctx, int worker, size_t i)
{
	struct rec *r = ctx;
	struct timespec ts = {0, (long)((i * 7919) % 50) * 1000};

	if (worker < 0 || worker >= r->nworkers)
		r->worker_range = 1;
	nanosleep(&ts, NULL); /* finish out of order */
	r->worked[i]++;
}

static void commit(void *ctx, size_t from, size_t to)
{
	struct rec *r = ctx;
	size_t i;

	if (from != r->next_commit || to <= from)
		r->bad_order = 1;
	for (i = from; i < to; i++) {
		if (r->worked[i] != 1)
			r->bad_order = 1; /* committed before it was done */
		r->committed[i]++;
	}
	r->next_commit = to;
	r->runs++;
	if (to - from > r->max_run)
		r->max_run = to - from;
}

static void run_with(int workers, size_t n)
{
	static const struct cli_pool_ops ops = {work, commit};
	struct rec *r = calloc(1, sizeof(*r));
	size_t started = 99, i;

	assert_non_null(r);
	r->nworkers = workers;
	assert_int_equal(cli_pool_run(n, workers, &ops, r, &started), 0);
	assert_int_equal(started, n);
	assert_false(r->bad_order);
	assert_false(r->worker_range);
	assert_int_equal(r->next_commit, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(r->worked[i], 1);
		assert_int_equal(r->committed[i], 1);
	}
	/* runs are bounded: one audit write serves at most 256 items */
	assert_true(r->max_run <= 256);
	if (n > 0)
		assert_true(r->runs >= (n + 255) / 256);
	free(r);
}

static void test_order(void **state)
{
	run_with(1, N);
	run_with(2, N);
	run_with(8, N);
	run_with(CLI_MAX_JOBS, 500);
	run_with(4, 1);
	run_with(3, 0);
}

static void test_jobs(void **state)
{
	static const struct {
		const char *s;
		enum kg_code want;
		int v;
	} cases[] = {
	        {"1", KG_OK, 1},       {"64", KG_OK, 64},
	        {"0", KG_E_USAGE, 0},  {"65", KG_E_USAGE, 0},
	        {"-2", KG_E_USAGE, 0}, {"", KG_E_USAGE, 0},
	        {"3x", KG_E_USAGE, 0}, {"two", KG_E_USAGE, 0},
	};
	struct kg_err err;
	size_t i;
	int v;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(cli_jobs(cases[i].s, &v, &err),
		                 cases[i].want);
		if (cases[i].want == KG_OK)
			assert_int_equal(v, cases[i].v);
		else
			assert_non_null(strstr(err.msg, "--jobs"));
	}
	assert_int_equal(cli_jobs(NULL, &v, &err), KG_OK);
	assert_int_equal(v, cli_jobs_default());
	assert_true(v >= 1 && v <= CLI_MAX_JOBS);
}

/* no more workers than items, at least one (manifest and batch sign) */
static void test_jobs_for(void **state)
{
	static const struct {
		int jobs;
		size_t items;
		int want;
	} cases[] = {
	        {4, 10, 4}, {4, 4, 4}, {4, 3, 3},
	        {4, 1, 1},  {4, 0, 1}, {64, (size_t)1 << 40, 64},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(cli_jobs_for(cases[i].jobs, cases[i].items),
		                 cases[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_order),
	        cmocka_unit_test(test_jobs),
	        cmocka_unit_test(test_jobs_for),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
