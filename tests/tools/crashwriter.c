/*
 * crashwriter: recorders and an operator for crash tests, and the checker
 * that judges what survived.
 *
 *   crashwriter run --dir MNT --logs LOGDIR --tag TAG [--writers N]
 *                   [--secs S] [--seed S] [--gap-us US] [--keep-pct P]
 *   crashwriter check --dir MNT --logs LOGDIR [--short-expired] [-v]
 *   crashwriter frames FILE W F N     write frames 0..N-1 of (W, F), close
 *   crashwriter scan FILE W F         judge one file's frames
 *
 * run: N writer threads (default 16) record files MNT/TAG/TAG-wWW-FFFF.wav
 * one after the other, in 320-byte frames with a pause of about US
 * microseconds (default 1500) between frames, fsync every K frames (K
 * random, 4..40 per file) and close after 40..600 frames. Frame k of file
 * (W, F) holds "RCFR", W, F, k (u32 little-endian), 300 bytes that depend
 * only on (W, F, k), and an FNV-1a checksum of the 316 bytes before it, so
 * any frame can be judged on its own: correct, all zero (a hole), or
 * garbage. An operator thread moves files into MNT/keep/: most of them
 * after they were closed, some (P percent, default 10) while still being
 * recorded. Everything that returned is logged, one line per event, in
 * LOGDIR/TAG-*.log on the host (never in the mount), with one write(2)
 * each, after the call returned:
 *   C F     file F created (open returned)
 *   S F K   fsync returned with K frames written: frames 0..K-1 durable
 *   D F K   close returned after K frames: all K durable
 *   m F     the operator is about to move F into keep/ (may or may not
 *           have happened)
 *   K F     the move returned
 *   E F ERR a call failed (after the daemon was killed)
 * Writers stop at the first error or after S seconds (default 60).
 *
 * check: for every file any log says was created: it must exist (in keep/
 * when a K line says so, in MNT/TAG/ unless an m line leaves it open)
 * unless --short-expired allows unkept files to be gone; with
 * --short-expired no file outside keep/ may be visible at all. In each
 * file, the frames below the durable count (S, D) must be exact; every
 * other frame must be exact or all zero; no read may fail (every block
 * of recfs lies in one page, so a kill cannot tear one: docs/format.md)
 * and no byte may be wrong.
 * Files in the folders that no log mentions (a create in flight at the
 * kill) are judged the same way, with no durable frames.
 *
 * Exit status: 0 fine, 1 a violation (each printed), 2 usage or setup.
 */
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FRAME 320
#define BLOCK 4056 /* recfs's content block (docs/format.md): reads go by block */
#define MAX_WRITERS 64
#define MAX_FILES 4096 /* per writer */
#define TAG_MAX 32

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("crashwriter: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t fnv1a(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* The one correct content of frame k of file (w, f). */
static void make_frame(unsigned char *p, unsigned w, unsigned f, unsigned k)
{
	uint64_t x = ((uint64_t)w << 48 | (uint64_t)f << 24 | k) * 0x9e3779b97f4a7c15ULL + 1;

	memcpy(p, "RCFR", 4);
	put32(p + 4, w);
	put32(p + 8, f);
	put32(p + 12, k);
	for (int j = 16; j < FRAME - 4; j++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[j] = (unsigned char)x;
	}
	put32(p + FRAME - 4, fnv1a(p, FRAME - 4));
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000L };

	nanosleep(&ts, NULL);
}

/* ---- run ---- */

static const char *run_dir, *run_logs, *run_tag;
static int run_writers = 16, run_keep_pct = 10;
static long run_gap_us = 1500;
static long long run_end_us;
static uint64_t run_seed = 1;
static atomic_int run_stop;

/* Closed or recording files for the operator, as (writer, file) pairs. */
static pthread_mutex_t opq_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned opq_w[1 << 14], opq_f[1 << 14];
static unsigned opq_len;

