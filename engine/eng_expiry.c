/* cert expiry's decisions: the window, and where a certificate stands. */
#include "engine/eng_trust.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* a window longer than a century is a typo */
#define WINDOW_MAX (100LL * 366 * 86400)

enum kg_code eng_window_parse(const char *s, long long *seconds,
                              struct kg_err *err)
{
	long long num, unit = 86400;
	char *end;

	*seconds = 30LL * 86400;
	if (s == NULL)
		return KG_OK;
	errno = 0;
	num = strtoll(s, &end, 10);
	if (*end == 'h')
		unit = 3600;
	else if (*end == 'w')
		unit = 7 * 86400;
	if (*end != '\0' && *end != 'h' && *end != 'd' && *end != 'w')
		end = NULL;
	else if (*end != '\0')
		end++;
	if (end == NULL || *end != '\0' || end == s || errno != 0 || num < 0 ||
	    (*s < '0' || *s > '9') || num > WINDOW_MAX / unit)
		return kg_err_set(
		        err, KG_E_USAGE,
		        "window '%s' is not a duration: use 30d, 12h or "
		        "2w (at most 100 years)",
		        s);
	*seconds = num * unit;
	return KG_OK;
}

void eng_expiry_of(const X509 *x, time_t at, long long window,
                   struct eng_expiry *out)
{
	struct tm tm;
	long long left;

	memset(out, 0, sizeof(*out));
	out->not_after =
	        ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) ? timegm(&tm) : 0;
	left = (long long)out->not_after - (long long)at;
	out->days = left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
	out->expired = left < 0;
	out->within = left <= window; /* the window is inclusive */
}
