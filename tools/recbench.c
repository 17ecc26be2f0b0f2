/*
 * recbench: plays N PBX call recorders against a directory and measures
 * whether it keeps up. Each recorder is a thread that records one call
 * after another as a real WAV file written by libsndfile, the way a
 * recorder does: sf_open (the header), then one sf_write per 20 ms frame
 * of a synthetic tone, then sf_close (the header gets its final sizes).
 * With --realtime the frames are paced on absolute CLOCK_MONOTONIC
 * deadlines, as audio arrives from the network; otherwise they are
 * written as fast as the target takes them. Finished calls may be moved
 * into DIR/keep/ (recfs's keep folder) or removed.
 *
 * Reported: frames/s, bytes/s, the latency of each sf_write call, of
 * sf_open and of sf_close, and late frames (written more than 20 ms after
 * they arrived). --find-max searches the largest N that holds real time.
 *
 * Standalone on purpose: it knows nothing of recfs and works on any
 * directory, so recfs can be compared with a plain folder.
 * Exit status: 0, 1 on an I/O error, 2 on a usage error, 130 when
 * interrupted.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sndfile.h>

#define NS_PER_SEC 1000000000LL
#define NS_PER_US 1000LL
#define FRAME_NS (20 * 1000000LL) /* one packet of telephony audio */
#define FRAMES_PER_SEC (NS_PER_SEC / FRAME_NS)
#define LATE_NS FRAME_NS          /* written later than this after arrival */
#define REALTIME_P99_US 20000     /* --find-max: p99 must stay below this */
#define START_DELAY_NS (200 * 1000000LL)
#define TONE_AMPLITUDE 8000
#define MAX_RECORDERS 100000
#define DEFAULT_MAX_N 1024
#define PROBE_SECS 5.0            /* --find-max run length by default */
#define PROBE_PAUSE_NS (1 * NS_PER_SEC)
#define STACK_BYTES (256 * 1024)
#define PATH_BYTES 4096
#define KEEP_DIR "keep"

/* Latency histogram in microseconds, log-linear: exact below 2^HIST_SUB,
 * then 2^HIST_SUB buckets per power of two (about 3% wide). */
#define HIST_SUB 5
#define HIST_SUBS (1u << HIST_SUB)
#define HIST_OCTAVES 40 /* up to 2^40 us, some 12 days */
#define HIST_BUCKETS (2 * HIST_SUBS + (HIST_OCTAVES - HIST_SUB - 1) * HIST_SUBS)

struct hist {
	uint32_t b[HIST_BUCKETS];
	uint64_t count, max_us;
};

struct stats {
	struct hist write, open, close;
	uint64_t frames, bytes, late, calls_done, calls_cut, kept, removed;
	int errors;
};

struct codec {
	const char *name;
	int subtype;
	const char *label;
};

static const struct codec codecs[] = {
	{ "pcm16", SF_FORMAT_PCM_16, "PCM16" },
	{ "ulaw", SF_FORMAT_ULAW, "PCMU (u-law)" },
	{ "alaw", SF_FORMAT_ALAW, "PCMA (a-law)" },
	{ "gsm", SF_FORMAT_GSM610, "GSM610" },
};

struct opts {
	const char *dir;
	int n, n_set;
	double call_secs;
	double duration;
	int duration_set;
	int rate;
	const struct codec *codec;
	const char *pattern;
	double keep_fraction;
	int realtime, find_max, max_n, unlink_calls;
};

/* One run of n recorders; shared read-only by its threads. */
struct run {
	const struct opts *o;
	int n;
	unsigned id; /* makes names unique across the runs of --find-max */
	int64_t start_ns, end_ns;
	atomic_ulong calls_closed; /* for the --keep-fraction choice */
};

struct recorder {
	struct run *run;
	int idx;
	pthread_t tid;
	short *tone; /* one second of the recorder's own tone */
	long tone_pos;
	short *frame;
	int frame_samples;
	uint64_t frame_no; /* frames since the recorder started: the schedule */
	int64_t base_ns;   /* this recorder's schedule origin */
	unsigned call_no;
	char last_dir[PATH_BYTES];
	struct stats st;
};