static uint64_t mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int open_log(const char *who)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s-%s.log", run_logs, run_tag, who) >= PATH_MAX)
		die("log path too long");
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	return fd;
}

/* One event, one write(2): a kill can cut the log only between lines. */
static void log_event(int fd, const char *fmt, ...)
{
	char line[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (write(fd, line, (size_t)n) != n)
		die("log write: %s", strerror(errno));
}

static void file_name(char *buf, size_t len, const char *tag, unsigned w, unsigned f)
{
	snprintf(buf, len, "%s-w%02u-%04u.wav", tag, w, f);
}

static void opq_add(unsigned w, unsigned f)
{
	pthread_mutex_lock(&opq_lock);
	if (opq_len < sizeof(opq_w) / sizeof(opq_w[0])) {
		opq_w[opq_len] = w;
		opq_f[opq_len++] = f;
	}
	pthread_mutex_unlock(&opq_lock);
}

static void *writer_main(void *arg)
{
	unsigned w = (unsigned)(uintptr_t)arg;
	uint64_t s = run_seed * 1000003u + w;
	unsigned char frame[FRAME];
	char name[96], path[PATH_MAX];
	int log = -1;
	char who[8];

	snprintf(who, sizeof(who), "w%02u", w);
	log = open_log(who);
	for (unsigned f = 0; f < MAX_FILES && !run_stop; f++) {
		unsigned nframes = 40 + (unsigned)(mix(&s) % 561);
		unsigned every = 4 + (unsigned)(mix(&s) % 37);
		int fd;

		file_name(name, sizeof(name), run_tag, w, f);
		if (snprintf(path, sizeof(path), "%s/%s/%s", run_dir, run_tag, name) >= PATH_MAX)
			die("path too long");
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0) {
			log_event(log, "E %u %d\n", f, errno);
			break;
		}
		log_event(log, "C %u\n", f);
		if (mix(&s) % 100 < (uint64_t)run_keep_pct)
			opq_add(w, f); /* kept while recording */
		for (unsigned k = 0; k < nframes; k++) {
			make_frame(frame, w, f, k);
			if (write(fd, frame, FRAME) != FRAME) {
				log_event(log, "E %u %d\n", f, errno);
				goto out;
			}
			if ((k + 1) % every == 0) {
				if (fsync(fd) != 0) {
					log_event(log, "E %u %d\n", f, errno);
					goto out;
				}
				log_event(log, "S %u %u\n", f, k + 1);
			}
			if (run_gap_us)
				sleep_us(run_gap_us / 2 + (long)(mix(&s) % (uint64_t)run_gap_us));
			if (now_us() > run_end_us)
				run_stop = 1;
		}
		if (close(fd) != 0) {
			log_event(log, "E %u %d\n", f, errno);
			break;
		}
		log_event(log, "D %u %u\n", f, nframes);
		if (mix(&s) % 100 < 60)
			opq_add(w, f);
	}
out:
	close(log);
	return NULL;
}

static void *operator_main(void *arg)
{
	char name[96], from[PATH_MAX], to[PATH_MAX];
	uint64_t s = run_seed * 7919u;
	int log = open_log("op");

	(void)arg;
	while (!run_stop) {
		unsigned w = 0, f = 0;
		int have = 0;

		pthread_mutex_lock(&opq_lock);
		if (opq_len > 0) {
			unsigned i = (unsigned)(mix(&s) % opq_len);

			w = opq_w[i];
			f = opq_f[i];
			opq_w[i] = opq_w[--opq_len];
			opq_f[i] = opq_f[opq_len];
			have = 1;
		}
		pthread_mutex_unlock(&opq_lock);
		if (!have) {
			sleep_us(5000);
			continue;
		}
		file_name(name, sizeof(name), run_tag, w, f);
		if (snprintf(from, sizeof(from), "%s/%s/%s", run_dir, run_tag, name) >= PATH_MAX ||
		    snprintf(to, sizeof(to), "%s/keep/%s", run_dir, name) >= PATH_MAX)
			die("path too long");
		log_event(log, "m %u %u\n", w, f);
		if (rename(from, to) != 0) {
			log_event(log, "E %u %u %d\n", w, f, errno);
			if (errno == ENOTCONN || errno == EIO)
				break;
			continue;
		}
		log_event(log, "K %u %u\n", w, f);
		sleep_us(2000 + (long)(mix(&s) % 20000));
	}
	close(log);
	return NULL;
}

