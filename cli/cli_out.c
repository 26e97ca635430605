/* Output: JSON on stdout with --json, people's text otherwise. */
#include "cli/cli.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/kg_file.h"
#include "common/kg_json.h"

/* batch workers warn too (a key made leaner, a certificate retired) */
static pthread_mutex_t warn_lock = PTHREAD_MUTEX_INITIALIZER;

void cli_warn(void *arg, const char *msg)
{
	struct cli_ctx *c = arg;

	pthread_mutex_lock(&warn_lock);
	if (c->warnings == NULL)
		c->warnings = json_array();
	json_array_append_new(c->warnings, kg_json_str(msg));
	fprintf(stderr, "keygate: warning: %s\n", msg);
	pthread_mutex_unlock(&warn_lock);
}

void cli_trace(void *arg, const char *line)
{
	(void)arg;
	/* one call per line: lines of parallel signers do not interleave */
	fprintf(stderr, "keygate: pkcs11: %s\n", line);
}

void cli_info(struct cli_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->quiet)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

void cli_emit(struct cli_ctx *c, json_t *j)
{
	if (j == NULL)
		return;
	if (c->warnings != NULL && json_array_size(c->warnings) > 0)
		json_object_set(j, "warnings", c->warnings);
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(j);
}

enum kg_code cli_fail(struct cli_ctx *c, const struct kg_err *err)
{
	fprintf(stderr, "keygate: %s\n", err->msg);
	if (c->json) {
		json_t *j = json_object(), *e = json_object();

		json_object_set_new(e, "code", json_integer(err->code));
		json_object_set_new(e, "message", kg_json_str(err->msg));
		json_object_set_new(j, "error", e);
		cli_emit(c, j);
	}
	return err->code;
}

enum kg_code cli_write_out(struct cli_ctx *c, const char *path,
                           const void *data, size_t len, unsigned mode,
                           int force, struct kg_err *err)
{
	if (path == NULL || strcmp(path, "-") == 0) {
		if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
			return kg_err_set(err, KG_E_RUNTIME,
			                  "cannot write to standard output");
		return KG_OK;
	}
	return kg_file_write_atomic(path, data, len, (mode_t)mode, force, err);
}
