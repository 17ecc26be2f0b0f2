/*
 * fsbench: the workloads of `make bench` (tests/bench/run.sh), each run
 * against one directory, each printing one result line of key=value pairs
 * on stdout. Progress notes and errors go to stderr.
 *
 *   fsbench pbx-max  DIR [--writers 64] [--seconds 10] [--frames-per-file 9000]
 *   fsbench pbx-rt   DIR [--writers N] [--seconds S] [--cpu-pid PID]
 *                        [--frame-log FILE]
 *   fsbench pbx-rt   DIR --find-max [--seconds S] [--start 16] [--cap 1024]
 *                        [--budget SECS]
 *   fsbench stream   DIR [--mib 256] [--phase write|read|both]
 *   fsbench meta     DIR [--files 5000]
 *   fsbench populate DIR N [--from K] [--threads 4] [--check]
 *   fsbench expire   DIR [--files 10000] --short SECS [--threads 4]
 *                        [--give-up SECS]
 *   fsbench frame-stats FRAMELOG [--window NAME:START_NS:END_NS]...
 *   fsbench waitmount DIR [--timeout SECS]
 *
 * Every byte written is read back and compared with what was meant to be
 * there; a mismatch, a short file or a failed call is reported on stderr
 * and the exit status is 1 (2: bad usage or setup). Verification happens
 * outside the timed sections. Times are CLOCK_MONOTONIC.
 *
 * pbx-max: 64 writers each create a file, write a 44-byte WAV header and
 * 320-byte frames flat out, patch the header's sizes (offsets 4 and 40)
 * every 3000 frames and at close, then read the file back (untimed) and
 * remove it. Rate = frames / mean time per writer spent writing.
 * pbx-rt: N writers with a file each write a frame every 20 ms on absolute
 * deadlines; latency = completion - deadline, late = over 20 ms. A writer
 * that falls more than the run's length + 5 s behind stops, and the frames
 * it never wrote count as late (dropped=). --find-max doubles N, then
 * bisects; an N fails only when two runs in a row had a late frame.
 * SIGINT, SIGTERM or SIGUSR1 end the timed part early (the results still
 * print): run.sh stops the pbx-rt that runs during the expiry that way.
 * --frame-log FILE writes every frame's CLOCK_MONOTONIC deadline and
 * latency (ns; -1 for a dropped frame) to FILE after the run; frame-stats
 * counts such a log per time window (the phases `expire` prints).
 * expire: N recordings falling due within about a second: all created and
 * held open, then closed at once; see cmd_expire.
 *
 * Content is generated, never stored: a frame or a 4 KiB page is a slice of
 * one pseudo-random pattern chosen by a hash of (file tag, index), stamped
 * with the tag and the index, so a misplaced frame or page is both detected
 * and named in the error message.
 *
 * This program uses no project code on purpose: it measures recfs from the
 * outside exactly as it measures the reference filesystems.
 */
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_US 1000LL
#define NS_PER_MS 1000000LL
#define NS_PER_SEC 1000000000LL

#define WAV_HDR_BYTES 44
#define FRAME_BYTES 320
#define FRAME_NS (20 * NS_PER_MS)   /* 50 frames per second */
#define LATE_NS (20 * NS_PER_MS)    /* a frame later than this is lost audio */
#define PATCH_EVERY_FRAMES 3000
#define PAGE_BYTES 4096
#define STREAM_IO_BYTES (128 * 1024)
#define META_FILE_BYTES 8192
#define POP_FRAMES 3                /* a populated recording: header + 3 frames */
#define POP_PER_DIR 1000
#define EXPIRE_FRAMES 2
#define EARLY_TOL_NS (1000 * NS_PER_MS)
#define RT_STACK_BYTES (64 * 1024)
#define MAX_THREADS 4096
#define MAX_WINDOWS 8

/* One pseudo-random pattern; any slice of up to PAT_SLACK bytes starting
 * below PAT_SPAN is contiguous. */
#define PAT_SPAN (1u << 20)
#define PAT_SLACK (64u * 1024)

static uint8_t *pattern;
static volatile sig_atomic_t stop_requested;
static uint64_t bad_files;  /* verification failures (atomic) */
static uint64_t io_errors;  /* failed calls (atomic) */

/* ------------------------------------------------------------------ util */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static void sleep_until(int64_t t)
{
	struct timespec ts = { (time_t)(t / NS_PER_SEC), (long)(t % NS_PER_SEC) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fsbench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* snprintf that treats truncation as a setup error (paths, messages). */
__attribute__((format(printf, 3, 4)))
static void pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		note("name too long: %.60s...", buf);
		exit(2);
	}
}

/* An I/O call failed: count it and say so (at most 20 messages). */
static void io_error(const char *what, const char *path)
{
	int e = errno;

	if (__atomic_fetch_add(&io_errors, 1, __ATOMIC_RELAXED) < 20)
		note("%s %s: %s", what, path, strerror(e));
	errno = e;
}

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void pattern_init(void)
{
	size_t n = (PAT_SPAN + PAT_SLACK) / 8;
	uint64_t *p = malloc(n * 8);

	if (!p) {
		note("out of memory");
		exit(2);
	}
	for (size_t i = 0; i < n; i++)
		p[i] = mix64(i ^ 0x5eed);
	pattern = (uint8_t *)p;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Read up to len bytes; the count read (short only at end of file) or -1. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* pread up to len bytes at off; the count read (short only at end of
 * file) or -1. */
static ssize_t pread_full(int fd, void *buf, size_t len, off_t off)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, p + got, len - got, off + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int mkdir_p1(const char *path)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return 0;
	io_error("mkdir", path);
	return -1;
}

/* Raise the soft open-file limit to the hard one (pbx-rt holds N files). */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* At least want open files (expire holds every file open at once): raise
 * the soft limit, and the hard one when it is lower (root may). 0, or -1
 * when the limit cannot be had. */
static int raise_nofile_to(long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)want) {
		rl.rlim_cur = (rlim_t)want;
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)want)
			rl.rlim_max = (rlim_t)want;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			note("cannot raise the open-file limit to %ld: %s", want, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* SIGINT/SIGTERM/SIGUSR1 end the timed part early; results still print. */
static void catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* p-th percentile (0..100) of a sorted array. */
static int64_t pct_sorted(const int64_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p / 100.0 * (double)n);
	if (i >= n)
		i = n - 1;
	return v[i];
}

/* ------------------------------------------------------------- histogram */

/*
 * Latency histogram in nanoseconds: exact below 512 ns, then 256 buckets
 * per power of two (0.4 % resolution) up to 2^40 ns (18 minutes); larger
 * values land in the last bucket, and max is kept exactly.
 */
#define HIST_LINEAR 512
#define HIST_SUB 256
#define HIST_TOP_BIT 40
#define HIST_BUCKETS (HIST_LINEAR + (HIST_TOP_BIT - 9 + 1) * HIST_SUB)

struct hist {
	uint64_t n;
	uint64_t max;
	uint64_t b[HIST_BUCKETS];
};

static unsigned hist_index(uint64_t v)
{
	int msb;

	if (v < HIST_LINEAR)
		return (unsigned)v;
	msb = 63 - __builtin_clzll(v);
	if (msb > HIST_TOP_BIT)
		return HIST_BUCKETS - 1;
	return HIST_LINEAR + (unsigned)(msb - 9) * HIST_SUB +
	       (unsigned)((v >> (msb - 8)) - HIST_SUB);
}

/* The largest value that falls into bucket i. */
static uint64_t hist_upper(unsigned i)
{
	unsigned msb, sub;

	if (i < HIST_LINEAR)
		return i;
	msb = (i - HIST_LINEAR) / HIST_SUB + 9;
	sub = (i - HIST_LINEAR) % HIST_SUB + HIST_SUB;
	return (((uint64_t)sub + 1) << (msb - 8)) - 1;
}

static void hist_add(struct hist *h, uint64_t v)
{
	h->n++;
	h->b[hist_index(v)]++;
	if (v > h->max)
		h->max = v;
}

/* For a histogram shared by threads that each add rarely (pbx-rt). */
static void hist_add_atomic(struct hist *h, uint64_t v)
{
	uint64_t m = __atomic_load_n(&h->max, __ATOMIC_RELAXED);

	__atomic_fetch_add(&h->n, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->b[hist_index(v)], 1, __ATOMIC_RELAXED);
	while (v > m && !__atomic_compare_exchange_n(&h->max, &m, v, 1, __ATOMIC_RELAXED,
	                                             __ATOMIC_RELAXED))
		;
}

static void hist_merge(struct hist *dst, const struct hist *src)
{
	dst->n += src->n;
	if (src->max > dst->max)
		dst->max = src->max;
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
}

/* p-th percentile (0..100), as the upper edge of its bucket, capped at max. */
static uint64_t hist_pct(const struct hist *h, double p)
{
	uint64_t want, seen = 0;

	if (h->n == 0)
		return 0;
	want = (uint64_t)(p / 100.0 * (double)h->n);
	if (want >= h->n)
		want = h->n - 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > want)
			return hist_upper(i) < h->max ? hist_upper(i) : h->max;
	}
	return h->max;
}

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

/* --------------------------------------------------------------- content */

/*
 * Two content models. PBX: a 44-byte WAV header whose two size fields hold
 * the final sizes, then frames of 320 bytes. PAGED: 4 KiB pages. Both take
 * a tag that names the file.
 */
enum model_kind { MODEL_PBX, MODEL_PAGED };

struct model {
	enum model_kind kind;
	uint64_t tag;
	uint64_t size; /* bytes in the complete file */
};

static struct model pbx_model(uint64_t tag, uint64_t frames)
{
	struct model m = { MODEL_PBX, tag, WAV_HDR_BYTES + frames * FRAME_BYTES };
	return m;
}

