/*
 * test_audit: the audit trail through audit.h only, on real directories
 * (under a mkdtemp directory in /tmp, removed at the end). Every field of
 * every event type must come back; a flipped byte, a removed record, two
 * swapped records, a record from another key and a renamed or missing
 * segment must each be reported at the right place; a torn tail must not;
 * old segments must be destroyed (zeros first); audit off writes nothing;
 * no path reaches the disk in the clear; concurrent loggers lose nothing;
 * garbage segments give clean errors (run under ASan by make check).
 *
 * The layout constants below restate docs/audit.md: the test checks the
 * documented format, not just what the code happens to do.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "check.h"
#include "clock.h"
#include "crypto.h"
#include "log.h"

/* docs/audit.md */
#define SEG_HDR_BYTES 128
#define FRAME_LEN_BYTES 4
#define FRAME_MAC_BYTES 32

#define DAY_NS (86400 * NSEC_PER_SEC)
#define MARKER "+4512345678"
#define COMM_MARKER "mrkcomm"
#define VARIANTS 4
#define THREADS 8
#define PER_THREAD 10000
#define FUZZ_ROUNDS 400
#define MAX_SEGS 16

static char tmpdir[] = "/tmp/recfs-test-audit-XXXXXX";
static int tmp_made;
static uint8_t key[CRYPTO_KEY_BYTES], other_key[CRYPTO_KEY_BYTES];
static int64_t t0; /* the internal clock at start */
static uint64_t rng = 0x5eed2026a0d17ULL;

/* ---- environment helpers: a failure here is the machine's, not recfs's ---- */

static int rm_fn(const char *path, const struct stat *stb, int flag, struct FTW *ftw)
{
	(void)stb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	if (tmp_made && nftw(tmpdir, rm_fn, 16, FTW_DEPTH | FTW_PHYS) < 0)
		perror(tmpdir);
}

static _Noreturn void die(const char *what)
{
	perror(what);
	cleanup();
	exit(2);
}

/* snprintf into a PATH_MAX buffer; a path that does not fit is the
 * machine's problem. */
#define PATHF(buf, ...)                                                         \
	do {                                                                    \
		if (snprintf((buf), PATH_MAX, __VA_ARGS__) >= PATH_MAX)         \
			die("path too long");                                   \
	} while (0)

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible, good enough to pick bytes. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

/* A fresh store directory tmpdir/name. */
static void store_path(char out[PATH_MAX], const char *name)
{
	PATHF(out, "%s/%s", tmpdir, name);
	if (mkdir(out, 0700) < 0 && errno != EEXIST)
		die(out);
}

static void seg_path(char out[PATH_MAX], const char *store, const char *seg)
{
	PATHF(out, "%s/audit/%s", store, seg);
}

static uint8_t *file_read(const char *path, size_t *len)
{
	struct stat sb;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &sb) < 0)
		die(path);
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf || read(fd, buf, (size_t)sb.st_size) != sb.st_size)
		die(path);
	close(fd);
	*len = (size_t)sb.st_size;
	return buf;
}

static void file_write(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || (len && write(fd, buf, len) != (ssize_t)len) || close(fd) < 0)
		die(path);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in store/audit, sorted (segment names sort by number). Returns
 * the count; names are malloc'd into out (at most MAX_SEGS). */
static int list_dir(const char *store, char *out[MAX_SEGS])
{
	char path[PATH_MAX];
	struct dirent *de;
	int n = 0;
	DIR *d;

	PATHF(path, "%s/audit", store);
	if (!(d = opendir(path)))
		return errno == ENOENT ? -1 : (die(path), -1);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && n < MAX_SEGS)
			out[n++] = strdup(de->d_name);
	closedir(d);
	qsort(out, (size_t)n, sizeof(*out), name_cmp);
	return n;
}

static void free_names(char *names[MAX_SEGS], int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
}

