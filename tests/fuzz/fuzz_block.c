/*
 * fuzz_block: the content region of an object. The header and slot A
 * are valid (fz_block_template, a fixed id and key), what follows them is
 * fuzzed, and the object is read through store_obj_open,
 * store_obj_size and store_obj_pread at every block boundary, then
 * patched with store_obj_pwrite / store_obj_truncate, closed, reopened and
 * read again.
 *
 * Input: byte 0 picks the mode (value % 3); byte 1 holds options.
 *   0 raw:    content = the rest of the input.
 *   1 length: u64 L, then content; the file is then cut or extended to
 *             L bytes (option 0x10: L near the content, else anything up to
 *             2^63 - 1, a sparse file), so the size derivation is fuzzed.
 *   2 model:  u16 plaintext length and a pattern byte; the harness seals
 *             the blocks itself, then applies up to 8 damage ops (flip a
 *             byte, zero a range, cut, extend, move a block over another).
 * Then (all modes) up to 3 extra read ranges (u64 offset, u32 length);
 * options 0x1 write one byte at u32 offset, 0x2 truncate to u32 size.
 *
 * Oracles besides the sanitizers:
 *  - size = the docs/format.md formula of the file length;
 *  - every read returns 0..min(len, size - off) bytes or -EIO, and never 0
 *    bytes inside the file;
 *  - reads agree with one whole-file read (same bytes; a read that starts
 *    before the first bad block ends exactly there);
 *  - model mode: every byte is the sealed plaintext, zeros for an all-zero
 *    (hole) block, and a damaged block is -EIO or the short read before it;
 *  - a byte written is read back before and after close and reopen, and
 *    the size survives the reopen.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define MAX_BLOCKS 8
#define SMALL_SIZE ((uint64_t)(MAX_BLOCKS + 3) * STORE_BLOCK_BYTES)
/* Content room: the blocks plus what an extend op may add. */
#define CONTENT_MAX ((MAX_BLOCKS + 3) * STORE_CBLOCK_BYTES)
#define BIG_READ (64 * STORE_BLOCK_BYTES + 3)
#define MAX_OPS 8
#define MARK 0xa5

enum { B_GOOD, B_ZERO, B_BAD };

static char store[PATH_MAX], path[PATH_MAX];
static struct store *st;
static uint8_t prefix[STORE_DATA_OFF], okey[CRYPTO_KEY_BYTES];
static struct store_id oid;
static uint8_t *file;  /* prefix + content */
static uint8_t *rbuf;  /* one read */
static uint8_t *ref;   /* the whole-file read (small files) */
static uint8_t *want;  /* the model's answer */
static uint8_t plain[MAX_BLOCKS * STORE_BLOCK_BYTES];
static uint8_t sealed[MAX_BLOCKS * STORE_CBLOCK_BYTES];

/* What a read must return, when known. */
struct expect {
	uint64_t size;
	ssize_t ref_n;     /* whole-file read result; -1 when not taken */
	int model;         /* states below are set */
	uint8_t state[MAX_BLOCKS + 4];
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int err;

	(void)argc;
	(void)argv;
	fz_store_make("blk", store);
	st = store_open(store, fz_master, 0, &err);
	if (!st) {
		errno = -err;
		fz_die("store_open");
	}
	fz_block_template(prefix, &oid, okey);
	fz_obj_path(store, &oid, path);
	file = malloc(STORE_DATA_OFF + CONTENT_MAX);
	rbuf = malloc(BIG_READ);
	ref = malloc(SMALL_SIZE + 1);
	want = malloc(BIG_READ);
	if (!file || !rbuf || !ref || !want)
		fz_die("malloc");
	memcpy(file, prefix, STORE_DATA_OFF);
	return 0;
}

static uint32_t block_len(uint64_t size, uint64_t idx)
{
	uint64_t start = idx * STORE_BLOCK_BYTES;

	if (size <= start)
		return 0;
	return size - start >= STORE_BLOCK_BYTES ? STORE_BLOCK_BYTES : (uint32_t)(size - start);
}