static atomic_int stop_req; /* set by a signal or by the first I/O error */
static volatile sig_atomic_t interrupted;

/* ---- time ---- */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static void sleep_until(int64_t t)
{
	struct timespec ts = { .tv_sec = t / NS_PER_SEC, .tv_nsec = t % NS_PER_SEC };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		if (atomic_load(&stop_req))
			return;
}

/* ---- histogram ---- */

static unsigned hist_bucket(uint64_t us)
{
	unsigned msb;

	if (us < 2 * HIST_SUBS)
		return (unsigned)us;
	msb = 63u - (unsigned)__builtin_clzll(us); /* >= HIST_SUB + 1 */
	if (msb >= HIST_OCTAVES)
		return HIST_BUCKETS - 1;
	return 2 * HIST_SUBS + (msb - HIST_SUB - 1) * HIST_SUBS +
	       (unsigned)((us >> (msb - HIST_SUB)) & (HIST_SUBS - 1));
}

/* The largest value bucket b holds. */
static uint64_t hist_upper(unsigned b)
{
	unsigned msb, sub;

	if (b < 2 * HIST_SUBS)
		return b;
	msb = (b - 2 * HIST_SUBS) / HIST_SUBS + HIST_SUB + 1;
	sub = (b - 2 * HIST_SUBS) % HIST_SUBS;
	return ((1ULL << msb) | ((uint64_t)sub << (msb - HIST_SUB))) +
	       (1ULL << (msb - HIST_SUB)) - 1;
}

static void hist_add(struct hist *h, int64_t ns)
{
	uint64_t us = ns > 0 ? (uint64_t)(ns / NS_PER_US) : 0;

	h->b[hist_bucket(us)]++;
	h->count++;
	if (us > h->max_us)
		h->max_us = us;
}

static void hist_merge(struct hist *into, const struct hist *h)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		into->b[i] += h->b[i];
	into->count += h->count;
	if (h->max_us > into->max_us)
		into->max_us = h->max_us;
}

/* The q-th quantile (0..1) as a bucket's upper bound, capped at the max:
 * never an underestimate. */
static uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	rank = (uint64_t)(q * (double)h->count);
	if (rank >= h->count)
		rank = h->count - 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > rank) {
			uint64_t v = hist_upper(i);
			return v < h->max_us ? v : h->max_us;
		}
	}
	return h->max_us;
}

static void stats_merge(struct stats *into, const struct stats *s)
{
	hist_merge(&into->write, &s->write);
	hist_merge(&into->open, &s->open);
	hist_merge(&into->close, &s->close);
	into->frames += s->frames;
	into->bytes += s->bytes;
	into->late += s->late;
	into->calls_done += s->calls_done;
	into->calls_cut += s->calls_cut;
	into->kept += s->kept;
	into->removed += s->removed;
	into->errors += s->errors;
}

/* ---- files ---- */

/* mkdir -p of path's directories; path is changed and restored. */
static int mkdir_parents(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			int e = errno;
			*p = '/';
			errno = e;
			return -1;
		}
		*p = '/';
	}
	return 0;
}

static void io_error(struct recorder *r, const char *what, const char *path, const char *msg)
{
	fprintf(stderr, "recbench: recorder %d: %s %s: %s\n", r->idx, what, path, msg);
	r->st.errors++;
	atomic_store(&stop_req, 1);
}

/* DIR/<pattern expanded at the call's start>rb-<pid>-<run>-<rec>-<call>.wav,
 * with the directories made when they differ from the last call's. */
static int call_path(struct recorder *r, char *path, size_t len)
{
	const struct opts *o = r->run->o;
	char sub[PATH_BYTES] = "";
	time_t t = time(NULL);
	struct tm tm;
	int n;

	localtime_r(&t, &tm);
	if (o->pattern[0] && strftime(sub, sizeof sub, o->pattern, &tm) == 0) {
		io_error(r, "expand pattern", o->pattern, "empty or too long");
		return -1;
	}
	n = snprintf(path, len, "%s/%srb-%ld-%u-%d-%u.wav", o->dir, sub, (long)getpid(),
	             r->run->id, r->idx, r->call_no);
	if (n < 0 || (size_t)n >= len) {
		io_error(r, "build path in", o->dir, "name too long");
		return -1;
	}
	/* Only the directory part matters for the cache. */
	{
		char *slash = strrchr(path, '/');
		size_t dlen = (size_t)(slash - path);

		if (dlen >= sizeof r->last_dir || (strncmp(r->last_dir, path, dlen) == 0 &&
		                                   r->last_dir[dlen] == '\0'))
			return 0;
		if (mkdir_parents(path) < 0) {
			io_error(r, "create folders for", path, strerror(errno));
			return -1;
		}
		memcpy(r->last_dir, path, dlen);
		r->last_dir[dlen] = '\0';
	}
	return 0;
}