static int cmd_run(void)
{
	pthread_t th[MAX_WRITERS], op;
	char path[PATH_MAX];

	if (!run_dir || !run_logs || !run_tag || strlen(run_tag) > TAG_MAX || run_writers < 1 ||
	    run_writers > MAX_WRITERS)
		die("run needs --dir, --logs, --tag (at most %d chars), 1..%d writers", TAG_MAX,
		    MAX_WRITERS);
	snprintf(path, sizeof(path), "%s/%s", run_dir, run_tag);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		die("mkdir %s: %s", path, strerror(errno));
	for (int w = 0; w < run_writers; w++)
		if (pthread_create(&th[w], NULL, writer_main, (void *)(uintptr_t)w) != 0)
			die("pthread_create");
	if (pthread_create(&op, NULL, operator_main, NULL) != 0)
		die("pthread_create");
	for (int w = 0; w < run_writers; w++)
		pthread_join(th[w], NULL);
	run_stop = 1;
	pthread_join(op, NULL);
	return 0;
}

/* ---- judging frames ---- */

struct verdict {
	unsigned long good, zero, eio, partial;
	unsigned long bad;
	char why[256];
};

/* Judge the file at path as file (w, f) with `durable` frames that must be
 * exact. Reads go block by block and bypass the page cache (whose pages
 * hold parts of two blocks), so an EIO is pinned to its block. */
static void judge(const char *path, unsigned w, unsigned f, unsigned durable,
                  struct verdict *v)
{
	unsigned char want[FRAME], *data = NULL, *ok = NULL;
	struct stat st;
	size_t size, nblocks;
	int fd = open(path, O_RDONLY | O_DIRECT);

	memset(v, 0, sizeof(*v));
	if (fd < 0 || fstat(fd, &st) != 0) {
		v->bad++;
		snprintf(v->why, sizeof(v->why), "open/stat: %s", strerror(errno));
		goto out;
	}
	size = (size_t)st.st_size;
	nblocks = (size + BLOCK - 1) / BLOCK;
	data = calloc(1, size + FRAME);
	ok = calloc(1, nblocks + 1);
	if (!data || !ok)
		die("out of memory");
	for (size_t b = 0; b < nblocks; b++) {
		size_t len = size - b * BLOCK < BLOCK ? size - b * BLOCK : BLOCK;
		ssize_t n = pread(fd, data + b * BLOCK, len, (off_t)(b * BLOCK));

		if (n == (ssize_t)len) {
			ok[b] = 1;
		} else if (n < 0 && errno == EIO) {
			ok[b] = 0;
			v->eio++;
			if (b + 1 != nblocks) {
				v->bad++;
				snprintf(v->why, sizeof(v->why), "EIO in block %zu of %zu (not the last)",
				         b, nblocks);
			}
		} else {
			v->bad++;
			snprintf(v->why, sizeof(v->why), "read of block %zu: %zd bytes, want %zu (%s)",
			         b, n, len, n < 0 ? strerror(errno) : "short");
			ok[b] = 0;
		}
	}
	for (size_t k = 0; k * FRAME < size; k++) {
		size_t at = k * FRAME, len = size - at < FRAME ? size - at : FRAME;
		int readable = ok[at / BLOCK] && ok[(at + len - 1) / BLOCK];
		const unsigned char *p = data + at;
		int zero = 1;

		for (size_t j = 0; j < len && zero; j++)
			zero = p[j] == 0;
		make_frame(want, w, f, (unsigned)k);
		if (!readable) {
			if (k < durable) {
				v->bad++;
				snprintf(v->why, sizeof(v->why), "durable frame %zu unreadable (EIO)", k);
			}
			continue;
		}
		if (memcmp(p, want, len) == 0) {
			if (len == FRAME)
				v->good++;
			else
				v->partial++;
			if (len < FRAME && k < durable) {
				v->bad++;
				snprintf(v->why, sizeof(v->why), "durable frame %zu cut at %zu bytes", k,
				         len);
			}
		} else if (zero && k >= durable) {
			v->zero++;
		} else {
			v->bad++;
			snprintf(v->why, sizeof(v->why), "%s frame %zu (of %zu bytes) is %s",
			         k < durable ? "durable" : "undurable", k, len,
			         zero ? "all zero" : "wrong (garbage)");
		}
	}
	if (size < (size_t)durable * FRAME) {
		v->bad++;
		snprintf(v->why, sizeof(v->why), "size %zu, but %u frames (%zu bytes) were durable",
		         size, durable, (size_t)durable * FRAME);
	}
out:
	if (fd >= 0)
		close(fd);
	free(data);
	free(ok);
}

