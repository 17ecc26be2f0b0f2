/*
 * fsx: a random-operation model checker for a mounted recfs.
 *
 *   fsx --dir MNT [--seed S] [--ops N] [--secs S] [--files F] [--keep DIR]
 *       [--state FILE] [--check] [--hold] [--no-bisect] [--bisect-secs N]
 *       [--no-otrunc] [-v]
 *
 * A seeded random mix of operations runs over F files (default 8, at most
 * 64) in MNT/fsx, MNT/fsx/sub and the keep folder (MNT/keep, or --keep):
 * create, write (1 B - 256 KiB at random offsets, 320-byte frames appended
 * like a recorder, 4-byte size patches at offsets 4 and 40, a 44-byte WAV
 * header, whole aligned blocks), read, truncate up and down (ftruncate
 * and truncate), rename (across folders, into and out of keep/, over
 * another file), unlink (also while open), fsync, close, reopen (with
 * O_TRUNC at times), stat and readdir. Every read, every stat/fstat size,
 * the user.recfs.state/retention attributes and every listing are
 * compared with an in-memory model of what the files must hold.
 *
 * Sealing (docs/retention.md) is part of the model: a file in keep/ with
 * no open write handle is sealed; opening it for writing and truncating it
 * must fail with EPERM; moving it out unseals it. FUSE sends RELEASE after
 * close() returns, so after the last write handle of a kept file closes
 * (or it is moved into keep/) fsx waits, up to 10 s, for state "sealed".
 *
 * --secs S stops the run early, at an op boundary, after S seconds (a time
 * budget for slow builds); the summary says how many ops ran, and that
 * count is what --ops must be given to replay the run.
 *
 * Phases: --state FILE loads the model from FILE when it exists (and
 * first checks every file against it), and saves it at a clean end. A test
 * script can so unmount and remount between runs. Each phase closes every
 * handle at its end. With --hold, the phase instead ends by fsyncing every
 * open writer, saving the model as it must look after a crash (kept files
 * still open for writing are sealed at the next mount), printing "HOLD",
 * and waiting to be killed: the script can then kill -9 the daemon while
 * the handles are open. --check only checks FILE's model and exits.
 *
 * On a mismatch fsx prints the seed, the op index, the last operations and
 * then (unless --no-bisect) looks for the shortest failing prefix: it
 * resets the files to the phase's starting model, replays the first n
 * operations and checks everything, bisecting on n (for at most
 * --bisect-secs, default 120). The state file is not rewritten after a
 * failure, so the printed command reproduces the run.
 *
 * --no-otrunc reopens with open() + ftruncate(0) instead of O_TRUNC (a
 * workaround while recfs ignores O_TRUNC on open, see 41-model.sh).
 *
 * Output: one summary line on success. Exit status: 0 fine, 1 mismatch,
 * 2 usage or setup error.
 */
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES 64
#define MAX_SIZE ((size_t)2 << 20)
#define MAX_WRITE ((size_t)256 << 10)
#define FRAME 320
#define BLOCK 4096
#define HIST 24
#define SEAL_WAIT_MS 10000
#define NAME_LEN 24

enum { LOC_TOP, LOC_SUB, LOC_KEEP, NLOC };
static const char *const loc_name[NLOC] = { "fsx", "fsx/sub", "keep" };

struct file {
	int exists;
	int loc;
	char name[NAME_LEN];
	int sealed;
	int fd; /* -1: no handle */
	int fd_rw;
	size_t size;
	unsigned char *data; /* MAX_SIZE bytes */
};

/* The model. */
static struct file files[MAX_FILES];
static int nfiles = 8;
static unsigned name_counter;

/* Options and paths. */
static const char *opt_dir, *opt_keep, *opt_state;
static uint64_t opt_seed = 1;
static long opt_ops = 10000;
static int opt_check, opt_hold, opt_bisect = 1, opt_verbose, opt_no_otrunc;
static long opt_bisect_secs = 120, opt_secs;
static long run_deadline; /* ms, 0: none; only the first run of a phase */
static char dirs[NLOC][PATH_MAX];

/* The run. */
static uint64_t rng;
static long opno;
static char hist[HIST][200];
static long hist_n;
static int failed;
static char failmsg[1024];
static unsigned char *wbuf, *rbuf;
static struct {
	long creates, writes, reads, truncs, renames, unlinks, fsyncs, closes, reopens,
	    stats, lists, seals, eperms, waits;
	unsigned long long wbytes, rbytes;
} cnt;

