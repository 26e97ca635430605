/*
 * The PEM lexer (engine/eng_pem.c): eng_pem_scan on any bytes, with the
 * invariants the gate relies on checked on its result.
 */
#include "tests/fuzz/fz.h"

#include "engine/eng_pem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eng_pem_scan s;
	size_t i, lines = 1;

	if (!eng_pem_scan(data, size, &s))
		return 0; /* out of memory */
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	for (i = 0; i < s.n; i++) {
		const struct eng_pem_block *b = &s.blocks[i];

		/* a label is a C string, a line is a line of the input */
		if (memchr(b->label, '\0', sizeof(b->label)) == NULL ||
		    b->begin_line < 1 || (size_t)b->begin_line > lines)
			abort();
		/* a good block has its decoded body */
		if (!b->bad && (b->der == NULL || b->der_len == 0))
			abort();
		if (b->der != NULL && b->der_len > size)
			abort();
	}
	if (s.binary && s.n != 0)
		abort();
	eng_pem_scan_free(&s);
	return 0;
}