/* ---- check ---- */

#define ST_CREATED 1
#define ST_MOVING 2
#define ST_KEPT 4
#define ST_SEEN 8

struct rec {
	char tag[TAG_MAX + 1];
	unsigned w, f, durable, flags;
};

static struct rec *recs;
static size_t nrecs, caprecs;

static struct rec *rec_get(const char *tag, unsigned w, unsigned f)
{
	for (size_t i = nrecs; i-- > 0;)
		if (recs[i].w == w && recs[i].f == f && !strcmp(recs[i].tag, tag))
			return &recs[i];
	if (nrecs == caprecs) {
		caprecs = caprecs ? 2 * caprecs : 1024;
		recs = realloc(recs, caprecs * sizeof(*recs));
		if (!recs)
			die("out of memory");
	}
	memset(&recs[nrecs], 0, sizeof(recs[0]));
	snprintf(recs[nrecs].tag, sizeof(recs[0].tag), "%s", tag);
	recs[nrecs].w = w;
	recs[nrecs].f = f;
	return &recs[nrecs++];
}

/* LOGDIR/TAG-wNN.log and LOGDIR/TAG-op.log. A torn last line is ignored. */
static void read_logs(const char *logs)
{
	DIR *d = opendir(logs);
	struct dirent *de;

	if (!d)
		die("%s: %s", logs, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		char tag[TAG_MAX + 1], who[8], path[PATH_MAX], line[128];
		const char *dash = strrchr(de->d_name, '-');
		size_t tlen = dash ? (size_t)(dash - de->d_name) : 0;
		unsigned w = 0, a, b;
		FILE *fp;

		if (!dash || tlen == 0 || tlen > TAG_MAX ||
		    sscanf(dash + 1, "%7[a-z0-9].log", who) != 1 || strcmp(dash + strlen(dash) - 4, ".log"))
			continue;
		memcpy(tag, de->d_name, tlen);
		tag[tlen] = '\0';
		if (strcmp(who, "op") && sscanf(who, "w%u", &w) != 1)
			continue;
		snprintf(path, sizeof(path), "%s/%s", logs, de->d_name);
		fp = fopen(path, "r");
		if (!fp)
			die("%s: %s", path, strerror(errno));
		while (fgets(line, sizeof(line), fp)) {
			struct rec *r;

			if (!strchr(line, '\n'))
				break;
			if (!strcmp(who, "op")) {
				if (sscanf(line, "m %u %u", &a, &b) == 2)
					rec_get(tag, a, b)->flags |= ST_MOVING;
				else if (sscanf(line, "K %u %u", &a, &b) == 2)
					rec_get(tag, a, b)->flags |= ST_KEPT;
				continue;
			}
			if (sscanf(line, "C %u", &a) == 1) {
				rec_get(tag, w, a)->flags |= ST_CREATED;
			} else if (sscanf(line, "S %u %u", &a, &b) == 2 ||
			           sscanf(line, "D %u %u", &a, &b) == 2) {
				r = rec_get(tag, w, a);
				if (b > r->durable)
					r->durable = b;
			}
		}
		fclose(fp);
	}
	closedir(d);
}