/* Copy store/audit to a fresh dst/audit. */
static void copy_trail(const char *src, const char *dst)
{
	char *names[MAX_SEGS], from[PATH_MAX], to[PATH_MAX];
	int n = list_dir(src, names);
	uint8_t *buf;
	size_t len;

	PATHF(to, "%s/audit", dst);
	if (nftw(dst, rm_fn, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		die(dst);
	if (mkdir(dst, 0700) < 0 || mkdir(to, 0700) < 0)
		die(to);
	for (int i = 0; i < n; i++) {
		seg_path(from, src, names[i]);
		seg_path(to, dst, names[i]);
		buf = file_read(from, &len);
		file_write(to, buf, len);
		free(buf);
	}
	free_names(names, n);
}

/* Byte offsets of the frames of a segment (at most max); the count. */
static int frame_offsets(const uint8_t *seg, size_t len, size_t *off, int max)
{
	size_t p = SEG_HDR_BYTES;
	int n = 0;

	while (p + FRAME_LEN_BYTES <= len && n < max) {
		uint32_t box = (uint32_t)seg[p] | (uint32_t)seg[p + 1] << 8 |
			       (uint32_t)seg[p + 2] << 16 | (uint32_t)seg[p + 3] << 24;

		if (p + FRAME_LEN_BYTES + box + FRAME_MAC_BYTES > len)
			break;
		off[n++] = p;
		p += FRAME_LEN_BYTES + box + FRAME_MAC_BYTES;
	}
	return n;
}

/* ---- records ---- */

/* A record with every field set, different for each (event, i). */
static void fill_rec(struct audit_rec *r, uint32_t event, unsigned i)
{
	static const char *const shapes[VARIANTS] = {
		"2026/11/28/call-%u-" MARKER ".wav",
		"keep/opkald fra %u " MARKER " æøå.wav",
		"",
		"%u/" MARKER "/deep",
	};

	memset(r, 0, sizeof(*r));
	r->time = t0 + (int64_t)(event * 1000 + i) * 1000;
	r->event = event;
	r->uid = 1000 + i;
	r->gid = 2000 + event;
	r->pid = (int32_t)(30000 + event * 10 + i);
	snprintf(r->comm, sizeof(r->comm), COMM_MARKER "%u", event);
	for (int b = 0; b < STORE_ID_BYTES; b++)
		r->id.b[b] = (uint8_t)(event * 16 + (unsigned)b + i);
	snprintf(r->path, sizeof(r->path), shapes[i % VARIANTS], i);
	if (i % 2)
		snprintf(r->path2, sizeof(r->path2), "keep/%u-" MARKER ".wav", i);
	r->size = 0x0102030405060708ULL + i;
	r->bytes = 44100ULL * event + i;
	r->count = i;
	r->mode = 0640 + i;
	r->uid2 = 65534 - i;
	r->gid2 = 4242 + i;
	r->klass = (uint8_t)(i % 2);
	r->deadline = t0 + 1800 * NSEC_PER_SEC + i;
	r->lateness_ms = -(int64_t)i;
	r->duration_ms = i == 0 ? -1 : (int64_t)i * 1234;
	for (int b = 0; b < CRYPTO_HASH_BYTES; b++)
		r->sha256[b] = (uint8_t)(0xa5 ^ (unsigned)b ^ event);
}

static int rec_equal(const struct audit_rec *a, const struct audit_rec *b)
{
	return a->time == b->time && a->event == b->event && a->uid == b->uid &&
	       a->gid == b->gid && a->pid == b->pid && !strcmp(a->comm, b->comm) &&
	       !memcmp(&a->id, &b->id, sizeof(a->id)) && !strcmp(a->path, b->path) &&
	       !strcmp(a->path2, b->path2) && a->size == b->size && a->bytes == b->bytes &&
	       a->count == b->count && a->mode == b->mode && a->uid2 == b->uid2 &&
	       a->gid2 == b->gid2 && a->klass == b->klass && a->deadline == b->deadline &&
	       a->lateness_ms == b->lateness_ms && a->duration_ms == b->duration_ms &&
	       !memcmp(a->sha256, b->sha256, sizeof(a->sha256));
}

/* What a read returned. */
struct got {
	struct audit_rec *v;
	size_t n, cap;
};

static int collect(void *ctx, const struct audit_rec *r)
{
	struct got *g = ctx;

	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 64;
		g->v = realloc(g->v, g->cap * sizeof(*g->v));
		if (!g->v)
			die("realloc");
	}
	g->v[g->n++] = *r;
	return 0;
}

static int read_all(const char *store, const uint8_t *k, struct got *g, struct audit_stats *st,
		    char *err, size_t errlen)
{
	g->n = 0;
	return audit_read_stats(store, k, collect, g, st, err, errlen);
}

static struct audit_config cfg_on(int64_t keep_ns)
{
	struct audit_config c = { .enabled = 1, .keep_ns = keep_ns, .log_tools = 1 };

	return c;
}

/* The records test_roundtrip logs, in order. */
static struct audit_rec *expected;
static size_t n_expected;

static void expect_add(const struct audit_rec *r)
{
	expected = realloc(expected, (n_expected + 1) * sizeof(*expected));
	if (!expected)
		die("realloc");
	expected[n_expected++] = *r;
}

/* ---- tests ---- */

static char s_main[PATH_MAX]; /* the trail the tamper tests copy */

static void test_names(void)
{
	int ok = 1;

	for (uint32_t e = 1; e < AUDIT_EVENT_MAX; e++) {
		const char *n = audit_event_name(e);

		ok &= n != NULL;
		for (uint32_t f = 1; n && f < e; f++)
			ok &= strcmp(n, audit_event_name(f)) != 0;
	}
	CHECK(ok, "every event has a name, all different");
	CHECK(!audit_event_name(0) && !audit_event_name(AUDIT_EVENT_MAX) &&
	      !audit_event_name(UINT32_MAX), "no name outside the enum");
	CHECK(!strcmp(audit_event_name(AUDIT_OPEN_READ), "open-read") &&
	      !strcmp(audit_event_name(AUDIT_EXPIRE), "expire"), "names as documented");
}

/* A thread that names itself, for test_comm: FUSE reports the id of the
 * requesting thread, so audit_comm must give a thread's own name. */
struct comm_thread {
	pthread_barrier_t named, checked;
	pid_t tid;
};

static void *comm_thread_main(void *arg)
{
	struct comm_thread *t = arg;

	prctl(PR_SET_NAME, "rec-worker-2", 0, 0, 0);
	t->tid = gettid();
	pthread_barrier_wait(&t->named);
	pthread_barrier_wait(&t->checked);
	return NULL;
}

/* comm holds exactly want, NUL-padded to 16 bytes (audit_encode keeps the
 * whole array, so the padding must be zeros). */
static int comm_is(const char comm[16], const char *want)
{
	size_t n = strlen(want);

	if (n > 15 || memcmp(comm, want, n) != 0)
		return 0;
	for (size_t i = n; i < 16; i++)
		if (comm[i] != '\0')
			return 0;
	return 1;
}

/* audit_comm(pid) gives want within a second (the child names itself or
 * execs meanwhile). */
static int comm_becomes(pid_t pid, const char *want)
{
	char comm[16];

	for (int i = 0; i < 200; i++) {
		audit_comm(pid, comm);
		if (comm_is(comm, want))
			return 1;
		usleep(5000);
	}
	return 0;
}

/* audit_comm keeps /proc/PID/comm open for recent callers: a process
 * read once, then exec'd, reads as its new program; once it is gone it
 * reads as "?" (its pid may belong to another task by then). */
static void test_comm_exec(void)
{
	char comm[16];
	int go[2], status;
	pid_t pid;

	if (pipe(go) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char c;

		close(go[1]);
		prctl(PR_SET_NAME, "before-exec", 0, 0, 0);
		if (read(go[0], &c, 1) == 1)
			execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	close(go[0]);
	CHECK(comm_becomes(pid, "before-exec"), "audit_comm of a child before its exec");
	if (write(go[1], "x", 1) != 1)
		die("write");
	close(go[1]);
	CHECK(comm_becomes(pid, "sleep"), "the same child after its exec: the new program's name");
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	audit_comm(pid, comm);
	CHECK(!strcmp(comm, "?"), "the child reaped: ?");
}

/*
 * audit_comm reads /proc/PID/comm. The process's own name is not a
 * constant (under valgrind it is "memcheck-amd64-", not "test_audit"), so
 * the test compares with what the kernel says through another interface,
 * prctl(PR_GET_NAME), and then sets names it knows: a short one, one of
 * the full 15 bytes, and another thread's.
 */
static void test_comm(void)
{
	char comm[16], orig[17] = { 0 };
	struct comm_thread t;
	pthread_t th;

	if (prctl(PR_GET_NAME, orig, 0, 0, 0) != 0 || !orig[0])
		die("prctl(PR_GET_NAME)");
	memset(comm, 'x', sizeof(comm));
	audit_comm(getpid(), comm);
	CHECK(comm_is(comm, orig), "audit_comm of this process is its name (PR_GET_NAME)");

	if (prctl(PR_SET_NAME, "ab", 0, 0, 0) != 0)
		die("prctl(PR_SET_NAME)");
	memset(comm, 'x', sizeof(comm));
	audit_comm(getpid(), comm);
	CHECK(comm_is(comm, "ab"), "audit_comm after renaming: a short name, zero-padded");
	prctl(PR_SET_NAME, "fifteen-chars-x", 0, 0, 0);
	memset(comm, 'x', sizeof(comm));
	audit_comm(getpid(), comm);
	CHECK(comm_is(comm, "fifteen-chars-x"), "audit_comm of a 15-byte name");
	prctl(PR_SET_NAME, orig, 0, 0, 0);

	if (pthread_barrier_init(&t.named, NULL, 2) || pthread_barrier_init(&t.checked, NULL, 2) ||
	    pthread_create(&th, NULL, comm_thread_main, &t))
		die("pthread");
	pthread_barrier_wait(&t.named);
	memset(comm, 'x', sizeof(comm));
	audit_comm(t.tid, comm);
	CHECK(comm_is(comm, "rec-worker-2"), "audit_comm of another thread's id is that thread's name");
	memset(comm, 'x', sizeof(comm));
	audit_comm(getpid(), comm);
	CHECK(comm_is(comm, orig), "and of the process's id still the process's name");
	pthread_barrier_wait(&t.checked);
	pthread_join(th, NULL);
	pthread_barrier_destroy(&t.named);
	pthread_barrier_destroy(&t.checked);

	test_comm_exec();

	audit_comm(-1, comm);
	CHECK(!strcmp(comm, "?"), "audit_comm of pid -1 is ?");
	audit_comm(0x7ffffff0, comm);
	CHECK(!strcmp(comm, "?"), "audit_comm of a pid that does not exist is ?");
}

/* Every field of every event type, then a reopen that continues the chain. */
static void test_roundtrip(void)
{
	struct audit_config c = cfg_on(180 * DAY_NS);
	struct audit_stats st;
	struct audit_rec *r = malloc(sizeof(*r));
	struct got g = { 0 };
	char err[512], *names[MAX_SEGS], path[PATH_MAX], today[32];
	int64_t before, after;
	struct stat sb;
	int rc, n, ok;

	store_path(s_main, "main");
	CHECK(audit_read(s_main, key, collect, &g, err, sizeof(err)) == 0 && g.n == 0,
	      "a store without audit/ reads as an empty trail");
	rc = audit_open(s_main, key, &c);
	CHECK(rc == 0, "audit_open");
	CHECK(audit_open(s_main, key, &c) == -EBUSY, "a second audit_open is refused");
	for (uint32_t e = 1; e < AUDIT_EVENT_MAX; e++) {
		for (unsigned i = 0; i < VARIANTS; i++) {
			fill_rec(r, e, i);
			audit_log(r);
			expect_add(r);
		}
	}
	/* The longest paths there are. */
	fill_rec(r, AUDIT_RENAME, 7);
	memset(r->path, 'p', PATH_MAX - 1);
	memset(r->path2, 'q', PATH_MAX - 1);
	r->path[PATH_MAX - 1] = r->path2[PATH_MAX - 1] = '\0';
	audit_log(r);
	expect_add(r);
	/* time 0: audit_log stamps the internal clock. */
	fill_rec(r, AUDIT_MOUNT, 1);
	r->time = 0;
	before = clock_now();
	audit_log(r);
	after = clock_now();
	expect_add(r);
	CHECK(audit_dropped() == 0, "nothing dropped");
	audit_close();
	audit_close(); /* a second close is a no-op */

	rc = read_all(s_main, key, &g, &st, err, sizeof(err));
	CHECK(rc == 0 && g.n == n_expected, "every record comes back");
	if (rc)
		printf("      %s\n", err);
	ok = g.n == n_expected;
	for (size_t i = 0; ok && i < n_expected; i++) {
		if (expected[i].time == 0) {
			ok = g.v[i].time >= before && g.v[i].time <= after;
			expected[i].time = g.v[i].time;
		}
		ok = ok && rec_equal(&g.v[i], &expected[i]);
		if (!ok)
			printf("      record %zu differs\n", i + 1);
	}
	CHECK(ok, "in order, every field equal (time 0 became the clock)");
	CHECK(st.records == n_expected && st.segments == 1 && st.first_segment == 1 &&
	      st.torn == 0, "stats: one segment, first 1, nothing torn");

	n = list_dir(s_main, names);
	clock_iso8601(t0, today, sizeof(today));
	today[10] = '\0';
	CHECK(n == 1 && strlen(names[0]) == 19 && !strncmp(names[0], "00000001-", 9) &&
	      !strcmp(names[0] + 9, today), "segment named 00000001-YYYY-MM-DD (today)");
	if (n >= 1) {
		seg_path(path, s_main, names[0]);
		CHECK(stat(path, &sb) == 0 && (sb.st_mode & 07777) == 0600, "segment mode 0600");
	}
	PATHF(path, "%s/audit", s_main);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 07777) == 0700, "audit/ mode 0700");
	free_names(names, n);

	/* A reopen starts a new segment bound to the old one. */
	CHECK(audit_open(s_main, key, &c) == 0, "reopen");
	for (unsigned i = 0; i < VARIANTS; i++) {
		fill_rec(r, AUDIT_UNMOUNT, 10 + i);
		audit_log(r);
		expect_add(r);
	}
	audit_close();
	rc = read_all(s_main, key, &g, &st, err, sizeof(err));
	ok = rc == 0 && g.n == n_expected;
	for (size_t i = 0; ok && i < n_expected; i++)
		ok = rec_equal(&g.v[i], &expected[i]);
	CHECK(ok && st.segments == 2, "after a reopen: both segments, one chain");
	if (rc)
		printf("      %s\n", err);
	CHECK(read_all(s_main, other_key, &g, &st, err, sizeof(err)) == -EBADMSG &&
	      strstr(err, "00000001-") && strstr(err, "header does not authenticate"),
	      "another key: the first segment's header does not authenticate");
	free(g.v);
	free(r);
}

