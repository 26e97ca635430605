/* A check's verdict and findings, printed (text or JSON). */
#include "cli/cli.h"

#include <stdio.h>

#include "common/kg_json.h"
#include "engine/eng_finding.h"

/* ---- findings out ---------------------------------------------------- */

static json_t *findings_json(const struct eng_findings *f)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < f->n; i++) {
		const struct eng_finding *e = &f->v[i];
		json_t *o = json_object();

		json_object_set_new(o, "code", json_string(e->code));
		json_object_set_new(o, "severity",
		                    json_string(e->sev == ENG_SEV_ERROR
		                                        ? "error"
		                                        : "warning"));
		json_object_set_new(o, "input", kg_json_str(e->input));
		json_object_set_new(o, "index",
		                    e->index >= 0 ? json_integer(e->index)
		                                  : json_null());
		json_object_set_new(o, "subject", kg_json_str(e->subject));
		json_object_set_new(o, "message", kg_json_str(e->message));
		json_object_set_new(o, "hint", kg_json_str(e->hint));
		json_array_append_new(arr, o);
	}
	return arr;
}

/*
 * Prints a check's verdict and findings (stdout; JSON with --json, extra
 * merged in, stolen) and returns its exit status: 1 if any error.
 */
enum kg_code cli_findings(struct cli_ctx *c, const char *what,
                          const struct eng_findings *f, json_t *extra)
{
	size_t errors = eng_findings_errors(f), i;
	size_t warnings = eng_findings_warnings(f);

	if (c->json) {
		json_t *j = json_object();

		json_object_set_new(j, "verdict",
		                    json_string(errors ? "fail" : "pass"));
		if (extra != NULL)
			json_object_update(j, extra);
		json_object_set_new(j, "findings", findings_json(f));
		cli_emit(c, j);
	} else {
		printf("%s: %s", what, errors ? "FAIL" : "PASS");
		if (f->n == 0 && f->lost == 0)
			printf(" - no findings\n");
		else
			printf(" - %zu error%s, %zu warning%s\n", errors,
			       errors == 1 ? "" : "s", warnings,
			       warnings == 1 ? "" : "s");
		for (i = 0; i < f->n; i++) {
			const struct eng_finding *e = &f->v[i];

			printf("  %-7s %-22s %s",
			       e->sev == ENG_SEV_ERROR ? "error" : "warning",
			       e->code, e->input ? e->input : "");
			if (e->index >= 0)
				printf(" [%d]", e->index);
			if (e->subject && *e->subject)
				printf(" %s", e->subject);
			printf("\n          %s\n", e->message);
			if (e->hint)
				printf("          fix: %s\n", e->hint);
		}
	}
	json_decref(extra);
	if (f->lost > 0)
		fprintf(stderr,
		        "keygate: %s: %zu finding%s could not be recorded "
		        "(out "
		        "of memory); counted as errors\n",
		        what, f->lost, f->lost == 1 ? "" : "s");
	if (errors)
		fprintf(stderr, "keygate: %s refused: %zu error%s (%s)\n",
		        what, errors, errors == 1 ? "" : "s",
		        c->json ? "see findings" : "listed above");
	return errors ? KG_REFUSED : KG_OK;
}