static int check_verbose;
static unsigned long violations;

static void violation(const char *fmt, ...)
{
	va_list ap;

	if (violations++ < 30) {
		fputs("VIOLATION: ", stdout);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		fputc('\n', stdout);
	}
}

/* Parse TAG-wWW-FFFF.wav. */
static int parse_name(const char *name, char *tag, unsigned *w, unsigned *f)
{
	const char *p = strstr(name, "-w");
	size_t tlen;
	char end[8];

	if (!p || (tlen = (size_t)(p - name)) == 0 || tlen > TAG_MAX)
		return -1;
	if (sscanf(p, "-w%u-%u%7s", w, f, end) != 3 || strcmp(end, ".wav"))
		return -1;
	memcpy(tag, name, tlen);
	tag[tlen] = '\0';
	return 0;
}

struct totals {
	unsigned long files, kept, good, zero, eio, partial, missing_ok, extra;
};

static void judge_one(const char *path, const struct rec *r, unsigned w, unsigned f,
                      struct totals *t)
{
	struct verdict v;

	judge(path, w, f, r ? r->durable : 0, &v);
	if (v.eio && !v.bad) {
		v.bad++;
		snprintf(v.why, sizeof(v.why), "EIO in the last block: a block torn by the kill");
	}
	t->files++;
	t->good += v.good;
	t->zero += v.zero;
	t->eio += v.eio;
	t->partial += v.partial;
	if (v.bad)
		violation("%s: %s (durable frames %u; good %lu, zero %lu, EIO blocks %lu)", path,
		          v.why, r ? r->durable : 0, v.good, v.zero, v.eio);
	else if (check_verbose)
		printf("ok %s: durable %u, good %lu, zero %lu, partial %lu, EIO blocks %lu\n", path,
		       r ? r->durable : 0, v.good, v.zero, v.partial, v.eio);
}

/* Judge every file in dir; mark the records seen. */
static void scan_dir(const char *dir, int is_keep, int short_expired, struct totals *t)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		char tag[TAG_MAX + 1], path[PATH_MAX];
		unsigned w, f;
		struct rec *r = NULL;

		if (de->d_name[0] == '.' || parse_name(de->d_name, tag, &w, &f) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		for (size_t i = 0; i < nrecs; i++)
			if (recs[i].w == w && recs[i].f == f && !strcmp(recs[i].tag, tag))
				r = &recs[i];
		if (r && (r->flags & ST_SEEN))
			violation("%s: the same recording is visible twice", path);
		if (r)
			r->flags |= ST_SEEN;
		else
			t->extra++;
		if (is_keep)
			t->kept++;
		if (!is_keep && short_expired)
			violation("%s: overdue (short period over) but still there after the mount",
			          path);
		if (r && is_keep && !(r->flags & (ST_MOVING | ST_KEPT)))
			violation("%s: in keep/ but never moved there", path);
		if (r && !is_keep && (r->flags & ST_KEPT))
			violation("%s: moved into keep/ (the rename returned) but found outside it",
			          path);
		judge_one(path, r, w, f, t);
	}
	closedir(d);
}

