/* A batch's progress bar, for a person watching a terminal. */
#include "cli/cli.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* Monotonic seconds. */
double cli_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Is a progress bar wanted: stdout and stderr terminals, no --json or
 * --quiet? */
int cli_progress_on(const struct cli_ctx *c)
{
	/* a person watching: both outputs on a terminal, no --json */
	return !c->json && !c->quiet && isatty(STDOUT_FILENO) &&
	       isatty(STDERR_FILENO);
}

/* "[####  ] done/total rate/s ETA" on stderr when wanted. */
void cli_progress(struct cli_ctx *c, size_t done, size_t total, double t0)
{
	double now, rate;
	int width = 30, fill;

	if (!cli_progress_on(c) || total == 0)
		return;
	now = cli_clock();
	rate = now > t0 ? (double)done / (now - t0) : 0;
	fill = (int)(width * done / total);
	fprintf(stderr, "\r[%.*s%*s] %zu/%zu %.1f/s ETA %.0fs ", fill,
	        "##############################", width - fill, "", done,
	        total, rate, rate > 0 ? (double)(total - done) / rate : 0.0);
	if (done == total)
		fputc('\n', stderr);
}
