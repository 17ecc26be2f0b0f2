/*
 * expirewatch: create N files spread over SPREAD_MS, note when each was
 * closed, then watch them disappear. Each must vanish within TOL_MS of its
 * deadline, close time + SHORT_MS.
 *
 *   expirewatch DIR N SPREAD_MS SHORT_MS TOL_MS
 *
 * Times are CLOCK_MONOTONIC. The bounds are conservative: a file counts as
 * late only if a stat that began after deadline + TOL still found it, and
 * as early only if a stat that ended before deadline - TOL missed it.
 * Prints a summary (and the worst files); exit 0 only if none was early,
 * late, or never went.
 */
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define POLL_SLEEP_MS 10
#define WINDOW_MS 2000 /* start watching a file this long before its deadline */
#define GIVE_UP_MS 15000

struct watched {
	char name[32];
	int64_t deadline;     /* ms */
	int64_t last_present; /* start of the latest stat that found it */
	int64_t first_absent; /* end of the first stat that missed it, or 0 */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* Create, write a frame, close; 0 or -1 with a message. */
static int make_file(int dirfd, struct watched *f, int i, int64_t short_ms)
{
	char frame[320];
	memset(frame, i & 0xff, sizeof frame);
	int fd = openat(dirfd, f->name, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || write(fd, frame, sizeof frame) != (ssize_t)sizeof frame) {
		printf("%s: create/write: %s\n", f->name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (close(fd) != 0) {
		printf("%s: close: %s\n", f->name, strerror(errno));
		return -1;
	}
	f->last_present = now_ms();
	f->deadline = f->last_present + short_ms;
	return 0;
}

/* Stat every created, unresolved file whose watch window has begun (files
 * [0, created)); returns how many were resolved (gone or broken). */
static int poll_round(int dirfd, struct watched *f, int created, int *broken)
{
	int64_t round = now_ms();
	int resolved = 0;
	struct stat st;

	for (int i = 0; i < created; i++) {
		if (f[i].first_absent || !f[i].deadline)
			continue;
		if (round < f[i].deadline - WINDOW_MS)
			break; /* deadlines grow with i */
		int64_t before = now_ms();
		int rc = fstatat(dirfd, f[i].name, &st, AT_SYMLINK_NOFOLLOW);
		int64_t after = now_ms();
		if (rc == 0) {
			f[i].last_present = before;
			continue;
		}
		if (errno != ENOENT) {
			printf("%s: stat: %s\n", f[i].name, strerror(errno));
			(*broken)++;
		}
		f[i].first_absent = after;
		resolved++;
	}
	return resolved;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fputs("usage: expirewatch DIR N SPREAD_MS SHORT_MS TOL_MS\n", stderr);
		return 2;
	}
	int n = atoi(argv[2]);
	int64_t spread = atoll(argv[3]), short_ms = atoll(argv[4]), tol = atoll(argv[5]);
	int dirfd = open(argv[1], O_RDONLY | O_DIRECTORY);
	struct watched *f = calloc(n > 0 ? (size_t)n : 1, sizeof *f);
	int early = 0, late = 0, never = 0, broken = 0, left = 0, next = 0;
	int64_t worst_late = INT64_MIN, worst_early = INT64_MIN;
	int64_t created = 0, last_deadline = 0, last_poll = 0;

	if (dirfd < 0 || !f || n < 1) {
		perror("expirewatch: setup");
		return 2;
	}
	/* One loop creates the files on schedule and, between creations,
	 * watches those already made: slow creation must not hide late
	 * expiry of the first files. */
	int64_t t0 = now_ms();
	for (;;) {
		int64_t now = now_ms();
		if (next < n && now >= t0 + spread * next / n) {
			snprintf(f[next].name, sizeof f[next].name, "exp-%05d.raw", next);
			if (make_file(dirfd, &f[next], next, short_ms) != 0) {
				broken++;
			} else {
				left++;
				last_deadline = f[next].deadline;
			}
			if (++next == n)
				created = now_ms() - t0;
		}
		now = now_ms();
		if (now - last_poll >= POLL_SLEEP_MS) {
			left -= poll_round(dirfd, f, next, &broken);
			last_poll = now_ms();
		}
		if (next == n && (left == 0 || now > last_deadline + GIVE_UP_MS))
			break;
		int64_t wake = last_poll + POLL_SLEEP_MS;
		if (next < n && t0 + spread * next / n < wake)
			wake = t0 + spread * next / n;
		sleep_ms(wake - now_ms());
	}

	for (int i = 0; i < n; i++) {
		if (!f[i].deadline)
			continue;
		if (!f[i].first_absent) {
			never++;
			if (never <= 5)
				printf("%s: still there %lld ms after its deadline\n", f[i].name,
				       (long long)(f[i].last_present - f[i].deadline));
			continue;
		}
		int64_t l = f[i].last_present - f[i].deadline; /* surely late by */
		int64_t e = f[i].deadline - f[i].first_absent; /* surely early by */
		if (l > worst_late)
			worst_late = l;
		if (e > worst_early)
			worst_early = e;
		if (l > tol && ++late <= 5)
			printf("%s: late by at least %lld ms\n", f[i].name, (long long)l);
		if (e > tol && ++early <= 5)
			printf("%s: early by at least %lld ms\n", f[i].name, (long long)e);
	}
	/* Upper bound of lateness, for the record: gone was seen by this time. */
	int64_t upper = INT64_MIN;
	for (int i = 0; i < n; i++)
		if (f[i].first_absent && f[i].first_absent - f[i].deadline > upper)
			upper = f[i].first_absent - f[i].deadline;
	if (upper == INT64_MIN)
		upper = worst_late = worst_early = 0; /* nothing went: no figures */
	printf("expirewatch: %d files created in %lld ms (planned %lld); "
	       "early %d, late %d, never gone %d, errors %d; surely late <= %lld "
	       "ms, seen gone <= %lld ms after deadline, surely early <= %lld ms "
	       "(tolerance %lld ms)\n",
	       n, (long long)created, (long long)spread, early, late, never, broken,
	       (long long)worst_late, (long long)upper, (long long)worst_early,
	       (long long)tol);
	free(f);
	close(dirfd);
	return (early || late || never || broken) ? 1 : 0;
}