/* The model's answer for a read into want. */
static ssize_t model_read(const struct expect *e, uint64_t off, size_t len)
{
	size_t done = 0;

	if (off >= e->size)
		return 0;
	if (len > e->size - off)
		len = (size_t)(e->size - off);
	while (done < len) {
		uint64_t pos = off + done, idx = pos / STORE_BLOCK_BYTES;
		size_t in = pos % STORE_BLOCK_BYTES;
		size_t n = STORE_BLOCK_BYTES - in < len - done ? STORE_BLOCK_BYTES - in : len - done;

		if (e->state[idx] == B_BAD)
			return done ? (ssize_t)done : -EIO;
		if (e->state[idx] == B_GOOD)
			memcpy(want + done, plain + pos, n);
		else
			memset(want + done, 0, n);
		done += n;
	}
	return (ssize_t)done;
}

static void read_check(struct store_obj *obj, const struct expect *e, uint64_t off, size_t len)
{
	ssize_t r = store_obj_pread(obj, rbuf, len, off);
	uint64_t avail = off < e->size ? e->size - off : 0;

	FZ_ASSERT(r == -EIO || (r >= 0 && (uint64_t)r <= avail && (size_t)r <= len),
	          "pread: result out of bounds");
	FZ_ASSERT(r != 0 || avail == 0 || len == 0, "pread: 0 bytes inside the file");
	if (e->model) {
		ssize_t m = model_read(e, off, len);

		FZ_ASSERT(r == m, "pread: length differs from the model");
		FZ_ASSERT(r <= 0 || !memcmp(rbuf, want, (size_t)r), "pread: wrong bytes");
	}
	if (e->ref_n >= 0 && off < (uint64_t)e->ref_n && len > 0) {
		/* The whole read ends at the end of the file or at the first
		 * damaged block; a read from before that point ends there too. */
		uint64_t good = (uint64_t)e->ref_n - off;
		uint64_t expect = len <= good ? len : good;

		FZ_ASSERT(r >= 0 && (uint64_t)r == expect, "pread disagrees with the whole read");
		FZ_ASSERT(!memcmp(rbuf, ref + off, (size_t)r), "pread bytes differ from the whole read");
	}
}

/* Reads at the block boundaries, plus the input's own ranges. */
static void read_all(struct store_obj *obj, const struct expect *e, struct fz_in *in)
{
	static const size_t small_lens[] = { 1, 4096, 4097, 8193 };
	static const size_t big_lens[] = { 1, 4096, 4097, 8193, BIG_READ };
	uint64_t s = e->size;

	if (s <= SMALL_SIZE) {
		uint64_t nb = (s + STORE_BLOCK_BYTES - 1) / STORE_BLOCK_BYTES;

		for (uint64_t i = 0; i <= nb; i++)
			for (size_t l = 0; l < sizeof(small_lens) / sizeof(small_lens[0]); l++) {
				read_check(obj, e, i * STORE_BLOCK_BYTES, small_lens[l]);
				read_check(obj, e, i * STORE_BLOCK_BYTES + 1, small_lens[l]);
				read_check(obj, e, i * STORE_BLOCK_BYTES + 4095, small_lens[l]);
			}
		read_check(obj, e, s ? s - 1 : 0, 2);
		read_check(obj, e, s + 1, 1);
	} else {
		uint64_t offs[] = { 0, 1, 4095, 4096, s - 1, s - 4095, s & ~4095ULL,
		                    (s & ~4095ULL) - 1, s - 4097, s - BIG_READ, s, s + 1,
		                    INT64_MAX, UINT64_MAX - 1 };

		for (size_t o = 0; o < sizeof(offs) / sizeof(offs[0]); o++)
			for (size_t l = 0; l < sizeof(big_lens) / sizeof(big_lens[0]); l++)
				read_check(obj, e, offs[o], big_lens[l]);
	}
	for (int k = 0; k < 3 && in->n; k++) {
		uint64_t off = fz_u64(in);

		read_check(obj, e, s <= SMALL_SIZE ? off % (s + 2) : off, fz_u32(in) % (BIG_READ + 1));
	}
}