static struct model paged_model(uint64_t tag, uint64_t size)
{
	struct model m = { MODEL_PAGED, tag, size };
	return m;
}

/* A WAV header (PCM, 8 kHz, mono, 16 bit) for data_bytes of audio. */
static void wav_header(uint8_t h[WAV_HDR_BYTES], uint32_t data_bytes)
{
	memcpy(h, "RIFF", 4);
	put_le32(h + 4, 36 + data_bytes);
	memcpy(h + 8, "WAVEfmt ", 8);
	put_le32(h + 16, 16);
	h[20] = 1, h[21] = 0;          /* PCM */
	h[22] = 1, h[23] = 0;          /* mono */
	put_le32(h + 24, 8000);        /* sample rate */
	put_le32(h + 28, 16000);       /* byte rate */
	h[32] = 2, h[33] = 0;          /* block align */
	h[34] = 16, h[35] = 0;         /* bits per sample */
	memcpy(h + 36, "data", 4);
	put_le32(h + 40, data_bytes);
}

/* Frame k of the file tagged tag. */
static void frame_fill(uint8_t f[FRAME_BYTES], uint64_t tag, uint64_t k)
{
	memcpy(f, pattern + mix64(tag * 0x100000001b3ull ^ k) % PAT_SPAN, FRAME_BYTES);
	put_le32(f, (uint32_t)tag);
	put_le32(f + 4, (uint32_t)k);
}

/* Page p of the file tagged tag. */
static void page_fill(uint8_t pg[PAGE_BYTES], uint64_t tag, uint64_t p)
{
	memcpy(pg, pattern + mix64(tag * 0x9e3779b1ull ^ (p << 1) ^ 1) % PAT_SPAN, PAGE_BYTES);
	put_le64(pg, tag);
	put_le64(pg + 8, p);
}

/* The expected bytes [off, off + len) of a file; len stays within size. */
static void model_fill(const struct model *m, uint8_t *dst, uint64_t off, size_t len)
{
	uint8_t unit[PAGE_BYTES];

	while (len > 0) {
		uint64_t start, idx;
		size_t ulen, skip, n;

		if (m->kind == MODEL_PBX && off < WAV_HDR_BYTES) {
			wav_header(unit, (uint32_t)(m->size - WAV_HDR_BYTES));
			start = 0;
			ulen = WAV_HDR_BYTES;
		} else if (m->kind == MODEL_PBX) {
			idx = (off - WAV_HDR_BYTES) / FRAME_BYTES;
			frame_fill(unit, m->tag, idx);
			start = WAV_HDR_BYTES + idx * FRAME_BYTES;
			ulen = FRAME_BYTES;
		} else {
			idx = off / PAGE_BYTES;
			page_fill(unit, m->tag, idx);
			start = idx * PAGE_BYTES;
			ulen = PAGE_BYTES;
		}
		skip = (size_t)(off - start);
		n = ulen - skip < len ? ulen - skip : len;
		memcpy(dst, unit + skip, n);
		dst += n;
		off += n;
		len -= n;
	}
}

/* Where the first difference is, as text for an error message. */
static void describe_offset(const struct model *m, uint64_t off, char *buf, size_t len)
{
	if (m->kind == MODEL_PBX && off < WAV_HDR_BYTES)
		pathf(buf, len, "header byte %" PRIu64, off);
	else if (m->kind == MODEL_PBX)
		pathf(buf, len, "frame %" PRIu64 " byte %" PRIu64,
		         (off - WAV_HDR_BYTES) / FRAME_BYTES, (off - WAV_HDR_BYTES) % FRAME_BYTES);
	else
		pathf(buf, len, "page %" PRIu64 " byte %" PRIu64, off / PAGE_BYTES,
		         off % PAGE_BYTES);
}

/* A file does not hold what it should: count it, say so (at most 20). */
static void bad_file(const char *path, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (__atomic_fetch_add(&bad_files, 1, __ATOMIC_RELAXED) < 20)
		note("VERIFY FAILED %s: %s", path, msg);
}

#define VERIFY_CHUNK (256 * 1024)

/*
 * Compare the file open as fd (named path in messages) with the model,
 * size included, reading it with pread from offset 0 (so fd may also be
 * the writer's own descriptor, opened O_RDWR). 0 when it matches; -1
 * otherwise (already counted and reported). buf and want are VERIFY_CHUNK
 * bytes of scratch space.
 */
static int verify_fd(int fd, const char *path, const struct model *m, uint8_t *buf,
                     uint8_t *want)
{
	struct stat st;
	uint64_t off = 0;
	int rc = -1;

	if (fstat(fd, &st) != 0) {
		bad_file(path, "fstat: %s", strerror(errno));
		goto out;
	}
	if ((uint64_t)st.st_size != m->size) {
		bad_file(path, "size %lld, want %" PRIu64, (long long)st.st_size, m->size);
		goto out;
	}
	for (;;) {
		size_t len = m->size - off < VERIFY_CHUNK ? (size_t)(m->size - off) : VERIFY_CHUNK;
		ssize_t got = pread_full(fd, buf, len ? len : 1, (off_t)off);
		char where[96];

		if (got < 0) {
			bad_file(path, "read at %" PRIu64 ": %s", off, strerror(errno));
			goto out;
		}
		if (len == 0) {
			if (got != 0) {
				bad_file(path, "data beyond the expected end %" PRIu64, m->size);
				goto out;
			}
			break;
		}
		if ((size_t)got != len) {
			bad_file(path, "end of file at %" PRIu64 ", want %" PRIu64,
			         off + (uint64_t)got, m->size);
			goto out;
		}
		model_fill(m, want, off, len);
		if (memcmp(buf, want, len) != 0) {
			size_t i = 0;
			while (buf[i] == want[i])
				i++;
			describe_offset(m, off + i, where, sizeof(where));
			bad_file(path, "byte %" PRIu64 " (%s) is 0x%02x, want 0x%02x", off + i,
			         where, buf[i], want[i]);
			goto out;
		}
		off += len;
	}
	rc = 0;
out:
	return rc;
}

/* verify_fd on a read-only open of path. */
static int verify_file(const char *path, const struct model *m, uint8_t *buf, uint8_t *want)
{
	int fd, rc;

	fd = open(path, O_RDONLY);
	if (fd < 0) {
		bad_file(path, "cannot open for reading: %s", strerror(errno));
		return -1;
	}
	rc = verify_fd(fd, path, m, buf, want);
	close(fd);
	return rc;
}

/* Scratch buffers for verify_file, per thread. */
struct vbuf {
	uint8_t *buf, *want;
};

static int vbuf_init(struct vbuf *v)
{
	v->buf = malloc(VERIFY_CHUNK);
	v->want = malloc(VERIFY_CHUNK);
	return v->buf && v->want ? 0 : -1;
}

static void vbuf_free(struct vbuf *v)
{
	free(v->buf);
	free(v->want);
}

/* Write the whole of model m to the new file fd (named path). 0 or -1
 * (reported). */
static int write_model_fd(int fd, const char *path, const struct model *m)
{
	uint8_t buf[WAV_HDR_BYTES + 16 * FRAME_BYTES];
	uint64_t off = 0;

	while (off < m->size) {
		size_t n = m->size - off < sizeof(buf) ? (size_t)(m->size - off) : sizeof(buf);
		model_fill(m, buf, off, n);
		if (write_all(fd, buf, n) != 0) {
			io_error("write", path);
			return -1;
		}
		off += n;
	}
	return 0;
}

/* Create path and write the whole of model m to it in one go. */
static int write_model_file(const char *path, const struct model *m)
{
	int fd;

	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
	if (fd < 0) {
		io_error("create", path);
		return -1;
	}
	if (write_model_fd(fd, path, m) != 0) {
		close(fd);
		return -1;
	}
	if (close(fd) != 0) {
		io_error("close", path);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- options */

struct opts {
	const char *dir;
	long writers;
	double seconds;
	long frames_per_file;
	long mib;
	const char *phase;
	long files;
	long from;
	long threads;
	int check;
	double short_s;
	double give_up_s;
	double timeout_s;
	long cpu_pid;
	int find_max;
	long start;
	long cap;
	double budget_s;
	long count; /* populate's N */
	const char *arg; /* frame-stats: the log file (the first positional) */
	const char *frame_log;
	const char *windows[MAX_WINDOWS];
	int nwindows;
};

static void usage(void)
{
	fputs("usage: fsbench pbx-max DIR [--writers 64] [--seconds 10] [--frames-per-file 9000]\n"
	      "       fsbench pbx-rt DIR [--writers N] [--seconds S] [--cpu-pid PID] [--frame-log FILE]\n"
	      "       fsbench pbx-rt DIR --find-max [--seconds S] [--start 16] [--cap 1024] [--budget S]\n"
	      "       fsbench stream DIR [--mib 256] [--phase write|read|both]\n"
	      "       fsbench meta DIR [--files 5000]\n"
	      "       fsbench populate DIR N [--from K] [--threads 4] [--check]\n"
	      "       fsbench expire DIR [--files 10000] --short SECS [--threads 4] [--give-up SECS]\n"
	      "       fsbench frame-stats FRAMELOG [--window NAME:START_NS:END_NS]...\n"
	      "       fsbench waitmount DIR [--timeout SECS]\n",
	      stderr);
	exit(2);
}

static double num_arg(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || v < 0) {
		note("bad number '%s'", s);
		exit(2);
	}
	return v;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	int pos = 0;

	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = 1;

		if (!strcmp(a, "--find-max"))
			o->find_max = 1, takes = 0;
		else if (!strcmp(a, "--check"))
			o->check = 1, takes = 0;
		else if (a[0] != '-' || !a[1]) {
			if (pos == 0)
				o->dir = o->arg = a;
			else if (pos == 1)
				o->count = (long)num_arg(a);
			else
				usage();
			pos++;
			continue;
		}
		if (!takes)
			continue;
		if (!v)
			usage();
		if (!strcmp(a, "--writers"))
			o->writers = (long)num_arg(v);
		else if (!strcmp(a, "--seconds"))
			o->seconds = num_arg(v);
		else if (!strcmp(a, "--frames-per-file"))
			o->frames_per_file = (long)num_arg(v);
		else if (!strcmp(a, "--mib"))
			o->mib = (long)num_arg(v);
		else if (!strcmp(a, "--phase"))
			o->phase = v;
		else if (!strcmp(a, "--files"))
			o->files = (long)num_arg(v);
		else if (!strcmp(a, "--from"))
			o->from = (long)num_arg(v);
		else if (!strcmp(a, "--threads"))
			o->threads = (long)num_arg(v);
		else if (!strcmp(a, "--short"))
			o->short_s = num_arg(v);
		else if (!strcmp(a, "--frame-log"))
			o->frame_log = v;
		else if (!strcmp(a, "--window")) {
			if (o->nwindows >= MAX_WINDOWS)
				usage();
			o->windows[o->nwindows++] = v;
		}
		else if (!strcmp(a, "--give-up"))
			o->give_up_s = num_arg(v);
		else if (!strcmp(a, "--timeout"))
			o->timeout_s = num_arg(v);
		else if (!strcmp(a, "--cpu-pid"))
			o->cpu_pid = (long)num_arg(v);
		else if (!strcmp(a, "--start"))
			o->start = (long)num_arg(v);
		else if (!strcmp(a, "--cap"))
			o->cap = (long)num_arg(v);
		else if (!strcmp(a, "--budget"))
			o->budget_s = num_arg(v);
		else
			usage();
		i++;
	}
	if (!o->dir)
		usage();
}

