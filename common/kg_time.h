/* kg_time: instants as X.509 can hold them, printed as RFC 3339. */
#ifndef KG_TIME_H
#define KG_TIME_H

#include <time.h>

/* GeneralizedTime's range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define KG_TIME_MIN (-62135596800LL)
#define KG_TIME_MAX 253402300799LL

/* Room for "YYYY-MM-DDTHH:MM:SSZ" and its NUL. */
#define KG_TIME_LEN 32

/* 1 if t (seconds since the epoch, before any cast to time_t) lies in
 * X.509's range (above), else 0. */
int kg_time_in_range(long long t);

/*
 * Writes t as "2026-01-02T03:04:05Z" into out (KG_TIME_LEN bytes) and
 * returns out. A time gmtime cannot break down prints as "(out of range)"
 * instead of crashing.
 */
char *kg_time_str(time_t t, char out[KG_TIME_LEN]);

#endif