/* Model mode: seal a pattern, then damage it. Returns the content length. */
static size_t build_model(struct fz_in *in, struct expect *e)
{
	uint8_t *c = file + STORE_DATA_OFF;
	size_t plen = fz_u16(in) % (MAX_BLOCKS * STORE_BLOCK_BYTES + 1), clen = 0, slen;
	uint8_t seed = fz_u8(in);
	uint64_t nb = (plen + STORE_BLOCK_BYTES - 1) / STORE_BLOCK_BYTES;

	for (size_t i = 0; i < plen; i++)
		plain[i] = (uint8_t)(i * 31 + seed + (i >> 12));
	for (uint64_t i = 0; i < nb; i++) {
		uint32_t bl = block_len(plen, i);

		fz_block_seal(c + clen, okey, &oid, i, plain + i * STORE_BLOCK_BYTES, bl);
		clen += bl + CRYPTO_SEAL_OVERHEAD;
	}
	slen = clen;
	memcpy(sealed, c, slen);
	for (int k = 0; k < MAX_OPS && in->n; k++) {
		uint8_t kind = fz_u8(in) % 5, v = fz_u8(in);
		uint32_t a = fz_u32(in);

		if (kind == 0 && clen) {
			c[a % clen] ^= v | 1;
		} else if (kind == 1 && clen) {
			size_t at = a % clen, n = ((size_t)v + 1) * 16;

			memset(c + at, 0, n < clen - at ? n : clen - at);
		} else if (kind == 2) {
			clen = a % (clen + 1);
		} else if (kind == 3) {
			size_t add = a % (2 * STORE_CBLOCK_BYTES);

			if (add > CONTENT_MAX - clen)
				add = CONTENT_MAX - clen;
			memset(c + clen, 0, add);
			clen += add;
		} else if (kind == 4 && clen >= 2 * STORE_CBLOCK_BYTES) {
			/* Move a whole block over another: the AAD must catch it. */
			size_t nfull = clen / STORE_CBLOCK_BYTES;
			size_t from = a % nfull, to = v % nfull;

			if (from != to)
				memmove(c + to * STORE_CBLOCK_BYTES, c + from * STORE_CBLOCK_BYTES,
				        STORE_CBLOCK_BYTES);
		}
	}
	/* What each block of the resulting file must read as. */
	e->size = fz_size_from_length(STORE_DATA_OFF + clen);
	e->model = 1;
	for (uint64_t i = 0; i * STORE_BLOCK_BYTES < e->size; i++) {
		uint32_t bl = block_len(e->size, i);
		const uint8_t *region = c + i * STORE_CBLOCK_BYTES;
		size_t rlen = bl + CRYPTO_SEAL_OVERHEAD;
		uint64_t sealed_off = i * STORE_CBLOCK_BYTES;
		int zero = 1;

		for (size_t j = 0; j < rlen && zero; j++)
			zero = region[j] == 0;
		if (i < nb && bl == block_len(plen, i) && sealed_off + rlen <= slen &&
		    !memcmp(region, sealed + sealed_off, rlen))
			e->state[i] = B_GOOD;
		else
			e->state[i] = zero ? B_ZERO : B_BAD;
	}
	return clen;
}

/* Whether writing one byte at off must succeed: it reads no damaged
 * block (store.c reads the block it patches unless the write replaces all
 * of it, and a write past the end first completes a short last block). */
static int write_must_work(const struct expect *e, uint64_t off)
{
	uint64_t s = e->size, idx = off / STORE_BLOCK_BYTES;
	int whole = off % STORE_BLOCK_BYTES == 0 && off + 1 >= s;

	if (!e->model)
		return 0;
	if (block_len(s, idx) > 0 && !whole && e->state[idx] == B_BAD)
		return 0;
	if (off > s && s % STORE_BLOCK_BYTES && e->state[s / STORE_BLOCK_BYTES] == B_BAD)
		return 0;
	return 1;
}

static void patch_and_reopen(struct store_obj **objp, struct expect *e, uint8_t opt,
                             struct fz_in *in)
{
	static const uint8_t mark = MARK;
	struct store_obj *obj = *objp;
	uint64_t woff = 0, size;
	ssize_t w = -1;
	uint8_t b;
	int rc;

