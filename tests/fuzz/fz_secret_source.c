/*
 * PIN and passphrase sources (common/kg_secret.c): kg_secret_parse_source
 * on any string (--pin-source, --passphrase-source, a URI's pin-source=).
 * Only the parser: reading the source it names is not fuzzed (it would
 * open files, environment variables and descriptors).
 */
#include "tests/fuzz/fz.h"

#include "common/kg_secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *spec = fz_str(data, size);
	enum kg_secret_kind kind = KG_SRC_FILE;
	const char *arg = NULL;
	struct kg_err err;
	size_t len = strlen(spec);

	if (kg_secret_parse_source(spec, &kind, &arg, &err) == KG_OK) {
		/* arg is a non-empty tail of spec */
		if (arg == NULL || arg < spec || arg >= spec + len ||
		    *arg == '\0')
			abort();
		if (kind != KG_SRC_FILE && kind != KG_SRC_ENV &&
		    kind != KG_SRC_FD)
			abort();
	} else if (err.code != KG_E_USAGE || err.msg[0] == '\0') {
		abort();
	}
	free(spec);
	return 0;
}
