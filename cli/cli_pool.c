/*
 * The batch pool: worker threads take items in order and do the slow part
 * (token signatures, key generation, encoding, staging files); the calling
 * thread commits finished items strictly in item order, a run of
 * consecutive finished items at a time, so that a batch's audit records
 * and outputs come out in the same order whatever the number of workers.
 *
 * SIGINT, SIGTERM and SIGHUP stop the batch: no new item is started, the
 * items under way are finished and committed, and cli_pool_run returns the
 * signal so that the caller can report and then die of it.
 */
#include "cli/cli.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* Items taken but not yet committed: bounds the memory results hold. */
#define POOL_WINDOW 1024
/* Items committed at once at most (one audit fsync each run). */
#define POOL_GROUP 256
/* A run waits to grow to this many items, for this long at most. */
#define POOL_GROUP_MIN 64
#define POOL_LINGER_MS 20

static volatile sig_atomic_t pool_signal;

static void on_signal(int sig)
{
	pool_signal = sig;
}

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t ready_cv, space_cv;
	size_t n, next, committed;
	unsigned char *ready;
	const struct cli_pool_ops *ops;
	void *ctx;
};

struct worker {
	struct pool *p;
	int id;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->p;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (!pool_signal && p->next < p->n &&
		       p->next >= p->committed + POOL_WINDOW)
			pthread_cond_wait(&p->space_cv, &p->mu);
		if (pool_signal || p->next >= p->n) {
			pthread_cond_broadcast(&p->ready_cv);
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		i = p->next++;
		pthread_mutex_unlock(&p->mu);
		p->ops->work(p->ctx, w->id, i);
		pthread_mutex_lock(&p->mu);
		p->ready[i] = 1;
		pthread_cond_broadcast(&p->ready_cv);
		pthread_mutex_unlock(&p->mu);
	}
}

/* Waits until ms from now at most (a signal cannot wake a condition wait).
 */
static void timed_wait(struct pool *p, long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000 * 1000;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&p->ready_cv, &p->mu, &ts);
}

/* The end of the run of finished items from done (at most POOL_GROUP). */
static size_t run_end(const struct pool *p, size_t done)
{
	size_t end = done;

	while (end < p->next && p->ready[end] && end - done < POOL_GROUP)
		end++;
	return end;
}

int cli_pool_run(size_t n, int workers, const struct cli_pool_ops *ops,
                 void *ctx, size_t *started)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa, old_sa[3];
	struct pool p;
	struct worker *w = NULL;
	pthread_t *th = NULL;
	sigset_t block, old_mask;
	size_t done = 0, end;
	int k, nth = 0, sig;

	*started = 0;
	memset(&p, 0, sizeof(p));
	p.n = n;
	p.ops = ops;
	p.ctx = ctx;
	if (workers < 1)
		workers = 1;
	p.ready = calloc(n ? n : 1, 1);
	th = calloc((size_t)workers, sizeof(*th));
	w = calloc((size_t)workers, sizeof(*w));
	if (p.ready == NULL || th == NULL || w == NULL) {
		free(p.ready);
		free(th);
		free(w);
		return -1;
	}
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.ready_cv, NULL);
	pthread_cond_init(&p.space_cv, NULL);

	pool_signal = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (k = 0; k < 3; k++)
		sigaction(sigs[k], &sa, &old_sa[k]);
	/* the workers never take the signals: this thread does */
	sigemptyset(&block);
	for (k = 0; k < 3; k++)
		sigaddset(&block, sigs[k]);
	pthread_sigmask(SIG_BLOCK, &block, &old_mask);
	for (k = 0; k < workers; k++) {
		w[k].p = &p;
		w[k].id = k;
		if (pthread_create(&th[k], NULL, worker_main, &w[k]) != 0)
			break;
		nth++;
	}
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	if (nth == 0) {
		/* no thread at all: do the work here, one item at a time */
		for (; p.next < n && !pool_signal; p.next++) {
			ops->work(ctx, 0, p.next);
			ops->commit(ctx, p.next, p.next + 1);
		}
		done = p.next;
	}

	while (nth > 0) {
		double first;

		pthread_mutex_lock(&p.mu);
		while (done < p.next && !p.ready[done])
			timed_wait(&p, 100);
		end = run_end(&p, done);
		if (end == done) {
			/* nothing under way: finished, or stopped */
			int over = p.next >= n || pool_signal;

			if (!over)
				timed_wait(&p, 100);
			pthread_mutex_unlock(&p.mu);
			if (over)
				break;
			continue;
		}
		/*
		 * Group commit: while more is coming, let the run grow to
		 * POOL_GROUP_MIN items or POOL_LINGER_MS, whichever is first,
		 * so that one audit fsync and one syncfs serve many items.
		 */
		first = cli_clock();
		while (!pool_signal && end - done < POOL_GROUP_MIN &&
		       end < n &&
		       cli_clock() - first < POOL_LINGER_MS / 1000.0) {
			timed_wait(&p, POOL_LINGER_MS);
			end = run_end(&p, done);
		}
		pthread_mutex_unlock(&p.mu);
		ops->commit(ctx, done, end);
		pthread_mutex_lock(&p.mu);
		done = p.committed = end;
		pthread_cond_broadcast(&p.space_cv);
		pthread_mutex_unlock(&p.mu);
	}
	if (pool_signal) {
		pthread_mutex_lock(&p.mu);
		pthread_cond_broadcast(&p.space_cv);
		pthread_mutex_unlock(&p.mu);
	}
	for (k = 0; k < nth; k++)
		pthread_join(th[k], NULL);
	/* a worker may have finished an item after the loop saw the signal */
	if (done < p.next)
		ops->commit(ctx, done, p.next);
	*started = p.next;
	sig = pool_signal;
	for (k = 0; k < 3; k++)
		sigaction(sigs[k], &old_sa[k], NULL);
	pthread_cond_destroy(&p.space_cv);
	pthread_cond_destroy(&p.ready_cv);
	pthread_mutex_destroy(&p.mu);
	free(p.ready);
	free(th);
	free(w);
	return sig;
}

int cli_jobs_default(void)
{
	/* two per processor: a session waiting on the token or the disk
	 * leaves its processor to another */
	long n = 2 * sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > CLI_MAX_JOBS ? CLI_MAX_JOBS : (int)n;
}

int cli_jobs_for(int jobs, size_t items)
{
	if (items < 1)
		items = 1;
	return (size_t)jobs > items ? (int)items : jobs;
}

enum kg_code cli_jobs(const char *s, int *out, struct kg_err *err)
{
	char *end;
	long v;

	*out = cli_jobs_default();
	if (s == NULL)
		return KG_OK;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 1 || v > CLI_MAX_JOBS)
		return kg_err_set(
		        err, KG_E_USAGE,
		        "bad --jobs '%s': give a number from 1 to %d", s,
		        CLI_MAX_JOBS);
	*out = (int)v;
	return KG_OK;
}