/* rc must be -EBADMSG, err naming seg and "record N (byte OFF)". */
static void expect_break(const char *store, const char *seg, int recno, size_t off,
			 const char *what)
{
	struct audit_stats st;
	struct got g = { 0 };
	char err[512], want[64];
	int rc = read_all(store, key, &g, &st, err, sizeof(err));

	snprintf(want, sizeof(want), "record %d (byte %zu)", recno, off);
	CHECK(rc == -EBADMSG && strstr(err, seg) && strstr(err, want), what);
	if (rc != -EBADMSG || !strstr(err, seg) || !strstr(err, want))
		printf("      rc %d err '%s', want %s %s\n", rc, err, seg, want);
	free(g.v);
}

static void expect_break_msg(const char *store, const char *seg, const char *msg,
			     const char *what)
{
	struct audit_stats st;
	struct got g = { 0 };
	char err[512];
	int rc = read_all(store, key, &g, &st, err, sizeof(err));

	CHECK(rc == -EBADMSG && strstr(err, seg) && strstr(err, msg), what);
	if (rc != -EBADMSG || !strstr(err, seg) || !strstr(err, msg))
		printf("      rc %d err '%s'\n", rc, err);
	free(g.v);
}

/* Segment 1 of a copy of the main trail: name, path, bytes, frames. */
struct seg {
	char store[PATH_MAX], name[64], path[PATH_MAX];
	uint8_t *b;
	size_t len;
	size_t off[512];
	int n;
};