/* ---------------------------------------------------------------- threads */

/* Start n threads running fn(arg + i * size); 0, or -1 after joining those
 * that started. */
static int run_threads(long n, size_t stack, void *(*fn)(void *), void *arg, size_t size)
{
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	pthread_attr_t attr;
	long started = 0;
	int rc = -1;

	if (!t)
		return -1;
	pthread_attr_init(&attr);
	if (stack)
		pthread_attr_setstacksize(&attr, stack);
	for (; started < n; started++) {
		int e = pthread_create(&t[started], &attr, fn, (char *)arg + (size_t)started * size);
		if (e) {
			note("cannot start thread %ld of %ld: %s", started + 1, n, strerror(e));
			goto out;
		}
	}
	rc = 0;
out:
	for (long i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	pthread_attr_destroy(&attr);
	free(t);
	return rc;
}

/* A barrier that also works when thread creation fails half way: threads
 * wait until go is set. */
struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int open;
	int64_t t0;
};

static void gate_wait(struct gate *g)
{
	pthread_mutex_lock(&g->mu);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

static void gate_open(struct gate *g, int64_t t0)
{
	pthread_mutex_lock(&g->mu);
	g->t0 = t0;
	g->open = 1;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

/* Run n threads of fn, open the gate once all exist (from a helper thread,
 * since run_threads joins). */
struct launcher {
	long n;
	size_t stack;
	void *(*fn)(void *);
	void *arg;
	size_t size;
	int rc;
};

static void *launch_main(void *p)
{
	struct launcher *l = p;

	l->rc = run_threads(l->n, l->stack, l->fn, l->arg, l->size);
	return NULL;
}

/* ---------------------------------------------------------------- pbx-max */

struct max_writer {
	int id;
	const char *dir;
	long frames_per_file;
	struct gate *gate;
	int64_t end;
	struct hist *h;
	uint64_t frames, files, active_ns, patch_max_ns, verified;
	int failed;
};

static int patch_sizes(int fd, uint64_t frames)
{
	uint8_t v[4];
	uint32_t data = (uint32_t)(frames * FRAME_BYTES);

	put_le32(v, 36 + data);
	if (pwrite_all(fd, v, 4, 4) != 0)
		return -1;
	put_le32(v, data);
	return pwrite_all(fd, v, 4, 40);
}

static void *max_writer_main(void *p)
{
	struct max_writer *w = p;
	uint8_t hdr[WAV_HDR_BYTES], frame[FRAME_BYTES];
	char path[PATH_MAX];
	struct vbuf vb;

	if (vbuf_init(&vb) != 0) {
		w->failed = 1;
		return NULL;
	}
	gate_wait(w->gate);
	while (!stop_requested && now_ns() < w->end) {
		uint64_t tag = ((uint64_t)w->id << 20) | w->files;
		uint64_t k = 0;
		int64_t t0 = now_ns(), t1 = t0;
		struct model m;
		int fd;

		pathf(path, sizeof(path), "%s/w%03d-%06" PRIu64 ".wav", w->dir, w->id, w->files);
		fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_TRUNC, 0644);
		if (fd < 0) {
			io_error("create", path);
			w->failed = 1;
			break;
		}
		wav_header(hdr, 0);
		if (write_all(fd, hdr, sizeof(hdr)) != 0)
			goto io_fail;
		while (k < (uint64_t)w->frames_per_file && t1 < w->end && !stop_requested) {
			int64_t ts;
			frame_fill(frame, tag, k);
			ts = now_ns();
			if (write_all(fd, frame, FRAME_BYTES) != 0)
				goto io_fail;
			t1 = now_ns();
			hist_add(w->h, (uint64_t)(t1 - ts));
			k++;
			if (k % PATCH_EVERY_FRAMES == 0) {
				if (patch_sizes(fd, k) != 0)
					goto io_fail;
				if ((uint64_t)(now_ns() - t1) > w->patch_max_ns)
					w->patch_max_ns = (uint64_t)(now_ns() - t1);
			}
		}
		/* Like a recorder at hang-up: the header gets its final sizes. */
		if (k % PATCH_EVERY_FRAMES != 0 || k == 0) {
			if (patch_sizes(fd, k) != 0)
				goto io_fail;
		}
		if (close(fd) != 0) {
			io_error("close", path);
			w->failed = 1;
			break;
		}
		w->active_ns += (uint64_t)(now_ns() - t0);
		w->frames += k;
		w->files++;
		/* Untimed: read back, compare, remove. */
		m = pbx_model(tag, k);
		if (verify_file(path, &m, vb.buf, vb.want) != 0) {
			w->failed = 1;
			break; /* the bad file stays for inspection */
		}
		w->verified += m.size;
		if (unlink(path) != 0)
			io_error("unlink", path);
		continue;
io_fail:
		io_error("write", path);
		close(fd);
		w->failed = 1;
		break;
	}
	vbuf_free(&vb);
	return NULL;
}

static int cmd_pbx_max(struct opts *o)
{
	long n = o->writers ? o->writers : 64;
	double secs = o->seconds > 0 ? o->seconds : 10;
	struct max_writer *w;
	struct gate gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
	struct launcher l;
	struct hist *all;
	pthread_t lt;
	char dir[PATH_MAX];
	uint64_t frames = 0, files = 0, active = 0, patch_max = 0, verified = 0;
	int64_t t0, wall;
	int failed = 0;

	if (n < 1 || n > MAX_THREADS)
		usage();
	pathf(dir, sizeof(dir), "%s/fsb-max-%d", o->dir, (int)getpid());
	if (mkdir_p1(dir) != 0)
		return 1;
	w = calloc((size_t)n, sizeof(*w));
	all = calloc(1, sizeof(*all));
	if (!w || !all)
		return 2;
	t0 = now_ns() + 200 * NS_PER_MS;
	for (long i = 0; i < n; i++) {
		w[i].id = (int)i;
		w[i].dir = dir;
		w[i].frames_per_file = o->frames_per_file ? o->frames_per_file : 9000;
		w[i].gate = &gate;
		w[i].end = t0 + (int64_t)(secs * NS_PER_SEC);
		w[i].h = calloc(1, sizeof(struct hist));
		if (!w[i].h)
			return 2;
	}
	l = (struct launcher){ n, 0, max_writer_main, w, sizeof(*w), 0 };
	if (pthread_create(&lt, NULL, launch_main, &l) != 0)
		return 2;
	sleep_until(t0);
	gate_open(&gate, t0);
	pthread_join(lt, NULL);
	wall = now_ns() - t0;
	for (long i = 0; i < n; i++) {
		hist_merge(all, w[i].h);
		frames += w[i].frames;
		files += w[i].files;
		active += w[i].active_ns;
		verified += w[i].verified;
		failed |= w[i].failed;
		if (w[i].patch_max_ns > patch_max)
			patch_max = w[i].patch_max_ns;
		free(w[i].h);
	}
	if (!failed && rmdir(dir) != 0)
		io_error("rmdir", dir);
	/* Rate over the time writers spent writing (verification excluded):
	 * frames / mean active time per writer. */
	printf("pbx-max writers=%ld seconds=%g frames=%" PRIu64 " files=%" PRIu64
	       " frames_per_s=%.0f wall_frames_per_s=%.0f write_p50_us=%.1f"
	       " write_p99_us=%.1f write_max_us=%.1f patch_max_us=%.1f"
	       " verified_bytes=%" PRIu64 " verify=%s\n",
	       n, secs, frames, files,
	       active ? (double)frames / ((double)active / (double)n / NS_PER_SEC) : 0.0,
	       wall ? (double)frames / ((double)wall / NS_PER_SEC) : 0.0,
	       us(hist_pct(all, 50)), us(hist_pct(all, 99)), us(all->max), us(patch_max),
	       verified, failed || l.rc ? "FAIL" : "ok");
	fflush(stdout);
	free(all);
	free(w);
	return failed || l.rc ? 1 : 0;
}

/* ---------------------------------------------------------------- pbx-rt */

struct rt_shared {
	struct gate gate;
	int64_t end;        /* no deadline at or after this */
	int64_t hard_end;   /* a writer this far behind gives up */
	struct hist *h;
	uint64_t late;      /* atomic */
	uint64_t dropped;   /* atomic: frames never written (also late) */
	long n;
};

struct rt_writer {
	struct rt_shared *s;
	int id;
	int fd;
	char *path;
	uint64_t tag;
	uint64_t frames;
	int failed;
	/* --frame-log: frame k's latency in ns (-1: dropped), k < nlog <= cap;
	 * its deadline is phase + k * FRAME_NS. */
	int64_t *lat;
	uint64_t cap, nlog;
	int64_t phase;
};

static void *rt_writer_main(void *p)
{
	struct rt_writer *w = p;
	struct rt_shared *s = w->s;
	uint8_t frame[FRAME_BYTES];
	int64_t phase, dl;

	gate_wait(&s->gate);
	/* Calls do not start in step: spread the writers over one period. */
	phase = s->gate.t0 + (int64_t)w->id * FRAME_NS / s->n;
	w->phase = phase;
	for (uint64_t k = 0;; k++) {
		int64_t done, lat;

		dl = phase + (int64_t)k * FRAME_NS;
		if (dl >= s->end || stop_requested)
			break;
		if (now_ns() > s->hard_end) {
			/* Hopelessly behind: the rest of the call is lost audio. */
			uint64_t rest = (uint64_t)((s->end - dl + FRAME_NS - 1) / FRAME_NS);
			__atomic_fetch_add(&s->dropped, rest, __ATOMIC_RELAXED);
			__atomic_fetch_add(&s->late, rest, __ATOMIC_RELAXED);
			for (uint64_t j = k; w->lat && j < k + rest && j < w->cap; j++)
				w->lat[j] = -1;
			if (w->lat)
				w->nlog = k + rest < w->cap ? k + rest : w->cap;
			break;
		}
		frame_fill(frame, w->tag, k);
		sleep_until(dl);
		if (write_all(w->fd, frame, FRAME_BYTES) != 0) {
			io_error("write", w->path);
			w->failed = 1;
			break;
		}
		done = now_ns();
		lat = done - dl;
		hist_add_atomic(s->h, (uint64_t)(lat > 0 ? lat : 0));
		if (lat > LATE_NS)
			__atomic_fetch_add(&s->late, 1, __ATOMIC_RELAXED);
		w->frames = k + 1;
		if (w->lat && k < w->cap) {
			w->lat[k] = lat > 0 ? lat : 0;
			w->nlog = k + 1;
		}
	}
	if (!w->failed && patch_sizes(w->fd, w->frames) != 0) {
		io_error("patch", w->path);
		w->failed = 1;
	}
	if (close(w->fd) != 0 && !w->failed) {
		io_error("close", w->path);
		w->failed = 1;
	}
	w->fd = -1;
	return NULL;
}

/* utime + stime of a process, in seconds; -1 when unreadable. */
static double proc_cpu_s(long pid)
{
	char path[64], buf[2048], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	if (pid <= 0)
		return -1;
	pathf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
	                 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

struct rt_result {
	long n;
	uint64_t frames, late, dropped;
	uint64_t p50, p99, max;
	double cpu_s;
	int failed;
};

/* Write every logged frame of the writers, "deadline_ns latency_ns" (-1:
 * dropped), to path. 0 or -1. */
static int rt_write_log(const char *path, const struct rt_writer *w, long n)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f) {
		io_error("create", path);
		return -1;
	}
	fprintf(f, "# pbx-rt frames: CLOCK_MONOTONIC deadline (ns), latency (ns; -1: dropped)\n");
	for (long i = 0; i < n; i++)
		for (uint64_t k = 0; k < w[i].nlog; k++)
			fprintf(f, "%" PRId64 " %" PRId64 "\n", (int64_t)(w[i].phase + (int64_t)k * FRAME_NS),
			        w[i].lat[k]);
	rc = ferror(f) ? -1 : 0;
	if (fclose(f) != 0)
		rc = -1;
	if (rc)
		io_error("write", path);
	return rc;
}

