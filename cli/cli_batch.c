/*
 * A batch on the pool: each item staged by a worker, committed in item
 * order with its audit records (cli_stage.c's protocol), and the report:
 * what was done, what failed and why.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/kg_file.h"
#include "common/kg_json.h"

void cli_staged_fail(struct cli_staged *s, const struct kg_err *err)
{
	s->rc = err->code;
	free(s->why);
	s->why = strdup(err->msg);
}

void cli_staged_clear(struct cli_staged *s)
{
	int k;

	kg_file_discard(s->tmp);
	free(s->tmp);
	OPENSSL_free(s->pem);
	for (k = 0; k < s->nrec; k++)
		cli_audit_rec_clear(&s->rec[k]);
	free(s->outp);
	free(s->why);
	memset(s, 0, sizeof(*s));
}

/* Fails every item of the run that is still on its way. */
static void fail_run(struct cli_batch *b, size_t from, size_t to,
                     const struct kg_err *err)
{
	size_t i;

	for (i = from; i < to; i++)
		if (b->at(b->ctx, i)->rc == KG_OK)
			cli_staged_fail(b->at(b->ctx, i), err);
}

static void batch_work(void *ctx, int worker, size_t i)
{
	struct cli_batch *b = ctx;

	b->work(b->ctx, worker, i);
}

static void batch_commit(void *ctx, size_t from, size_t to)
{
	struct cli_batch *b = ctx;
	struct kg_audit_rec *recs = NULL;
	struct cli_staged *s;
	struct kg_err err;
	size_t i, nrec = 0, staged = 0;
	int k;

	if (b->c->audit != NULL) {
		recs = calloc(2 * (to - from) + 1, sizeof(*recs));
		if (recs == NULL)
			kg_err_set(&err, KG_E_RUNTIME, "out of memory");
		for (i = from; recs != NULL && i < to; i++)
			for (k = 0, s = b->at(b->ctx, i); k < s->nrec; k++)
				recs[nrec++] = s->rec[k].r;
		/* not on record: nothing of this run goes in place */
		if (recs == NULL ||
		    (nrec > 0 && kg_audit_append_many(b->c->audit, recs, nrec,
		                                      &err) != KG_OK))
			fail_run(b, from, to, &err);
		free(recs);
	}
	for (i = from; i < to; i++)
		staged += b->at(b->ctx, i)->rc == KG_OK;
	/* the run's files on disk in one go, before any is in place */
	if (staged > 0 && kg_file_sync_fs(b->outd, &err) != KG_OK)
		fail_run(b, from, to, &err);
	for (i = from; i < to; i++) {
		s = b->at(b->ctx, i);
		if (s->rc == KG_OK &&
		    kg_file_commit(s->tmp, s->outp, b->force, &err) != KG_OK) {
			/* on record as made: a second record says it is not
			 * in place */
			for (k = 0; k < s->nrec; k++)
				if (s->rec[k].r.out_path != NULL)
					cli_record_not_written(
					        b->c, &s->rec[k].r, err.msg);
			cli_staged_fail(s, &err);
		} else if (s->rc != KG_OK)
			kg_file_discard(s->tmp);
		free(s->tmp);
		s->tmp = NULL;
		OPENSSL_free(s->pem);
		s->pem = NULL;
		for (k = 0; k < s->nrec; k++)
			cli_audit_rec_clear(&s->rec[k]);
		s->nrec = 0;
		b->report(b, i);
	}
	cli_progress(b->c, b->ok + b->nfail, b->n, b->t0);
}

enum kg_code cli_batch_run(struct cli_batch *b, struct kg_err *err)
{
	static const struct cli_pool_ops ops = {batch_work, batch_commit};

	b->fails = json_array();
	b->done = json_array();
	b->t0 = cli_clock();
	if (b->outd != NULL)
		cli_sweep_stale(b->c, b->outd, 1);
	b->sig = cli_pool_run(b->n, b->jobs, &ops, b, &b->started);
	if (b->sig < 0) {
		b->sig = 0;
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	}
	b->c->interrupted = b->sig;
	return KG_OK;
}

/* A batch item's failure, one line on stderr: "keygate: WHAT: WHY". */
static void cli_batch_error(struct cli_ctx *c, const char *what,
                            const char *why)
{
	if (cli_progress_on(c))
		fputc('\n', stderr); /* off the progress bar's line */
	fprintf(stderr, "keygate: %s: %s\n", what, why ? why : "failed");
}

void cli_batch_item(struct cli_batch *b, const struct cli_staged *s,
                    json_t *entry, const char *what)
{
	if (s->rc == KG_OK) {
		b->ok++;
		json_array_append_new(b->done, entry);
	} else {
		b->nfail++;
		if (json_is_object(entry))
			json_object_set_new(entry, "reason",
			                    kg_json_str(s->why));
		json_array_append_new(b->fails, entry);
		cli_batch_error(b->c, what, s->why);
	}
}

void cli_batch_report(struct cli_batch *b, json_t *j, const char *list)
{
	if (b->c->json) {
		json_object_set_new(j, "failed", b->fails);
		json_object_set_new(j, list, b->done);
		json_object_set_new(j, "jobs", json_integer(b->jobs));
		if (b->sig > 0)
			json_object_set_new(
			        j, "not_started",
			        json_integer((long)(b->n - b->started)));
		b->fails = b->done = NULL;
		cli_emit(b->c, j);
		return;
	}
	json_decref(j);
	printf("; %zu failed", b->nfail);
	if (b->sig > 0)
		printf("; interrupted, %zu not started", b->n - b->started);
	printf("\n");
}