static void seg_load(struct seg *s, const char *copy, int which)
{
	char *names[MAX_SEGS];
	int n;

	store_path(s->store, copy);
	copy_trail(s_main, s->store);
	n = list_dir(s->store, names);
	if (which >= n) {
		fprintf(stderr, "test_audit: segment %d missing\n", which);
		exit(2);
	}
	snprintf(s->name, sizeof(s->name), "%s", names[which]);
	free_names(names, n);
	seg_path(s->path, s->store, s->name);
	s->b = file_read(s->path, &s->len);
	s->n = frame_offsets(s->b, s->len, s->off, 512);
}

static size_t frame_len(const struct seg *s, int i)
{
	return (i + 1 < s->n ? s->off[i + 1] : s->len) - s->off[i];
}

static void test_tamper(void)
{
	struct seg s, o;
	uint8_t *buf;
	size_t k = 5, a, b, fl;
	char other[PATH_MAX], path[PATH_MAX], to[PATH_MAX];
	struct audit_config c = cfg_on(180 * DAY_NS);
	struct audit_rec r;

	seg_load(&s, "tamper", 0);
	CHECK(s.n == (int)(AUDIT_EVENT_MAX - 1) * VARIANTS + 2, "frames parse as documented");

	/* A flipped byte in a record's ciphertext, its MAC, its length. */
	s.b[s.off[k] + FRAME_LEN_BYTES + 40] ^= 0x01;
	file_write(s.path, s.b, s.len);
	expect_break(s.store, s.name, (int)k + 1, s.off[k], "flipped ciphertext byte: found there");
	s.b[s.off[k] + FRAME_LEN_BYTES + 40] ^= 0x01;
	s.b[s.off[k] + frame_len(&s, (int)k) - 1] ^= 0x80;
	file_write(s.path, s.b, s.len);
	expect_break(s.store, s.name, (int)k + 1, s.off[k], "flipped MAC byte: found there");
	s.b[s.off[k] + frame_len(&s, (int)k) - 1] ^= 0x80;
	s.b[s.off[k] + 1] ^= 0x01;
	file_write(s.path, s.b, s.len);
	expect_break(s.store, s.name, (int)k + 1, s.off[k], "flipped length byte: found there");
	s.b[s.off[k] + 1] ^= 0x01;
	s.b[s.off[k] + 2] ^= 0x40;
	file_write(s.path, s.b, s.len);
	expect_break(s.store, s.name, (int)k + 1, s.off[k], "huge length: found there");
	s.b[s.off[k] + 2] ^= 0x40;

	/* A removed record: its successor is found out of place. */
	buf = malloc(s.len);
	fl = frame_len(&s, (int)k);
	memcpy(buf, s.b, s.off[k]);
	memcpy(buf + s.off[k], s.b + s.off[k] + fl, s.len - s.off[k] - fl);
	file_write(s.path, buf, s.len - fl);
	expect_break(s.store, s.name, (int)k + 1, s.off[k], "removed record: found there");

	/* Two swapped records. */
	a = frame_len(&s, (int)k);
	b = frame_len(&s, (int)k + 1);
	memcpy(buf, s.b, s.len);
	memcpy(buf + s.off[k], s.b + s.off[k + 1], b);
	memcpy(buf + s.off[k] + b, s.b + s.off[k], a);
	file_write(s.path, buf, s.len);
	expect_break(s.store, s.name, (int)k + 1, s.off[k], "swapped records: found there");

	/* The last record of a segment that has a successor. */
	file_write(s.path, s.b, s.off[s.n - 1]);
	expect_break_msg(s.store, s.name, "records were removed from its end",
			 "removed last record of an older segment: found");

	/* A record from a trail with another key, in place of record k. */
	store_path(other, "otherkey");
	CHECK(audit_open(other, other_key, &c) == 0, "a trail with another key");
	fill_rec(&r, AUDIT_OPEN_READ, 1);
	audit_log(&r);
	audit_close();
	seg_load(&o, "tamper2", 0);
	{
		char *names[MAX_SEGS];
		int n = list_dir(other, names);
		uint8_t *ob;
		size_t olen, ooff[4];

		seg_path(path, other, names[0]);
		ob = file_read(path, &olen);
		free_names(names, n);
		frame_offsets(ob, olen, ooff, 4);
		fl = frame_len(&o, (int)k);
		buf = realloc(buf, o.len + olen);
		memcpy(buf, o.b, o.off[k]);
		memcpy(buf + o.off[k], ob + ooff[0], olen - ooff[0]);
		memcpy(buf + o.off[k] + olen - ooff[0], o.b + o.off[k] + fl, o.len - o.off[k] - fl);
		file_write(o.path, buf, o.len - fl + olen - ooff[0]);
		expect_break(o.store, o.name, (int)k + 1, o.off[k],
			     "record from another key in place of one: found there");
		memcpy(buf, o.b, o.off[k]);
		memcpy(buf + o.off[k], ob + ooff[0], olen - ooff[0]);
		memcpy(buf + o.off[k] + olen - ooff[0], o.b + o.off[k], o.len - o.off[k]);
		file_write(o.path, buf, o.len + olen - ooff[0]);
		expect_break(o.store, o.name, (int)k + 1, o.off[k],
			     "record from another key inserted: found there");
		file_write(o.path, o.b, o.len);
		free(ob);
	}
	free(o.b);

	/* Headers and names. */
	seg_load(&o, "tamper3", 1);
	o.b[20] ^= 0x01; /* the segment number */
	file_write(o.path, o.b, o.len);
	expect_break_msg(o.store, o.name, "header does not authenticate",
			 "flipped header byte of segment 2: found");
	o.b[20] ^= 0x01;
	file_write(o.path, o.b, o.len);
	memcpy(to, o.path, sizeof(to));
	/* another day, same number */
	memcpy(to + strlen(to) - 2, strcmp(to + strlen(to) - 2, "01") ? "01" : "02", 2);
	if (rename(o.path, to) < 0)
		die(to);
	expect_break_msg(o.store, "00000002-", "does not match its header",
			 "renamed segment (other day): found");
	if (rename(to, o.path) < 0)
		die(to);
	{
		struct audit_stats st;
		struct got g = { 0 };
		char err[512], *names[MAX_SEGS];
		int n = list_dir(o.store, names), rc;

		seg_path(path, o.store, names[0]); /* segment 1 */
		free_names(names, n);
		if (unlink(path) < 0)
			die(path);
		rc = read_all(o.store, key, &g, &st, err, sizeof(err));

		/* Documented: a missing oldest segment reads like expiry. */
		CHECK(rc == 0 && st.first_segment == 2 && g.n == VARIANTS,
		      "without segment 1 the trail starts at 2 (as after expiry)");
		free(g.v);
	}
	free(o.b);
	free(s.b);

	/* Segment 2 without segment 1 in the middle: a gap. */
	store_path(path, "gap");
	CHECK(audit_open(path, key, &c) == 0, "gap: open");
	for (int i = 0; i < 3; i++) {
		audit_close();
		CHECK(audit_open(path, key, &c) == 0, "gap: reopen");
		fill_rec(&r, AUDIT_CREATE, (unsigned)i);
		audit_log(&r);
	}
	audit_close();
	{
		char *names[MAX_SEGS];
		int n = list_dir(path, names);

		CHECK(n == 3, "one segment per mount");
		if (n == 3) {
			seg_path(to, path, names[1]);
			if (unlink(to) < 0)
				die(to);
			expect_break_msg(path, names[2], "segment 2 before it is missing",
					 "a segment removed from the middle: found");
		}
		free_names(names, n);
	}
	free(buf);
}