/* One pbx-rt run with n writers for secs seconds; tag separates runs.
 * frame_log (or NULL): where every frame's deadline and latency go. */
static void rt_run(const char *dir, long n, double secs, long cpu_pid, int run,
                   const char *frame_log, struct rt_result *r)
{
	struct rt_shared s;
	struct rt_writer *w = calloc((size_t)n, sizeof(*w));
	struct launcher l;
	struct vbuf vb = { 0, 0 };
	pthread_t lt;
	int64_t t0;
	double cpu0, cpu1;
	long opened = 0;  /* files 0..opened-1 are open */
	int threads_ran = 0;

	memset(r, 0, sizeof(*r));
	memset(&s, 0, sizeof(s));
	r->n = n;
	r->cpu_s = -1;
	s.h = calloc(1, sizeof(struct hist));
	if (!w || !s.h || vbuf_init(&vb) != 0) {
		note("out of memory");
		r->failed = 1;
		goto out;
	}
	pthread_mutex_init(&s.gate.mu, NULL);
	pthread_cond_init(&s.gate.cv, NULL);
	s.n = n;
	/* The calls are set up (files created, headers written) before the
	 * clock starts. */
	for (long i = 0; i < n; i++, opened++) {
		uint8_t hdr[WAV_HDR_BYTES];

		w[i].s = &s;
		w[i].id = (int)i;
		w[i].tag = ((uint64_t)run << 32) | (uint64_t)i;
		w[i].path = malloc(PATH_MAX);
		if (!w[i].path) {
			r->failed = 1;
			goto out;
		}
		pathf(w[i].path, PATH_MAX, "%s/rt%02d-%04ld.wav", dir, run, i);
		w[i].fd = open(w[i].path, O_CREAT | O_EXCL | O_WRONLY | O_TRUNC, 0644);
		if (w[i].fd < 0) {
			io_error("create", w[i].path);
			r->failed = 1;
			goto out;
		}
		wav_header(hdr, 0);
		if (write_all(w[i].fd, hdr, sizeof(hdr)) != 0) {
			io_error("write", w[i].path);
			close(w[i].fd);
			w[i].fd = -1;
			r->failed = 1;
			goto out;
		}
	}
	for (long i = 0; frame_log && i < n; i++) {
		w[i].cap = (uint64_t)((int64_t)(secs * NS_PER_SEC) / FRAME_NS) + 2;
		w[i].lat = malloc(w[i].cap * sizeof(*w[i].lat));
		if (!w[i].lat) {
			note("out of memory for the frame log");
			r->failed = 1;
			goto out;
		}
		memset(w[i].lat, 0, w[i].cap * sizeof(*w[i].lat)); /* no page faults later */
	}
	t0 = now_ns() + 100 * NS_PER_MS + n * 50 * NS_PER_US; /* time to start threads */
	s.end = t0 + (int64_t)(secs * NS_PER_SEC);
	/* A run may overrun by its own length plus 5 s, no more. */
	s.hard_end = s.end + (int64_t)(secs * NS_PER_SEC) + 5 * NS_PER_SEC;
	l = (struct launcher){ n, RT_STACK_BYTES, rt_writer_main, w, sizeof(*w), 0 };
	if (pthread_create(&lt, NULL, launch_main, &l) != 0) {
		r->failed = 1;
		goto out;
	}
	threads_ran = 1; /* from here on each writer closes its own file */
	sleep_until(t0);
	cpu0 = proc_cpu_s(cpu_pid);
	gate_open(&s.gate, t0);
	pthread_join(lt, NULL);
	cpu1 = proc_cpu_s(cpu_pid);
	if (cpu0 >= 0 && cpu1 >= 0)
		r->cpu_s = cpu1 - cpu0;
	if (l.rc)
		r->failed = 1;
	r->late = s.late;
	r->dropped = s.dropped;
	r->p50 = hist_pct(s.h, 50);
	r->p99 = hist_pct(s.h, 99);
	r->max = s.h->max;
	if (frame_log && rt_write_log(frame_log, w, n) != 0)
		r->failed = 1;
	/* Untimed: read every file back. */
	for (long i = 0; i < n; i++) {
		struct model m = pbx_model(w[i].tag, w[i].frames);

		r->frames += w[i].frames;
		if (w[i].failed) {
			r->failed = 1;
			continue;
		}
		if (verify_file(w[i].path, &m, vb.buf, vb.want) != 0)
			r->failed = 1;
		else if (unlink(w[i].path) != 0)
			io_error("unlink", w[i].path);
	}
out:
	if (w) {
		for (long i = 0; i < n; i++) {
			if (!threads_ran && i < opened && w[i].fd >= 0)
				close(w[i].fd);
			free(w[i].path);
			free(w[i].lat);
		}
	}
	free(w);
	free(s.h);
	vbuf_free(&vb);
}

static void rt_print(const char *what, const struct rt_result *r, double secs)
{
	double audio_h = (double)r->frames * FRAME_NS / NS_PER_SEC / 3600.0;

	uint64_t due = r->frames + r->dropped;

	printf("%s writers=%ld seconds=%g frames=%" PRIu64 " late=%" PRIu64 " dropped=%" PRIu64
	       " late_pct=%.4f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f",
	       what, r->n, secs, r->frames, r->late, r->dropped,
	       due ? 100.0 * (double)r->late / (double)due : 0.0,
	       (double)r->p50 / NS_PER_MS, (double)r->p99 / NS_PER_MS,
	       (double)r->max / NS_PER_MS);
	if (r->cpu_s >= 0)
		printf(" daemon_cpu_s=%.2f cpu_s_per_audio_h=%.2f", r->cpu_s,
		       audio_h > 0 ? r->cpu_s / audio_h : 0.0);
	printf(" verify=%s\n", r->failed ? "FAIL" : "ok");
	fflush(stdout);
}

