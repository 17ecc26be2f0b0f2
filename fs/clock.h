/*
 * clock: the filesystem's own notion of wall time. Read from the system
 * once at start, then advanced by CLOCK_BOOTTIME, so setting the system
 * clock while mounted moves no deadline. It never starts below the store's
 * high-water mark, so a reboot with a clock set back cannot keep a
 * recording alive. Times are nanoseconds since the Unix epoch.
 */
#ifndef RECFS_CLOCK_H
#define RECFS_CLOCK_H

#include <stdint.h>
#include <time.h>

#define NSEC_PER_SEC 1000000000LL

/* Start the clock at max(mark_ns, system time + offset_ns). Call once,
 * before any other thread reads it. */
void clock_start(int64_t mark_ns, int64_t offset_ns);

/* The current internal time. Thread-safe; never decreases. */
int64_t clock_now(void);

/* Conversions. */
struct timespec clock_to_ts(int64_t ns);
int64_t clock_from_ts(const struct timespec *ts);

/* "2026-11-28T14:03:00Z" (UTC, seconds) into buf (>= 21 bytes). */
void clock_iso8601(int64_t ns, char *buf, size_t len);

#endif