static void test_torn(void)
{
	struct seg s;
	struct audit_stats st;
	struct got g = { 0 };
	struct audit_config c = cfg_on(180 * DAY_NS);
	struct audit_rec r;
	uint8_t *buf;
	char err[512];
	int rc;

	seg_load(&s, "torn", 1); /* the newest segment */
	file_write(s.path, s.b, s.len - 5);
	rc = read_all(s.store, key, &g, &st, err, sizeof(err));
	CHECK(rc == 0 && g.n == n_expected - 1 && st.torn == 1,
	      "torn final record in the newest segment: ignored, the rest reads");
	if (rc)
		printf("      %s\n", err);
	file_write(s.path, s.b, s.off[s.n - 1] + 2);
	rc = read_all(s.store, key, &g, &st, err, sizeof(err));
	CHECK(rc == 0 && g.n == n_expected - 1 && st.torn == 1,
	      "torn inside the length field: ignored");
	buf = calloc(1, s.len + 3000);
	memcpy(buf, s.b, s.len);
	file_write(s.path, buf, s.len + 3000);
	rc = read_all(s.store, key, &g, &st, err, sizeof(err));
	CHECK(rc == 0 && g.n == n_expected && st.torn == 1,
	      "zero-filled tail after a crash: ignored");
	free(buf);

	/* The writer binds the next segment before the torn bytes. */
	file_write(s.path, s.b, s.len - 5);
	CHECK(audit_open(s.store, key, &c) == 0, "open over a torn tail");
	fill_rec(&r, AUDIT_MOUNT, 2);
	audit_log(&r);
	audit_close();
	rc = read_all(s.store, key, &g, &st, err, sizeof(err));
	CHECK(rc == 0 && g.n == n_expected && st.torn == 1 && st.segments == 3 &&
	      rec_equal(&g.v[g.n - 1], &r),
	      "after reopen: torn bytes left out of the chain, new records follow");
	if (rc)
		printf("      %s\n", err);
	/* ...and those bytes may not be cut further: the chain says how long. */
	file_write(s.path, s.b, s.off[s.n - 2]);
	rc = read_all(s.store, key, &g, &st, err, sizeof(err));
	CHECK(rc == -EBADMSG && strstr(err, "removed from its end"),
	      "older segment cut below its committed length: a break");
	free(g.v);
	free(s.b);
}