/*
 * The largest writer count with no late frame: double from start until a
 * run has a late frame twice in a row (or cap), then bisect to within 1/16.
 * Stops early when the time budget is spent; the answer is then a lower
 * bound (budget_hit=1).
 */
static int rt_find_max(const char *dir, struct opts *o)
{
	double secs = o->seconds > 0 ? o->seconds : 3;
	long n = o->start ? o->start : 16, cap = o->cap ? o->cap : 1024;
	long lo = 0, hi = 0;
	double budget = o->budget_s > 0 ? o->budget_s : 120;
	int64_t t_end = now_ns() + (int64_t)(budget * NS_PER_SEC);
	int trials = 0, retries = 0, failed = 0, budget_hit = 0;
	struct rt_result r;

	for (;;) {
		long next;

		if (trials > 0 && now_ns() + (int64_t)((secs + 1) * NS_PER_SEC) > t_end) {
			budget_hit = 1;
			break;
		}
		rt_run(dir, n, secs, o->cpu_pid, trials, NULL, &r);
		trials++;
		failed |= r.failed;
		note("find-max trial %d: writers=%ld late=%" PRIu64 " p99_ms=%.2f max_ms=%.2f%s",
		     trials, n, r.late, (double)r.p99 / NS_PER_MS, (double)r.max / NS_PER_MS,
		     r.failed ? " FAILED" : "");
		if (r.failed || stop_requested)
			break;
		/* Other load on the machine makes the odd frame late at any N;
		 * saturation makes them late every time. So N fails only when a
		 * second run at N has late frames too. */
		if (r.late > 0 && now_ns() + (int64_t)((secs + 1) * NS_PER_SEC) <= t_end) {
			rt_run(dir, n, secs, o->cpu_pid, trials, NULL, &r);
			trials++;
			retries++;
			failed |= r.failed;
			note("find-max trial %d (again): writers=%ld late=%" PRIu64 " p99_ms=%.2f%s",
			     trials, n, r.late, (double)r.p99 / NS_PER_MS, r.failed ? " FAILED" : "");
			if (r.failed || stop_requested)
				break;
		}
		if (r.late == 0)
			lo = n;
		else
			hi = n;
		if (!hi)
			next = n * 2 > cap ? cap : n * 2;
		else
			next = lo + (hi - lo) / 2;
		if (!hi && lo == cap)
			break;
		/* Bisect to within 1/16 of the answer (at least 2 writers). */
		if (hi && hi - lo <= (lo / 16 > 2 ? lo / 16 : 2))
			break;
		if (next == n || next < 1)
			break;
		n = next;
	}
	printf("pbx-rt-max max_n=%ld first_late_n=%ld cap=%ld trial_seconds=%g trials=%d"
	       " retries=%d budget_hit=%d verify=%s\n",
	       lo, hi, cap, secs, trials, retries, budget_hit, failed ? "FAIL" : "ok");
	fflush(stdout);
	return failed ? 1 : 0;
}

static int cmd_pbx_rt(struct opts *o)
{
	char dir[PATH_MAX];
	struct rt_result r;
	double secs = o->seconds > 0 ? o->seconds : 10;
	long n = o->writers ? o->writers : 100;
	int rc;

	if (n < 1 || n > MAX_THREADS || o->cap > MAX_THREADS)
		usage();
	raise_nofile();
	pathf(dir, sizeof(dir), "%s/fsb-rt-%d", o->dir, (int)getpid());
	if (mkdir_p1(dir) != 0)
		return 1;
	if (o->find_max) {
		rc = rt_find_max(dir, o);
	} else {
		rt_run(dir, n, secs, o->cpu_pid, 0, o->frame_log, &r);
		rt_print("pbx-rt", &r, secs);
		rc = r.failed;
	}
	if (!rc && rmdir(dir) != 0)
		io_error("rmdir", dir);
	return rc ? 1 : 0;
}

/* ---------------------------------------------------------------- stream */

/* Drop the page cache for fd's file, and all clean caches when allowed
 * (root, /proc writable). Returns 1 when drop_caches worked. */
static int drop_caches(int fd)
{
	int pfd, ok = 0;

	if (fd >= 0) {
		fdatasync(fd);
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	}
	sync();
	pfd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (pfd >= 0) {
		ok = write(pfd, "3\n", 2) == 2;
		close(pfd);
	}
	return ok;
}

static int cmd_stream(struct opts *o)
{
	const char *phase = o->phase ? o->phase : "both";
	int do_write = strcmp(phase, "read") != 0, do_read = strcmp(phase, "write") != 0;
	uint64_t size = (uint64_t)(o->mib ? o->mib : 256) << 20;
	struct model m = paged_model(0x57e4a11ull, size);
	char path[PATH_MAX];
	uint8_t *buf;
	double wr = 0, rd = 0;
	int fd, dropped = 0, rc = 1;

	if (strcmp(phase, "both") && strcmp(phase, "write") && strcmp(phase, "read"))
		usage();
	pathf(path, sizeof(path), "%s/fsb-stream.dat", o->dir);
	buf = malloc(size);
	if (!buf) {
		note("out of memory for %" PRIu64 " bytes", size);
		return 2;
	}
	if (do_write) {
		int64_t t0, t1;

		model_fill(&m, buf, 0, size); /* untimed */
		t0 = now_ns();
		fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
		if (fd < 0) {
			io_error("create", path);
			goto out;
		}
		for (uint64_t off = 0; off < size; off += STREAM_IO_BYTES) {
			size_t n = size - off < STREAM_IO_BYTES ? size - off : STREAM_IO_BYTES;
			if (write_all(fd, buf + off, n) != 0) {
				io_error("write", path);
				close(fd);
				goto out;
			}
		}
		if (fsync(fd) != 0) {
			io_error("fsync", path);
			close(fd);
			goto out;
		}
		if (close(fd) != 0) {
			io_error("close", path);
			goto out;
		}
		t1 = now_ns();
		wr = (double)size / ((double)(t1 - t0) / NS_PER_SEC) / 1e6;
	}
	if (do_read) {
		int64_t t0, t1;
		ssize_t got;
		uint64_t off = 0;

		fd = open(path, O_RDONLY);
		if (fd < 0) {
			io_error("open", path);
			goto out;
		}
		dropped = drop_caches(fd);
		close(fd);
		memset(buf, 0, size);
		t0 = now_ns();
		fd = open(path, O_RDONLY);
		if (fd < 0) {
			io_error("open", path);
			goto out;
		}
		for (;;) {
			size_t n = size - off < STREAM_IO_BYTES ? size - off : STREAM_IO_BYTES;
			uint8_t extra;
			got = read_full(fd, n ? buf + off : &extra, n ? n : 1);
			if (got < 0) {
				io_error("read", path);
				close(fd);
				goto out;
			}
			off += (uint64_t)got;
			if ((size_t)got < n || n == 0)
				break;
		}
		close(fd);
		t1 = now_ns();
		rd = (double)size / ((double)(t1 - t0) / NS_PER_SEC) / 1e6;
		if (off != size) {
			bad_file(path, "read %" PRIu64 " bytes, want %" PRIu64, off, size);
			goto out;
		}
		/* Untimed: compare. */
		for (off = 0; off < size; off += PAGE_BYTES) {
			uint8_t want[PAGE_BYTES];
			model_fill(&m, want, off, PAGE_BYTES);
			if (memcmp(want, buf + off, PAGE_BYTES) != 0) {
				size_t i = 0;
				while (want[i] == buf[off + i])
					i++;
				bad_file(path, "byte %" PRIu64 " (page %" PRIu64 ") is 0x%02x, want 0x%02x",
				         off + i, off / PAGE_BYTES, buf[off + i], want[i]);
				goto out;
			}
		}
		if (unlink(path) != 0)
			io_error("unlink", path);
	}
	rc = 0;
out:
	printf("stream phase=%s mib=%" PRIu64, phase, size >> 20);
	if (do_write)
		printf(" write_mb_s=%.1f", wr);
	if (do_read)
		printf(" read_mb_s=%.1f drop_caches=%d", rd, dropped);
	printf(" verify=%s\n", rc || bad_files || io_errors ? "FAIL" : "ok");
	fflush(stdout);
	free(buf);
	return rc;
}

/* ---------------------------------------------------------------- meta */

static double ops_s(long ops, int64_t ns)
{
	return ns > 0 ? (double)ops / ((double)ns / NS_PER_SEC) : 0.0;
}

