/* kg_hex: hex digits in, bytes out (ids, fingerprints, DN escapes). */
#ifndef KG_HEX_H
#define KG_HEX_H

#include <stddef.h>

/* The value of hex digit c (either case), or -1. */
int kg_hexval(int c);

/*
 * Decodes s, pairs of hex digits, optionally with ':' between bytes
 * ("01a2", "01:A2"), into out (cap bytes); *len is how many. Returns 0 for
 * anything else: another character, an odd digit, a colon inside a byte,
 * more than cap bytes. An empty s decodes to 0 bytes.
 */
int kg_unhex(const char *s, unsigned char *out, size_t cap, size_t *len);

#endif
