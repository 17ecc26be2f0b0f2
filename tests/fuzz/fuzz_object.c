/*
 * fuzz_object: one object file (header, metadata slots A and B, a little
 * content) through store_scan, then store_obj_open, store_meta_read,
 * store_obj_size and one store_obj_pread. The object file is named by
 * the id in its header bytes 16..31 (zeros when the input is shorter), so
 * real object files are valid input as they are.
 *
 * Input: byte 0 bit 0 picks the mode.
 *   raw (0):        the rest is the object file.
 *   structured (1): byte 1 = opt, then the header's first 32 bytes, then
 *                   the parts below; the harness seals with the test key
 *                   whatever opt asks, so meta_decode sees fuzz plaintext:
 *     0x01 force magic and version      0x02 wrap a key properly (else
 *                                            the next 72 bytes are it)
 *     0x04 slot A = seal(u16 n, n bytes zero-padded) (else 4096 raw bytes)
 *     0x08 slot B likewise              0x10 seal slot B with another key
 *     0x20 cut or extend the file to u32 % (8320 + 2 blocks + 1) bytes
 *   whatever input is left is appended as content.
 *
 * Oracles besides the sanitizers: the scan and the direct path must agree
 * (valid meta in one is the same meta in the other; damaged in one is
 * damaged in the other), meta fields stay in their documented bounds, the
 * size is the one docs/format.md derives from the file length, and a read
 * returns at most that size or a clean -EIO.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define READ_BYTES (2 * STORE_BLOCK_BYTES + 7)

static char store[PATH_MAX];
static struct store *st;
static uint8_t *filebuf; /* the object file being built */

struct seen {
	int calls;
	struct store_meta meta;
	uint8_t xattr[STORE_XATTR_BYTES];
	uint64_t size;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int err;

	(void)argc;
	(void)argv;
	fz_store_make("obj", store);
	st = store_open(store, fz_master, 0, &err);
	if (!st) {
		errno = -err;
		fz_die("store_open");
	}
	filebuf = malloc(STORE_DATA_OFF + 2 * STORE_CBLOCK_BYTES + 1);
	if (!filebuf)
		fz_die("malloc");
	return 0;
}

static void meta_check(const struct store_meta *m)
{
	FZ_ASSERT(m->name_len <= STORE_NAME_MAX, "name_len out of bounds");
	FZ_ASSERT(m->name[m->name_len] == '\0', "name not terminated");
	FZ_ASSERT(m->xattr_len <= STORE_XATTR_BYTES, "xattr_len out of bounds");
	FZ_ASSERT(m->xattr != NULL || m->xattr_len == 0, "xattr_len without xattr");
}

static int scan_fn(void *ctx, const struct store_id *id, const struct store_meta *meta,
                   uint64_t size, int64_t host_mtime)
{
	struct seen *s = ctx;

	(void)id;
	(void)host_mtime;
	meta_check(meta);
	s->calls++;
	s->meta = *meta;
	memcpy(s->xattr, meta->xattr, meta->xattr_len);
	s->meta.xattr = NULL;
	s->size = size;
	return 0;
}

static int meta_equal(const struct store_meta *a, const uint8_t *ax,
                      const struct store_meta *b, const uint8_t *bx)
{
	return a->seq == b->seq && !memcmp(&a->parent, &b->parent, sizeof(a->parent)) &&
	       a->flags == b->flags && a->mode == b->mode && a->uid == b->uid &&
	       a->gid == b->gid && a->rdev == b->rdev && a->atime == b->atime &&
	       a->mtime == b->mtime && a->ctime == b->ctime && a->btime == b->btime &&
	       a->ended == b->ended && a->deadline == b->deadline && a->klass == b->klass &&
	       a->state == b->state && a->name_len == b->name_len &&
	       a->xattr_len == b->xattr_len && a->sealed_size == b->sealed_size &&
	       !memcmp(a->sha256, b->sha256, sizeof(a->sha256)) &&
	       !memcmp(a->name, b->name, a->name_len + 1u) &&
	       !memcmp(ax, bx, a->xattr_len);
}