/* ---- helpers ---- */

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fsx: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* splitmix64: small, fast and good enough to pick operations. */
static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* 1 .. max, log-uniform, so small and large sizes both turn up often. */
static size_t rsize(size_t max)
{
	unsigned bits = (unsigned)below(19); /* up to 2^18 = 256 KiB */
	size_t n = (size_t)below((uint64_t)1 << bits) + 1;

	return n > max ? max : n;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Record what op opno does, for the report after a failure. */
static void note(const char *fmt, ...)
{
	char *h = hist[hist_n++ % HIST];
	int len;
	va_list ap;

	len = snprintf(h, sizeof(hist[0]), "#%ld ", opno);
	va_start(ap, fmt);
	vsnprintf(h + len, sizeof(hist[0]) - (size_t)len, fmt, ap);
	va_end(ap);
	if (opt_verbose)
		printf("    %s\n", h);
}

/* A check failed: remember the first message; the run stops after the op. */
static void bad(const char *fmt, ...)
{
	va_list ap;

	if (failed)
		return;
	failed = 1;
	va_start(ap, fmt);
	vsnprintf(failmsg, sizeof(failmsg), fmt, ap);
	va_end(ap);
}

static const char *ename(int e)
{
	const char *n = e ? strerrorname_np(e) : "OK";

	return n ? n : "E?";
}

/* buf (PATH_MAX bytes) = folder loc + name. */
static void path_in(char *buf, int loc, const char *name)
{
	if (snprintf(buf, PATH_MAX, "%s/%s", dirs[loc], name) >= PATH_MAX)
		abort(); /* cannot happen: folders are at most PATH_MAX / 2 */
}

static void path_of(int i, char *buf, size_t len)
{
	(void)len;
	path_in(buf, files[i].loc, files[i].name);
}

static void new_name(int i)
{
	snprintf(files[i].name, NAME_LEN, "f%u", name_counter++);
}

/* Content for a write: recognisable frames or pseudo-random bytes that
 * are never all zero, so they cannot pass for a hole. */
static void fill(unsigned char *p, size_t len, uint64_t off, int frames)
{
	uint64_t x = rnd() | 1;

	if (frames) {
		for (size_t k = 0; k < len; k++) {
			uint64_t at = off + k;

			if (at % FRAME < 4)
				p[k] = (unsigned char)"FRME"[at % FRAME];
			else
				p[k] = (unsigned char)((x >> (8 * (at % 7))) + at / FRAME);
		}
		return;
	}
	for (size_t k = 0; k < len; k += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(p + k, &x, len - k < 8 ? len - k : 8);
	}
	p[0] |= 1;
}

/* Read up to len bytes at off, retrying short reads until EOF. */
static ssize_t read_full(int fd, unsigned char *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, buf + done, len - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return done ? (ssize_t)done : -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* Compare what fd holds at [off, off+len) with the model of file i. */
static void check_range(int i, int fd, size_t off, size_t len, const char *how)
{
	struct file *f = &files[i];
	size_t want = off >= f->size ? 0 : (f->size - off < len ? f->size - off : len);
	ssize_t got = read_full(fd, rbuf, len, (off_t)off);

	cnt.rbytes += got > 0 ? (size_t)got : 0;
	if (got < 0) {
		bad("%s: read %s at %zu+%zu: %s", how, f->name, off, len, ename(errno));
		return;
	}
	if ((size_t)got != want) {
		bad("%s: read %s at %zu+%zu gave %zd bytes, model has %zu (size %zu)", how,
		    f->name, off, len, got, want, f->size);
		return;
	}
	for (size_t k = 0; k < want; k++) {
		if (rbuf[k] != f->data[off + k]) {
			size_t e = k;

			while (e < want && rbuf[e] != f->data[off + e])
				e++;
			bad("%s: read %s at %zu+%zu: byte %zu is 0x%02x, model 0x%02x "
			    "(%zu bytes differ from there; size %zu)", how, f->name, off, len,
			    off + k, rbuf[k], f->data[off + k], e - k, f->size);
			return;
		}
	}
}

static void check_size(int i, const struct stat *st, const char *how)
{
	if (!S_ISREG(st->st_mode))
		bad("%s: %s is not a regular file (mode 0%o)", how, files[i].name,
		    (unsigned)st->st_mode);
	else if ((size_t)st->st_size != files[i].size)
		bad("%s: %s has size %lld, model %zu", how, files[i].name,
		    (long long)st->st_size, files[i].size);
}

/* user.recfs.state of file i: wait up to ms for want (RELEASE is async). */
static int wait_state(int i, const char *want, long ms)
{
	char path[PATH_MAX], val[32];
	long end = now_ms() + ms;
	ssize_t n;

	path_of(i, path, sizeof(path));
	for (;;) {
		n = getxattr(path, "user.recfs.state", val, sizeof(val) - 1);
		if (n >= 0) {
			val[n] = '\0';
			if (!strcmp(val, want))
				return 0;
		}
		if (now_ms() > end)
			break;
		cnt.waits++;
		sleep_ms(1);
	}
	bad("%s: user.recfs.state is '%s', want '%s' (waited %ld ms)", files[i].name,
	    n >= 0 ? val : ename(errno), want, ms);
	return -1;
}

/* File i lost its last write handle in keep/ (or arrived there without
 * one): it must become sealed. */
static void expect_sealed(int i)
{
	cnt.seals++;
	files[i].sealed = 1;
	wait_state(i, "sealed", SEAL_WAIT_MS);
}

static void close_fd(int i)
{
	struct file *f = &files[i];

	if (f->fd < 0)
		return;
	if (close(f->fd) != 0)
		bad("close %s: %s", f->name, ename(errno));
	f->fd = -1;
	if (f->fd_rw && f->loc == LOC_KEEP && f->exists)
		expect_sealed(i);
	f->fd_rw = 0;
}

/* Open file i: read-write when it may be written, else read-only. */
static void open_fd(int i, int want_rw, int trunc)
{
	struct file *f = &files[i];
	char path[PATH_MAX];
	int rw = want_rw && !f->sealed;

	path_of(i, path, sizeof(path));
	f->fd = open(path, (rw ? O_RDWR : O_RDONLY) | (rw && trunc && !opt_no_otrunc ? O_TRUNC : 0));
	if (f->fd < 0) {
		bad("open %s %s: %s", path, rw ? "rdwr" : "rdonly", ename(errno));
		return;
	}
	if (rw && trunc && opt_no_otrunc && ftruncate(f->fd, 0) != 0) {
		bad("ftruncate %s to 0 after open: %s", path, ename(errno));
		return;
	}
	f->fd_rw = rw;
	if (rw && trunc) {
		memset(f->data, 0, f->size);
		f->size = 0;
	}
}

/* A sealed file refuses writers: open(O_RDWR) must give EPERM. */
static void expect_eperm_open(int i)
{
	char path[PATH_MAX];
	int fd;

	path_of(i, path, sizeof(path));
	cnt.eperms++;
	fd = open(path, below(2) ? O_RDWR : O_WRONLY | O_APPEND);
	if (fd >= 0) {
		close(fd);
		bad("open for writing of sealed %s succeeded, want EPERM", path);
	} else if (errno != EPERM) {
		bad("open for writing of sealed %s: %s, want EPERM", path, ename(errno));
	}
}

/* Read the whole of file i through fd and compare. */
static void check_all(int i, int fd, const char *how)
{
	check_range(i, fd, 0, files[i].size + 1, how);
}

/* ---- operations ---- */

static void op_create(int i)
{
	struct file *f = &files[i];
	char path[PATH_MAX];

	cnt.creates++;
	f->loc = (int)below(NLOC);
	new_name(i);
	path_of(i, path, sizeof(path));
	note("create %s", path);
	f->fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (f->fd < 0) {
		bad("create %s: %s", path, ename(errno));
		return;
	}
	f->exists = 1;
	f->fd_rw = 1;
	f->sealed = 0;
	f->size = 0;
}

static void op_write(int i)
{
	struct file *f = &files[i];
	unsigned k = (unsigned)below(100);
	size_t off, len;
	int frames = 0;
	ssize_t w;

	if (k < 25) {
		frames = 1;
		off = f->size;
		len = FRAME * (1 + below(8));
	} else if (k < 33) {
		off = below(2) ? 4 : 40;
		len = 4;
	} else if (k < 38) {
		off = 0;
		len = 44;
	} else if (k < 53) {
		off = below(f->size / BLOCK + 2) * BLOCK;
		len = (1 + below(16)) * BLOCK;
	} else {
		off = below(f->size + 65536 + 1);
		len = rsize(MAX_WRITE);
	}
	if (off >= MAX_SIZE)
		off = below(MAX_SIZE / 2);
	if (off + len > MAX_SIZE)
		len = MAX_SIZE - off;
	if (k >= 25 && k < 33) {
		/* The size field a recorder patches in at the end. */
		uint32_t v = (uint32_t)(f->size > off + 4 ? f->size - off - 4 : 0);

		memcpy(wbuf, &v, 4);
	} else {
		fill(wbuf, len, off, frames);
	}
	note("write %s/%s at %zu+%zu%s", loc_name[f->loc], f->name, off, len,
	     frames ? " (frames)" : "");
	if (f->sealed) {
		expect_eperm_open(i);
		return;
	}
	if (f->fd >= 0 && !f->fd_rw)
		close_fd(i);
	if (f->fd < 0)
		open_fd(i, 1, 0);
	if (failed)
		return;
	cnt.writes++;
	cnt.wbytes += len;
	w = pwrite(f->fd, wbuf, len, (off_t)off);
	if (w != (ssize_t)len) {
		bad("pwrite %s at %zu+%zu: %s", f->name, off, len,
		    w < 0 ? ename(errno) : "short write");
		return;
	}
	if (off > f->size)
		memset(f->data + f->size, 0, off - f->size);
	memcpy(f->data + off, wbuf, len);
	if (off + len > f->size)
		f->size = off + len;
}

static void op_read(int i)
{
	struct file *f = &files[i];
	size_t off = below(f->size + 8192 + 1), len = rsize(MAX_WRITE);
	int tmp = f->fd < 0 || below(4) == 0;
	char path[PATH_MAX];
	int fd = f->fd;

	cnt.reads++;
	note("read %s/%s at %zu+%zu%s", loc_name[f->loc], f->name, off, len,
	     tmp ? " (new handle)" : "");
	if (tmp) {
		path_of(i, path, sizeof(path));
		fd = open(path, O_RDONLY);
		if (fd < 0) {
			bad("open %s rdonly: %s", path, ename(errno));
			return;
		}
	}
	check_range(i, fd, off, len, "read");
	if (tmp)
		close(fd);
}

static void op_truncate(int i)
{
	struct file *f = &files[i];
	unsigned k = (unsigned)below(100);
	int via_fd = f->fd >= 0 && f->fd_rw && below(2);
	char path[PATH_MAX];
	size_t size;
	int rc;

	if (k < 5)
		size = 0;
	else if (k < 45)
		size = below(f->size + 1);
	else if (k < 80)
		size = f->size + rsize(512 << 10);
	else
		size = below(f->size / BLOCK + 3) * BLOCK;
	if (size > MAX_SIZE)
		size = MAX_SIZE - below(BLOCK);
	path_of(i, path, sizeof(path));
	note("%struncate %s/%s %zu -> %zu", via_fd ? "f" : "", loc_name[f->loc], f->name,
	     f->size, size);
	cnt.truncs++;
	rc = via_fd ? ftruncate(f->fd, (off_t)size) : truncate(path, (off_t)size);
	if (f->sealed) {
		cnt.eperms++;
		if (rc == 0 || errno != EPERM)
			bad("truncate of sealed %s: %s, want EPERM", path, ename(rc ? errno : 0));
		return;
	}
	if (rc != 0) {
		bad("%struncate %s to %zu: %s", via_fd ? "f" : "", path, size, ename(errno));
		return;
	}
	if (size > f->size)
		memset(f->data + f->size, 0, size - f->size);
	f->size = size;
}

/* File j was replaced or unlinked while fsx held it open: its handle must
 * still read (and write) the old content. Then it is closed and gone. */
static void orphan_check(int j)
{
	struct file *f = &files[j];

	if (f->fd >= 0) {
		if (f->fd_rw && below(2)) {
			size_t off = below(f->size + 1), len = rsize(8192);

			if (off + len > MAX_SIZE)
				len = MAX_SIZE - off;
			fill(wbuf, len, off, 0);
			if (pwrite(f->fd, wbuf, len, (off_t)off) != (ssize_t)len) {
				bad("pwrite to unlinked %s: %s", f->name, ename(errno));
			} else {
				if (off > f->size)
					memset(f->data + f->size, 0, off - f->size);
				memcpy(f->data + off, wbuf, len);
				if (off + len > f->size)
					f->size = off + len;
			}
		}
		check_all(j, f->fd, "unlinked but open");
		close(f->fd);
		f->fd = -1;
		f->fd_rw = 0;
	}
	f->exists = 0;
	f->size = 0;
}

static void op_rename(int i)
{
	struct file *f = &files[i];
	char from[PATH_MAX], to[PATH_MAX];
	int j = -1, oldloc = f->loc, newloc = (int)below(NLOC);
	unsigned k = (unsigned)below(100);

	path_of(i, from, sizeof(from));
	if (k < 15) {
		j = (int)below((uint64_t)nfiles);
		if (j == i || !files[j].exists)
			j = -1;
	}
	if (j >= 0) {
		newloc = files[j].loc;
		path_in(to, newloc, files[j].name);
	} else if (k < 30) {
		path_in(to, newloc, f->name);
	} else {
		char nm[NAME_LEN];

		snprintf(nm, sizeof(nm), "f%u", name_counter++);
		path_in(to, newloc, nm);
	}
	note("rename %s -> %s%s", from, to, j >= 0 ? " (replaces)" : "");
	cnt.renames++;
	if (rename(from, to) != 0) {
		bad("rename %s -> %s: %s", from, to, ename(errno));
		return;
	}
	if (j >= 0) {
		memcpy(f->name, files[j].name, NAME_LEN);
		orphan_check(j);
	} else {
		snprintf(f->name, NAME_LEN, "%s", strrchr(to, '/') + 1);
	}
	f->loc = newloc;
	if (newloc == LOC_KEEP && oldloc != LOC_KEEP && !(f->fd >= 0 && f->fd_rw))
		expect_sealed(i);
	else if (newloc != LOC_KEEP)
		f->sealed = 0;
}

static void op_unlink(int i)
{
	char path[PATH_MAX];

	path_of(i, path, sizeof(path));
	note("unlink %s%s", path, files[i].fd >= 0 ? " (open)" : "");
	cnt.unlinks++;
	if (unlink(path) != 0) {
		bad("unlink %s: %s", path, ename(errno));
		return;
	}
	orphan_check(i);
}

static void op_fsync(int i)
{
	struct file *f = &files[i];

	if (f->fd < 0)
		open_fd(i, 1, 0);
	if (failed)
		return;
	note("fsync %s/%s (%s)", loc_name[f->loc], f->name, f->fd_rw ? "rw" : "ro");
	cnt.fsyncs++;
	if (fsync(f->fd) != 0)
		bad("fsync %s: %s", f->name, ename(errno));
}

static void op_close(int i)
{
	note("close %s/%s", loc_name[files[i].loc], files[i].name);
	cnt.closes++;
	close_fd(i);
}

static void op_reopen(int i)
{
	struct file *f = &files[i];
	unsigned k = (unsigned)below(100);

	note("reopen %s/%s%s", loc_name[f->loc], f->name,
	     f->sealed ? " (sealed)" : k < 8 ? " O_TRUNC" : k < 30 ? " rdonly" : "");
	cnt.reopens++;
	close_fd(i);
	if (failed)
		return;
	if (f->sealed && k < 40)
		expect_eperm_open(i);
	open_fd(i, k >= 8 && k < 30 ? 0 : 1, k < 8);
}

static void op_stat(int i)
{
	struct file *f = &files[i];
	char path[PATH_MAX], val[32];
	struct stat st;
	ssize_t n;

	path_of(i, path, sizeof(path));
	note("stat %s", path);
	cnt.stats++;
	if (stat(path, &st) != 0) {
		bad("stat %s: %s", path, ename(errno));
		return;
	}
	check_size(i, &st, "stat");
	if (f->fd >= 0) {
		if (fstat(f->fd, &st) != 0)
			bad("fstat %s: %s", path, ename(errno));
		else
			check_size(i, &st, "fstat");
	}
	n = getxattr(path, "user.recfs.retention", val, sizeof(val) - 1);
	val[n > 0 ? n : 0] = '\0';
	if (strcmp(val, f->loc == LOC_KEEP ? "keep" : "short"))
		bad("%s: user.recfs.retention is '%s', want '%s'", path, val,
		    f->loc == LOC_KEEP ? "keep" : "short");
	if (f->sealed)
		wait_state(i, "sealed", 0);
	else if (f->fd >= 0 && f->fd_rw)
		wait_state(i, "recording", 0);
	else
		wait_state(i, "closed", SEAL_WAIT_MS); /* a RELEASE may be on its way */
}

/* Every name fsx owns in its three folders, against the model. */
static void op_list(void)
{
	note("list");
	cnt.lists++;
	for (int l = 0; l < NLOC && !failed; l++) {
		DIR *d = opendir(dirs[l]);
		struct dirent *de;
		int seen[MAX_FILES] = { 0 };

		if (!d) {
			bad("opendir %s: %s", dirs[l], ename(errno));
			return;
		}
		while ((de = readdir(d)) != NULL) {
			int i;

			if (de->d_name[0] != 'f' || (l == LOC_TOP && !strcmp(de->d_name, "sub")))
				continue;
			for (i = 0; i < nfiles; i++)
				if (files[i].exists && files[i].loc == l &&
				    !strcmp(files[i].name, de->d_name))
					break;
			if (i == nfiles) {
				if (l != LOC_TOP || strcmp(de->d_name, "sub"))
					bad("listing of %s has '%s', not in the model", dirs[l],
					    de->d_name);
				continue;
			}
			if (seen[i]++)
				bad("listing of %s has '%s' twice", dirs[l], de->d_name);
		}
		closedir(d);
		for (int i = 0; i < nfiles; i++)
			if (files[i].exists && files[i].loc == l && !seen[i])
				bad("listing of %s lacks '%s'", dirs[l], files[i].name);
	}
}

/* Everything: listings, then each file's size, state and whole content. */
static void full_check(const char *how)
{
	char path[PATH_MAX];
	struct stat st;

	op_list();
	for (int i = 0; i < nfiles && !failed; i++) {
		struct file *f = &files[i];
		int fd;

		if (!f->exists)
			continue;
		path_of(i, path, sizeof(path));
		if (stat(path, &st) != 0) {
			bad("%s: stat %s: %s", how, path, ename(errno));
			break;
		}
		check_size(i, &st, how);
		fd = open(path, O_RDONLY);
		if (fd < 0) {
			bad("%s: open %s: %s", how, path, ename(errno));
			break;
		}
		check_all(i, fd, how);
		close(fd);
		if (f->sealed)
			wait_state(i, "sealed", 0);
	}
}

static void one_op(void)
{
	int i = (int)below((uint64_t)nfiles);
	unsigned k = (unsigned)below(100);

	if (!files[i].exists) {
		op_create(i);
		return;
	}
	if (k < 30)
		op_write(i);
	else if (k < 50)
		op_read(i);
	else if (k < 57)
		op_truncate(i);
	else if (k < 64)
		op_rename(i);
	else if (k < 66)
		op_unlink(i);
	else if (k < 70)
		op_fsync(i);
	else if (k < 75)
		op_close(i);
	else if (k < 79)
		op_reopen(i);
	else if (k < 98)
		op_stat(i);
	else
		op_list();
}

/* ---- state ---- */

static void model_reset(void)
{
	for (int i = 0; i < MAX_FILES; i++) {
		files[i].exists = files[i].sealed = files[i].fd_rw = 0;
		files[i].fd = -1;
		files[i].size = 0;
		files[i].loc = LOC_TOP;
		files[i].name[0] = '\0';
	}
	name_counter = 0;
}

static int state_load(const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[256];
	int n, version;

	model_reset();
	if (!fp) {
		if (errno == ENOENT)
			return 0;
		die("%s: %s", path, strerror(errno));
	}
	/* Lines are read whole: a data block may begin with white space. */
	if (!fgets(line, sizeof(line), fp) ||
	    sscanf(line, "fsx-state %d files %d names %u", &version, &n, &name_counter) != 3 ||
	    version != 1 || n != nfiles)
		die("%s: not an fsx state for --files %d", path, nfiles);
	for (int i = 0; i < nfiles; i++) {
		struct file *f = &files[i];

		if (!fgets(line, sizeof(line), fp) ||
		    sscanf(line, "%d %d %d %zu %23s", &f->exists, &f->loc, &f->sealed, &f->size,
		           f->name) != 5 || f->loc < 0 || f->loc >= NLOC || f->size > MAX_SIZE ||
		    fread(f->data, 1, f->size, fp) != f->size || fgetc(fp) != '\n')
			die("%s: damaged at file %d", path, i);
	}
	fclose(fp);
	return 1;
}

static void state_save(const char *path)
{
	char tmp[PATH_MAX];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fp = fopen(tmp, "w");
	if (!fp)
		die("%s: %s", tmp, strerror(errno));
	fprintf(fp, "fsx-state 1 files %d names %u\n", nfiles, name_counter);
	for (int i = 0; i < nfiles; i++) {
		struct file *f = &files[i];

		fprintf(fp, "%d %d %d %zu %s\n", f->exists, f->loc, f->sealed, f->size,
		        f->exists ? f->name : "-");
		fwrite(f->data, 1, f->size, fp);
		fputc('\n', fp);
	}
	if (fclose(fp) != 0 || rename(tmp, path) != 0)
		die("%s: %s", path, strerror(errno));
}

/* ---- runs ---- */

/* dst = a + b, or stop: fsx's folders must have short paths. */
static void join(char *dst, const char *a, const char *b)
{
	if (snprintf(dst, PATH_MAX / 2, "%s%s", a, b) >= PATH_MAX / 2)
		die("path too long: %s%s", a, b);
}

static void make_dirs(void)
{
	join(dirs[LOC_TOP], opt_dir, "/fsx");
	join(dirs[LOC_SUB], opt_dir, "/fsx/sub");
	if (opt_keep)
		join(dirs[LOC_KEEP], opt_keep, "");
	else
		join(dirs[LOC_KEEP], opt_dir, "/keep");
	for (int l = 0; l < NLOC; l++)
		if (mkdir(dirs[l], 0755) != 0 && errno != EEXIST)
			die("mkdir %s: %s", dirs[l], strerror(errno));
}

/* Remove every file fsx may have made (names f<digits>). */
static void wipe_dirs(void)
{
	char path[PATH_MAX];

	for (int l = 0; l < NLOC; l++) {
		DIR *d = opendir(dirs[l]);
		struct dirent *de;

		if (!d)
			die("opendir %s: %s", dirs[l], strerror(errno));
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] != 'f' || strspn(de->d_name + 1, "0123456789") !=
			                                strlen(de->d_name + 1) || !de->d_name[1])
				continue;
			path_in(path, l, de->d_name);
			if (unlink(path) != 0)
				die("unlink %s: %s", path, strerror(errno));
		}
		closedir(d);
	}
}

