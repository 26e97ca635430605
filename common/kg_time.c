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
	/* %04u: strftime's %Y does not pad years below 1000. The % 100s
	 * tell the compiler what gmtime_r guarantees: two digits each. */
	snprintf(out, KG_TIME_LEN, "%04u-%02u-%02uT%02u:%02u:%02uZ",
	         (unsigned)(tm.tm_year + 1900) % 10000u,
	         (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
	         (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
	         (unsigned)tm.tm_sec % 100u);
	return out;
}