/* Count the non-zero bytes of a file. */
static size_t nonzero_bytes(const char *path)
{
	size_t len, n = 0;
	uint8_t *b = file_read(path, &len);

	for (size_t i = 0; i < len; i++)
		n += b[i] != 0;
	free(b);
	return n;
}

static void test_retention(void)
{
	struct audit_config c = cfg_on(180 * DAY_NS);
	char store[PATH_MAX], *names[MAX_SEGS], seg[PATH_MAX], link_path[PATH_MAX];
	struct audit_stats st;
	struct got g = { 0 };
	struct audit_rec r;
	char err[512];
	int n, rc;

	store_path(store, "retention");
	/* Written under a longer keep: audit_close runs retention too. */
	c.keep_ns = 365 * DAY_NS;
	CHECK(audit_open(store, key, &c) == 0, "retention: open");
	for (unsigned i = 0; i < 5; i++) {
		fill_rec(&r, AUDIT_EXPIRE, i);
		r.time = t0 - 200 * DAY_NS + i;
		audit_log(&r);
	}
	for (unsigned i = 0; i < 5; i++) {
		fill_rec(&r, AUDIT_EXPIRE, i);
		r.time = t0 - 170 * DAY_NS + i;
		audit_log(&r);
	}
	/* An earlier day after a later one stays in the later one's segment. */
	fill_rec(&r, AUDIT_EXPIRE, 9);
	r.time = t0 - 300 * DAY_NS;
	audit_log(&r);
	audit_close();
	n = list_dir(store, names);
	CHECK(n == 2, "records of two days: two segments (no going back)");
	if (n != 2)
		goto out;
	/* A second name for the old segment shows what destruction leaves. */
	seg_path(seg, store, names[0]);
	PATHF(link_path, "%s/retention-link", tmpdir);
	if (link(seg, link_path) < 0)
		die(link_path);
	free_names(names, n);

	c.keep_ns = 180 * DAY_NS;
	CHECK(audit_open(store, key, &c) == 0, "retention: reopen with keep 180d");
	audit_close();
	n = list_dir(store, names);
	CHECK(n == 1 && !strncmp(names[0], "00000002-", 9),
	      "segment older than keep destroyed at open, the younger one kept");
	CHECK(nonzero_bytes(link_path) == 0, "destroyed segment overwritten with zeros first");
	free_names(names, n);
	unlink(link_path);
	rc = read_all(store, key, &g, &st, err, sizeof(err));
	CHECK(rc == 0 && g.n == 6 && st.first_segment == 2 && g.v[5].time == t0 - 300 * DAY_NS,
	      "the rest reads, starting at segment 2");

	/* keep shorter than everything: the trail is empty, then starts again
	 * bound to where it was. */
	c.keep_ns = DAY_NS;
	CHECK(audit_open(store, key, &c) == 0, "retention: open with keep 1d");
	n = list_dir(store, names);
	CHECK(n == 0, "keep 1d: every old segment destroyed");
	free_names(names, n);
	fill_rec(&r, AUDIT_MOUNT, 0);
	audit_log(&r);
	audit_close();
	rc = read_all(store, key, &g, &st, err, sizeof(err));
	CHECK(rc == 0 && g.n == 1 && st.first_segment == 3, "new records after full expiry");
out:
	free(g.v);
}

static void test_disabled(void)
{
	struct audit_config c = { .enabled = 0, .keep_ns = DAY_NS, .log_tools = 1 };
	char store[PATH_MAX], path[PATH_MAX];
	struct audit_rec r;
	struct stat sb;

	store_path(store, "off");
	CHECK(audit_open(store, key, &c) == 0, "audit off: open succeeds");
	fill_rec(&r, AUDIT_CREATE, 0);
	audit_log(&r);
	audit_close();
	PATHF(path, "%s/audit", store);
	CHECK(stat(path, &sb) < 0 && errno == ENOENT, "audit off: nothing created");
	CHECK(audit_dropped() == 0, "audit off: nothing counted as dropped");
}

/* Records lost in the last groups before a close (no later group can say
 * so) are kept in audit/lost, reported by the next open's first group, and
 * the file then goes. Writes fail here by a file size limit. */
static void test_lost_at_close(void)
{
	struct audit_config c = cfg_on(180 * DAY_NS);
	struct rlimit old, low;
	char store[PATH_MAX], path[PATH_MAX], err[512];
	struct got g = { 0 };
	struct audit_rec r;
	struct stat sb;
	uint8_t *buf;
	size_t len = 0;
	int rc, status, dropped = -1, later = 0;
	pid_t pid;

	store_path(store, "lost");
	PATHF(path, "%s/audit/lost", store);
	CHECK(audit_open(store, key, &c) == 0, "lost: open");
	if (getrlimit(RLIMIT_FSIZE, &old) < 0)
		die("getrlimit");
	low = old;
	low.rlim_cur = 64; /* the hard limit stays, to go back */
	if (setrlimit(RLIMIT_FSIZE, &low) < 0)
		die("setrlimit");
	signal(SIGXFSZ, SIG_IGN);
	for (unsigned i = 0; i < 2; i++) {
		fill_rec(&r, AUDIT_OPEN_READ, i);
		audit_log(&r);
	}
	audit_close(); /* the segment cannot start: both are lost */
	buf = stat(path, &sb) == 0 ? file_read(path, &len) : NULL;
	CHECK(buf && len == 2 && !memcmp(buf, "2\n", 2), "lost: the close keeps the count, 2");
	free(buf);

	/* Open again with the disk still "full", and fork (as fuse_daemonize
	 * does): the writer fails to report the carried count, and must
	 * still park for the fork instead of retrying forever. */
	CHECK(audit_open(store, key, &c) == 0, "lost: open again");
	alarm(20); /* a hang ends the test */
	pid = fork();
	if (pid == 0)
		_exit(0);
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status),
	      "lost: a fork while the count cannot be written does not hang");
	alarm(0);
	if (setrlimit(RLIMIT_FSIZE, &old) < 0)
		die("setrlimit");
	signal(SIGXFSZ, SIG_DFL);
	fill_rec(&r, AUDIT_CLOSE_READ, 5);
	audit_log(&r);
	audit_close();
	rc = audit_read(store, key, collect, &g, err, sizeof(err));
	for (size_t i = 0; rc == 0 && i < g.n; i++) {
		if (g.v[i].event == AUDIT_DROPPED)
			dropped = (int)g.v[i].count;
		else
			later += rec_equal(&g.v[i], &r);
	}
	CHECK(rc == 0 && g.n == 2 && dropped == 2 && later == 1,
	      "lost: the next open's group has a dropped record for 2, and its own record");
	CHECK(stat(path, &sb) < 0 && errno == ENOENT, "lost: the file is gone once reported");
	free(g.v);
}

