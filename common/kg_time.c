/* Instants as X.509 can hold them, printed as RFC 3339. */
#include "common/kg_time.h"

#include <stdio.h>

int kg_time_in_range(long long t)
{
	return t >= KG_TIME_MIN && t <= KG_TIME_MAX;
}

char *kg_time_str(time_t t, char out[KG_TIME_LEN])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1899 ||
	    tm.tm_year > 9999 - 1900) {
		snprintf(out, KG_TIME_LEN, "(out of range)");
		return out;
	}
	/* %04d: strftime's %Y does not pad years below 1000 */
	snprintf(out, KG_TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02dZ",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	         tm.tm_min, tm.tm_sec);
	return out;
}