/* After a call: count its bytes, then keep it, remove it or leave it. */
static int call_finish(struct recorder *r, const char *path)
{
	const struct opts *o = r->run->o;
	struct stat stb;
	unsigned long c;

	if (stat(path, &stb) < 0) {
		io_error(r, "stat", path, strerror(errno));
		return -1;
	}
	r->st.bytes += (uint64_t)stb.st_size;

	/* Keep exactly floor(calls * fraction) of the calls closed so far,
	 * spread evenly over all recorders. */
	c = atomic_fetch_add(&r->run->calls_closed, 1);
	if (o->keep_fraction > 0 &&
	    (unsigned long)((double)(c + 1) * o->keep_fraction) >
	            (unsigned long)((double)c * o->keep_fraction)) {
		char kpath[PATH_BYTES];
		const char *base = strrchr(path, '/') + 1;
		int n = snprintf(kpath, sizeof kpath, "%s/" KEEP_DIR "/%s", o->dir, base);

		if (n < 0 || (size_t)n >= sizeof kpath) {
			io_error(r, "build keep path for", path, "name too long");
			return -1;
		}
		if (rename(path, kpath) < 0) {
			io_error(r, "move into keep/", path, strerror(errno));
			return -1;
		}
		r->st.kept++;
	} else if (o->unlink_calls) {
		if (unlink(path) < 0) {
			io_error(r, "remove", path, strerror(errno));
			return -1;
		}
		r->st.removed++;
	}
	return 0;
}

/* ---- one recorder ---- */

/* Fill r->frame with the next 20 ms of the recorder's tone. */
static void next_frame(struct recorder *r)
{
	int rate = r->run->o->rate;

	for (int i = 0; i < r->frame_samples; i++) {
		r->frame[i] = r->tone[r->tone_pos];
		if (++r->tone_pos == rate)
			r->tone_pos = 0;
	}
}

/* Wait for the next frame (real time) or see whether time is up (as fast
 * as possible). 1: write it at *deadline; 0: the run is over. */
static int await_frame(struct recorder *r, int64_t *deadline)
{
	const struct run *run = r->run;

	if (atomic_load(&stop_req))
		return 0;
	if (run->o->realtime) {
		/* Frame k has arrived 20 ms after frame k-1 began: k+1 periods
		 * after the origin, whatever happened to earlier frames. */
		*deadline = r->base_ns + (int64_t)(r->frame_no + 1) * FRAME_NS;
		if (*deadline > run->end_ns)
			return 0;
		sleep_until(*deadline);
		return !atomic_load(&stop_req);
	}
	*deadline = now_ns();
	return *deadline < run->end_ns;
}