static int cmd_check(const char *mnt, const char *logs, int short_expired)
{
	struct totals t = { 0 };
	char path[PATH_MAX];
	DIR *d;
	struct dirent *de;

	read_logs(logs);
	snprintf(path, sizeof(path), "%s/keep", mnt);
	scan_dir(path, 1, short_expired, &t);
	/* Every TAG folder in the root. */
	d = opendir(mnt);
	if (!d)
		die("%s: %s", mnt, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "keep"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", mnt, de->d_name);
		scan_dir(path, 0, short_expired, &t);
	}
	closedir(d);
	for (size_t i = 0; i < nrecs; i++) {
		struct rec *r = &recs[i];

		if (!(r->flags & ST_CREATED) || (r->flags & ST_SEEN))
			continue;
		if (short_expired && !(r->flags & ST_KEPT)) {
			t.missing_ok++;
			continue;
		}
		violation("%s-w%02u-%04u.wav: created%s, but missing after the restart", r->tag, r->w,
		          r->f, r->flags & ST_KEPT ? " and kept" : "");
	}
	printf("checked %lu files (%lu in keep/, %lu not in any log): %lu good frames, %lu zero, "
	       "%lu partial, %lu EIO blocks; %lu expired as allowed; %lu violations\n",
	       t.files, t.kept, t.extra, t.good, t.zero, t.partial, t.eio, t.missing_ok,
	       violations);
	return violations ? 1 : 0;
}

/* ---- frames and scan ---- */

static int cmd_frames(const char *path, unsigned w, unsigned f, unsigned n)
{
	unsigned char frame[FRAME];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	for (unsigned k = 0; k < n; k++) {
		make_frame(frame, w, f, k);
		if (write(fd, frame, FRAME) != FRAME)
			die("%s: write: %s", path, strerror(errno));
	}
	if (close(fd) != 0)
		die("%s: close: %s", path, strerror(errno));
	return 0;
}

static int cmd_scan(const char *path, unsigned w, unsigned f)
{
	struct verdict v;

	judge(path, w, f, 0, &v);
	printf("good %lu zero %lu partial %lu eio %lu bad %lu%s%s\n", v.good, v.zero, v.partial,
	       v.eio, v.bad, v.bad ? " -- " : "", v.bad ? v.why : "");
	return v.bad ? 1 : 0;
}

/* ---- main ---- */

static void usage(void)
{
	fputs("usage: crashwriter run --dir MNT --logs DIR --tag TAG [--writers N] [--secs S]\n"
	      "                       [--seed S] [--gap-us US] [--keep-pct P]\n"
	      "       crashwriter check --dir MNT --logs DIR [--short-expired] [-v]\n"
	      "       crashwriter frames FILE W F N\n"
	      "       crashwriter scan FILE W F\n",
	      stderr);
	exit(2);
}

static long long num(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || end == s || *end || v < 0)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *logs = NULL;
	int short_expired = 0;
	long secs = 60;

	if (argc < 2)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "frames") && argc == 6)
		return cmd_frames(argv[2], (unsigned)num(argv[3]), (unsigned)num(argv[4]),
		                  (unsigned)num(argv[5]));
	if (!strcmp(argv[1], "scan") && argc == 5)
		return cmd_scan(argv[2], (unsigned)num(argv[3]), (unsigned)num(argv[4]));
	for (int a = 2; a < argc; a++) {
		const char *o = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;

		if (!strcmp(o, "--short-expired"))
			short_expired = 1;
		else if (!strcmp(o, "-v"))
			check_verbose = 1;
		else if (!v)
			usage();
		else if (a++, !strcmp(o, "--dir"))
			dir = v;
		else if (!strcmp(o, "--logs"))
			logs = v;
		else if (!strcmp(o, "--tag"))
			run_tag = v;
		else if (!strcmp(o, "--writers"))
			run_writers = (int)num(v);
		else if (!strcmp(o, "--secs"))
			secs = (long)num(v);
		else if (!strcmp(o, "--seed"))
			run_seed = (uint64_t)num(v);
		else if (!strcmp(o, "--gap-us"))
			run_gap_us = (long)num(v);
		else if (!strcmp(o, "--keep-pct"))
			run_keep_pct = (int)num(v);
		else
			usage();
	}
	if (!strcmp(argv[1], "run")) {
		run_dir = dir;
		run_logs = logs;
		run_end_us = now_us() + secs * 1000000LL;
		return cmd_run();
	}
	if (!strcmp(argv[1], "check") && dir && logs)
		return cmd_check(dir, logs, short_expired);
	usage();
	return 2;
}