/* Make the files on disk match the starting model (for a replay). */
static void materialise(void)
{
	char path[PATH_MAX];

	wipe_dirs();
	for (int i = 0; i < nfiles && !failed; i++) {
		struct file *f = &files[i];
		int fd;

		if (!f->exists)
			continue;
		path_of(i, path, sizeof(path));
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0 || pwrite(fd, f->data, f->size, 0) != (ssize_t)f->size || close(fd) != 0)
			die("replay: cannot recreate %s: %s", path, strerror(errno));
		if (f->loc == LOC_KEEP)
			wait_state(i, "sealed", SEAL_WAIT_MS);
	}
}

static void close_all(void)
{
	for (int i = 0; i < nfiles && !failed; i++)
		if (files[i].fd >= 0)
			close_fd(i);
}

/* Run ops [0, limit) from the current model and the seed; -1 when all
 * passed, else the index of the failing op. With final, check everything
 * at the end (and close every handle first). */
static long run(long limit, int final)
{
	rng = opt_seed;
	failed = 0;
	hist_n = 0;
	for (opno = 0; opno < limit && !failed; opno++) {
		if (run_deadline && opno % 16 == 0 && now_ms() > run_deadline)
			break;
		one_op();
	}
	if (failed)
		return opno - 1;
	opt_ops = opno; /* what ran: what a replay must run */
	if (final) {
		close_all();
		full_check("final check");
	}
	return failed ? limit : -1;
}

