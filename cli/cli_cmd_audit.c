/* audit verify: the audit log's hash chain, checked. */
#include "cli/cli.h"

#include <stdio.h>

#include "common/kg_audit.h"
#include "common/kg_json.h"

enum kg_code cli_audit_verify(struct cli_ctx *c, const struct cli_cmd *cmd,
                              struct cli_args *a)
{
	size_t lines = 0, bad = 0;
	char why[300];
	struct kg_err err;

	if (kg_audit_verify(a->pos[0], &lines, &bad, why, sizeof(why), &err) !=
	    KG_OK)
		return cli_fail(c, &err);
	if (c->json) {
		json_t *j = json_object();

		json_object_set_new(j, "valid", json_boolean(bad == 0));
		json_object_set_new(j, "records", json_integer((long)lines));
		json_object_set_new(j, "broken_at",
		                    bad ? json_integer((long)bad)
		                        : json_null());
		json_object_set_new(j, "reason",
		                    bad ? kg_json_str(why) : json_null());
		cli_emit(c, j);
	} else if (bad == 0) {
		printf("%s: %zu records, the chain holds\n", a->pos[0], lines);
	} else {
		printf("%s: the chain breaks at line %zu: %s\n", a->pos[0],
		       bad, why);
	}
	if (bad)
		fprintf(stderr, "keygate: audit verify: %s\n", why);
	return bad ? KG_REFUSED : KG_OK;
}
