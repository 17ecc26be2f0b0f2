/*
 * fuzz_audit: the audit trail's reader. Segment files are written into
 * the audit/ folder of a store and read back with audit_read (and
 * audit_read_stats); optionally the writer's own recovery scan runs on
 * them too (audit_open + audit_close). The record codec audit_decode is
 * fuzzed on its own as well.
 *
 * Input: byte 0 picks the mode (value % 4):
 *   0 raw:    one segment file = the rest; its name is made from the
 *             index and day in its header bytes 16..31 when they make a
 *             valid name, else 00000001-1970-01-01.
 *   1 trail:  byte 1 = opt; the harness writes 1..3 segments with
 *             authentic headers and chained, sealed records (encoded from
 *             fuzz fields with audit_encode, or opt 0x08: raw fuzz
 *             plaintext of a valid length), then opt 0x04 damages them,
 *             0x10 fuzzes the later headers' link to the earlier segment,
 *             0x20 cuts the last segment short (a crash's torn tail).
 *   2 name:   a segment file with a name from the input (any bytes but
 *             '/' and NUL), holding an authentic header for u64 index and
 *             i64 day from the input.
 *   3 decode: audit_decode on the rest.
 * opt 0x40 also runs audit_open and audit_close over the files (modes 0-2;
 * byte 0 bit 0x40 for modes 0 and 2), opt 0x80 audit_read_stats without a
 * callback.
 *
 * Oracles: a trail the harness built undamaged reads back exactly (every
 * record, in order, equal to what was encoded), a torn last segment reads
 * back the records before the tear; any decoded record re-encodes to the
 * very bytes it came from (one encoding per record), and audit_read and
 * audit_read_stats agree.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "clock.h"
#include "harness.h"

/* docs/audit.md, as fs/audit.c writes it. */
#define SEG_MAGIC "RECFSAUD"
#define SEG_HDR_BYTES 128
#define SEG_HDR_MAC_OFF 96
#define KDF_CTX "audtrail"
#define MAX_SEGS 3
#define MAX_RECS 4
#define MAX_REC_TOTAL (MAX_SEGS * MAX_RECS)
#define FRAME_MAX (4 + AUDIT_PLAIN_MAX + CRYPTO_SEAL_OVERHEAD + CRYPTO_HASH_BYTES)
#define SEG_MAX (SEG_HDR_BYTES + MAX_RECS * FRAME_MAX + 64)
#define DAY_SECS 86400

struct keys {
	uint8_t seal[CRYPTO_KEY_BYTES], rec_mac[CRYPTO_KEY_BYTES], hdr_mac[CRYPTO_KEY_BYTES];
};

struct seg {
	char name[64];
	uint8_t *buf;
	size_t len;
	size_t rec_end[MAX_RECS]; /* end offset of each record's frame */
	int nrec;
};

/* What the reader must deliver, when the harness knows. */
struct want {
	int known;
	int nrec;
	size_t len[MAX_REC_TOTAL];
	uint8_t *plain[MAX_REC_TOTAL];
	int got;       /* records delivered */
	int mismatch;  /* a delivered record differs */
};

static char store[PATH_MAX], auddir[PATH_MAX];
static struct keys k;
static struct seg segs[MAX_SEGS];
static uint8_t *plains[MAX_REC_TOTAL], *encbuf;
static struct audit_rec *rec;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_store_make("aud", store);
	snprintf(auddir, sizeof(auddir), "%s/audit", store);
	if (mkdir(auddir, 0700) < 0)
		fz_die(auddir);
	crypto_derive(k.seal, fz_audit_key, 1, KDF_CTX);
	crypto_derive(k.rec_mac, fz_audit_key, 2, KDF_CTX);
	crypto_derive(k.hdr_mac, fz_audit_key, 3, KDF_CTX);
	for (int i = 0; i < MAX_SEGS; i++)
		if (!(segs[i].buf = malloc(SEG_MAX)))
			fz_die("malloc");
	for (int i = 0; i < MAX_REC_TOTAL; i++)
		if (!(plains[i] = malloc(AUDIT_PLAIN_MAX)))
			fz_die("malloc");
	encbuf = malloc(AUDIT_PLAIN_MAX);
	rec = malloc(sizeof(*rec));
	if (!encbuf || !rec)
		fz_die("malloc");
	/* audit_open's retention reads the internal clock. */
	clock_start(0, 0);
	return 0;
}