static void print_hist(void)
{
	long from = hist_n > HIST ? hist_n - HIST : 0;

	printf("fsx: last operations:\n");
	for (long h = from; h < hist_n; h++)
		printf("    %s\n", hist[h % HIST]);
}

static void print_repro(long n)
{
	printf("fsx: reproduce: fsx --dir %s%s%s --seed %llu --ops %ld --files %d%s%s%s --no-bisect\n",
	       opt_dir, opt_keep ? " --keep " : "", opt_keep ? opt_keep : "",
	       (unsigned long long)opt_seed, n, nfiles, opt_state ? " --state " : "",
	       opt_state ? opt_state : "", opt_no_otrunc ? " --no-otrunc" : "");
}

/* Reset to the start of the phase (model and files). */
static void restart(void)
{
	for (int i = 0; i < nfiles; i++)
		if (files[i].fd >= 0)
			close(files[i].fd);
	if (opt_state)
		state_load(opt_state);
	else
		model_reset();
	materialise();
}

/* The shortest n such that ops [0, n) and a full check fail. */
static void bisect(long fail_at)
{
	long lo = 0, hi = fail_at + 1, deadline = now_ms() + opt_bisect_secs * 1000;
	char first[sizeof(failmsg)];

	memcpy(first, failmsg, sizeof(first));
	printf("fsx: bisecting for the shortest failing prefix (at most %ld s)\n",
	       opt_bisect_secs);
	fflush(stdout);
	restart();
	if (run(hi, 1) < 0) {
		printf("fsx: the %ld-op prefix passes on a replay: the failure depends on timing "
		       "or on the state before this phase\n", hi);
		return;
	}
	/* Invariant: prefix hi fails, prefix lo passes (0 passes trivially). */
	while (hi - lo > 1) {
		long mid = lo + (hi - lo) / 2;

		if (now_ms() > deadline) {
			printf("fsx: time is up: somewhere in (%ld, %ld]\n", lo, hi);
			break;
		}
		restart();
		if (run(mid, 1) >= 0)
			hi = mid;
		else
			lo = mid;
	}
	restart();
	run(hi, 1);
	printf("fsx: shortest failing prefix: %ld ops (op #%ld is the first that breaks it)\n",
	       hi, hi - 1);
	printf("fsx: with that prefix: %s\n", failmsg);
	print_hist();
	print_repro(hi);
	memcpy(failmsg, first, sizeof(first));
}