/* Record one call. 0, or -1 on an I/O error (reported). */
static int record_call(struct recorder *r)
{
	const struct opts *o = r->run->o;
	SF_INFO info = {
		.samplerate = o->rate,
		.channels = 1,
		.format = SF_FORMAT_WAV | o->codec->subtype,
	};
	uint64_t frames = (uint64_t)(o->call_secs * FRAMES_PER_SEC + 0.5), k;
	char path[PATH_BYTES];
	int64_t t0, t1, deadline;
	SNDFILE *sf;
	int rc = 0;

	if (frames == 0)
		frames = 1;
	if (call_path(r, path, sizeof path) < 0)
		return -1;
	t0 = now_ns();
	sf = sf_open(path, SFM_WRITE, &info);
	t1 = now_ns();
	hist_add(&r->st.open, t1 - t0);
	if (!sf) {
		io_error(r, "open", path, sf_strerror(NULL));
		return -1;
	}
	r->call_no++;

	for (k = 0; k < frames && await_frame(r, &deadline); k++) {
		sf_count_t w;

		next_frame(r);
		t0 = now_ns();
		w = sf_write_short(sf, r->frame, r->frame_samples);
		t1 = now_ns();
		hist_add(&r->st.write, t1 - t0);
		if (w != r->frame_samples) {
			io_error(r, "write", path, sf_strerror(sf));
			rc = -1;
			break;
		}
		if (o->realtime && t1 - deadline > LATE_NS)
			r->st.late++;
		r->st.frames++;
		r->frame_no++;
	}
	if (rc == 0) {
		if (k == frames)
			r->st.calls_done++;
		else
			r->st.calls_cut++; /* the run ended during the call */
	}

	t0 = now_ns();
	if (sf_close(sf) != 0 && rc == 0) {
		io_error(r, "close", path, "header update failed");
		rc = -1;
	}
	t1 = now_ns();
	hist_add(&r->st.close, t1 - t0);
	if (rc == 0)
		rc = call_finish(r, path);
	return rc;
}

/* One second of a triangle tone of hz at rate: loops seamlessly. */
static void make_tone(short *tone, int rate, int hz)
{
	for (long i = 0; i < rate; i++) {
		long x = 4 * ((i * hz) % rate); /* phase in quarter periods * rate */
		long v = x < rate ? x : x < 3L * rate ? 2L * rate - x : x - 4L * rate;

		tone[i] = (short)(TONE_AMPLITUDE * v / rate);
	}
}

static void *recorder_main(void *arg)
{
	struct recorder *r = arg;

	sleep_until(r->base_ns);
	while (!atomic_load(&stop_req)) {
		if (r->run->o->realtime &&
		    r->base_ns + (int64_t)(r->frame_no + 1) * FRAME_NS > r->run->end_ns)
			break;
		if (!r->run->o->realtime && now_ns() >= r->run->end_ns)
			break;
		if (record_call(r) < 0)
			break;
	}
	return NULL;
}

/* ---- a run ---- */

/* Run n recorders for the configured time; totals into *tot and the
 * elapsed time into *elapsed_ns. 0, or -1 when the run could not start. */