/* The name fs/audit.c gives segment index of day; 0, or -1 when the day
 * has no 4-digit year. */
static int seg_name(char *out, size_t outlen, uint64_t index, int64_t day)
{
	struct tm tm;
	time_t t;

	if (day < -800000 || day > 3000000)
		return -1;
	t = (time_t)(day * DAY_SECS);
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return -1;
	snprintf(out, outlen, "%08" PRIu64 "-%04d-%02d-%02d", index, tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday);
	return 0;
}

static void hdr_build(uint8_t *h, uint64_t index, int64_t day, uint64_t prev_len,
                      const uint8_t *prev_mac, uint8_t chain[CRYPTO_HASH_BYTES])
{
	memset(h, 0, SEG_HDR_BYTES);
	memcpy(h, SEG_MAGIC, 8);
	fz_put32(h + 8, 1);
	fz_put64(h + 16, index);
	fz_put64(h + 24, (uint64_t)day);
	fz_put64(h + 32, prev_len);
	memcpy(h + 40, prev_mac, CRYPTO_HASH_BYTES);
	crypto_mac(chain, k.hdr_mac, h, SEG_HDR_MAC_OFF);
	memcpy(h + SEG_HDR_MAC_OFF, chain, CRYPTO_HASH_BYTES);
}

/* Append a frame for plain to s, advancing chain. */
static void frame_add(struct seg *s, const uint8_t *plain, size_t plen,
                      uint8_t chain[CRYPTO_HASH_BYTES])
{
	uint8_t *f = s->buf + s->len;
	size_t box = plen + CRYPTO_SEAL_OVERHEAD;

	fz_put32(f, (uint32_t)box);
	crypto_seal(f + 4, k.seal, plain, plen, chain, CRYPTO_HASH_BYTES);
	memcpy(f + 4 + box, chain, CRYPTO_HASH_BYTES);
	crypto_mac(chain, k.rec_mac, f, 4 + box + CRYPTO_HASH_BYTES);
	memcpy(f + 4 + box, chain, CRYPTO_HASH_BYTES);
	s->len += 4 + box + CRYPTO_HASH_BYTES;
	s->rec_end[s->nrec++] = s->len;
}

/* A record's plaintext from the input: encoded fields, or raw bytes. */
static size_t rec_plain(struct fz_in *in, uint8_t *out, int raw)
{
	size_t n;

	if (raw) {
		n = ((size_t)fz_u8(in) % (AUDIT_PLAIN_MAX / AUDIT_PLAIN_ALIGN) + 1) * AUDIT_PLAIN_ALIGN;
		memset(out, 0, n);
		fz_take(in, out, fz_u16(in) % (n + 1));
		return n;
	}
	memset(rec, 0, sizeof(*rec));
	rec->time = (int64_t)fz_u64(in);
	rec->event = fz_u8(in) % (AUDIT_EVENT_MAX + 1);
	rec->uid = fz_u32(in);
	rec->gid = fz_u32(in);
	rec->pid = (int32_t)fz_u32(in);
	fz_take(in, rec->comm, sizeof(rec->comm) - 1);
	fz_take(in, rec->id.b, STORE_ID_BYTES);
	rec->size = fz_u64(in);
	rec->bytes = fz_u64(in);
	rec->count = fz_u64(in);
	rec->mode = fz_u32(in);
	rec->klass = fz_u8(in);
	rec->deadline = (int64_t)fz_u64(in);
	rec->duration_ms = (int64_t)fz_u64(in);
	fz_take(in, rec->sha256, sizeof(rec->sha256));
	n = fz_u16(in) % 300;
	fz_take(in, rec->path, n);
	n = fz_u16(in) % 300;
	fz_take(in, rec->path2, n);
	return audit_encode(out, rec);
}

