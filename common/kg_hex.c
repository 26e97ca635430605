/* Hex decoding, in one place. */
#include "common/kg_hex.h"

int kg_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int kg_unhex(const char *s, unsigned char *out, size_t cap, size_t *len)
{
	size_t n = 0;
	int hi, lo;

	*len = 0;
	while (*s != '\0') {
		if (*s == ':') {
			s++;
			continue;
		}
		hi = kg_hexval((unsigned char)s[0]);
		lo = hi < 0 ? -1 : kg_hexval((unsigned char)s[1]);
		if (lo < 0 || n >= cap)
			return 0;
		out[n++] = (unsigned char)(hi * 16 + lo);
		s += 2;
	}
	*len = n;
	return 1;
}