/* The public API on objects/<id>, whatever it holds. */
static void exercise(const struct store_id *id, const char *path)
{
	static struct seen seen;
	static uint8_t xattr[STORE_XATTR_BYTES], buf[READ_BYTES];
	struct store_meta meta;
	struct store_obj *obj = NULL;
	struct stat stb;
	unsigned damaged = 0;
	int rc, mrc, present;
	ssize_t n;

	seen.calls = 0;
	rc = store_scan(st, scan_fn, &seen, &damaged);
	FZ_ASSERT(rc == 0, "store_scan failed");
	FZ_ASSERT(seen.calls + damaged <= 1, "one file, several objects");
	present = stat(path, &stb) == 0;
	if (seen.calls)
		FZ_ASSERT(seen.size == fz_size_from_length((uint64_t)stb.st_size),
		          "scan: size does not follow from the file length");

	rc = store_obj_open(st, id, &obj);
	if (!present) {
		/* The scan took it for a shredded object and unlinked it. */
		FZ_ASSERT(rc == -ENOENT && !seen.calls && !damaged, "reaped, yet open or counted");
		return;
	}
	FZ_ASSERT(rc == 0 || rc == -EBADMSG, "store_obj_open: undocumented error");
	if (rc < 0) {
		FZ_ASSERT(damaged == 1, "header refused by open, accepted by scan");
		return;
	}
	FZ_ASSERT(store_obj_size(obj) == fz_size_from_length((uint64_t)stb.st_size),
	          "open: size does not follow from the file length");
	mrc = store_meta_read(obj, &meta, xattr);
	FZ_ASSERT(mrc == 0 || mrc == -EBADMSG, "store_meta_read: undocumented error");
	if (mrc == 0) {
		meta_check(&meta);
		FZ_ASSERT(meta.xattr == xattr, "meta.xattr does not point at the buffer");
		FZ_ASSERT(seen.calls == 1, "slots refused by scan, accepted by meta_read");
		FZ_ASSERT(meta_equal(&seen.meta, seen.xattr, &meta, xattr),
		          "scan and meta_read decoded different metadata");
	} else {
		FZ_ASSERT(damaged == 1, "slots refused by meta_read, accepted by scan");
	}
	n = store_obj_pread(obj, buf, sizeof(buf), 0);
	FZ_ASSERT(n == -EIO || (n >= 0 && (uint64_t)n <= store_obj_size(obj) &&
	                        (size_t)n <= sizeof(buf)),
	          "pread: bad result");
	rc = store_obj_close(obj);
	FZ_ASSERT(rc == 0, "close after reading failed");
}

/* Slot bytes at out: sealed from a length-prefixed plaintext, or raw. */
static void build_slot(struct fz_in *in, uint8_t *out, int sealed, const uint8_t *key,
                       const struct store_id *id)
{
	static uint8_t plain[FZ_SLOT_PLAIN_BYTES];

	if (!sealed) {
		fz_take(in, out, STORE_SLOT_BYTES);
		return;
	}
	memset(plain, 0, sizeof(plain));
	fz_take(in, plain, fz_u16(in) % (FZ_SLOT_PLAIN_BYTES + 1));
	fz_slot_seal(out, key, id, plain);
}

static size_t build_structured(struct fz_in *in, struct store_id *id)
{
	static const uint8_t other[CRYPTO_KEY_BYTES] = { 0x0b, 0x5e };
	uint8_t opt = fz_u8(in), key[CRYPTO_KEY_BYTES];
	uint8_t *hdr = filebuf;
	size_t len = STORE_DATA_OFF, max = STORE_DATA_OFF + 2 * STORE_CBLOCK_BYTES + 1;

	memset(hdr, 0, STORE_HDR_BYTES);
	fz_take(in, hdr, 32);
	if (opt & 0x01) {
		memcpy(hdr, FZ_OBJ_MAGIC, 8);
		fz_put32(hdr + 8, STORE_FORMAT_VERSION);
	}
	memcpy(id->b, hdr + 16, STORE_ID_BYTES);
	memset(key, 0x4b, sizeof(key));
	if (opt & 0x02)
		fz_hdr_wrap(hdr, key);
	else
		fz_take(in, hdr + 32, CRYPTO_WRAPPED_KEY_BYTES);
	build_slot(in, filebuf + STORE_SLOT_OFF, opt & 0x04, key, id);
	build_slot(in, filebuf + STORE_SLOT_OFF + STORE_SLOT_BYTES, opt & 0x08,
	           opt & 0x10 ? other : key, id);
	if (opt & 0x20) {
		size_t want = fz_u32(in) % max;

		if (want > len)
			memset(filebuf + len, 0, want - len);
		len = want;
	}
	/* What is left: content after the slots (or after the cut). */
	if (in->n && len < max)
		len += fz_take(in, filebuf + len, max - len < in->n ? max - len : in->n);
	return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	char path[PATH_MAX];
	struct store_id id = { { 0 } };
	uint8_t mode = fz_u8(&in);
	int rc;

	if (mode & 1) {
		size_t len = build_structured(&in, &id);

		fz_obj_path(store, &id, path);
		rc = fz_write_file(path, filebuf, len);
	} else {
		if (in.n > 16)
			memcpy(id.b, in.p + 16, in.n - 16 < STORE_ID_BYTES ? in.n - 16 : STORE_ID_BYTES);
		fz_obj_path(store, &id, path);
		rc = fz_write_file(path, in.p, in.n);
	}
	if (rc < 0) {
		errno = -rc;
		fz_die(path);
	}
	exercise(&id, path);
	fz_unlink(path);
	return 0;
}