static int read_fn(void *ctx, const struct audit_rec *r)
{
	struct want *w = ctx;
	size_t len;

	FZ_ASSERT(memchr(r->path, 0, sizeof(r->path)) && memchr(r->path2, 0, sizeof(r->path2)) &&
	          memchr(r->comm, 0, sizeof(r->comm)), "delivered record is not terminated");
	len = audit_encode(encbuf, r);
	if (w->known) {
		if (w->got >= w->nrec || len != w->len[w->got] ||
		    memcmp(encbuf, w->plain[w->got], len))
			w->mismatch = 1;
	}
	w->got++;
	return 0;
}

static void check_read(struct want *w, uint8_t opt, int must_pass)
{
	struct audit_stats stats;
	char err[512];
	int rc, rc2;

	w->got = w->mismatch = 0;
	rc = audit_read(store, fz_audit_key, read_fn, w, err, sizeof(err));
	FZ_ASSERT(rc <= 0, "audit_read: positive result");
	FZ_ASSERT(rc == 0 || err[0], "audit_read failed without a message");
	if (w->known && must_pass) {
		FZ_ASSERT(rc == 0, "an authentic trail was refused");
		FZ_ASSERT(w->got == w->nrec, "records lost or added");
	}
	if (w->known)
		FZ_ASSERT(!w->mismatch, "a record read back differs from the one written");
	if (opt & 0x80) {
		rc2 = audit_read_stats(store, fz_audit_key, NULL, NULL, &stats, err, sizeof(err));
		FZ_ASSERT(rc2 == rc, "audit_read and audit_read_stats disagree");
		FZ_ASSERT(stats.records >= (uint64_t)w->got, "stats count fewer records");
	}
	if (opt & 0x40) {
		struct audit_config cfg = { .enabled = 1, .keep_ns = INT64_MAX / 2 };

		/* The writer's recovery scan of the newest segment. */
		rc = audit_open(store, fz_audit_key, &cfg);
		FZ_ASSERT(rc <= 0, "audit_open: positive result");
		if (rc == 0)
			audit_close();
	}
}

static void write_seg(const char *name, const uint8_t *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", auddir, name);
	if (fz_write_file(path, buf, len) < 0)
		fz_die(path);
}

static void mode_raw(struct fz_in *in, uint8_t opt)
{
	struct want w = { 0 };
	char name[64];
	uint64_t index = 1;
	int64_t day = 0;

	if (in->n >= 32) {
		index = fz_get64(in->p + 16);
		day = (int64_t)fz_get64(in->p + 24);
	}
	if (seg_name(name, sizeof(name), index, day) < 0)
		snprintf(name, sizeof(name), "00000001-1970-01-01");
	write_seg(name, in->p, in->n);
	check_read(&w, opt, 0);
}

