#include "common/kg_json.h"

#include "common/kg_redact.h"

#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	size_t n, i;
	unsigned long cp;

	if (c >= 0x01 && c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0; /* NUL, continuation byte, overlong lead, > U+10FFFF
		           */
	if (left < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

json_t *kg_json_strn(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char *out;
	size_t i = 0, o = 0, n;
	json_t *j;

	if (str == NULL)
		return json_null();
	out = malloc(len * 3 + 1);
	if (out == NULL)
		return NULL;
	while (i < len) {
		n = utf8_seq(s + i, len - i);
		if (n == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3); /* U+FFFD */
			o += 3;
			i++;
		} else {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		}
	}
	/* no JSON document keygate prints carries a PIN: a URI's
	 * pin-value= goes wherever the string came from */
	out[o] = '\0';
	if (memchr(out, '\0', o) == NULL)
		o = strlen(kg_redact_pin((char *)out));
	j = json_stringn((const char *)out, o);
	free(out);
	return j;
}

json_t *kg_json_str(const char *s)
{
	return s == NULL ? json_null() : kg_json_strn(s, strlen(s));
}

void kg_hex(const unsigned char *b, size_t len, char *out)
{
	static const char hexd[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hexd[b[i] >> 4];
		out[2 * i + 1] = hexd[b[i] & 15];
	}
	out[2 * len] = '\0';
}

json_t *kg_json_hex(const unsigned char *b, size_t len)
{
	char *h = malloc(len * 2 + 1);
	json_t *j;

	if (h == NULL)
		return NULL;
	kg_hex(b, len, h);
	j = json_string(h);
	free(h);
	return j;
}
