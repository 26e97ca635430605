/*
 * audit verify (common/kg_audit.c): kg_audit_verify reads a path, so the
 * input is written to a scratch file first and the log checked there.
 */
#include "tests/fuzz/fz.h"

#include "common/kg_audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fz_scratch("audit", data, size);
	size_t lines = 0, bad = 0, nl = 0, i;
	char why[256];
	struct kg_err err;

	if (kg_audit_verify(path, &lines, &bad, why, sizeof(why), &err) ==
	    KG_OK) {
		for (i = 0; i < size; i++)
			nl += data[i] == '\n';
		/* a break is on a line that was read, and is explained */
		if (bad > lines || (bad != 0 && why[0] == '\0') ||
		    (bad == 0 && lines != nl) ||
		    memchr(why, '\0', sizeof(why)) == NULL)
			abort();
	}
	return 0;
}