/* --hold: make every open writer durable, save the model as it must look
 * after a crash, and wait to be killed. */
static void hold(void)
{
	for (int i = 0; i < nfiles && !failed; i++) {
		struct file *f = &files[i];

		if (f->fd >= 0 && f->fd_rw && fsync(f->fd) != 0)
			bad("hold: fsync %s: %s", f->name, ename(errno));
	}
	full_check("hold check");
	if (failed)
		return;
	for (int i = 0; i < nfiles; i++) {
		/* A kept file still being written is sealed at the next mount. */
		if (files[i].exists && files[i].loc == LOC_KEEP)
			files[i].sealed = 1;
	}
	if (opt_state)
		state_save(opt_state);
	printf("fsx: seed %llu: %ld ops OK; every writer fsynced and held open\n",
	       (unsigned long long)opt_seed, opt_ops);
	printf("HOLD\n");
	fflush(stdout);
	for (;;)
		pause();
}

static void usage(void)
{
	fputs("usage: fsx --dir MNT [--seed S] [--ops N] [--files F] [--keep DIR] "
	      "[--secs S] [--state FILE] [--check] [--hold] [--no-bisect] [--bisect-secs N] "
	      "[--no-otrunc] [-v]\n",
	      stderr);
	exit(2);
}

static long long num_arg(const char *s)
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
	long fail_at, t0 = now_ms();

	for (int a = 1; a < argc; a++) {
		const char *o = argv[a];
		const char *v = a + 1 < argc ? argv[a + 1] : NULL;

		if (!strcmp(o, "--check"))
			opt_check = 1;
		else if (!strcmp(o, "--hold"))
			opt_hold = 1;
		else if (!strcmp(o, "--no-bisect"))
			opt_bisect = 0;
		else if (!strcmp(o, "--no-otrunc"))
			opt_no_otrunc = 1;
		else if (!strcmp(o, "-v"))
			opt_verbose = 1;
		else if (!v)
			usage();
		else if (a++, !strcmp(o, "--dir"))
			opt_dir = v;
		else if (!strcmp(o, "--keep"))
			opt_keep = v;
		else if (!strcmp(o, "--state"))
			opt_state = v;
		else if (!strcmp(o, "--seed"))
			opt_seed = (uint64_t)num_arg(v);
		else if (!strcmp(o, "--ops"))
			opt_ops = (long)num_arg(v);
		else if (!strcmp(o, "--files"))
			nfiles = (int)num_arg(v);
		else if (!strcmp(o, "--secs"))
			opt_secs = (long)num_arg(v);
		else if (!strcmp(o, "--bisect-secs"))
			opt_bisect_secs = (long)num_arg(v);
		else
			usage();
	}
	if (!opt_dir || nfiles < 1 || nfiles > MAX_FILES)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	wbuf = malloc(MAX_SIZE);
	rbuf = malloc(MAX_SIZE + 1);
	for (int i = 0; i < MAX_FILES; i++)
		files[i].data = calloc(1, i < nfiles ? MAX_SIZE : 1);
	if (!wbuf || !rbuf || !files[nfiles - 1].data)
		die("out of memory");
	make_dirs();
	model_reset();
	if (opt_state && state_load(opt_state)) {
		opno = -1;
		full_check("state check at start");
		if (failed) {
			printf("fsx: FAIL: seed %llu: before the first op: %s\n",
			       (unsigned long long)opt_seed, failmsg);
			return 1;
		}
	} else if (opt_check) {
		die("--check needs an existing --state file");
	} else {
		wipe_dirs();
	}
	if (opt_check) {
		printf("fsx: state %s checks out\n", opt_state);
		return 0;
	}
	if (opt_secs)
		run_deadline = now_ms() + opt_secs * 1000;
	fail_at = run(opt_ops, !opt_hold);
	run_deadline = 0;
	if (fail_at < 0 && opt_hold)
		hold();
	if (failed) {
		printf("fsx: FAIL: seed %llu: op #%ld of %ld: %s\n", (unsigned long long)opt_seed,
		       fail_at < 0 ? opt_ops : fail_at, opt_ops, failmsg);
		print_hist();
		print_repro(fail_at + 1);
		if (opt_bisect)
			bisect(fail_at);
		return 1;
	}
	if (opt_state)
		state_save(opt_state);
	printf("fsx: seed %llu: %ld ops OK in %.1f s (%ld creates, %ld writes %.1f MiB, "
	       "%ld reads %.1f MiB, %ld truncates, %ld renames, %ld unlinks, %ld fsyncs, "
	       "%ld closes, %ld reopens, %ld stats, %ld listings, %ld seals, %ld EPERMs, "
	       "%ld ms waiting for RELEASE)\n",
	       (unsigned long long)opt_seed, opt_ops, (now_ms() - t0) / 1000.0, cnt.creates,
	       cnt.writes, cnt.wbytes / 1048576.0, cnt.reads, cnt.rbytes / 1048576.0, cnt.truncs,
	       cnt.renames, cnt.unlinks, cnt.fsyncs, cnt.closes, cnt.reopens, cnt.stats,
	       cnt.lists, cnt.seals, cnt.eperms, cnt.waits);
	return 0;
}
