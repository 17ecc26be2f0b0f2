/*
 * audit: owns the store's audit/ folder. Three parts:
 *
 *  - the record codec (audit_encode / audit_decode): struct audit_rec to
 *    and from its fixed little-endian plaintext, padded so that a record's
 *    size says little about its paths;
 *  - the writer: audit_log queues encoded records; one thread seals them,
 *    chains them and appends them to the current segment with one write
 *    and one fdatasync per group, rotates segments by UTC day and destroys
 *    those past keep;
 *  - the reader (audit_read_stats): walks every segment in order,
 *    re-computes the chain, opens and decodes each record.
 *
 * The byte-level format is docs/audit.md; the comments here say why.
 * Segment files are named NNNNNNNN-YYYY-MM-DD (a counter and a UTC day):
 * the names show when, nothing else.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "clock.h"
#include "crypto.h"
#include "le.h"
#include "log.h"

#define AUDIT_DIR "audit"
#define DAY_SECS 86400LL
#define DAY_NS (DAY_SECS * NSEC_PER_SEC)

/* Segment header (docs/audit.md, "Segment header"). */
#define SEG_MAGIC "RECFSAUD"
#define SEG_VERSION 1
#define SEG_HDR_BYTES 128
#define SEG_HDR_MAC_OFF 96
#define SEG_NAME_BYTES 40 /* up to 20 digits, '-', YYYY-MM-DD, NUL */
#define SEG_NAME_DIGITS 8
#define SEG_TMP_PREFIX ".new-"
#define SEG_DESTROY_PREFIX ".destroy-"
/* The count of records lost at a close and not yet in the trail: the next
 * open reports them with its first group. */
#define LOST_FILE "lost"

/* Record encoding version (byte 0 of the plaintext). */
#define REC_VERSION 1

/* Frame: u32 box length | sealed box | chain MAC. */
#define FRAME_LEN_BYTES 4
#define FRAME_MAC_BYTES CRYPTO_HASH_BYTES
#define BOX_MIN (AUDIT_PLAIN_ALIGN + CRYPTO_SEAL_OVERHEAD)
#define BOX_MAX (AUDIT_PLAIN_MAX + CRYPTO_SEAL_OVERHEAD)
#define FRAME_OVERHEAD (FRAME_LEN_BYTES + CRYPTO_SEAL_OVERHEAD + FRAME_MAC_BYTES)
#define FRAME_MAX (FRAME_LEN_BYTES + BOX_MAX + FRAME_MAC_BYTES)

/* Subkeys of the audit key. */
#define KDF_CTX "audtrail"
#define KDF_SEAL 1
#define KDF_REC_MAC 2
#define KDF_HDR_MAC 3

/* Queue and group commit. */
#define QUEUE_MAX_RECORDS 100000
#define QUEUE_MAX_BYTES (64u << 20)
#define GROUP_RECORDS 4096          /* wake the writer before the interval */
#define GROUP_MAX_BYTES (4u << 20)  /* one write is at most this (plus a frame) */
#define COMMIT_NS (500 * 1000000LL) /* oldest queued record waits at most this */
#define IDLE_NS (60 * NSEC_PER_SEC) /* idle writer wakes to check the day */

#define READ_BUF_BYTES (1u << 20)
#define ZERO_CHUNK 65536

_Static_assert(PATH_MAX - 1 <= UINT16_MAX, "path lengths are u16");
_Static_assert(READ_BUF_BYTES >= FRAME_MAX, "a frame fits the read buffer");
_Static_assert(SEG_HDR_MAC_OFF + CRYPTO_HASH_BYTES == SEG_HDR_BYTES, "header layout");

struct audit_keys {
	uint8_t seal[CRYPTO_KEY_BYTES];
	uint8_t rec_mac[CRYPTO_KEY_BYTES];
	uint8_t hdr_mac[CRYPTO_KEY_BYTES];
};

struct seg_hdr {
	uint64_t index;    /* 1 for a store's first segment, then +1 */
	int64_t day;       /* UTC day (days since the epoch) of its records */
	uint64_t prev_len; /* valid length of segment index - 1, 0 if none */
	uint8_t prev_mac[CRYPTO_HASH_BYTES]; /* chain value at that length */
	uint8_t mac[CRYPTO_HASH_BYTES];      /* the header's own chain value */
};

struct seg_ent {
	uint64_t index;
	int64_t day;
	char name[SEG_NAME_BYTES];
};

static int is_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	while (n--)
		acc |= *p++;
	return acc == 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return clock_from_ts(&ts);
}

