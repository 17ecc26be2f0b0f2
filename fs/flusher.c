/*
 * flusher: its own thread, because a writeback can take a while and the
 * reaper's deadlines must not wait for it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "flusher.h"

#define FLUSH_PERIOD_NS NSEC_PER_SEC
#define FLUSH_MAX 4096

static pthread_t flusher_thread;
static pthread_mutex_t flusher_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flusher_cond;
static int flusher_quit;
static flusher_fn flusher_flush;
static void *flusher_ctx;

static void *flusher_main(void *arg)
{
	struct node **v = malloc(FLUSH_MAX * sizeof(*v));
	struct timespec ts;

	(void)arg;
	pthread_mutex_lock(&flusher_lock);
	while (!flusher_quit) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts = clock_to_ts(clock_from_ts(&ts) + FLUSH_PERIOD_NS);
		pthread_cond_timedwait(&flusher_cond, &flusher_lock, &ts);
		if (flusher_quit || !v)
			continue;
		pthread_mutex_unlock(&flusher_lock);
		for (size_t i = 0, n = node_writers(v, FLUSH_MAX); i < n; i++)
			flusher_flush(flusher_ctx, v[i]);
		pthread_mutex_lock(&flusher_lock);
	}
	pthread_mutex_unlock(&flusher_lock);
	free(v);
	return NULL;
}

int flusher_start(flusher_fn flush, void *ctx)
{
	pthread_condattr_t attr;

	flusher_flush = flush;
	flusher_ctx = ctx;
	flusher_quit = 0;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&flusher_cond, &attr);
	pthread_condattr_destroy(&attr);
	return -pthread_create(&flusher_thread, NULL, flusher_main, NULL);
}

void flusher_stop(void)
{
	pthread_mutex_lock(&flusher_lock);
	flusher_quit = 1;
	pthread_cond_signal(&flusher_cond);
	pthread_mutex_unlock(&flusher_lock);
	pthread_join(flusher_thread, NULL);
	pthread_cond_destroy(&flusher_cond);
}