/* Records never reach the disk in the clear: scan every file written. */
static int scan_fn(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	static const char *const needles[] = { MARKER, "12345678", COMM_MARKER, "æøå" };
	uint8_t *b;
	size_t len;

	(void)ftw;
	if (flag != FTW_F || !S_ISREG(sb->st_mode))
		return 0;
	b = file_read(path, &len);
	for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++) {
		if (memmem(b, len, needles[i], strlen(needles[i]))) {
			printf("      '%s' in %s\n", needles[i], path);
			free(b);
			return 1;
		}
	}
	free(b);
	return 0;
}

static void test_plaintext(void)
{
	CHECK(nftw(tmpdir, scan_fn, 16, FTW_PHYS) == 0,
	      "no path, number or comm in the clear in any audit file");
}

struct thread_arg {
	unsigned t;
};

static void *logger(void *p)
{
	const struct thread_arg *a = p;
	struct audit_rec *r = malloc(sizeof(*r));

	for (unsigned i = 0; r && i < PER_THREAD; i++) {
		fill_rec(r, AUDIT_OPEN_READ + a->t % 4, i % VARIANTS);
		r->pid = (int32_t)a->t;
		r->count = i;
		r->time = 0;
		audit_log(r);
	}
	free(r);
	return NULL;
}

struct tally {
	uint64_t next[THREADS];
	int in_order;
	int64_t last_time;
};

static int tally_fn(void *ctx, const struct audit_rec *r)
{
	struct tally *t = ctx;

	if (r->pid < 0 || r->pid >= THREADS || r->count != t->next[r->pid]) {
		t->in_order = 0;
		return 0;
	}
	t->next[r->pid]++;
	return 0;
}

static void test_threads(void)
{
	struct audit_config c = cfg_on(180 * DAY_NS);
	struct thread_arg args[THREADS];
	pthread_t th[THREADS];
	struct tally t = { .in_order = 1 };
	struct audit_stats st;
	char store[PATH_MAX], err[512];
	uint64_t all = 0;
	int rc;

	store_path(store, "threads");
	CHECK(audit_open(store, key, &c) == 0, "threads: open");
	for (unsigned i = 0; i < THREADS; i++) {
		args[i].t = i;
		if (pthread_create(&th[i], NULL, logger, &args[i]) != 0)
			die("pthread_create");
	}
	for (unsigned i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	CHECK(audit_dropped() == 0, "threads: nothing dropped");
	audit_close();
	rc = audit_read_stats(store, key, tally_fn, &t, &st, err, sizeof(err));
	for (unsigned i = 0; i < THREADS; i++)
		all += t.next[i];
	CHECK(rc == 0 && t.in_order && all == (uint64_t)THREADS * PER_THREAD &&
	      st.records == all, "8 threads x 10000 records: all there, each thread's in order");
	if (rc)
		printf("      %s\n", err);
}

/* A group commits within a second, and a reader may read while the writer
 * runs. */
static void test_commit_interval(void)
{
	struct audit_config c = cfg_on(180 * DAY_NS);
	struct timespec pause = { 1, 200 * 1000000 };
	struct got g = { 0 };
	struct audit_rec r;
	char store[PATH_MAX], err[512];
	int rc;

	store_path(store, "interval");
	CHECK(audit_open(store, key, &c) == 0, "interval: open");
	fill_rec(&r, AUDIT_OPEN_WRITE, 3);
	audit_log(&r);
	nanosleep(&pause, NULL);
	rc = audit_read(store, key, collect, &g, err, sizeof(err));
	CHECK(rc == 0 && g.n == 1 && rec_equal(&g.v[0], &r),
	      "a record is on disk within a second, readable while the writer runs");
	audit_close();
	free(g.v);
}

/* fork, as fuse_daemonize does it: records queued before the fork are
 * written once, the child goes on logging, the parent exits. */
static void test_fork(void)
{
	struct audit_config c = cfg_on(180 * DAY_NS);
	struct audit_stats st;
	struct got g = { 0 };
	struct audit_rec r;
	char store[PATH_MAX], err[512];
	int status, rc, ok;
	pid_t pid;

	store_path(store, "fork");
	CHECK(audit_open(store, key, &c) == 0, "fork: open");
	for (unsigned i = 0; i < 3; i++) {
		fill_rec(&r, AUDIT_EXPIRE, i);
		audit_log(&r); /* still queued at the fork: far below a second */
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		for (unsigned i = 3; i < 6; i++) {
			fill_rec(&r, AUDIT_EXPIRE, i);
			audit_log(&r);
		}
		audit_close();
		_exit(audit_dropped() == 0 ? 0 : 1);
	}
	/* Like fuse_daemonize's parent: log nothing more. */
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "fork: the child logged and closed");
	rc = read_all(store, key, &g, &st, err, sizeof(err));
	ok = rc == 0 && g.n == 6;
	for (unsigned i = 0; ok && i < 6; i++) {
		fill_rec(&r, AUDIT_EXPIRE, i);
		ok = rec_equal(&g.v[i], &r);
	}
	CHECK(ok, "fork: records from before and after, each once, chain intact");
	if (rc)
		printf("      %s\n", err);
	audit_close(); /* the parent's own close adds nothing */
	rc = read_all(store, key, &g, &st, err, sizeof(err));
	CHECK(rc == 0 && g.n == 6, "fork: the parent's close writes nothing");

	/* A child that never logs, and closes. */
	CHECK(audit_open(store, key, &c) == 0, "fork: reopen");
	fill_rec(&r, AUDIT_MOUNT, 1);
	audit_log(&r);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		audit_close();
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "fork: a child that only closes");
	rc = read_all(store, key, &g, &st, err, sizeof(err));
	CHECK(rc == 0 && g.n == 7 && rec_equal(&g.v[6], &r),
	      "fork: the record queued before the fork written once");
	audit_close();
	free(g.v);
}