static int cmd_meta(struct opts *o)
{
	long n = o->files ? o->files : 5000;
	char dir[PATH_MAX], keep[PATH_MAX], path[PATH_MAX];
	uint8_t *data = malloc(META_FILE_BYTES);
	char *seen = calloc((size_t)n, 1);
	struct vbuf vb;
	int64_t t[5], t_unlink0, t_unlink1;
	long entries = 0, moved = 0;
	struct stat st;
	DIR *d;
	struct dirent *de;
	int rc = 1;

	if (!data || !seen || vbuf_init(&vb) != 0)
		return 2;
	pathf(dir, sizeof(dir), "%s/fsb-meta-%d", o->dir, (int)getpid());
	pathf(keep, sizeof(keep), "%s/keep", o->dir);
	if (mkdir_p1(dir) != 0 || mkdir_p1(keep) != 0)
		goto out;
#define META_PATH(i) \
	(((i) % 2 == 0) ? pathf(path, sizeof(path), "%s/fsb-meta-%d-f%06ld", keep, \
	                           (int)getpid(), (long)(i)) \
	                : pathf(path, sizeof(path), "%s/f%06ld", dir, (long)(i)))

	/* Contents: generated before the clock runs. */
	t[0] = now_ns();
	for (long i = 0; i < n; i++) {
		struct model m = paged_model(0x3e7a0000ull + (uint64_t)i, META_FILE_BYTES);
		int fd;

		model_fill(&m, data, 0, META_FILE_BYTES);
		pathf(path, sizeof(path), "%s/f%06ld", dir, i);
		fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
		if (fd < 0) {
			io_error("create", path);
			goto out;
		}
		if (write_all(fd, data, META_FILE_BYTES) != 0) {
			io_error("write", path);
			close(fd);
			goto out;
		}
		if (close(fd) != 0) {
			io_error("close", path);
			goto out;
		}
	}
	t[1] = now_ns();
	d = opendir(dir);
	if (!d) {
		io_error("opendir", dir);
		goto out;
	}
	while ((de = readdir(d))) {
		long i;
		char *end;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			io_error("stat", de->d_name);
			closedir(d);
			goto out;
		}
		entries++;
		i = de->d_name[0] == 'f' ? strtol(de->d_name + 1, &end, 10) : -1;
		if (i >= 0 && i < n && !*end && st.st_size == META_FILE_BYTES)
			seen[i]++;
	}
	closedir(d);
	t[2] = now_ns();
	for (long i = 0; i < n; i += 2) {
		char from[PATH_MAX];

		pathf(from, sizeof(from), "%s/f%06ld", dir, i);
		META_PATH(i);
		if (rename(from, path) != 0) {
			io_error("rename", from);
			goto out;
		}
		moved++;
	}
	t[3] = now_ns();
	for (long i = 0; i < n; i++) {
		META_PATH(i);
		if (stat(path, &st) != 0) {
			io_error("stat", path);
			goto out;
		}
		if (st.st_size != META_FILE_BYTES)
			bad_file(path, "size %lld after rename, want %d", (long long)st.st_size,
			         META_FILE_BYTES);
	}
	t[4] = now_ns();
	/* Untimed: every listed name seen once with its size, every byte right. */
	if (entries != n)
		bad_file(dir, "readdir listed %ld files, want %ld", entries, n);
	for (long i = 0; i < n; i++) {
		struct model m = paged_model(0x3e7a0000ull + (uint64_t)i, META_FILE_BYTES);

		if (seen[i] != 1)
			bad_file(dir, "readdir+stat saw f%06ld %d times with the right size", i,
			         seen[i]);
		META_PATH(i);
		verify_file(path, &m, vb.buf, vb.want);
	}
	if (bad_files)
		goto out; /* leave the files for inspection */
	t_unlink0 = now_ns();
	for (long i = 0; i < n; i++) {
		META_PATH(i);
		if (unlink(path) != 0) {
			io_error("unlink", path);
			goto out;
		}
	}
	t_unlink1 = now_ns();
	if (rmdir(dir) != 0)
		io_error("rmdir", dir);
	printf("meta files=%ld create_ops_s=%.0f readdir_stat_ops_s=%.0f rename_ops_s=%.0f"
	       " stat_ops_s=%.0f unlink_ops_s=%.0f verify=ok\n",
	       n, ops_s(n, t[1] - t[0]), ops_s(entries, t[2] - t[1]), ops_s(moved, t[3] - t[2]),
	       ops_s(n, t[4] - t[3]), ops_s(n, t_unlink1 - t_unlink0));
	rc = 0;
#undef META_PATH
out:
	if (rc)
		printf("meta files=%ld verify=FAIL\n", n);
	fflush(stdout);
	vbuf_free(&vb);
	free(seen);
	free(data);
	return rc;
}

/* ---------------------------------------------------------------- populate */

struct pop_worker {
	const char *dir;
	long id, nthreads, from, to;
	int check;
	long done, missing;
	int failed;
};

static void pop_path(char *buf, size_t len, const char *dir, long i)
{
	pathf(buf, len, "%s/fsb-pop/d%04ld/r%07ld.wav", dir, i / POP_PER_DIR, i);
}

static void *pop_create_main(void *p)
{
	struct pop_worker *w = p;
	char path[PATH_MAX];

	for (long i = w->from + w->id; i < w->to; i += w->nthreads) {
		struct model m = pbx_model(0x909000000ull + (uint64_t)i, POP_FRAMES);

		pop_path(path, sizeof(path), w->dir, i);
		if (write_model_file(path, &m) != 0) {
			w->failed = 1;
			break;
		}
		w->done++;
	}
	return NULL;
}

static void *pop_verify_main(void *p)
{
	struct pop_worker *w = p;
	char path[PATH_MAX];
	struct vbuf vb;

	if (vbuf_init(&vb) != 0) {
		w->failed = 1;
		return NULL;
	}
	for (long i = w->from + w->id; i < w->to; i += w->nthreads) {
		struct model m = pbx_model(0x909000000ull + (uint64_t)i, POP_FRAMES);

		pop_path(path, sizeof(path), w->dir, i);
		if (access(path, F_OK) != 0 && errno == ENOENT)
			w->missing++;
		if (verify_file(path, &m, vb.buf, vb.want) != 0)
			w->failed = 1;
		else
			w->done++;
	}
	vbuf_free(&vb);
	return NULL;
}

/*
 * populate DIR N [--from K]: create recordings K..N-1 (small WAV files, 1000
 * per folder under DIR/fsb-pop/), then read them back. With --check only
 * read back 0..N-1, e.g. after a remount.
 */
static int cmd_populate(struct opts *o)
{
	long n = o->count, from = o->check ? 0 : o->from;
	long nt = o->threads ? o->threads : 4;
	struct pop_worker *w = calloc((size_t)nt, sizeof(*w));
	char path[PATH_MAX];
	long done = 0, missing = 0;
	int64_t t0, t1;
	int failed = 0;

	if (!w || n < 1 || from >= n || nt < 1 || nt > 256)
		usage();
	for (long i = 0; i < nt; i++)
		w[i] = (struct pop_worker){ o->dir, i, nt, from, n, o->check, 0, 0, 0 };
	if (!o->check) {
		pathf(path, sizeof(path), "%s/fsb-pop", o->dir);
		if (mkdir_p1(path) != 0)
			return 1;
		for (long d = from / POP_PER_DIR; d <= (n - 1) / POP_PER_DIR; d++) {
			pathf(path, sizeof(path), "%s/fsb-pop/d%04ld", o->dir, d);
			if (mkdir_p1(path) != 0)
				return 1;
		}
	}
	t0 = now_ns();
	if (!o->check && run_threads(nt, 0, pop_create_main, w, sizeof(*w)) != 0)
		return 2;
	t1 = now_ns();
	for (long i = 0; i < nt; i++) {
		failed |= w[i].failed;
		done += w[i].done;
		w[i].done = 0;
	}
	if (!o->check)
		printf("populate from=%ld n=%ld created=%ld files_per_s=%.0f", from, n, done,
		       ops_s(done, t1 - t0));
	/* Untimed unless --check: read back. */
	done = 0;
	if (!failed) {
		t0 = now_ns();
		if (run_threads(nt, 0, pop_verify_main, w, sizeof(*w)) != 0)
			return 2;
		t1 = now_ns();
		for (long i = 0; i < nt; i++) {
			failed |= w[i].failed;
			done += w[i].done;
			missing += w[i].missing;
		}
	}
	if (o->check)
		printf("populate-check n=%ld verified=%ld missing=%ld files_per_s=%.0f", n, done,
		       missing, ops_s(done, t1 - t0));
	printf(" verify=%s\n", failed ? "FAIL" : "ok");
	fflush(stdout);
	free(w);
	return failed ? 1 : 0;
}

/* ---------------------------------------------------------------- expire */

/* The watcher looks at a file from this long before its deadline, so a
 * file gone more than EARLY_TOL_NS early is seen as such. */
#define WATCH_AHEAD_NS (EARLY_TOL_NS + 250 * NS_PER_MS)
#define POLL_MIN_NS (20 * NS_PER_MS)

struct exp_file {
	int64_t deadline; /* close return + short, ns */
	int64_t gone;     /* end of the first listing without it, or 0 */
	long idx;
	long seen;        /* the last pass whose listing had it */
	int fd;           /* while held open, else -1 */
	int state;        /* 0 pending, 1 gone, 2 error, 3 never went */
};

/* The workers create and hold their files, report ready, and close them
 * all when the main thread says go (-1: abort, close without a deadline). */
struct exp_shared {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	long ready;
	int go;
};

struct exp_worker {
	const char *dir;
	struct exp_file *f;
	struct exp_shared *sh;
	long from, to;
	int64_t short_ns;
	long made, verified_open;
	int failed;
};

static void exp_path(char *buf, size_t len, const char *dir, long i)
{
	pathf(buf, len, "%s/e%05ld.wav", dir, i);
}

static struct model exp_model(long i)
{
	return pbx_model(0xe0000000ull + (uint64_t)i, EXPIRE_FRAMES);
}