static void mode_trail(struct fz_in *in)
{
	static const uint8_t zero[CRYPTO_HASH_BYTES];
	uint8_t opt = fz_u8(in), chain[CRYPTO_HASH_BYTES], prev_mac[CRYPTO_HASH_BYTES];
	int nseg = (opt & 3) % MAX_SEGS + 1, intact = 1;
	uint64_t index = 1 + fz_u8(in) % 4, prev_len = 0;
	int64_t day = 19000 + fz_u16(in) % 3000;
	struct want w = { .known = 1 };

	memcpy(prev_mac, zero, sizeof(prev_mac));
	for (int s = 0; s < nseg; s++) {
		struct seg *g = &segs[s];
		int nrec = fz_u8(in) % (MAX_RECS + 1);

		g->len = SEG_HDR_BYTES;
		g->nrec = 0;
		if (s > 0 && (opt & 0x10)) {
			prev_len = fz_u64(in);
			fz_take(in, prev_mac, sizeof(prev_mac));
			intact = 0;
		}
		hdr_build(g->buf, index + (uint64_t)s, day + s, prev_len, prev_mac, chain);
		seg_name(g->name, sizeof(g->name), index + (uint64_t)s, day + s);
		for (int r = 0; r < nrec; r++) {
			uint8_t *p = plains[w.nrec];
			size_t plen = rec_plain(in, p, opt & 0x08);

			frame_add(g, p, plen, chain);
			w.plain[w.nrec] = p;
			w.len[w.nrec++] = plen;
		}
		prev_len = g->len;
		memcpy(prev_mac, chain, sizeof(prev_mac));
	}
	if (opt & 0x08)
		w.known = 0; /* raw plaintext need not decode */
	if (opt & 0x04) {
		for (int i = 0; i < 4 && in->n; i++) {
			struct seg *g = &segs[fz_u8(in) % nseg];
			uint8_t kind = fz_u8(in) % 3, v = fz_u8(in);
			uint32_t a = fz_u32(in);

			if (kind == 0 && g->len)
				g->buf[a % g->len] ^= v | 1;
			else if (kind == 1)
				g->len = a % (g->len + 1);
			else if (g->len + v <= SEG_MAX)
				g->len += fz_take(in, g->buf + g->len, v);
		}
		w.known = 0;
		intact = 0;
	}
	if (opt & 0x20) {
		/* A crash's tear: cut the last segment; the records before the
		 * cut must still read back. */
		struct seg *g = &segs[nseg - 1];
		size_t cut = fz_u16(in) % (g->len + 1), keep = g->len - cut;
		int lost = 0;

		for (int r = g->nrec - 1; r >= 0 && g->rec_end[r] > keep; r--)
			lost++;
		w.nrec -= lost;
		g->len = keep;
		if (keep < SEG_HDR_BYTES)
			intact = 0;
	}
	for (int s = 0; s < nseg; s++)
		write_seg(segs[s].name, segs[s].buf, segs[s].len);
	check_read(&w, opt, intact);
}

static void mode_name(struct fz_in *in, uint8_t opt)
{
	static const uint8_t zero[CRYPTO_HASH_BYTES];
	uint8_t hdr[SEG_HDR_BYTES], chain[CRYPTO_HASH_BYTES];
	uint64_t index = fz_u64(in);
	int64_t day = (int64_t)fz_u64(in);
	struct want w = { 0 };
	char name[NAME_MAX + 1];
	size_t n = fz_u8(in) % 40, i;

	fz_take(in, name, n);
	name[n] = '\0';
	for (i = 0; i < n; i++)
		if (name[i] == '/' || name[i] == '\0')
			name[i] = '-';
	if (n == 0 || !strcmp(name, ".") || !strcmp(name, ".."))
		return;
	hdr_build(hdr, index, day, 0, zero, chain);
	write_seg(name, hdr, sizeof(hdr));
	check_read(&w, opt, 0);
}

static void mode_decode(struct fz_in *in)
{
	int rc = audit_decode(rec, in->p, in->n);

	FZ_ASSERT(rc == 0 || rc == -EBADMSG, "audit_decode: undocumented error");
	if (rc == 0) {
		size_t len = audit_encode(encbuf, rec);

		FZ_ASSERT(len == in->n && !memcmp(encbuf, in->p, len),
		          "a decoded record re-encodes to other bytes");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint8_t mode = fz_u8(&in);

	switch (mode % 4) {
	case 0:
		mode_raw(&in, mode & 0xc0);
		break;
	case 1:
		mode_trail(&in);
		break;
	case 2:
		mode_name(&in, mode & 0xc0);
		break;
	default:
		mode_decode(&in);
		return 0;
	}
	fz_empty_dir(auddir);
	return 0;
}