static void __attribute__((format(printf, 3, 4)))
report(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- event names ---- */

static const char *const event_names[AUDIT_EVENT_MAX] = {
	[AUDIT_CREATE] = "create",           [AUDIT_OPEN_READ] = "open-read",
	[AUDIT_CLOSE_READ] = "close-read",   [AUDIT_OPEN_WRITE] = "open-write",
	[AUDIT_CLOSE_WRITE] = "close-write", [AUDIT_KEEP] = "keep",
	[AUDIT_UNKEEP] = "unkeep",           [AUDIT_RENAME] = "rename",
	[AUDIT_CHMOD] = "chmod",             [AUDIT_CHOWN] = "chown",
	[AUDIT_SEAL] = "seal",               [AUDIT_UNLINK] = "unlink",
	[AUDIT_EXPIRE] = "expire",           [AUDIT_DAMAGED] = "damaged",
	[AUDIT_MOUNT] = "mount",             [AUDIT_UNMOUNT] = "unmount",
	[AUDIT_CATCHUP] = "catchup",         [AUDIT_REKEY] = "rekey",
	[AUDIT_DROPPED] = "dropped",
};

const char *audit_event_name(uint32_t event)
{
	return event < AUDIT_EVENT_MAX ? event_names[event] : NULL;
}

/* ---- record codec ---- */

/* The encoded length of r: the fixed part and both paths, padded. */
static size_t plain_len(const struct audit_rec *r)
{
	size_t used = AUDIT_PLAIN_FIXED + strnlen(r->path, PATH_MAX - 1) +
		      strnlen(r->path2, PATH_MAX - 1);

	return (used + AUDIT_PLAIN_ALIGN - 1) / AUDIT_PLAIN_ALIGN * AUDIT_PLAIN_ALIGN;
}

/* The offsets below are the table in docs/audit.md, "Record". */
size_t audit_encode(uint8_t *buf, const struct audit_rec *r)
{
	size_t comm_len = strnlen(r->comm, sizeof(r->comm) - 1);
	size_t pl = strnlen(r->path, PATH_MAX - 1);
	size_t p2l = strnlen(r->path2, PATH_MAX - 1);
	size_t len = plain_len(r);

	memset(buf, 0, len);
	buf[0] = REC_VERSION;
	buf[1] = r->klass;
	put32(buf + 4, r->event);
	put64(buf + 8, (uint64_t)r->time);
	put32(buf + 16, r->uid);
	put32(buf + 20, r->gid);
	put32(buf + 24, (uint32_t)r->pid);
	put32(buf + 28, r->mode);
	put32(buf + 32, r->uid2);
	put32(buf + 36, r->gid2);
	memcpy(buf + 40, r->comm, comm_len);
	memcpy(buf + 56, r->id.b, STORE_ID_BYTES);
	put64(buf + 72, r->size);
	put64(buf + 80, r->bytes);
	put64(buf + 88, r->count);
	put64(buf + 96, (uint64_t)r->deadline);
	put64(buf + 104, (uint64_t)r->lateness_ms);
	put64(buf + 112, (uint64_t)r->duration_ms);
	memcpy(buf + 120, r->sha256, CRYPTO_HASH_BYTES);
	put16(buf + 152, (uint16_t)pl);
	put16(buf + 154, (uint16_t)p2l);
	memcpy(buf + AUDIT_PLAIN_FIXED, r->path, pl);
	memcpy(buf + AUDIT_PLAIN_FIXED + pl, r->path2, p2l);
	return len;
}

/* Strict: every byte has one meaning, so one record has one encoding. */
int audit_decode(struct audit_rec *r, const uint8_t *buf, size_t len)
{
	size_t pl, p2l, used;

	memset(r, 0, sizeof(*r));
	if (len < AUDIT_PLAIN_ALIGN || len > AUDIT_PLAIN_MAX || len % AUDIT_PLAIN_ALIGN)
		return -EBADMSG;
	pl = get16(buf + 152);
	p2l = get16(buf + 154);
	used = AUDIT_PLAIN_FIXED + pl + p2l;
	if (buf[0] != REC_VERSION || buf[2] || buf[3] || pl > PATH_MAX - 1 ||
	    p2l > PATH_MAX - 1 || used > len ||
	    len - used >= AUDIT_PLAIN_ALIGN || !is_zero(buf + used, len - used) ||
	    buf[40 + sizeof(r->comm) - 1] ||
	    memchr(buf + AUDIT_PLAIN_FIXED, 0, pl + p2l))
		return -EBADMSG;
	r->klass = buf[1];
	r->event = get32(buf + 4);
	r->time = (int64_t)get64(buf + 8);
	r->uid = get32(buf + 16);
	r->gid = get32(buf + 20);
	r->pid = (int32_t)get32(buf + 24);
	r->mode = get32(buf + 28);
	r->uid2 = get32(buf + 32);
	r->gid2 = get32(buf + 36);
	memcpy(r->comm, buf + 40, sizeof(r->comm));
	/* Bytes after comm's NUL must be zero too: one encoding per record. */
	if (!is_zero(buf + 40 + strlen(r->comm), sizeof(r->comm) - strlen(r->comm))) {
		memset(r, 0, sizeof(*r));
		return -EBADMSG;
	}
	memcpy(r->id.b, buf + 56, STORE_ID_BYTES);
	r->size = get64(buf + 72);
	r->bytes = get64(buf + 80);
	r->count = get64(buf + 88);
	r->deadline = (int64_t)get64(buf + 96);
	r->lateness_ms = (int64_t)get64(buf + 104);
	r->duration_ms = (int64_t)get64(buf + 112);
	memcpy(r->sha256, buf + 120, CRYPTO_HASH_BYTES);
	memcpy(r->path, buf + AUDIT_PLAIN_FIXED, pl);
	memcpy(r->path2, buf + AUDIT_PLAIN_FIXED + pl, p2l);
	return 0;
}

static int64_t plain_time(const uint8_t *plain)
{
	return (int64_t)get64(plain + 8);
}

/* ---- keys ---- */

static struct audit_keys *keys_new(const uint8_t *audit_key)
{
	struct audit_keys *k = crypto_secret_alloc(sizeof(*k));

	if (!k)
		return NULL;
	crypto_derive(k->seal, audit_key, KDF_SEAL, KDF_CTX);
	crypto_derive(k->rec_mac, audit_key, KDF_REC_MAC, KDF_CTX);
	crypto_derive(k->hdr_mac, audit_key, KDF_HDR_MAC, KDF_CTX);
	return k;
}

/* ---- segment names and headers ---- */

static void seg_name(char out[SEG_NAME_BYTES], uint64_t index, int64_t day)
{
	time_t t = (time_t)(day * DAY_SECS);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, SEG_NAME_BYTES, "%0*" PRIu64 "-%04d-%02d-%02d", SEG_NAME_DIGITS,
		 index, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/* Accepts exactly the names seg_name makes. 0 or -EINVAL. */
static int seg_parse_name(const char *s, uint64_t *index, int64_t *day)
{
	char canon[SEG_NAME_BYTES];
	struct tm tm = { 0 };
	const char *p = s;
	uint64_t v = 0;
	int y, m, d, n = 0;
	time_t t;

	for (; *p >= '0' && *p <= '9'; p++, n++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (n < SEG_NAME_DIGITS || *p != '-' || strlen(p) != 11)
		return -EINVAL;
	for (int i = 1; i <= 10; i++)
		if ((i == 5 || i == 8) ? p[i] != '-' : (p[i] < '0' || p[i] > '9'))
			return -EINVAL;
	y = atoi(p + 1);
	m = atoi(p + 6);
	d = atoi(p + 9);
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	t = timegm(&tm);
	*index = v;
	*day = floor_div((int64_t)t, DAY_SECS);
	seg_name(canon, *index, *day);
	return strcmp(canon, s) == 0 ? 0 : -EINVAL;
}

static int seg_cmp(const void *a, const void *b)
{
	const struct seg_ent *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/* The segments in dirfd, sorted by number; other names are left alone.
 * 0 or -errno; *out is malloc'd (NULL when n is 0). */
static int seg_list(int dirfd, struct seg_ent **out, size_t *n)
{
	struct seg_ent *v = NULL, *bigger;
	size_t len = 0, cap = 0;
	struct dirent *de;
	int fd, rc = 0;
	DIR *d;

	*out = NULL;
	*n = 0;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		rc = -errno;
		close(fd);
		return rc;
	}
	errno = 0;
	while ((de = readdir(d))) {
		struct seg_ent e;

		if (strlen(de->d_name) >= sizeof(e.name) ||
		    seg_parse_name(de->d_name, &e.index, &e.day) < 0)
			continue;
		strcpy(e.name, de->d_name);
		if (len == cap) {
			cap = cap ? 2 * cap : 32;
			if (!(bigger = realloc(v, cap * sizeof(*v)))) {
				rc = -ENOMEM;
				break;
			}
			v = bigger;
		}
		v[len++] = e;
		errno = 0;
	}
	if (!rc && errno)
		rc = -errno;
	closedir(d);
	if (rc) {
		free(v);
		return rc;
	}
	if (len)
		qsort(v, len, sizeof(*v), seg_cmp);
	*out = v;
	*n = len;
	return 0;
}

static void hdr_encode(uint8_t out[SEG_HDR_BYTES], struct seg_hdr *h,
		       const struct audit_keys *k)
{
	memset(out, 0, SEG_HDR_BYTES);
	memcpy(out, SEG_MAGIC, 8);
	put32(out + 8, SEG_VERSION);
	put64(out + 16, h->index);
	put64(out + 24, (uint64_t)h->day);
	put64(out + 32, h->prev_len);
	memcpy(out + 40, h->prev_mac, CRYPTO_HASH_BYTES);
	crypto_mac(h->mac, k->hdr_mac, out, SEG_HDR_MAC_OFF);
	memcpy(out + SEG_HDR_MAC_OFF, h->mac, CRYPTO_HASH_BYTES);
}

/* NULL when in is a valid header for the segment named e, else why not. */
static const char *hdr_decode(struct seg_hdr *h, const uint8_t in[SEG_HDR_BYTES],
			      const struct seg_ent *e, const struct audit_keys *k)
{
	uint8_t mac[CRYPTO_HASH_BYTES];

	if (memcmp(in, SEG_MAGIC, 8))
		return "not an audit segment (bad magic)";
	if (get32(in + 8) != SEG_VERSION)
		return "unknown segment format version";
	crypto_mac(mac, k->hdr_mac, in, SEG_HDR_MAC_OFF);
	if (crypto_equal32(mac, in + SEG_HDR_MAC_OFF))
		return "header does not authenticate (altered, or written with another key)";
	h->index = get64(in + 16);
	h->day = (int64_t)get64(in + 24);
	h->prev_len = get64(in + 32);
	memcpy(h->prev_mac, in + 40, CRYPTO_HASH_BYTES);
	memcpy(h->mac, mac, CRYPTO_HASH_BYTES);
	if (get32(in + 12) || !is_zero(in + 72, SEG_HDR_MAC_OFF - 72))
		return "reserved header bytes are not zero";
	if (h->index != e->index || h->day != e->day)
		return "file name does not match its header (renamed segment)";
	return NULL;
}

static int read_full(int fd, void *buf, size_t len, uint64_t off, size_t *got)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	*got = done;
	return 0;
}

static int write_full(int fd, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pwrite(fd, (const uint8_t *)buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

/* ---- frames ---- */

/* Build the frame for plain at out (FRAME_OVERHEAD + plen bytes): seal it
 * with the chain value as AAD, then MAC len | box | chain. The MAC slot
 * holds the chain value while the MAC is computed, so the MAC's input is
 * one contiguous span; then it receives the result, which is the new
 * chain value. */
static size_t frame_build(uint8_t *out, const struct audit_keys *k, const uint8_t *plain,
			  size_t plen, uint8_t chain[CRYPTO_HASH_BYTES])
{
	size_t box = plen + CRYPTO_SEAL_OVERHEAD;
	uint8_t *slot = out + FRAME_LEN_BYTES + box;

	put32(out, (uint32_t)box);
	crypto_seal(out + FRAME_LEN_BYTES, k->seal, plain, plen, chain, CRYPTO_HASH_BYTES);
	memcpy(slot, chain, CRYPTO_HASH_BYTES);
	crypto_mac(chain, k->rec_mac, out, FRAME_LEN_BYTES + box + CRYPTO_HASH_BYTES);
	memcpy(slot, chain, CRYPTO_HASH_BYTES);
	return FRAME_LEN_BYTES + box + FRAME_MAC_BYTES;
}

/* ---- reading one segment's frames ---- */

struct walk {
	const struct audit_keys *k;
	audit_fn fn; /* NULL: authenticate and decode only */
	void *ctx;
	int decode;  /* 0: the writer's tail scan, MACs only */
	uint8_t *buf; /* READ_BUF_BYTES */
	uint8_t *plain; /* AUDIT_PLAIN_MAX */
	struct audit_rec *rec;
	uint64_t records;
	char *err;
	size_t errlen;
};

/* 1 when bytes off..limit of fd are all zero (or unreadable: then the
 * caller's checks report what is wrong). */
static int tail_is_zero(int fd, uint64_t off, uint64_t limit)
{
	uint8_t chunk[4096];
	size_t got;

	while (off < limit) {
		size_t want = limit - off < sizeof(chunk) ? (size_t)(limit - off) : sizeof(chunk);

		if (read_full(fd, chunk, want, off, &got) < 0 || got != want ||
		    !is_zero(chunk, got))
			return 0;
		off += got;
	}
	return 1;
}

/* What walk_frames found where it stopped. */
enum { WALK_END, WALK_TORN };

/* Walk the frames of segment name (open as fd) from the header up to
 * limit, chaining from chain (updated). *end gets the end of the last
 * good frame. Returns WALK_END (frames end exactly at limit), WALK_TORN
 * (the last record is cut off by limit: only allowed when tail_ok),
 * -EBADMSG with err set, or -errno. */
static int walk_frames(struct walk *w, int fd, const char *name, uint64_t limit,
		       int tail_ok, uint8_t chain[CRYPTO_HASH_BYTES], uint64_t *end)
{
	uint64_t off = SEG_HDR_BYTES, buf_off = SEG_HDR_BYTES, recno = 0;
	size_t have = 0, pos = 0, got;
	uint8_t mac[CRYPTO_HASH_BYTES], calc[CRYPTO_HASH_BYTES];
	int rc;

	*end = off;
	for (;;) {
		uint64_t rem = limit - off;
		uint32_t box;
		size_t flen;
		uint8_t *f;

		if (rem == 0)
			return WALK_END;
		recno++;
		/* Keep the next whole frame (or what the file has of it) in buf. */
		if (have - pos < FRAME_MAX && buf_off + have < limit) {
			uint64_t want = limit - buf_off - have;

			memmove(w->buf, w->buf + pos, have - pos);
			have -= pos;
			buf_off += pos;
			pos = 0;
			if (want > READ_BUF_BYTES - have)
				want = READ_BUF_BYTES - have;
			rc = read_full(fd, w->buf + have, (size_t)want, buf_off + have, &got);
			if (rc < 0) {
				report(w->err, w->errlen, "%s/%s: cannot read: %s", AUDIT_DIR, name,
				       strerror(-rc));
				return rc;
			}
			have += got;
			if (got < want) {
				/* The file shrank under us: it is being destroyed. */
				limit = buf_off + have;
				rem = limit - off;
			}
		}
		f = w->buf + pos;
		if (rem < FRAME_LEN_BYTES)
			goto torn;
		box = get32(f);
		/* A zero-filled tail: space the host filesystem allocated for a
		 * group the crash kept it from writing. */
		if (box == 0 && tail_ok && tail_is_zero(fd, off, limit))
			goto torn;
		if (box < BOX_MIN || box > BOX_MAX || (box - CRYPTO_SEAL_OVERHEAD) % AUDIT_PLAIN_ALIGN) {
			report(w->err, w->errlen,
			       "%s/%s: record %" PRIu64 " (byte %" PRIu64 "): bad record length %" PRIu32,
			       AUDIT_DIR, name, recno, off, box);
			return -EBADMSG;
		}
		flen = FRAME_LEN_BYTES + box + FRAME_MAC_BYTES;
		if (rem < flen)
			goto torn;
		/* Check the MAC the way frame_build made it; buf is ours to scribble. */
		memcpy(mac, f + FRAME_LEN_BYTES + box, CRYPTO_HASH_BYTES);
		memcpy(f + FRAME_LEN_BYTES + box, chain, CRYPTO_HASH_BYTES);
		crypto_mac(calc, w->k->rec_mac, f, flen);
		if (crypto_equal32(mac, calc)) {
			report(w->err, w->errlen,
			       "%s/%s: record %" PRIu64 " (byte %" PRIu64 "): chain MAC mismatch: "
			       "this record or one before it was altered, removed or reordered, "
			       "or written with another key",
			       AUDIT_DIR, name, recno, off);
			return -EBADMSG;
		}
		if (w->decode) {
			rc = crypto_open(w->plain, w->k->seal, f + FRAME_LEN_BYTES, box, chain,
					 CRYPTO_HASH_BYTES);
			if (rc == 0)
				rc = audit_decode(w->rec, w->plain, box - CRYPTO_SEAL_OVERHEAD);
			crypto_wipe(w->plain, box - CRYPTO_SEAL_OVERHEAD);
			if (rc < 0) {
				report(w->err, w->errlen,
				       "%s/%s: record %" PRIu64 " (byte %" PRIu64 "): "
				       "authentic but cannot be %s",
				       AUDIT_DIR, name, recno, off,
				       rc == -EBADMSG ? "decoded" : "decrypted");
				return -EBADMSG;
			}
		}
		memcpy(chain, mac, CRYPTO_HASH_BYTES);
		off += flen;
		pos += flen;
		*end = off;
		w->records++;
		if (w->decode && w->fn && (rc = w->fn(w->ctx, w->rec)) != 0) {
			report(w->err, w->errlen, "stopped by the caller: %s", strerror(rc < 0 ? -rc : rc));
			return rc < 0 ? rc : -ECANCELED;
		}
	}
torn:
	if (tail_ok)
		return WALK_TORN;
	report(w->err, w->errlen,
	       "%s/%s: record %" PRIu64 " (byte %" PRIu64 "): cut short: the segment ends "
	       "inside it, yet the next segment continues the chain after it",
	       AUDIT_DIR, name, recno, off);
	return -EBADMSG;
}

/* ---- reading the whole trail ---- */

struct seg_info {
	struct seg_ent e;
	struct seg_hdr h;
	const char *why; /* NULL: header valid */
	int gone;        /* the file vanished (destroyed while we read) */
};

static int open_audit_dir(const char *store_dir, int *dirfd)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", store_dir, AUDIT_DIR) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	*dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return *dirfd < 0 ? -errno : 0;
}

/* Read and check the header of e. 0 (info->why says whether it is valid,
 * info->gone whether the file disappeared) or -errno. */
static int seg_read_header(int dirfd, const struct audit_keys *k, struct seg_info *info)
{
	uint8_t buf[SEG_HDR_BYTES];
	size_t got;
	int fd, rc;

	fd = openat(dirfd, info->e.name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT)
			return -errno;
		info->gone = 1;
		info->why = "vanished while being read";
		return 0;
	}
	rc = read_full(fd, buf, sizeof(buf), 0, &got);
	close(fd);
	if (rc < 0)
		return rc;
	if (got < SEG_HDR_BYTES)
		info->why = "too short to hold a segment header";
	else
		info->why = hdr_decode(&info->h, buf, &info->e, k);
	return 0;
}

static int seg_exists(int dirfd, const char *name)
{
	struct stat sb;

	return fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT;
}

/* Walk segment s[i], bounded by the header of s[i + 1] when that one is
 * valid and its successor. 0 or as walk_frames. */
static int read_segment(struct walk *w, int dirfd, struct seg_info *s, size_t i, size_t n,
			uint8_t chain[CRYPTO_HASH_BYTES], struct audit_stats *st)
{
	const struct seg_info *next = i + 1 < n ? &s[i + 1] : NULL;
	int bounded = next && !next->why && next->h.index == s[i].h.index + 1;
	uint64_t limit, end;
	struct stat sb;
	int fd, rc;

	fd = openat(dirfd, s[i].e.name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		rc = -errno;
		if (rc == -ENOENT)
			s[i].gone = 1;
		report(w->err, w->errlen, "%s/%s: cannot open: %s", AUDIT_DIR, s[i].e.name,
		       strerror(-rc));
		return rc == -ENOENT ? -EBADMSG : rc;
	}
	if (fstat(fd, &sb) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	/* Walk what is there first: a damaged record reports itself before
	 * the length the next segment expects is compared. */
	limit = (uint64_t)sb.st_size;
	if (bounded && next->h.prev_len < limit)
		limit = next->h.prev_len < SEG_HDR_BYTES ? SEG_HDR_BYTES : next->h.prev_len;
	rc = walk_frames(w, fd, s[i].e.name, limit, !bounded, chain, &end);
	close(fd);
	if (rc == WALK_TORN || (rc == WALK_END && end < (uint64_t)sb.st_size))
		st->torn++; /* a crash's leftover: bytes the chain never covered */
	if (rc < 0)
		return rc;
	if (bounded && next->h.prev_len != end) {
		report(w->err, w->errlen,
		       "%s/%s: holds %" PRIu64 " bytes of records, but %s/%s says it held %" PRIu64
		       ": records were removed from its end",
		       AUDIT_DIR, s[i].e.name, end, AUDIT_DIR, next->e.name, next->h.prev_len);
		return -EBADMSG;
	}
	if (bounded && crypto_equal32(chain, next->h.prev_mac)) {
		report(w->err, w->errlen,
		       "%s/%s: does not continue %s/%s: records at the end of the older "
		       "segment were altered or removed",
		       AUDIT_DIR, next->e.name, AUDIT_DIR, s[i].e.name);
		return -EBADMSG;
	}
	return 0;
}

/* Check s[i]'s header and its place in the chain. 0 or -EBADMSG. */
static int link_segment(struct walk *w, const struct seg_info *s, size_t i, int started,
			const uint8_t chain[CRYPTO_HASH_BYTES])
{
	if (s[i].why) {
		report(w->err, w->errlen, "%s/%s: %s", AUDIT_DIR, s[i].e.name, s[i].why);
		return -EBADMSG;
	}
	if (!started)
		return 0;
	if (s[i].h.index == s[i - 1].h.index + 2) {
		report(w->err, w->errlen, "%s/%s: segment %" PRIu64 " before it is missing",
		       AUDIT_DIR, s[i].e.name, s[i - 1].h.index + 1);
		return -EBADMSG;
	}
	if (s[i].h.index != s[i - 1].h.index + 1) {
		report(w->err, w->errlen,
		       "%s/%s: segments %" PRIu64 "..%" PRIu64 " before it are missing",
		       AUDIT_DIR, s[i].e.name, s[i - 1].h.index + 1, s[i].h.index - 1);
		return -EBADMSG;
	}
	if (crypto_equal32(chain, s[i].h.prev_mac)) {
		report(w->err, w->errlen, "%s/%s: does not continue %s/%s", AUDIT_DIR,
		       s[i].e.name, AUDIT_DIR, s[i - 1].e.name);
		return -EBADMSG;
	}
	return 0;
}

/* Buffers for a walk with keys k (the caller's). 0 or -ENOMEM. */
static int walk_init(struct walk *w, const struct audit_keys *k, int decode)
{
	w->k = k;
	w->decode = decode;
	w->buf = malloc(READ_BUF_BYTES);
	if (decode) {
		w->plain = crypto_secret_alloc(AUDIT_PLAIN_MAX);
		w->rec = malloc(sizeof(*w->rec));
	}
	return w->buf && (!decode || (w->plain && w->rec)) ? 0 : -ENOMEM;
}

static void walk_free(struct walk *w)
{
	free(w->buf);
	crypto_secret_free(w->plain);
	if (w->rec)
		crypto_wipe(w->rec, sizeof(*w->rec));
	free(w->rec);
}

int audit_read_stats(const char *store_dir, const uint8_t *key, audit_fn fn, void *ctx,
		     struct audit_stats *stats, char *err, size_t errlen)
{
	uint8_t chain[CRYPTO_HASH_BYTES] = { 0 };
	struct walk w = { .fn = fn, .ctx = ctx, .err = err, .errlen = errlen };
	struct audit_stats st = { 0 };
	struct audit_keys *k = keys_new(key);
	struct seg_info *s = NULL;
	struct seg_ent *ents = NULL;
	size_t n = 0, i;
	int dirfd = -1, started = 0, rc;

	report(err, errlen, "%s", "");
	rc = k ? walk_init(&w, k, 1) : -ENOMEM;
	if (rc < 0)
		goto out;
	rc = open_audit_dir(store_dir, &dirfd);
	if (rc == -ENOENT) {
		rc = 0; /* no trail (yet, or audit was never on) */
		goto out;
	}
	if (rc < 0) {
		report(err, errlen, "cannot open %s/%s: %s", store_dir, AUDIT_DIR, strerror(-rc));
		goto out;
	}
	rc = seg_list(dirfd, &ents, &n);
	if (rc == 0 && n && !(s = calloc(n, sizeof(*s))))
		rc = -ENOMEM;
	for (i = 0; rc == 0 && i < n; i++) {
		s[i].e = ents[i];
		rc = seg_read_header(dirfd, w.k, &s[i]);
	}
	for (i = 0; rc == 0 && i < n; i++) {
		rc = link_segment(&w, s, i, started, chain);
		if (rc == 0) {
			if (!started)
				st.first_segment = s[i].h.index;
			memcpy(chain, s[i].h.mac, CRYPTO_HASH_BYTES);
			rc = read_segment(&w, dirfd, s, i, n, chain, &st);
		}
		/* Retention destroys the oldest segments first, possibly while
		 * we read them: the chain then starts at the next one. */
		if (rc == -EBADMSG && !started && (s[i].gone || !seg_exists(dirfd, s[i].e.name))) {
			report(err, errlen, "%s", "");
			rc = 0;
			continue;
		}
		if (rc == 0) {
			started = 1;
			st.segments++;
		}
	}
	if (rc < 0 && rc != -EBADMSG && err && !err[0])
		report(err, errlen, "cannot read the audit trail in %s/%s: %s", store_dir,
		       AUDIT_DIR, strerror(-rc));
out:
	st.records = w.records;
	if (stats)
		*stats = st;
	if (dirfd >= 0)
		close(dirfd);
	free(s);
	free(ents);
	walk_free(&w);
	crypto_secret_free(k);
	crypto_wipe(chain, sizeof(chain));
	return rc;
}

int audit_read(const char *store_dir, const uint8_t *key, audit_fn fn, void *ctx,
	       char *err, size_t errlen)
{
	return audit_read_stats(store_dir, key, fn, ctx, NULL, err, errlen);
}

/* ---- destruction ---- */

/* Overwrite with zeros, make that durable, unlink. The segment is first
 * renamed to a dot name, so readers stop seeing it at once and a crash
 * half-way leaves a name that the next audit_open finishes off. */
static int seg_destroy(int dirfd, const char *name)
{
	static const uint8_t zeros[ZERO_CHUNK];
	char doomed[SEG_NAME_BYTES + sizeof(SEG_DESTROY_PREFIX)];
	struct stat sb;
	uint64_t off;
	int fd, rc = 0;

	if (!strncmp(name, SEG_DESTROY_PREFIX, strlen(SEG_DESTROY_PREFIX))) {
		snprintf(doomed, sizeof(doomed), "%s", name);
	} else {
		snprintf(doomed, sizeof(doomed), "%s%s", SEG_DESTROY_PREFIX, name);
		if (renameat(dirfd, name, dirfd, doomed) < 0)
			return -errno;
	}
	fd = openat(dirfd, doomed, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0)
		rc = -errno;
	for (off = 0; rc == 0 && off < (uint64_t)sb.st_size; off += ZERO_CHUNK) {
		uint64_t left = (uint64_t)sb.st_size - off;

		rc = write_full(fd, zeros, left < ZERO_CHUNK ? (size_t)left : ZERO_CHUNK, off);
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && unlinkat(dirfd, doomed, 0) < 0)
		rc = -errno;
	return rc;
}

/* ---- the writer ---- */

struct qent {
	struct qent *next;
	size_t len;
	uint8_t plain[];
};

/* lock guards the queue, running, stop, pause, parked, need_thread and
 * dropped; the rest belongs to the writer thread once it runs (to
 * audit_open before, audit_close after, and to the fork handlers while
 * the writer is parked). */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;   /* the writer waits here (CLOCK_MONOTONIC) */
	pthread_cond_t parked_cv; /* fork_prepare waits here for the writer */
	atomic_int running; /* audit_log's unlocked fast path reads it */
	int stop;
	int pause;       /* a fork is coming: drain the queue and park */
	int parked;      /* the writer is parked, holding nothing */
	int need_thread; /* forked child: start a writer at first use */
	struct qent *head, **tail;
	size_t count, bytes;
	int64_t first_mono; /* when head was queued */
	uint64_t dropped, dropped_reported;

	pthread_t thread;
	uint64_t carried; /* LOST_FILE's count, until a dropped record holds it */
	int dirfd;
	struct audit_keys *keys;
	int64_t keep_ns;
	int64_t retention_day; /* UTC day of the last retention run */
	/* The chain: the newest segment (open as fd, or already closed or
	 * destroyed) is seg_len bytes and ends at chain; next_index numbers
	 * the next one. pend is the chain value after frames in buf. */
	int fd;
	char seg[SEG_NAME_BYTES];
	int64_t seg_day;
	uint64_t next_index, seg_len;
	uint8_t chain[CRYPTO_HASH_BYTES], pend[CRYPTO_HASH_BYTES];
	uint8_t *buf;
	size_t buf_len, buf_cap;
	uint64_t buf_records; /* records the frames in buf stand for */
} aq = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.parked_cv = PTHREAD_COND_INITIALIZER,
	.dirfd = -1,
	.fd = -1,
};

/* Count n records as lost (they are reported by an AUDIT_DROPPED record
 * in a later group). */
static void writer_lost(uint64_t n)
{
	pthread_mutex_lock(&aq.lock);
	aq.dropped += n;
	pthread_mutex_unlock(&aq.lock);
}

/* Write and sync the frames in buf. On failure the segment is cut back to
 * its last good length, so the chain on disk stays whole. 0 or -errno. */
static int writer_flush(void)
{
	int rc;

	if (!aq.buf_len)
		return 0;
	rc = write_full(aq.fd, aq.buf, aq.buf_len, aq.seg_len);
	if (rc == 0 && fdatasync(aq.fd) < 0)
		rc = -errno;
	if (rc == 0) {
		aq.seg_len += aq.buf_len;
		memcpy(aq.chain, aq.pend, CRYPTO_HASH_BYTES);
	} else {
		log_error("audit: cannot write %s/%s: %s; %" PRIu64 " record(s) lost", AUDIT_DIR,
			  aq.seg, strerror(-rc), aq.buf_records);
		if (ftruncate(aq.fd, (off_t)aq.seg_len) < 0)
			log_error("audit: cannot cut %s/%s back: %s", AUDIT_DIR, aq.seg,
				  strerror(errno));
		memcpy(aq.pend, aq.chain, CRYPTO_HASH_BYTES);
		writer_lost(aq.buf_records);
	}
	aq.buf_len = 0;
	aq.buf_records = 0;
	return rc;
}

/* Start segment next_index for day: header in a dot file, synced, then
 * renamed into place, so a segment file always has a whole header. */
static int writer_new_segment(int64_t day)
{
	char tmp[SEG_NAME_BYTES + sizeof(SEG_TMP_PREFIX)], name[SEG_NAME_BYTES];
	uint8_t hdr[SEG_HDR_BYTES];
	struct seg_hdr h = { .index = aq.next_index, .day = day, .prev_len = aq.seg_len };
	int fd, rc = 0, renamed = 0;

	seg_name(name, h.index, day);
	snprintf(tmp, sizeof(tmp), "%s%s", SEG_TMP_PREFIX, name);
	memcpy(h.prev_mac, aq.chain, CRYPTO_HASH_BYTES);
	hdr_encode(hdr, &h, aq.keys);
	fd = openat(aq.dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	rc = write_full(fd, hdr, sizeof(hdr), 0);
	if (rc == 0 && fdatasync(fd) < 0)
		rc = -errno;
	/* Never over an existing segment: a clash (a second writer) must
	 * fail, not replace part of the trail. A filesystem without
	 * RENAME_NOREPLACE (EINVAL) gets a plain rename. */
	if (rc == 0 && renameat2(aq.dirfd, tmp, aq.dirfd, name, RENAME_NOREPLACE) < 0 &&
	    (errno != EINVAL || renameat(aq.dirfd, tmp, aq.dirfd, name) < 0))
		rc = -errno;
	renamed = rc == 0;
	if (rc == 0 && fsync(aq.dirfd) < 0)
		rc = -errno;
	if (rc < 0) {
		close(fd);
		/* name is ours only once our rename made it. */
		unlinkat(aq.dirfd, renamed ? name : tmp, 0);
		return rc;
	}
	if (aq.fd >= 0)
		close(aq.fd);
	aq.fd = fd;
	snprintf(aq.seg, sizeof(aq.seg), "%s", name);
	aq.seg_day = day;
	aq.seg_len = SEG_HDR_BYTES;
	aq.next_index++;
	memcpy(aq.chain, h.mac, CRYPTO_HASH_BYTES);
	memcpy(aq.pend, h.mac, CRYPTO_HASH_BYTES);
	return 0;
}

/* Append one record to the group, rotating first when its day is past
 * the current segment's (records of an earlier day stay: segment days
 * only grow, and every record is at most as new as its segment's day).
 * 0, or -1 when it is counted as lost instead. */
static int writer_add(const uint8_t *plain, size_t len, uint64_t records, int *failed)
{
	int64_t day = floor_div(plain_time(plain), DAY_NS);
	int rc;

	if (aq.fd < 0 || day > aq.seg_day) {
		writer_flush();
		rc = writer_new_segment(day);
		if (rc < 0) {
			if (!*failed)
				log_error("audit: cannot start a segment in %s: %s; records lost",
					  AUDIT_DIR, strerror(-rc));
			*failed = 1;
			writer_lost(records);
			return -1;
		}
	}
	if (aq.buf_len + FRAME_OVERHEAD + len > GROUP_MAX_BYTES + FRAME_MAX)
		writer_flush();
	if (aq.buf_cap < aq.buf_len + FRAME_OVERHEAD + len) {
		size_t cap = GROUP_MAX_BYTES + FRAME_MAX;
		uint8_t *b = realloc(aq.buf, cap);

		if (!b) {
			writer_lost(records);
			return -1;
		}
		aq.buf = b;
		aq.buf_cap = cap;
	}
	aq.buf_len += frame_build(aq.buf + aq.buf_len, aq.keys, plain, len, aq.pend);
	aq.buf_records += records;
	return 0;
}

static void free_entry(struct qent *e)
{
	crypto_wipe(e->plain, e->len);
	free(e);
}

/* One group: every record taken from the queue, then the loss report. */
/* The count in LOST_FILE, 0 when there is none. */
static uint64_t lost_read(void)
{
	char buf[32], *end;
	unsigned long long n;
	size_t got = 0;
	int fd = openat(aq.dirfd, LOST_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		if (errno != ENOENT)
			log_error("audit: cannot open %s/%s: %s", AUDIT_DIR, LOST_FILE,
				  strerror(errno));
		return 0;
	}
	if (read_full(fd, buf, sizeof(buf) - 1, 0, &got) < 0)
		got = 0;
	close(fd);
	buf[got] = '\0';
	errno = 0;
	n = strtoull(buf, &end, 10);
	if (errno || end == buf || *end != '\n') {
		log_error("audit: %s/%s does not hold a count; ignored", AUDIT_DIR, LOST_FILE);
		return 0;
	}
	log_warn("audit: %llu record(s) lost before the last close; reported now", n);
	return n;
}

/* The carried count is in the trail: the file goes, for good. */
static void lost_clear(void)
{
	if (unlinkat(aq.dirfd, LOST_FILE, 0) < 0 || fsync(aq.dirfd) < 0)
		log_error("audit: cannot remove %s/%s: %s", AUDIT_DIR, LOST_FILE,
			  strerror(errno));
	aq.carried = 0;
}

/* Keep n lost records for the next open: a new file, synced, renamed over
 * LOST_FILE (a crash leaves the old count or the new, never half). */
static void lost_save(uint64_t n)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", n);
	int fd = openat(aq.dirfd, SEG_TMP_PREFIX LOST_FILE,
			O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	int rc = fd < 0 ? -errno : write_full(fd, buf, (size_t)len, 0);

	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	if (rc == 0 && renameat(aq.dirfd, SEG_TMP_PREFIX LOST_FILE, aq.dirfd, LOST_FILE) < 0)
		rc = -errno;
	if (rc == 0 && fsync(aq.dirfd) < 0)
		rc = -errno;
	if (rc < 0)
		log_error("audit: cannot keep the count of %" PRIu64 " lost record(s) in %s/%s: %s",
			  n, AUDIT_DIR, LOST_FILE, strerror(-rc));
	else
		log_warn("audit: %" PRIu64 " record(s) lost at close; the next start reports them", n);
}

static void writer_commit(struct qent *list, uint64_t lost)
{
	uint8_t plain[AUDIT_PLAIN_ALIGN];
	int failed = 0, reported = 0;

	while (list) {
		struct qent *e = list;

		list = e->next;
		writer_add(e->plain, e->len, 1, &failed);
		free_entry(e);
	}
	if (lost) {
		struct audit_rec *r = calloc(1, sizeof(*r));

		log_warn("audit: %" PRIu64 " record(s) lost (queue full or write failed)", lost);
		if (r) {
			r->time = clock_now();
			r->event = AUDIT_DROPPED;
			r->pid = (int32_t)getpid();
			r->count = lost;
			r->duration_ms = -1;
			/* It stands for the lost ones: lost again if it is. */
			reported = writer_add(plain, audit_encode(plain, r), lost, &failed) == 0;
			free(r);
		}
	}
	/* The record is the group's last: the final flush is its commit. */
	if (writer_flush() == 0 && reported && aq.carried)
		lost_clear();
}

/* Destroy every segment whose records are all older than keep: those of
 * a day that ended keep ago. now is the internal clock. */
static void destroy_expired(int64_t now)
{
	int64_t before = floor_div(now - aq.keep_ns, DAY_NS);
	struct seg_ent *v;
	size_t n, i;
	int rc;

	aq.retention_day = floor_div(now, DAY_NS);
	rc = seg_list(aq.dirfd, &v, &n);
	if (rc < 0) {
		log_error("audit: cannot list %s: %s", AUDIT_DIR, strerror(-rc));
		return;
	}
	for (i = 0; i < n && v[i].day < before; i++) {
		if (aq.fd >= 0 && !strcmp(v[i].name, aq.seg)) {
			writer_flush();
			close(aq.fd);
			aq.fd = -1;
		}
		rc = seg_destroy(aq.dirfd, v[i].name);
		if (rc < 0)
			log_error("audit: cannot destroy expired segment %s/%s: %s", AUDIT_DIR,
				  v[i].name, strerror(-rc));
		else
			log_info("audit: destroyed expired segment %s/%s", AUDIT_DIR, v[i].name);
	}
	if (i && fsync(aq.dirfd) < 0)
		log_error("audit: cannot sync %s: %s", AUDIT_DIR, strerror(errno));
	free(v);
}

/* Called with lock held: whether the queue is due for a commit. */
static int due(int64_t now_mono)
{
	return aq.stop || aq.pause || aq.count >= GROUP_RECORDS ||
	       (aq.count && now_mono - aq.first_mono >= COMMIT_NS);
}

static void *writer_main(void *arg)
{
	int pause_tried = 0; /* a commit was tried since the pause began */

	(void)arg;
	for (;;) {
		struct qent *list = NULL;
		uint64_t lost = 0;
		int stop;

		pthread_mutex_lock(&aq.lock);
		if (!due(mono_ns())) {
			int64_t until = aq.count ? aq.first_mono + COMMIT_NS : mono_ns() + IDLE_NS;
			struct timespec ts = clock_to_ts(until);

			pthread_cond_timedwait(&aq.wake, &aq.lock, &ts);
		}
		if (due(mono_ns())) {
			list = aq.head;
			aq.head = NULL;
			aq.tail = &aq.head;
			aq.count = 0;
			aq.bytes = 0;
			lost = aq.dropped - aq.dropped_reported;
			aq.dropped_reported = aq.dropped;
		}
		stop = aq.stop;
		/* Losses that failed to commit once during a pause wait for the
		 * fork to be over: retried at once, they would keep the writer
		 * from ever parking (a full disk), and the fork would hang. */
		if (aq.pause && !stop && !list && lost && pause_tried) {
			aq.dropped_reported -= lost;
			lost = 0;
		}
		if (aq.pause && !stop && !list && !lost) {
			/* Drained: park, holding no file state in flux, until the
			 * fork is done (see fork_prepare). */
			aq.parked = 1;
			pthread_cond_broadcast(&aq.parked_cv);
			while (aq.pause)
				pthread_cond_wait(&aq.wake, &aq.lock);
			aq.parked = 0;
			pause_tried = 0;
			pthread_mutex_unlock(&aq.lock);
			continue;
		}
		pause_tried = aq.pause;
		pthread_mutex_unlock(&aq.lock);

		if (list || lost)
			writer_commit(list, lost);
		if (stop || floor_div(clock_now(), DAY_NS) != aq.retention_day)
			destroy_expired(clock_now());
		if (stop)
			break;
	}
	return NULL;
}

/* Where the chain stands at the end of the newest segment e: what the
 * next segment must bind. A torn tail is left out (it was never
 * committed); a damaged segment is bound as it is, so that verify reports
 * the damage instead of the writer hiding it. 0 or -errno. */
static int scan_newest(const struct seg_ent *e)
{
	struct walk w = { 0 };
	struct seg_info info = { .e = *e };
	char err[256];
	struct stat sb;
	uint64_t end;
	int fd = -1, rc;

	aq.next_index = e->index + 1;
	memset(aq.chain, 0, sizeof(aq.chain));
	rc = walk_init(&w, aq.keys, 0);
	if (rc == 0)
		rc = seg_read_header(aq.dirfd, aq.keys, &info);
	if (rc == 0 && (fd = openat(aq.dirfd, e->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		rc = -errno;
	if (rc == 0 && fstat(fd, &sb) < 0)
		rc = -errno;
	if (rc < 0)
		goto out;
	aq.seg_len = (uint64_t)sb.st_size;
	if (info.why) {
		log_error("audit: %s/%s: %s; the trail goes on in a new segment and "
			  "`recctl audit verify` will report the break", AUDIT_DIR, e->name, info.why);
		goto out;
	}
	memcpy(aq.chain, info.h.mac, CRYPTO_HASH_BYTES);
	w.err = err;
	w.errlen = sizeof(err);
	rc = walk_frames(&w, fd, e->name, aq.seg_len, 1, aq.chain, &end);
	if (rc == WALK_TORN) {
		log_warn("audit: %s/%s: ignoring a torn final record (%" PRIu64 " bytes) left "
			 "by a crash", AUDIT_DIR, e->name, aq.seg_len - end);
		aq.seg_len = end;
	} else if (rc == -EBADMSG) {
		log_error("audit: %s; the trail goes on in a new segment", err);
	}
	rc = rc < 0 && rc != -EBADMSG ? rc : 0;
out:
	if (fd >= 0)
		close(fd);
	walk_free(&w);
	return rc;
}

/* Leftovers of a crash: half-made segments and half-destroyed ones. */
static void finish_leftovers(void)
{
	struct dirent *de;
	int fd = openat(aq.dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (!strncmp(de->d_name, SEG_TMP_PREFIX, strlen(SEG_TMP_PREFIX)))
			unlinkat(aq.dirfd, de->d_name, 0);
		else if (!strncmp(de->d_name, SEG_DESTROY_PREFIX, strlen(SEG_DESTROY_PREFIX)) &&
			 strlen(de->d_name) < SEG_NAME_BYTES + sizeof(SEG_DESTROY_PREFIX))
			seg_destroy(aq.dirfd, de->d_name);
	}
	closedir(d);
}

static int writer_setup(const char *store_dir)
{
	char path[PATH_MAX];
	struct seg_ent *v = NULL;
	size_t n = 0;
	int rc;

	if (snprintf(path, sizeof(path), "%s/%s", store_dir, AUDIT_DIR) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	aq.dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (aq.dirfd < 0)
		return -errno;
	finish_leftovers();
	rc = seg_list(aq.dirfd, &v, &n);
	if (rc == 0 && n)
		rc = scan_newest(&v[n - 1]);
	free(v);
	if (rc == 0)
		destroy_expired(clock_now());
	return rc;
}

static void writer_teardown(void)
{
	if (aq.fd >= 0)
		close(aq.fd);
	if (aq.dirfd >= 0)
		close(aq.dirfd);
	aq.fd = aq.dirfd = -1;
	crypto_secret_free(aq.keys);
	aq.keys = NULL;
	free(aq.buf);
	aq.buf = NULL;
	aq.buf_cap = aq.buf_len = 0;
	aq.buf_records = 0;
	crypto_wipe(aq.chain, sizeof(aq.chain));
	crypto_wipe(aq.pend, sizeof(aq.pend));
}

/* The writer's deadlines are CLOCK_MONOTONIC: immune to clock setting. */
static int wake_init(void)
{
	pthread_condattr_t ca;
	int rc;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	rc = -pthread_cond_init(&aq.wake, &ca);
	pthread_condattr_destroy(&ca);
	return rc;
}

/*
 * fork: the daemon opens the trail before fuse_daemonize (to log the
 * catch-up at mount), and only the forking thread survives a fork. So
 * around every fork the writer drains the queue and parks, and aq.lock is
 * held across the fork: both processes start with an empty queue and a
 * chain that matches the file. The parent's writer then goes on; the
 * child starts a writer of its own when it first logs. Only one of the two
 * may go on logging (fuse_daemonize's parent exits at once; fusermount's
 * child execs), or both would append to the same segment.
 */
static void fork_prepare(void)
{
	pthread_mutex_lock(&aq.lock);
	if (!atomic_load(&aq.running) || aq.need_thread || aq.stop)
		return;
	aq.pause = 1;
	pthread_cond_signal(&aq.wake);
	while (!aq.parked)
		pthread_cond_wait(&aq.parked_cv, &aq.lock);
}

static void fork_parent(void)
{
	if (aq.pause) {
		aq.pause = 0;
		pthread_cond_signal(&aq.wake);
	}
	pthread_mutex_unlock(&aq.lock);
}

static void fork_child(void)
{
	/* The parked writer stayed behind; its condition variables may
	 * still count it as a waiter, and the lock's owner is a thread of
	 * the parent: start them afresh. */
	pthread_mutex_init(&aq.lock, NULL);
	pthread_cond_init(&aq.parked_cv, NULL);
	if (aq.pause) {
		aq.pause = 0;
		aq.parked = 0;
		if (wake_init() == 0)
			aq.need_thread = 1;
		else
			atomic_store(&aq.running, 0);
	}
}

static void register_fork_handlers(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static void *writer_main(void *arg);

/* Called with lock held, in a forked child: start its writer. 0 or -errno. */
static int writer_restart(void)
{
	int rc = -pthread_create(&aq.thread, NULL, writer_main, NULL);

	if (rc == 0)
		aq.need_thread = 0;
	return rc;
}

int audit_open(const char *store_dir, const uint8_t *key, const struct audit_config *cfg)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int rc;

	if (!cfg->enabled)
		return 0;
	if (atomic_load(&aq.running) || aq.keys)
		return -EBUSY;
	pthread_once(&once, register_fork_handlers);
	aq.keys = keys_new(key);
	if (!aq.keys)
		return -ENOMEM;
	aq.keep_ns = cfg->keep_ns;
	aq.next_index = 1;
	aq.seg_len = 0;
	aq.seg_day = INT64_MIN;
	memset(aq.chain, 0, sizeof(aq.chain));
	rc = writer_setup(store_dir);
	if (rc < 0)
		goto fail;
	aq.carried = lost_read();
	memcpy(aq.pend, aq.chain, CRYPTO_HASH_BYTES);
	rc = wake_init();
	if (rc < 0)
		goto fail;
	pthread_mutex_lock(&aq.lock);
	aq.head = NULL;
	aq.tail = &aq.head;
	aq.count = aq.bytes = 0;
	aq.stop = aq.pause = aq.parked = aq.need_thread = 0;
	aq.dropped = aq.carried;
	aq.dropped_reported = 0;
	atomic_store(&aq.running, 1);
	pthread_mutex_unlock(&aq.lock);
	rc = -pthread_create(&aq.thread, NULL, writer_main, NULL);
	if (rc == 0)
		return 0;
	atomic_store(&aq.running, 0);
	pthread_cond_destroy(&aq.wake);
fail:
	writer_teardown();
	return rc;
}

void audit_log(const struct audit_rec *r)
{
	struct qent *e;
	size_t len;

	if (!atomic_load_explicit(&aq.running, memory_order_relaxed))
		return;
	len = plain_len(r);
	e = malloc(sizeof(*e) + len);
	if (!e) {
		writer_lost(1);
		return;
	}
	audit_encode(e->plain, r);
	if (!r->time)
		put64(e->plain + 8, (uint64_t)clock_now());
	e->len = len;
	e->next = NULL;
	pthread_mutex_lock(&aq.lock);
	if (!atomic_load(&aq.running)) {
		pthread_mutex_unlock(&aq.lock);
		free_entry(e);
		return;
	}
	if (aq.need_thread && writer_restart() < 0) {
		static int warned; /* under lock */

		/* No writer: queue anyway, up to the bound; audit_close tries again. */
		if (!warned++)
			log_error("audit: cannot start the writer thread after fork");
	}
	if (aq.count >= QUEUE_MAX_RECORDS || aq.bytes + len > QUEUE_MAX_BYTES) {
		aq.dropped++;
		pthread_mutex_unlock(&aq.lock);
		free_entry(e);
		return;
	}
	*aq.tail = e;
	aq.tail = &e->next;
	aq.bytes += len;
	if (++aq.count == 1)
		aq.first_mono = mono_ns();
	/* The writer sleeps until a deadline; wake it when the first record
	 * starts one, and when a group is full. */
	if (aq.count == 1 || aq.count == GROUP_RECORDS)
		pthread_cond_signal(&aq.wake);
	pthread_mutex_unlock(&aq.lock);
}

void audit_close(void)
{
	char hex[2 * 8 + 1];
	uint64_t unreported;

	pthread_mutex_lock(&aq.lock);
	if (!atomic_load(&aq.running)) {
		pthread_mutex_unlock(&aq.lock);
		return;
	}
	atomic_store(&aq.running, 0);
	aq.stop = 1;
	if (aq.need_thread && writer_restart() < 0) {
		/* A forked child that never got a writer: commit here. */
		struct qent *list = aq.head;

		aq.head = NULL;
		aq.tail = &aq.head;
		aq.count = aq.bytes = 0;
		pthread_mutex_unlock(&aq.lock);
		writer_commit(list, 0);
	} else {
		pthread_cond_signal(&aq.wake);
		pthread_mutex_unlock(&aq.lock);
		pthread_join(aq.thread, NULL);
	}
	pthread_cond_destroy(&aq.wake);
	/* What the last groups lost has no later group to report it. */
	pthread_mutex_lock(&aq.lock);
	unreported = aq.dropped - aq.dropped_reported;
	pthread_mutex_unlock(&aq.lock);
	if (unreported)
		lost_save(unreported);
	/* The chain's head, to the log: an outside witness of how far the
	 * trail went, which the chain alone cannot give (docs/audit.md). */
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", aq.chain[i]);
	log_info("audit: trail closed at segment %" PRIu64 ", %" PRIu64 " bytes, chain %s",
		 aq.next_index - 1, aq.seg_len, hex);
	writer_teardown();
}

uint64_t audit_dropped(void)
{
	uint64_t n;

	pthread_mutex_lock(&aq.lock);
	n = aq.dropped;
	pthread_mutex_unlock(&aq.lock);
	return n;
}

/* /proc/PID/comm of recent callers, kept open: one pread per request
 * instead of an open (a /proc lookup), a read and a close. A descriptor
 * stays bound to its task: a new name (exec, prctl) reads through it at
 * once, and after the task exits it reads ESRCH, so a new task under the
 * same pid gets a fresh open. */
#define COMM_FDS 16
static struct comm_fd {
	pid_t pid;
	int fd; /* valid when open */
	int open;
	uint64_t used;
} comm_fds[COMM_FDS];
static uint64_t comm_tick;
static pthread_mutex_t comm_lock = PTHREAD_MUTEX_INITIALIZER;

/* The slot for pid, opened when it has none; NULL when /proc fails. */
static struct comm_fd *comm_slot(pid_t pid)
{
	struct comm_fd *c = NULL, *old = &comm_fds[0];
	char path[32];

	for (int i = 0; i < COMM_FDS; i++) {
		if (comm_fds[i].open && comm_fds[i].pid == pid)
			c = &comm_fds[i];
		if (comm_fds[i].used < old->used)
			old = &comm_fds[i];
	}
	if (c)
		return c;
	if (old->open)
		close(old->fd);
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	old->fd = open(path, O_RDONLY | O_CLOEXEC);
	old->open = old->fd >= 0;
	old->pid = pid;
	old->used = 0;
	return old->open ? old : NULL;
}

void audit_comm(pid_t pid, char comm[16])
{
	struct comm_fd *c;
	char buf[32];
	ssize_t n = -1;

	pthread_mutex_lock(&comm_lock);
	c = pid > 0 ? comm_slot(pid) : NULL;
	if (c) {
		n = pread(c->fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0) { /* the task is gone: a new one may hold the pid */
			close(c->fd);
			c->open = 0;
			c = comm_slot(pid);
			n = c ? pread(c->fd, buf, sizeof(buf) - 1, 0) : -1;
		}
		if (c)
			c->used = ++comm_tick;
	}
	pthread_mutex_unlock(&comm_lock);
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	memset(comm, 0, 16);
	if (n <= 0)
		comm[0] = '?';
	else
		memcpy(comm, buf, n > 15 ? 15 : (size_t)n);
}