static void *exp_worker_main(void *p)
{
	struct exp_worker *w = p;
	struct exp_shared *sh = w->sh;
	char path[PATH_MAX];
	struct vbuf vb;
	int go, have_vb = vbuf_init(&vb) == 0;

	if (!have_vb)
		w->failed = 1;
	/* Create, write and check every file of the slice, and keep it open:
	 * an open file never expires, so there is no hurry. */
	for (long i = w->from; i < w->to; i++) {
		struct model m = exp_model(i);
		int fd;

		w->f[i].idx = i;
		w->f[i].fd = -1;
		w->f[i].state = 2;
		if (!have_vb)
			continue;
		exp_path(path, sizeof(path), w->dir, i);
		fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0644);
		if (fd < 0) {
			io_error("create", path);
			w->failed = 1;
			continue;
		}
		if (write_model_fd(fd, path, &m) != 0) {
			close(fd);
			w->failed = 1;
			continue;
		}
		/* Read back through the writer's own descriptor. */
		if (verify_fd(fd, path, &m, vb.buf, vb.want) != 0) {
			close(fd);
			w->failed = 1;
			continue;
		}
		w->f[i].fd = fd;
		w->f[i].state = 0;
		w->made++;
		w->verified_open++;
	}
	if (have_vb)
		vbuf_free(&vb);
	pthread_mutex_lock(&sh->mu);
	sh->ready++;
	pthread_cond_broadcast(&sh->cv);
	while (!sh->go)
		pthread_cond_wait(&sh->cv, &sh->mu);
	go = sh->go;
	pthread_mutex_unlock(&sh->mu);
	/* Close them all, as fast as possible. The recording ended when close
	 * returned (at the latest). */
	for (long i = w->from; i < w->to; i++) {
		int rc;

		if (w->f[i].fd < 0)
			continue;
		rc = close(w->f[i].fd);
		w->f[i].deadline = now_ns() + w->short_ns;
		w->f[i].fd = -1;
		if (go < 0) {
			w->f[i].state = 2;
		} else if (rc != 0) {
			exp_path(path, sizeof(path), w->dir, i);
			io_error("close", path);
			w->f[i].state = 2;
			w->failed = 1;
		}
	}
	return NULL;
}

struct exp_verifier {
	const char *dir;
	struct exp_file *f;
	long id, nthreads, n;
	long verified, skipped;
	int failed;
};

/* After the close: read back every file not too close to its deadline (it
 * may be gone any moment then, and that is no content error). */
static void *exp_verify_main(void *p)
{
	struct exp_verifier *v = p;
	char path[PATH_MAX];
	struct vbuf vb;

	if (vbuf_init(&vb) != 0) {
		v->failed = 1;
		return NULL;
	}
	for (long i = v->id; i < v->n; i += v->nthreads) {
		struct model m = exp_model(v->f[i].idx);

		if (v->f[i].state)
			continue;
		if (v->f[i].deadline - now_ns() < 2 * EARLY_TOL_NS) {
			v->skipped++;
			continue;
		}
		exp_path(path, sizeof(path), v->dir, v->f[i].idx);
		if (verify_file(path, &m, vb.buf, vb.want) != 0)
			v->failed = 1;
		else
			v->verified++;
	}
	vbuf_free(&vb);
	return NULL;
}

static int cmp_deadline(const void *a, const void *b)
{
	const struct exp_file *x = a, *y = b;

	return (x->deadline > y->deadline) - (x->deadline < y->deadline);
}

/*
 * expire DIR --files N --short S: N recordings falling due at once. In
 * --threads threads, create every file, write it, read it back through the
 * same descriptor and keep it open (an open file never expires, so this
 * may take as long as it takes); then close them all as fast as possible,
 * so that their deadlines (close return + S) fall within about a second
 * (due_spread_ms). Read them back once more (those at least 2 s from their
 * deadline), then, from 1.25 s before the first deadline, list the folder
 * over and over (at most every 20 ms): the lateness of a file is the end
 * of the first listing without it (a stat confirms it is gone) minus its
 * deadline, an upper bound within one listing (poll_pass_max_ms). One gone
 * more than 1 s before its deadline is early (a retention bug); one still
 * there --give-up seconds after it never went. Both fail the run.
 *
 * The phases are printed as CLOCK_MONOTONIC ns (mono_*), and two windows,
 * START:END in ns, for `frame-stats` on a concurrent pbx-rt's frame log:
 * win_setup (creating, closing and reading back) and win_expiry (from 1 s
 * before the first deadline, or the watcher's start if earlier, to 1 s
 * after the last file was seen gone).
 */
