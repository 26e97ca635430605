/* Keeping PINs out of what keygate prints. */
#include "common/kg_redact.h"

#include <string.h>
#include <strings.h>

#define ATTR "pin-value="

/* Characters that end a URI attribute's value inside a message. */
static int value_end(char c)
{
	return c == '\0' || strchr(";&?'\" \t\r\n", c) != NULL;
}

char *kg_redact_pin(char *s)
{
	size_t n = strlen(s), alen = strlen(ATTR), i = 0;

	while (i + alen <= n) {
		size_t start, end;

		if (strncasecmp(s + i, ATTR, alen) != 0) {
			i++;
			continue;
		}
		start = i;
		for (end = i + alen; !value_end(s[end]); end++)
			;
		if (s[end] == ';' || s[end] == '&')
			end++; /* "a;pin-value=1;b" -> "a;b" */
		else if (start > 0 &&
		         (s[start - 1] == ';' || s[start - 1] == '&' ||
		          s[start - 1] == '?'))
			start--; /* "a?pin-value=1" -> "a" */
		memmove(s + start, s + end, n - end + 1);
		memset(s + n - (end - start) + 1, 0, end - start - 1);
		n -= end - start;
		i = start;
	}
	return s;
}