static int run_recorders(const struct opts *o, int n, unsigned id, struct stats *tot,
                         int64_t *elapsed_ns)
{
	struct run run = { .o = o, .n = n, .id = id };
	struct recorder *recs;
	pthread_attr_t attr;
	sigset_t block, old;
	int started = 0, rc = -1;
	int frame_samples = (int)(o->rate * FRAME_NS / NS_PER_SEC);

	memset(tot, 0, sizeof *tot);
	recs = calloc((size_t)n, sizeof *recs);
	if (!recs) {
		fprintf(stderr, "recbench: out of memory for %d recorders\n", n);
		return -1;
	}
	atomic_init(&run.calls_closed, 0);
	/* Recorders start spread over one frame period, as calls do. */
	run.start_ns = now_ns() + START_DELAY_NS;
	run.end_ns = run.start_ns + (int64_t)(o->duration * NS_PER_SEC);

	for (int i = 0; i < n; i++) {
		struct recorder *r = &recs[i];

		r->run = &run;
		r->idx = i;
		r->frame_samples = frame_samples;
		r->base_ns = run.start_ns + (o->realtime ? FRAME_NS * i / n : 0);
		r->tone = malloc((size_t)o->rate * sizeof *r->tone);
		r->frame = malloc((size_t)frame_samples * sizeof *r->frame);
		if (!r->tone || !r->frame) {
			fprintf(stderr, "recbench: out of memory for %d recorders\n", n);
			goto out;
		}
		make_tone(r->tone, o->rate, 300 + 25 * (i % 29));
	}

	/* Signals go to the main thread only: workers poll stop_req. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK_BYTES);
	for (; started < n; started++) {
		int e = pthread_create(&recs[started].tid, &attr, recorder_main, &recs[started]);

		if (e) {
			fprintf(stderr, "recbench: cannot start recorder %d: %s\n", started,
			        strerror(e));
			atomic_store(&stop_req, 1);
			break;
		}
	}
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	for (int i = 0; i < started; i++) {
		pthread_join(recs[i].tid, NULL);
		stats_merge(tot, &recs[i].st);
	}
	*elapsed_ns = now_ns() - run.start_ns;
	if (started == n)
		rc = 0;
	else
		tot->errors++;
out:
	for (int i = 0; i < n; i++) {
		free(recs[i].tone);
		free(recs[i].frame);
	}
	free(recs);
	return rc;
}

static int holds_realtime(const struct stats *s)
{
	return !s->errors && s->late == 0 && s->write.count > 0 &&
	       hist_quantile(&s->write, 0.99) < REALTIME_P99_US;
}

static void print_hist(const char *label, const struct hist *h)
{
	printf("%-10s p50 %llu  p99 %llu  max %llu  (%llu calls)\n", label,
	       (unsigned long long)hist_quantile(h, 0.50),
	       (unsigned long long)hist_quantile(h, 0.99),
	       (unsigned long long)h->max_us, (unsigned long long)h->count);
}

static void print_report(const struct opts *o, int n, const struct stats *s, int64_t elapsed_ns)
{
	double secs = (double)elapsed_ns / NS_PER_SEC;

	if (secs <= 0)
		secs = 1e-9;
	printf("calls      %llu finished, %llu cut at the end, %llu kept, %llu removed\n",
	       (unsigned long long)s->calls_done, (unsigned long long)s->calls_cut,
	       (unsigned long long)s->kept, (unsigned long long)s->removed);
	printf("frames     %llu in %.2f s: %.1f frames/s", (unsigned long long)s->frames, secs,
	       (double)s->frames / secs);
	if (o->realtime)
		printf(" (real time: %d/s)", n * (int)FRAMES_PER_SEC);
	printf("\n");
	printf("bytes      %llu: %.0f bytes/s (%.2f MB/s)\n", (unsigned long long)s->bytes,
	       (double)s->bytes / secs, (double)s->bytes / secs / 1e6);
	print_hist("write us", &s->write);
	print_hist("open us", &s->open);
	print_hist("close us", &s->close);
	if (o->realtime) {
		printf("late       %llu frames (written > 20 ms after arrival)\n",
		       (unsigned long long)s->late);
		printf("real time  %s\n", holds_realtime(s) ? "held" : "NOT held");
	} else {
		printf("late       n/a (not --realtime)\n");
	}
	if (s->errors)
		printf("errors     %d (see above)\n", s->errors);
	if (interrupted)
		printf("interrupted: the run was cut short\n");
}

static void print_header(const struct opts *o, int n)
{
	printf("recbench: %d recorder%s into %s, WAV %s %d Hz mono, calls of %.1f s, "
	       "%.1f s, %s\n",
	       n, n == 1 ? "" : "s", o->dir, o->codec->label, o->rate, o->call_secs,
	       o->duration, o->realtime ? "real time" : "as fast as possible");
	fflush(stdout);
}

/* One --find-max probe: 1 if n holds real time, 0 if not, -1 on error. */
static int probe(const struct opts *o, int n, unsigned id)
{
	struct stats s;
	int64_t el;

	if (run_recorders(o, n, id, &s, &el) < 0 || s.errors)
		return -1;
	printf("  N=%-5d write p99 %6llu us  max %7llu us  late %-6llu %s\n", n,
	       (unsigned long long)hist_quantile(&s.write, 0.99),
	       (unsigned long long)s.write.max_us, (unsigned long long)s.late,
	       holds_realtime(&s) ? "holds" : "fails");
	fflush(stdout);
	return holds_realtime(&s);
}

/* Doubling from the start N, then bisection to 1 (5% above 20): at most
 * about 2*log2(max_n) probes. 0 and *best set, or -1 on error/interrupt. */
static int find_max(const struct opts *o, int *best)
{
	int good = 0, bad = 0, n = o->n_set ? o->n : 1;
	unsigned id = 0;

	printf("recbench: finding the largest N up to %d that holds real time "
	       "(p99 < %d us, no late frame) in %s\n"
	       "recbench: WAV %s %d Hz mono, calls of %.1f s, %.1f s per probe\n",
	       o->max_n, REALTIME_P99_US, o->dir, o->codec->label, o->rate,
	       o->call_secs, o->duration);
	fflush(stdout);
	for (;;) {
		int ok;

		if (id) /* let the target settle after the last run */
			sleep_until(now_ns() + PROBE_PAUSE_NS);
		if (atomic_load(&stop_req))
			return -1;
		ok = probe(o, n, id++);
		if (ok < 0)
			return -1;
		if (ok)
			good = n;
		else
			bad = n;
		if (!bad) {
			if (n >= o->max_n)
				break;
			n = n > o->max_n / 2 ? o->max_n : 2 * n;
			continue;
		}
		if (bad - good <= 1 || (good >= 20 && bad - good <= good / 20))
			break;
		n = good + (bad - good) / 2;
	}
	*best = good;
	return 0;
}

/* ---- options ---- */

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: recbench [OPTIONS] DIR\n"
	        "Simulate N PBX call recorders writing WAV files into DIR through libsndfile.\n"
	        "\n"
	        "  -n N                 recorders (concurrent calls), default 1\n"
	        "  --call-seconds S     length of each call, default 30\n"
	        "  --duration S         length of the run, default 10 (5 per --find-max probe)\n"
	        "  --rate HZ            sample rate, 8000 (default) or 16000\n"
	        "  --codec C            pcm16 (default), ulaw, alaw or gsm (8000 Hz only)\n"
	        "  --pattern P          strftime pattern put before each file name, e.g.\n"
	        "                       '%%Y/%%m/%%d/'; folders are created as needed\n"
	        "  --keep-fraction F    move this fraction (0..1) of closed calls into DIR/keep/\n"
	        "  --unlink             remove each closed call that is not kept\n"
	        "  --realtime           pace frames every 20 ms on absolute deadlines\n"
	        "  --find-max           find the largest N that holds real time (implies\n"
	        "                       --realtime; -n sets the first N tried)\n"
	        "  --max-n N            upper bound for --find-max, default %d\n"
	        "  -h, --help           this text\n"
	        "\n"
	        "Exit status: 0, 1 on an I/O error, 2 on a usage error, 130 if interrupted.\n",
	        DEFAULT_MAX_N);
}