static int cmd_expire(struct opts *o)
{
	long n = o->files ? o->files : 10000, nt = o->threads ? o->threads : 4;
	int64_t short_ns = (int64_t)(o->short_s * NS_PER_SEC);
	int64_t give_up = (int64_t)((o->give_up_s > 0 ? o->give_up_s : 120) * NS_PER_SEC);
	struct exp_file *f = calloc((size_t)n, sizeof(*f));
	struct exp_worker *w = calloc((size_t)nt, sizeof(*w));
	struct exp_verifier *v = calloc((size_t)nt, sizeof(*v));
	pthread_t *th = calloc((size_t)nt, sizeof(*th));
	int64_t *late = calloc((size_t)n, sizeof(*late));
	long *pos = calloc((size_t)n, sizeof(*pos)); /* file index -> its place in f */
	struct exp_shared sh = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
	char dir[PATH_MAX], path[PATH_MAX];
	struct stat st;
	long ok = 0, left, first = 0, early = 0, never = 0, errs = 0, nl = 0, started = 0;
	long verified_open = 0, verified = 0, skipped = 0, passes = 0, missed = 0;
	int64_t t_create0, t_create1, t_close0, t_close1, t_verify1, t_watch0 = 0, t_end;
	int64_t pass_max = 0, last_gone = 0, first_due = 0, last_due = 0, win0, win1;
	int failed = 0;

	if (!f || !w || !v || !th || !late || !pos || short_ns <= 0 || n < 1 || nt < 1 || nt > 256)
		usage();
	/* Every file is open at once here, and in the filesystem's daemon. */
	if (raise_nofile_to(n + 256) != 0)
		return 2;
	pathf(dir, sizeof(dir), "%s/fsb-exp-%d", o->dir, (int)getpid());
	if (mkdir_p1(dir) != 0)
		return 1;
	t_create0 = now_ns();
	for (long i = 0; i < nt; i++)
		w[i] = (struct exp_worker){ dir, f, &sh, n * i / nt, n * (i + 1) / nt, short_ns,
		                            0, 0, 0 };
	for (; started < nt; started++) {
		int e = pthread_create(&th[started], NULL, exp_worker_main, &w[started]);
		if (e) {
			note("cannot start thread %ld of %ld: %s", started + 1, nt, strerror(e));
			break;
		}
	}
	pthread_mutex_lock(&sh.mu);
	while (started == nt && sh.ready < nt)
		pthread_cond_wait(&sh.cv, &sh.mu);
	pthread_mutex_unlock(&sh.mu);
	t_create1 = now_ns();
	t_close0 = now_ns();
	pthread_mutex_lock(&sh.mu);
	sh.go = started == nt ? 1 : -1;
	pthread_cond_broadcast(&sh.cv);
	pthread_mutex_unlock(&sh.mu);
	for (long i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	t_close1 = now_ns();
	if (started < nt) {
		/* The slices of threads that never ran hold nothing. */
		for (long i = started; i < nt; i++)
			for (long j = w[i].from; j < w[i].to; j++)
				f[j] = (struct exp_file){ 0, 0, j, 0, -1, 2 };
		failed = 1;
	}
	for (long i = 0; i < nt; i++) {
		verified_open += w[i].verified_open;
		failed |= w[i].failed;
	}
	for (long i = 0; i < n; i++) {
		if (f[i].state)
			continue;
		ok++;
		if (!first_due || f[i].deadline < first_due)
			first_due = f[i].deadline;
		if (f[i].deadline > last_due)
			last_due = f[i].deadline;
	}
	note("expire: %ld of %ld files created, written, read back and held open in %.0f ms;"
	     " all closed in %.0f ms; deadlines spread over %.0f ms", ok, n,
	     (double)(t_create1 - t_create0) / NS_PER_MS, (double)(t_close1 - t_close0) / NS_PER_MS,
	     (double)(last_due - first_due) / NS_PER_MS);
	/* Untimed: after the close the files still hold what was written. */
	for (long i = 0; i < nt; i++)
		v[i] = (struct exp_verifier){ dir, f, i, nt, n, 0, 0, 0 };
	if (run_threads(nt, 0, exp_verify_main, v, sizeof(*v)) != 0)
		return 2;
	t_verify1 = now_ns();
	for (long i = 0; i < nt; i++) {
		verified += v[i].verified;
		skipped += v[i].skipped;
		failed |= v[i].failed;
	}
	note("expire: %ld read back after the close, %ld too close to their deadline to read,"
	     " %.0f ms before the first deadline", verified, skipped,
	     (double)(first_due - t_verify1) / NS_PER_MS);
	qsort(f, (size_t)n, sizeof(*f), cmp_deadline); /* failed ones first */
	for (long i = 0; i < n; i++)
		pos[f[i].idx] = i;
	left = ok;
	while (first < n && f[first].state)
		first++;
	/* Nothing is due before its watch window. */
	if (left > 0 && !stop_requested)
		sleep_until(first_due - WATCH_AHEAD_NS);
	/* Each pass lists the folder: a file not listed is gone, once a stat
	 * confirms it (a listing is far cheaper than a stat of every file,
	 * which would load the daemon as much as the recorders do). */
	while (left > 0 && !stop_requested) {
		int64_t pass0 = now_ns(), listed, pass1;
		struct dirent *de;
		DIR *d;

		if (!t_watch0)
			t_watch0 = pass0;
		passes++;
		d = opendir(dir);
		if (!d) {
			io_error("opendir", dir);
			errs++;
			break;
		}
		while ((de = readdir(d))) {
			char *end;
			long idx;

			if (de->d_name[0] != 'e')
				continue;
			idx = strtol(de->d_name + 1, &end, 10);
			if (idx >= 0 && idx < n && !strcmp(end, ".wav"))
				f[pos[idx]].seen = passes;
		}
		closedir(d);
		listed = now_ns();
		for (long i = first; i < n; i++) {
			if (f[i].state)
				continue;
			if (f[i].seen == passes) {
				if (listed > f[i].deadline + give_up) {
					f[i].state = 3;
					never++;
					left--;
				}
				continue;
			}
			exp_path(path, sizeof(path), dir, f[i].idx);
			if (fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0) {
				/* Still there although the listing left it out. */
				if (missed++ < 5)
					note("%s: there, but not listed by readdir", path);
				continue;
			}
			if (errno != ENOENT) {
				io_error("stat", path);
				f[i].state = 2;
				errs++;
				left--;
				continue;
			}
			f[i].state = 1;
			f[i].gone = listed;
			if (listed > last_gone)
				last_gone = listed;
			left--;
		}
		while (first < n && f[first].state)
			first++;
		pass1 = now_ns();
		if (listed - pass0 > pass_max)
			pass_max = listed - pass0;
		/* At most one pass every POLL_MIN_NS. */
		if (left > 0)
			sleep_until(pass1 + 2 * NS_PER_MS > pass0 + POLL_MIN_NS ? pass1 + 2 * NS_PER_MS
			                                                        : pass0 + POLL_MIN_NS);
	}
	t_end = now_ns();
	if (!t_watch0)
		t_watch0 = t_end;
	for (long i = 0; i < n; i++) {
		if (f[i].state != 1)
			continue;
		late[nl] = f[i].gone - f[i].deadline;
		if (late[nl] < -EARLY_TOL_NS) {
			if (++early <= 5)
				note("EARLY: e%05ld.wav gone %.0f ms before its deadline", f[i].idx,
				     (double)-late[nl] / NS_PER_MS);
		}
		nl++;
	}
	qsort(late, (size_t)nl, sizeof(*late), cmp_i64);
	if (never)
		note("%ld files still there %.0f s after their deadline", never,
		     (double)give_up / NS_PER_SEC);
	win0 = first_due - EARLY_TOL_NS < t_watch0 ? first_due - EARLY_TOL_NS : t_watch0;
	win1 = (last_gone ? last_gone : t_end) + NS_PER_SEC;
	if (!ok)
		win0 = win1 = t_end;
	printf("expire files=%ld short_s=%g threads=%ld created=%ld create_ms=%.0f close_ms=%.0f"
	       " due_spread_ms=%.0f verified_open=%ld verified_closed=%ld unverified_closed=%ld"
	       " gone=%ld early=%ld never=%ld errors=%ld lateness_p50_ms=%.0f lateness_p99_ms=%.0f"
	       " lateness_max_ms=%.0f last_gone_after_first_deadline_ms=%.0f"
	       " poll_pass_max_ms=%.0f poll_passes=%ld readdir_missed=%ld"
	       " mono_create0_ns=%" PRId64 " mono_create1_ns=%" PRId64 " mono_close0_ns=%" PRId64
	       " mono_close1_ns=%" PRId64 " mono_verify1_ns=%" PRId64 " mono_first_due_ns=%" PRId64
	       " mono_last_due_ns=%" PRId64 " mono_watch0_ns=%" PRId64 " mono_last_gone_ns=%" PRId64
	       " win_setup=%" PRId64 ":%" PRId64 " win_expiry=%" PRId64 ":%" PRId64 " verify=%s\n",
	       n, o->short_s, nt, ok, (double)(t_create1 - t_create0) / NS_PER_MS,
	       (double)(t_close1 - t_close0) / NS_PER_MS, (double)(last_due - first_due) / NS_PER_MS,
	       verified_open, verified, skipped, nl, early, never, errs,
	       (double)pct_sorted(late, (size_t)nl, 50) / NS_PER_MS,
	       (double)pct_sorted(late, (size_t)nl, 99) / NS_PER_MS,
	       nl ? (double)late[nl - 1] / NS_PER_MS : 0.0,
	       nl && ok ? (double)(last_gone - first_due) / NS_PER_MS : 0.0,
	       (double)pass_max / NS_PER_MS, passes, missed,
	       t_create0, t_create1, t_close0, t_close1, t_verify1, first_due, last_due, t_watch0,
	       last_gone, t_create0, t_verify1, win0, win1,
	       failed || errs || bad_files || io_errors ? "FAIL" : "ok");
	fflush(stdout);
	/* Whatever is left (after a failure) goes now; the folder may already
	 * have gone by itself. */
	for (long i = 0; i < n; i++) {
		if (f[i].state == 1)
			continue;
		exp_path(path, sizeof(path), dir, f[i].idx);
		unlink(path);
	}
	rmdir(dir);
	free(late);
	free(pos);
	free(th);
	free(v);
	free(w);
	free(f);
	return failed || early || never || errs ? 1 : 0;
}

/* ---------------------------------------------------------------- frame-stats */

struct fs_window {
	char name[32];
	int64_t start, end;
	struct hist *h;
	uint64_t frames, late, dropped;
};

/*
 * frame-stats FRAMELOG --window NAME:START_NS:END_NS ...: the frames of a
 * pbx-rt --frame-log, each counted in the first window its deadline falls
 * into (START <= deadline < END), or else in "rest". One line per window
 * and one for the rest: frames written, late (over 20 ms, dropped ones
 * included), dropped, p50/p99/max latency of the written ones.
 */
static int cmd_frame_stats(struct opts *o)
{
	struct fs_window win[MAX_WINDOWS + 1];
	int nw = o->nwindows;
	char line[256];
	long bad = 0;
	FILE *in;

	memset(win, 0, sizeof(win));
	for (int i = 0; i < nw; i++) {
		const char *a = o->windows[i], *c1 = strchr(a, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		char *end;

		if (!c1 || !c2 || c1 == a || (size_t)(c1 - a) >= sizeof(win[i].name))
			usage();
		memcpy(win[i].name, a, (size_t)(c1 - a));
		win[i].start = strtoll(c1 + 1, &end, 10);
		if (end != c2)
			usage();
		win[i].end = strtoll(c2 + 1, &end, 10);
		if (*end)
			usage();
	}
	strcpy(win[nw].name, "rest");
	for (int i = 0; i <= nw; i++)
		if (!(win[i].h = calloc(1, sizeof(struct hist))))
			return 2;
	in = fopen(o->arg, "r");
	if (!in) {
		note("%s: %s", o->arg, strerror(errno));
		return 2;
	}
	while (fgets(line, sizeof(line), in)) {
		long long dl, lat;
		int i;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%lld %lld", &dl, &lat) != 2) {
			bad++;
			continue;
		}
		for (i = 0; i < nw; i++)
			if (dl >= win[i].start && dl < win[i].end)
				break;
		if (lat < 0) {
			win[i].dropped++;
			win[i].late++;
			continue;
		}
		win[i].frames++;
		hist_add(win[i].h, (uint64_t)lat);
		if (lat > LATE_NS)
			win[i].late++;
	}
	fclose(in);
	if (bad)
		note("%s: %ld lines not understood", o->arg, bad);
	for (int i = 0; i <= nw; i++) {
		printf("frame-stats window=%s frames=%" PRIu64 " late=%" PRIu64 " dropped=%" PRIu64
		       " p50_ms=%.3f p99_ms=%.3f max_ms=%.3f verify=%s\n",
		       win[i].name, win[i].frames, win[i].late, win[i].dropped,
		       (double)hist_pct(win[i].h, 50) / NS_PER_MS,
		       (double)hist_pct(win[i].h, 99) / NS_PER_MS, (double)win[i].h->max / NS_PER_MS,
		       bad ? "FAIL" : "ok");
		free(win[i].h);
	}
	fflush(stdout);
	return bad ? 1 : 0;
}

/* ---------------------------------------------------------------- waitmount */

/* Wait until something is mounted on DIR (its device differs from its
 * parent's); prints how long that took. */
static int cmd_waitmount(struct opts *o)
{
	int64_t t0 = now_ns();
	int64_t end = t0 + (int64_t)((o->timeout_s > 0 ? o->timeout_s : 30) * NS_PER_SEC);
	char parent[PATH_MAX];
	struct stat a, b;

	pathf(parent, sizeof(parent), "%s/..", o->dir);
	while (now_ns() < end) {
		if (stat(o->dir, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev) {
			printf("waitmount ms=%.1f\n", (double)(now_ns() - t0) / NS_PER_MS);
			return 0;
		}
		sleep_until(now_ns() + NS_PER_MS);
	}
	note("%s: nothing mounted after %g s", o->dir, o->timeout_s > 0 ? o->timeout_s : 30);
	return 1;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	struct opts o;
	const char *cmd;
	int rc;

	if (argc < 3)
		usage();
	memset(&o, 0, sizeof(o));
	cmd = argv[1];
	parse_opts(argc, argv, &o);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "waitmount"))
		return cmd_waitmount(&o);
	if (!strcmp(cmd, "frame-stats"))
		return cmd_frame_stats(&o);
	pattern_init();
	catch_stop_signals();
	if (!strcmp(cmd, "pbx-max"))
		rc = cmd_pbx_max(&o);
	else if (!strcmp(cmd, "pbx-rt"))
		rc = cmd_pbx_rt(&o);
	else if (!strcmp(cmd, "stream"))
		rc = cmd_stream(&o);
	else if (!strcmp(cmd, "meta"))
		rc = cmd_meta(&o);
	else if (!strcmp(cmd, "populate"))
		rc = cmd_populate(&o);
	else if (!strcmp(cmd, "expire"))
		rc = cmd_expire(&o);
	else
		usage();
	if (rc == 0 && (bad_files || io_errors))
		rc = 1;
	if (bad_files || io_errors)
		note("%s: %" PRIu64 " file(s) failed verification, %" PRIu64 " failed call(s)", cmd,
		     bad_files, io_errors);
	free(pattern);
	return rc;
}