/* The codec: random bytes and mutated encodings decode cleanly or not at
 * all, and what decodes re-encodes to the same bytes. */
static void test_codec_fuzz(void)
{
	uint8_t *buf = malloc(AUDIT_PLAIN_MAX), *again = malloc(AUDIT_PLAIN_MAX);
	struct audit_rec *r = malloc(sizeof(*r)), *d = malloc(sizeof(*d));
	int clean = 1, strict = 1, roundtrip = 1;

	for (uint32_t e = 1; e < AUDIT_EVENT_MAX; e++) {
		fill_rec(r, e, e % VARIANTS);
		size_t len = audit_encode(buf, r);

		roundtrip &= len % AUDIT_PLAIN_ALIGN == 0 && audit_decode(d, buf, len) == 0 &&
			     rec_equal(r, d);
	}
	CHECK(roundtrip, "codec: encode/decode round trip");
	for (int round = 0; round < 20000; round++) {
		size_t len;

		if (round % 2) {
			len = (size_t)(rnd() % (AUDIT_PLAIN_MAX + 2));
			for (size_t i = 0; i < len && i < AUDIT_PLAIN_MAX; i++)
				buf[i] = (uint8_t)rnd();
			if (len > AUDIT_PLAIN_MAX)
				len = AUDIT_PLAIN_MAX;
		} else {
			fill_rec(r, (uint32_t)(rnd() % AUDIT_EVENT_MAX), (unsigned)rnd() % VARIANTS);
			len = audit_encode(buf, r);
			for (int f = 0; f < 1 + (int)(rnd() % 3); f++)
				buf[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
		}
		int rc = audit_decode(d, buf, len);

		clean &= rc == 0 || rc == -EBADMSG;
		if (rc == 0)
			strict &= audit_encode(again, d) == len && !memcmp(again, buf, len);
	}
	CHECK(clean, "codec: garbage gives 0 or -EBADMSG");
	CHECK(strict, "codec: whatever decodes has exactly one encoding");
	free(buf);
	free(again);
	free(r);
	free(d);
}

/* Garbage segment files: audit_read answers 0 or -EBADMSG with a message,
 * and never crashes (ASan watches in make check). */
static void test_read_fuzz(void)
{
	char store[PATH_MAX], path[PATH_MAX], *names[MAX_SEGS], err[512];
	uint8_t *seg[MAX_SEGS], *buf;
	size_t len[MAX_SEGS];
	int n, clean = 1, rejected = 0;

	n = list_dir(s_main, names);
	for (int i = 0; i < n; i++) {
		seg_path(path, s_main, names[i]);
		seg[i] = file_read(path, &len[i]);
	}
	store_path(store, "fuzz");
	buf = malloc(1 << 16);
	for (int round = 0; round < FUZZ_ROUNDS; round++) {
		struct audit_stats st;
		struct got g = { 0 };
		int which = (int)(rnd() % (uint64_t)n), rc;
		size_t blen;

		copy_trail(s_main, store);
		seg_path(path, store, names[which]);
		switch (round % 4) {
		case 0: /* random bytes, sometimes behind the magic */
			blen = (size_t)(rnd() % 4096);
			for (size_t i = 0; i < blen; i++)
				buf[i] = (uint8_t)rnd();
			if (blen >= 8 && rnd() % 2)
				memcpy(buf, "RECFSAUD", 8);
			break;
		case 1: /* flipped bits */
			blen = len[which];
			memcpy(buf, seg[which], blen);
			for (int f = 0; f < 1 + (int)(rnd() % 8); f++)
				buf[rnd() % blen] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 2: /* cut anywhere */
			blen = (size_t)(rnd() % (len[which] + 1));
			memcpy(buf, seg[which], blen);
			break;
		default: /* random bytes spliced in */
			blen = len[which];
			memcpy(buf, seg[which], blen);
			{
				size_t at = (size_t)(rnd() % blen), k = 1 + (size_t)(rnd() % 64);

				memmove(buf + at + k, buf + at, blen - at);
				for (size_t i = 0; i < k; i++)
					buf[at + i] = (uint8_t)rnd();
				blen += k;
			}
			break;
		}
		file_write(path, buf, blen);
		err[0] = 'x';
		rc = read_all(store, key, &g, &st, err, sizeof(err));
		clean &= (rc == 0 && !err[0]) || (rc == -EBADMSG && err[0] && strlen(err) < sizeof(err));
		rejected += rc == -EBADMSG;
		free(g.v);
	}
	CHECK(clean, "garbage segments: 0, or -EBADMSG with a message");
	CHECK(rejected > FUZZ_ROUNDS / 2, "garbage segments: most are rejected");
	for (int i = 0; i < n; i++)
		free(seg[i]);
	free_names(names, n);
	free(buf);
}

int main(void)
{
	if (crypto_init() < 0) {
		fprintf(stderr, "test_audit: crypto_init failed\n");
		return 2;
	}
	if (!mkdtemp(tmpdir))
		die("mkdtemp");
	tmp_made = 1;
	log_setup(LOG_LVL_WARNING, 0);
	clock_start(0, 0);
	t0 = clock_now();
	crypto_random(key, sizeof(key));
	crypto_random(other_key, sizeof(other_key));

	test_names();
	test_comm();
	test_roundtrip();
	test_tamper();
	test_torn();
	test_retention();
	test_disabled();
	test_lost_at_close();
	test_commit_interval();
	test_threads();
	test_fork();
	test_codec_fuzz();
	test_read_fuzz();
	test_plaintext();

	free(expected);
	cleanup();
	return check_done();
}
