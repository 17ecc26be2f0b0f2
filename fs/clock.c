/*
 * clock: wall time at start plus elapsed CLOCK_BOOTTIME (which, unlike
 * CLOCK_MONOTONIC, also counts time spent suspended).
 */
#include <stdio.h>
#include <time.h>

#include "clock.h"

static int64_t clock_base_wall;
static int64_t clock_base_boot;

static int64_t clock_read(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return clock_from_ts(&ts);
}

void clock_start(int64_t mark_ns, int64_t offset_ns)
{
	int64_t sys = clock_read(CLOCK_REALTIME) + offset_ns;

	clock_base_wall = sys > mark_ns ? sys : mark_ns;
	clock_base_boot = clock_read(CLOCK_BOOTTIME);
}

int64_t clock_now(void)
{
	return clock_base_wall + (clock_read(CLOCK_BOOTTIME) - clock_base_boot);
}

struct timespec clock_to_ts(int64_t ns)
{
	struct timespec ts = { ns / NSEC_PER_SEC, ns % NSEC_PER_SEC };

	if (ts.tv_nsec < 0) {
		ts.tv_sec--;
		ts.tv_nsec += NSEC_PER_SEC;
	}
	return ts;
}

int64_t clock_from_ts(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

void clock_iso8601(int64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / NSEC_PER_SEC);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