static int parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min && v <= max))
		return -1;
	*out = v;
	return 0;
}

static int parse_int(const char *s, int min, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

enum {
	OPT_CALL = 256,
	OPT_DURATION,
	OPT_RATE,
	OPT_CODEC,
	OPT_PATTERN,
	OPT_KEEP,
	OPT_UNLINK,
	OPT_REALTIME,
	OPT_FINDMAX,
	OPT_MAXN,
};

static const struct option long_opts[] = {
	{ "call-seconds", required_argument, NULL, OPT_CALL },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "codec", required_argument, NULL, OPT_CODEC },
	{ "pattern", required_argument, NULL, OPT_PATTERN },
	{ "keep-fraction", required_argument, NULL, OPT_KEEP },
	{ "unlink", no_argument, NULL, OPT_UNLINK },
	{ "realtime", no_argument, NULL, OPT_REALTIME },
	{ "find-max", no_argument, NULL, OPT_FINDMAX },
	{ "max-n", required_argument, NULL, OPT_MAXN },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int bad_arg(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "recbench: %s %s: expected %s\n", opt, val, want);
	return -1;
}

/* 0, 1 when --help was asked, -1 on a usage error (reported). */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	*o = (struct opts){ .n = 1, .call_secs = 30, .duration = 10, .rate = 8000,
	                    .codec = &codecs[0], .pattern = "", .max_n = DEFAULT_MAX_N };
	while ((c = getopt_long(argc, argv, "n:h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_int(optarg, 1, MAX_RECORDERS, &o->n) < 0)
				return bad_arg("-n", optarg, "1..100000");
			o->n_set = 1;
			break;
		case OPT_CALL:
			if (parse_double(optarg, 0.02, 86400, &o->call_secs) < 0)
				return bad_arg("--call-seconds", optarg, "0.02..86400");
			break;
		case OPT_DURATION:
			if (parse_double(optarg, 0.02, 30 * 86400.0, &o->duration) < 0)
				return bad_arg("--duration", optarg, "0.02..2592000 seconds");
			o->duration_set = 1;
			break;
		case OPT_RATE:
			if (parse_int(optarg, 8000, 48000, &o->rate) < 0 ||
			    o->rate % (int)FRAMES_PER_SEC)
				return bad_arg("--rate", optarg, "8000 or 16000 (8000..48000, /50)");
			break;
		case OPT_CODEC:
			o->codec = NULL;
			for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
				if (strcmp(optarg, codecs[i].name) == 0)
					o->codec = &codecs[i];
			if (!o->codec)
				return bad_arg("--codec", optarg, "pcm16, ulaw, alaw or gsm");
			break;
		case OPT_PATTERN:
			o->pattern = optarg;
			break;
		case OPT_KEEP:
			if (parse_double(optarg, 0, 1, &o->keep_fraction) < 0)
				return bad_arg("--keep-fraction", optarg, "0..1");
			break;
		case OPT_UNLINK:
			o->unlink_calls = 1;
			break;
		case OPT_REALTIME:
			o->realtime = 1;
			break;
		case OPT_FINDMAX:
			o->find_max = 1;
			break;
		case OPT_MAXN:
			if (parse_int(optarg, 1, MAX_RECORDERS, &o->max_n) < 0)
				return bad_arg("--max-n", optarg, "1..100000");
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return -1;
	}
	o->dir = argv[optind];
	if (o->codec->subtype == SF_FORMAT_GSM610 && o->rate != 8000) {
		fprintf(stderr, "recbench: --codec gsm needs --rate 8000\n");
		return -1;
	}
	if (o->pattern[0] == '/') {
		fprintf(stderr, "recbench: --pattern is relative to DIR\n");
		return -1;
	}
	if (o->find_max) {
		o->realtime = 1;
		if (!o->duration_set)
			o->duration = PROBE_SECS;
		if (o->n > o->max_n)
			o->n = o->max_n;
	}
	return 0;
}

/* ---- main ---- */

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
	atomic_store(&stop_req, 1);
}