	if (opt & 0x1) {
		woff = fz_u32(in) % (e->size + 2 * STORE_BLOCK_BYTES);
		w = store_obj_pwrite(obj, &mark, 1, woff);
		FZ_ASSERT(w == 1 || w == -EIO, "pwrite: bad result");
		FZ_ASSERT(w == 1 || !write_must_work(e, woff), "pwrite failed over good blocks");
		if (w == 1) {
			FZ_ASSERT(store_obj_size(obj) == (woff + 1 > e->size ? woff + 1 : e->size),
			          "pwrite: wrong size");
			FZ_ASSERT(store_obj_pread(obj, &b, 1, woff) == 1 && b == MARK,
			          "pwrite: byte not read back");
		}
	}
	if (opt & 0x2) {
		uint64_t before = store_obj_size(obj), t = fz_u32(in) % (before + 2 * STORE_BLOCK_BYTES);

		rc = store_obj_truncate(obj, t);
		FZ_ASSERT(rc == 0 || rc == -EIO, "truncate: bad result");
		FZ_ASSERT(store_obj_size(obj) == (rc == 0 ? t : before), "truncate: wrong size");
	}
	size = store_obj_size(obj);
	rc = store_obj_close(obj);
	FZ_ASSERT(rc == 0, "close: flush failed");
	*objp = NULL;
	rc = store_obj_open(st, &oid, objp);
	FZ_ASSERT(rc == 0, "reopen failed");
	FZ_ASSERT(store_obj_size(*objp) == size, "size changed across close and reopen");
	if (w == 1 && woff < size)
		FZ_ASSERT(store_obj_pread(*objp, &b, 1, woff) == 1 && b == MARK,
		          "written byte lost across close and reopen");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct expect e = { .ref_n = -1 };
	struct store_obj *obj = NULL;
	uint8_t mode = fz_u8(&in) % 3, opt = fz_u8(&in);
	uint64_t len = 0;
	size_t clen;
	struct stat stb;
	int rc;

	if (mode == 1) {
		len = fz_u64(&in);
		if (opt & 0x10)
			len = STORE_DATA_OFF - 64 + len % (MAX_BLOCKS * STORE_CBLOCK_BYTES + 128);
		else
			len &= INT64_MAX;
	}
	if (mode == 2) {
		clen = build_model(&in, &e);
	} else {
		/* Content up to CONTENT_MAX; what is left over feeds the reads. */
		clen = in.n < CONTENT_MAX ? in.n : CONTENT_MAX;
		clen = fz_take(&in, file + STORE_DATA_OFF, clen);
	}
	rc = fz_write_file(path, file, STORE_DATA_OFF + clen);
	if (rc < 0) {
		errno = -rc;
		fz_die(path);
	}
	if (mode == 1 && truncate(path, (off_t)len) < 0)
		goto out; /* beyond what the host filesystem holds: nothing to read */
	if (stat(path, &stb) < 0)
		fz_die(path);

	rc = store_obj_open(st, &oid, &obj);
	if (stb.st_size < 32 + CRYPTO_WRAPPED_KEY_BYTES) {
		/* Length mode cut into the wrapped key (the header's last 24
		 * bytes are reserved: zeros, not read, so cutting them off is
		 * harmless). */
		FZ_ASSERT(rc == -EBADMSG, "a cut header was accepted");
		goto out;
	}
	FZ_ASSERT(rc == 0, "a valid header was refused");
	FZ_ASSERT(store_obj_size(obj) == fz_size_from_length((uint64_t)stb.st_size),
	          "size does not follow from the file length");
	if (!e.model)
		e.size = store_obj_size(obj);
	FZ_ASSERT(e.size == store_obj_size(obj), "size differs from the model");
	if (e.size <= SMALL_SIZE) {
		ssize_t r = store_obj_pread(obj, ref, SMALL_SIZE + 1, 0);

		FZ_ASSERT(r == -EIO || (r >= 0 && (uint64_t)r <= e.size), "whole read out of bounds");
		FZ_ASSERT(r == -EIO || r % STORE_BLOCK_BYTES == 0 || (uint64_t)r == e.size,
		          "a short read that does not end at a block boundary");
		e.ref_n = r < 0 ? 0 : r;
		if (e.model)
			FZ_ASSERT(r == model_read(&e, 0, SMALL_SIZE + 1) &&
			          (r <= 0 || !memcmp(ref, want, (size_t)r)),
			          "whole read differs from the model");
	}
	read_all(obj, &e, &in);
	if (opt & 0x3)
		patch_and_reopen(&obj, &e, opt, &in);
	store_obj_close(obj);
out:
	fz_unlink(path);
	return 0;
}
