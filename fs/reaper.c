/*
 * reaper: waits on a condition variable tied to tree_lock, so a new
 * earliest deadline (retention's top hook, called under tree_lock) can
 * never be missed between reading the heap and going to sleep.
 *
 * Unlinking destroyed objects runs on a second thread, the disposer: on a
 * host filesystem mounted with discard every unlink waits for the device,
 * and 10 000 of them (a mass expiry) would hold the next expiries back.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "reaper.h"
#include "retention.h"

#define HOUSEKEEPING_NS NSEC_PER_SEC

static pthread_t reaper_thread;
static pthread_cond_t reaper_cond;
static int reaper_quit;
static node_gone_fn reaper_gone;
static void *reaper_ctx;

/* Batches of shredded objects handed from the reaper to the disposer. */
struct batch {
	struct store_id *ids;
	size_t n;
	struct batch *next;
};
static pthread_t disposer_thread;
static pthread_mutex_t disposer_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t disposer_cond = PTHREAD_COND_INITIALIZER;
static struct batch *disposer_head, **disposer_tail = &disposer_head;
static int disposer_quit;

static void *disposer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&disposer_lock);
	for (;;) {
		struct batch *b = disposer_head;

		if (!b && disposer_quit)
			break;
		if (!b) {
			pthread_cond_wait(&disposer_cond, &disposer_lock);
			continue;
		}
		disposer_head = b->next;
		if (!disposer_head)
			disposer_tail = &disposer_head;
		pthread_mutex_unlock(&disposer_lock);
		node_dispose(b->ids, b->n);
		free(b);
		pthread_mutex_lock(&disposer_lock);
	}
	pthread_mutex_unlock(&disposer_lock);
	return NULL;
}

/* Queue ids for the disposer, or dispose of them here when it cannot. */
static void dispose_later(struct store_id *ids, size_t n)
{
	struct batch *b = n > 0 ? malloc(sizeof(*b)) : NULL;

	if (!b) {
		node_dispose(ids, n);
		return;
	}
	*b = (struct batch){ ids, n, NULL };
	pthread_mutex_lock(&disposer_lock);
	*disposer_tail = b;
	disposer_tail = &b->next;
	pthread_cond_signal(&disposer_cond);
	pthread_mutex_unlock(&disposer_lock);
}

static void reaper_wake(void)
{
	pthread_cond_signal(&reaper_cond);
}

/* Sleep until the internal time reaches until (or a wake-up). tree_lock
 * held. The wait runs on CLOCK_MONOTONIC, which system clock changes do
 * not move. */
static void sleep_until(int64_t until)
{
	int64_t wait = until - clock_now();
	struct timespec ts;

	if (wait <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	wait += clock_from_ts(&ts);
	ts = clock_to_ts(wait);
	pthread_cond_timedwait(&reaper_cond, &tree_lock, &ts);
}

static void *reaper_main(void *arg)
{
	int64_t next_house = 0;

	(void)arg;
	pthread_mutex_lock(&tree_lock);
	while (!reaper_quit) {
		struct node *top = ret_heap_top();
		int64_t now = clock_now();
		int64_t wake = next_house;

		if (top && top->m.deadline <= now) {
			int64_t next;
			int n;

			pthread_mutex_unlock(&tree_lock);
			n = node_expire_due(now, &next, reaper_gone, reaper_ctx);
			if (n > 0)
				log_info("expired %d", n);
			pthread_mutex_lock(&tree_lock);
			continue;
		}
		if (now >= next_house) {
			struct store_id *ids;
			size_t n;

			pthread_mutex_unlock(&tree_lock);
			n = node_tidy(now, &ids);
			dispose_later(ids, n);
			pthread_mutex_lock(&tree_lock);
			next_house = now + HOUSEKEEPING_NS;
			continue;
		}
		if (top && top->m.deadline < wake)
			wake = top->m.deadline;
		sleep_until(wake);
	}
	pthread_mutex_unlock(&tree_lock);
	return NULL;
}

/* Let the disposer finish what it was given, then end it. */
static void disposer_stop(void)
{
	pthread_mutex_lock(&disposer_lock);
	disposer_quit = 1;
	pthread_cond_signal(&disposer_cond);
	pthread_mutex_unlock(&disposer_lock);
	pthread_join(disposer_thread, NULL);
}

int reaper_start(node_gone_fn gone, void *ctx)
{
	pthread_condattr_t attr;
	int rc;

	reaper_gone = gone;
	reaper_ctx = ctx;
	reaper_quit = 0;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&reaper_cond, &attr);
	pthread_condattr_destroy(&attr);
	disposer_quit = 0;
	rc = pthread_create(&disposer_thread, NULL, disposer_main, NULL);
	if (rc != 0)
		return -rc;
	pthread_mutex_lock(&tree_lock);
	ret_set_top_hook(reaper_wake);
	pthread_mutex_unlock(&tree_lock);
	rc = pthread_create(&reaper_thread, NULL, reaper_main, NULL);
	if (rc != 0) {
		pthread_mutex_lock(&tree_lock);
		ret_set_top_hook(NULL);
		pthread_mutex_unlock(&tree_lock);
		disposer_stop();
	}
	return -rc;
}

void reaper_stop(void)
{
	pthread_mutex_lock(&tree_lock);
	reaper_quit = 1;
	ret_set_top_hook(NULL);
	pthread_cond_signal(&reaper_cond);
	pthread_mutex_unlock(&tree_lock);
	pthread_join(reaper_thread, NULL);
	pthread_cond_destroy(&reaper_cond);
	disposer_stop();
}