/* Each recorder holds one file open: make room for the largest run. */
static void raise_nofile(int n)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)n + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < want)
		fprintf(stderr, "recbench: warning: open file limit %llu is below %llu\n",
		        (unsigned long long)rl.rlim_cur, (unsigned long long)want);
}

/* The target must be a directory; DIR/keep/ is made when calls are kept. */
static int check_dir(const struct opts *o)
{
	struct stat stb;
	char kdir[PATH_BYTES];

	if (stat(o->dir, &stb) < 0) {
		fprintf(stderr, "recbench: %s: %s\n", o->dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(stb.st_mode)) {
		fprintf(stderr, "recbench: %s: not a directory\n", o->dir);
		return -1;
	}
	if (o->keep_fraction > 0) {
		if ((size_t)snprintf(kdir, sizeof kdir, "%s/" KEEP_DIR, o->dir) >= sizeof kdir)
			return -1;
		if (mkdir(kdir, 0755) < 0 && errno != EEXIST) {
			fprintf(stderr, "recbench: %s: %s\n", kdir, strerror(errno));
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct opts o;
	int rc, status = 0;

	rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc > 0 ? 0 : 2;
	if (check_dir(&o) < 0)
		return 1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	raise_nofile(o.find_max ? o.max_n : o.n);

	if (o.find_max) {
		int best = 0;

		if (find_max(&o, &best) < 0) {
			status = interrupted ? 130 : 1;
			fprintf(stderr, "recbench: search stopped %s\n",
			        interrupted ? "by a signal" : "by an error");
			goto out;
		}
		printf("max        %d recorders hold real time (N up to %d tried)\n", best,
		       o.max_n);
	} else {
		struct stats s;
		int64_t el = 0;

		print_header(&o, o.n);
		if (run_recorders(&o, o.n, 0, &s, &el) < 0 && !s.errors)
			s.errors = 1;
		print_report(&o, o.n, &s, el);
		if (s.errors)
			status = 1;
	}
	if (interrupted && status == 0)
		status = 130;
out:
	fflush(stdout);
	return status;
}
