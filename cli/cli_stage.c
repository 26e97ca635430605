/*
 * Putting a token operation's output in place with the audit log kept
 * true: the file is staged (written, fsync'ed) first, its record appended,
 * and only then is it renamed into place. A rename that fails gets a
 * second record, "not-written"; a temporary that a killed run left is
 * removed by the next run that writes there, and recorded the same way.
 * So every signature is on record, and no record claims an output that
 * was not put in place unless a later record says it was not.
 */
#include "cli/cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/kg_audit.h"
#include "common/kg_file.h"
#include "common/kg_tmp.h"

void cli_record_not_written(struct cli_ctx *c, const struct kg_audit_rec *r,
                            const char *why)
{
	struct kg_audit_rec nw = *r;
	struct kg_err err;

	if (c->audit == NULL)
		return;
	nw.result = "not-written";
	nw.detail = why;
	if (kg_audit_append(c->audit, &nw, &err) != KG_OK)
		fprintf(stderr, "keygate: %s\n", err.msg);
}

static void stale_found(void *arg, const char *path, const char *tmp)
{
	struct cli_ctx *c = arg;
	struct kg_audit_rec r;
	unsigned char *buf = NULL;
	size_t len = 0;
	struct kg_err err;

	cli_warn(c, "removed a temporary that an interrupted keygate left");
	if (c->audit == NULL)
		return;
	memset(&r, 0, sizeof(r));
	r.op = "output";
	r.result = "not-written";
	if (kg_file_read(tmp, &buf, &len, &err) == KG_OK) {
		r.out = buf;
		r.out_len = len;
	}
	r.out_path = path;
	r.detail = "staged by a keygate process that ended before putting "
	           "it in place; the temporary was removed";
	if (kg_audit_append(c->audit, &r, &err) != KG_OK)
		fprintf(stderr, "keygate: %s\n", err.msg);
	free(buf);
}

void cli_sweep_stale(struct cli_ctx *c, const char *where, int is_dir)
{
	if (is_dir)
		kg_tmp_sweep(where, stale_found, c);
	else
		kg_tmp_sweep_for(where, stale_found, c);
}

enum kg_code cli_record_out(struct cli_ctx *c, const char *op,
                            const struct cli_key *k, const X509 *cert,
                            const X509_NAME *subject, const void *data,
                            size_t len, const char *out, int write,
                            unsigned mode, int force, struct kg_err *err)
{
	struct cli_audit_rec ar;
	int filled = 0, recorded = 0;
	char *tmp = NULL;
	sigset_t old;
	enum kg_code rc;

	if (!write || out == NULL || strcmp(out, "-") == 0) {
		/* stdout (or JSON only): on record first, then printed */
		rc = cli_audit(c, op, "ok", k, cert, subject, data, len, NULL,
		               NULL, err);
		if (rc == KG_OK && write)
			rc = cli_write_out(c, NULL, data, len, mode, force,
			                   err);
		return rc;
	}
	rc = kg_file_check_writable(out, force, err);
	if (rc != KG_OK)
		return rc;
	cli_sweep_stale(c, out, 0);
	/* Ctrl-C waits until the file is in place or gone */
	kg_file_hold_signals(&old);
	rc = kg_file_stage(out, data, len, (mode_t)mode, 1, &tmp, err);
	if (rc == KG_OK && c->audit != NULL &&
	    cli_audit_fill(k, op, "ok", cert, subject, data, len, out, NULL,
	                   &ar)) {
		filled = recorded = 1;
		rc = kg_audit_append(c->audit, &ar.r, err);
		if (rc != KG_OK) {
			recorded = 0;
			kg_file_discard(tmp); /* not on record: not placed */
		}
	}
	if (rc == KG_OK) {
		rc = kg_file_commit(tmp, out, force, err);
		if (rc != KG_OK && recorded)
			cli_record_not_written(c, &ar.r, err->msg);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (filled)
		cli_audit_rec_clear(&ar);
	free(tmp);
	return rc;
}
