/*
 * test_store: format v1 through store.h only, on a real directory (a
 * mkdtemp directory under /tmp, removed at the end). The superblock's
 * checks, metadata slots and their recovery from a torn write, content
 * blocks against an in-memory model, tampering on disk, shredding and the
 * clock mark. Forged or damaged input must be refused, not only good input
 * accepted; and no name or content may reach the disk in the clear.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "crypto.h"
#include "store.h"

#define KIB 1024ULL
#define MIB (1024 * KIB)
#define TIB (MIB * MIB)
#define SLOT_A_OFF STORE_SLOT_OFF
#define SLOT_B_OFF (STORE_SLOT_OFF + STORE_SLOT_BYTES)
#define MODEL_SEED 0x5eed2026c0ffeeULL
#define MODEL_OPS 3000
#define MODEL_REOPEN 200
#define MODEL_MAX_OFF MIB
#define MODEL_MAX_LEN (64 * KIB)
#define MODEL_CAP (MODEL_MAX_OFF + MODEL_MAX_LEN)

static char tmpdir[] = "/tmp/recfs-test-store-XXXXXX";
static char sdir[64];   /* tmpdir/store */
static char sbpath[96]; /* sdir/recfs.store */
static int tmp_made;          /* mkdtemp succeeded: cleanup removes it */
static uint8_t master[CRYPTO_KEY_BYTES], wrong[CRYPTO_KEY_BYTES];

/* ---- environment helpers: a failure here is the machine's, not recfs's ---- */

static int rm_fn(const char *path, const struct stat *stb, int flag, struct FTW *ftw)
{
	(void)stb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove the temporary directory, if it was made. */
static void cleanup(void)
{
	if (tmp_made && nftw(tmpdir, rm_fn, 16, FTW_DEPTH | FTW_PHYS) < 0)
		perror(tmpdir);
}

static void die(const char *what)
{
	perror(what);
	cleanup();
	exit(2);
}

static void obj_path(const struct store_id *id, char out[PATH_MAX])
{
	char hex[2 * STORE_ID_BYTES + 1];

	store_id_hex(id, hex);
	snprintf(out, PATH_MAX, "%s/objects/%s", sdir, hex);
}

/* Bytes past the end of the file read as zeros, as the store reads them. */
static void file_get(const char *path, void *buf, size_t len, off_t off)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : pread(fd, buf, len, off);

	if (n < 0)
		die(path);
	memset((uint8_t *)buf + n, 0, len - (size_t)n);
	close(fd);
}

static void file_put(const char *path, const void *buf, size_t len, off_t off)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || pwrite(fd, buf, len, off) != (ssize_t)len)
		die(path);
	close(fd);
}

static void file_flip(const char *path, off_t off)
{
	uint8_t b;

	file_get(path, &b, 1, off);
	b ^= 0x5a;
	file_put(path, &b, 1, off);
}

static off_t file_size(const char *path)
{
	struct stat stb;

	if (stat(path, &stb) < 0)
		die(path);
	return stb.st_size;
}

static int file_exists(const char *path)
{
	struct stat stb;

	return stat(path, &stb) == 0;
}

/* Whole file into a malloc'd buffer (+1 so an empty file still has one). */
static uint8_t *file_slurp(const char *path, size_t *len)
{
	off_t n = file_size(path);
	uint8_t *p = malloc((size_t)n + 1);

	if (!p)
		die("malloc");
	if (n > 0)
		file_get(path, p, (size_t)n, 0);
	*len = (size_t)n;
	return p;
}

typedef void (*file_fn)(void *ctx, const char *path, const uint8_t *data, size_t len);

/* Every regular file under dir, in name order, with its content. */
static void walk_files(const char *dir, file_fn fn, void *ctx)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);

	if (n < 0)
		die(dir);
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];
		struct stat stb;

		if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
			if (lstat(path, &stb) < 0)
				die(path);
			if (S_ISDIR(stb.st_mode)) {
				walk_files(path, fn, ctx);
			} else {
				size_t len;
				uint8_t *data = file_slurp(path, &len);

				fn(ctx, path, data, len);
				free(data);
			}
		}
		free(ents[i]);
	}
	free(ents);
}

static void snapshot_fn(void *ctx, const char *path, const uint8_t *data, size_t len)
{
	uint64_t n = len;

	crypto_sha256_update(ctx, path, strlen(path) + 1);
	crypto_sha256_update(ctx, &n, sizeof(n));
	crypto_sha256_update(ctx, data, len);
}

/* One digest over every file's path and bytes: equal digests, equal store. */
static void snapshot(uint8_t out[CRYPTO_HASH_BYTES])
{
	struct crypto_sha256 h;

	crypto_sha256_init(&h);
	walk_files(sdir, snapshot_fn, &h);
	crypto_sha256_final(&h, out);
}

struct needle {
	const char *s;
	unsigned files; /* files holding s */
};

static void needle_fn(void *ctx, const char *path, const uint8_t *data, size_t len)
{
	struct needle *nd = ctx;

	(void)path;
	if (memmem(data, len, nd->s, strlen(nd->s)))
		nd->files++;
}

static unsigned files_holding(const char *s)
{
	struct needle nd = { s, 0 };

	walk_files(sdir, needle_fn, &nd);
	return nd.files;
}

/* ---- randomness with a fixed seed, so a failure can be replayed ---- */

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return n ? rng_next(s) % n : 0;
}

static void rng_fill(uint64_t *s, uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(rng_next(s) >> 32);
}

/* ---- metadata helpers ---- */

static void meta_fill(struct store_meta *m, const char *name, uint8_t *xattr, uint16_t xlen)
{
	memset(m, 0, sizeof(*m));
	crypto_random(m->parent.b, STORE_ID_BYTES);
	m->flags = META_ORPHAN;
	m->mode = S_IFREG | 0640;
	m->uid = 1234;
	m->gid = 5678;
	m->rdev = 0x0102030405060708ULL;
	m->atime = 1700000000123456789LL;
	m->mtime = 1700000001000000000LL;
	m->ctime = 1700000002000000000LL;
	m->btime = -5; /* negative times must survive the unsigned encoding */
	m->ended = 1700000003000000000LL;
	m->deadline = 1700000004000000000LL;
	m->klass = 1;
	m->state = STATE_SEALED;
	m->sealed_size = 0xfedcba9876ULL;
	for (int i = 0; i < CRYPTO_HASH_BYTES; i++)
		m->sha256[i] = (uint8_t)(0xc0 + i);
	m->name_len = (uint16_t)strlen(name);
	memcpy(m->name, name, m->name_len + 1);
	m->xattr = xattr;
	m->xattr_len = xlen;
}

static int meta_same(const struct store_meta *a, const struct store_meta *b)
{
	return a->seq == b->seq && memcmp(a->parent.b, b->parent.b, STORE_ID_BYTES) == 0 &&
	       a->flags == b->flags && a->mode == b->mode && a->uid == b->uid &&
	       a->gid == b->gid && a->rdev == b->rdev && a->atime == b->atime &&
	       a->mtime == b->mtime && a->ctime == b->ctime && a->btime == b->btime &&
	       a->ended == b->ended && a->deadline == b->deadline &&
	       a->klass == b->klass && a->state == b->state &&
	       a->sealed_size == b->sealed_size &&
	       memcmp(a->sha256, b->sha256, CRYPTO_HASH_BYTES) == 0 &&
	       a->name_len == b->name_len && strcmp(a->name, b->name) == 0 &&
	       a->xattr_len == b->xattr_len &&
	       (a->xattr_len == 0 || memcmp(a->xattr, b->xattr, a->xattr_len) == 0);
}

/* What one store_scan saw of one object. */
struct scan_probe {
	struct store_id id;
	unsigned seen;  /* calls for id */
	unsigned calls; /* calls at all */
	int stop_rc;    /* returned by fn when nonzero */
	uint64_t size;
	struct store_meta meta;
	uint8_t xattr[STORE_XATTR_BYTES];
};

static int scan_fn(void *ctx, const struct store_id *id, const struct store_meta *m,
                   uint64_t size, int64_t host_mtime)
{
	struct scan_probe *p = ctx;

	(void)host_mtime;
	p->calls++;
	if (memcmp(id->b, p->id.b, STORE_ID_BYTES) == 0) {
		p->seen++;
		p->size = size;
		p->meta = *m;
		memcpy(p->xattr, m->xattr, m->xattr_len);
		p->meta.xattr = p->xattr;
	}
	return p->stop_rc;
}

static int scan_for(struct store *st, const struct store_id *id, struct scan_probe *p,
                    unsigned *damaged)
{
	memset(p, 0, sizeof(*p));
	p->id = *id;
	return store_scan(st, scan_fn, p, damaged);
}

static struct store_obj *obj_new(struct store *st, const char *name)
{
	struct store_meta m;
	struct store_obj *obj = NULL;

	meta_fill(&m, name, NULL, 0);
	if (store_obj_create(st, &m, &obj) != 0)
		die("store_obj_create");
	return obj;
}

static struct store_obj *obj_reopen(struct store *st, struct store_obj *obj)
{
	struct store_id id = *store_obj_id(obj);
	struct store_obj *again = NULL;

	if (store_obj_close(obj) != 0 || store_obj_open(st, &id, &again) != 0)
		die("reopen");
	return again;
}

/* Remove an object file behind the store's back (after a damage case), so
 * later scans count no leftovers. */
static void obj_discard(const struct store_id *id)
{
	char path[PATH_MAX];

	obj_path(id, path);
	if (unlink(path) < 0)
		die(path);
}

/* ---- superblock ---- */

static void test_missing(void)
{
	struct store_kdf kdf;
	uint32_t version = 7;
	char path[PATH_MAX];
	int err = 0;

	snprintf(path, sizeof(path), "%s/nowhere", tmpdir);
	CHECK(store_probe(path, &kdf, &version) == -ENOENT, "probe of a missing dir -> ENOENT");
	CHECK(store_open(path, master, 0, &err) == NULL && err == -ENOENT,
	      "open of a missing dir -> NULL, ENOENT");
	CHECK(store_probe(tmpdir, &kdf, &version) == -ENOENT,
	      "probe of a dir without a store -> ENOENT");
}

static void test_init(void)
{
	struct store_kdf kdf = { .passphrase = 1, .opslimit = 3, .memlimit = 64 * MIB };
	struct store_kdf got;
	uint32_t version = 0;

	for (int i = 0; i < CRYPTO_SALT_BYTES; i++)
		kdf.salt[i] = (uint8_t)(0x30 + i);
	CHECK(store_init(sdir, master, &kdf) == 0, "store_init");
	CHECK(file_size(sbpath) == STORE_SB_BYTES, "superblock is 256 bytes");
	memset(&got, 0xee, sizeof(got));
	CHECK(store_probe(sdir, &got, &version) == 0 && version == STORE_FORMAT_VERSION,
	      "probe of a new store -> 0, version 1");
	CHECK(got.passphrase == 1 && got.opslimit == 3 && got.memlimit == 64 * MIB &&
	      memcmp(got.salt, kdf.salt, CRYPTO_SALT_BYTES) == 0,
	      "probe returns the KDF parameters given to init");
	CHECK(store_init(sdir, master, &kdf) == -EEXIST, "init over an existing store -> EEXIST");
	CHECK(store_init(sdir, wrong, &kdf) == -EEXIST,
	      "init over an existing store with another key -> EEXIST");
	CHECK(store_probe(sdir, &got, &version) == 0,
	      "the failed inits left the store probing clean");
}

static void test_open_close(void)
{
	struct store *st, *st2;
	int err = 0;

	st = store_open(sdir, master, 0, &err);
	CHECK(st != NULL, "store_open with the right key");
	err = 0;
	st2 = store_open(sdir, master, 0, &err);
	CHECK(st2 == NULL && err == -EBUSY, "second open while the first holds it -> EBUSY");
	store_close(st2);
	store_close(st);
	err = 0;
	st = store_open(sdir, master, 0, &err);
	CHECK(st != NULL, "open again after close (the flock was released)");
	store_close(st);
}

/* Set superblock byte at to val; probe and open must both answer want.
 * The original is written back afterwards. */
static void sb_case(const uint8_t *orig, size_t at, uint8_t val, int want, const char *what)
{
	struct store_kdf kdf;
	uint32_t version;
	uint8_t sb[STORE_SB_BYTES];
	struct store *st;
	int err = 0;

	memcpy(sb, orig, sizeof(sb));
	sb[at] = val;
	file_put(sbpath, sb, sizeof(sb), 0);
	CHECK(store_probe(sdir, &kdf, &version) == want, what);
	st = store_open(sdir, master, 0, &err);
	CHECK(st == NULL && err == want, "store_open refuses the same damage");
	store_close(st);
	file_put(sbpath, orig, STORE_SB_BYTES, 0);
}

static void test_superblock(void)
{
	static const size_t flips[] = { 12, 16, 31, 32, 47, 48, 64, 95, 96, 200, 223, 224, 255 };
	uint8_t orig[STORE_SB_BYTES], sb[STORE_SB_BYTES];
	struct store_kdf kdf;
	uint32_t version;
	char what[96];

	file_get(sbpath, orig, sizeof(orig), 0);
	for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		snprintf(what, sizeof(what), "flipped superblock byte %zu -> EBADMSG", flips[i]);
		sb_case(orig, flips[i], orig[flips[i]] ^ 0x01, -EBADMSG, what);
	}
	sb_case(orig, 0, 'X', -EPROTO, "bad magic (byte 0) -> EPROTO");
	sb_case(orig, 7, 'C', -EPROTO, "bad magic (byte 7) -> EPROTO");

	/* The version is checked before the checksum, so a newer store is
	 * reported as such even though its sum no longer matches. */
	memcpy(sb, orig, sizeof(sb));
	sb[8] = STORE_FORMAT_VERSION + 1;
	file_put(sbpath, sb, sizeof(sb), 0);
	version = 0;
	CHECK(store_probe(sdir, &kdf, &version) == -EPROTONOSUPPORT &&
	      version == STORE_FORMAT_VERSION + 1, "a newer version -> EPROTONOSUPPORT, reported");
	sb[8] = STORE_FORMAT_VERSION - 1;
	file_put(sbpath, sb, sizeof(sb), 0);
	CHECK(store_probe(sdir, &kdf, &version) == -EPROTONOSUPPORT &&
	      version == STORE_FORMAT_VERSION - 1, "an older version -> EPROTONOSUPPORT, reported");
	sb[8] = 0x01;
	sb[11] = 0x80;
	file_put(sbpath, sb, sizeof(sb), 0);
	CHECK(store_probe(sdir, &kdf, &version) == -EPROTONOSUPPORT && version == 0x80000001u,
	      "version 0x80000001 (LE bytes 8..11) -> EPROTONOSUPPORT, reported");
	file_put(sbpath, orig, sizeof(orig), 0);

	if (truncate(sbpath, 100) < 0)
		die("truncate");
	CHECK(store_probe(sdir, &kdf, &version) < 0, "superblock truncated to 100 -> error");
	if (truncate(sbpath, 255) < 0)
		die("truncate");
	CHECK(store_probe(sdir, &kdf, &version) < 0, "superblock truncated to 255 -> error");
	if (truncate(sbpath, 4) < 0)
		die("truncate");
	CHECK(store_probe(sdir, &kdf, &version) < 0, "superblock truncated to 4 -> error");
	if (truncate(sbpath, 0) < 0)
		die("truncate");
	CHECK(store_probe(sdir, &kdf, &version) < 0, "empty superblock -> error");
	file_put(sbpath, orig, sizeof(orig), 0);
	if (truncate(sbpath, STORE_SB_BYTES + 1) < 0)
		die("truncate");
	CHECK(store_probe(sdir, &kdf, &version) < 0, "superblock with a byte appended -> error");
	if (truncate(sbpath, STORE_SB_BYTES) < 0)
		die("truncate");
	CHECK(store_probe(sdir, &kdf, &version) == 0, "restored superblock probes clean");
}

/* ---- objects and metadata slots ---- */

static void test_obj_meta(struct store *st)
{
	uint8_t xattr[300], xbuf[STORE_XATTR_BYTES], before[2 * STORE_SLOT_BYTES];
	uint8_t after[2 * STORE_SLOT_BYTES];
	struct store_meta m, back;
	struct scan_probe *p = malloc(sizeof(*p));
	struct store_obj *obj = NULL;
	struct store_id id;
	char path[PATH_MAX];
	unsigned damaged = 99;

	if (!p)
		die("malloc");
	for (size_t i = 0; i < sizeof(xattr); i++)
		xattr[i] = (uint8_t)(i * 7 + 1);
	meta_fill(&m, "2026-01-02 call with Alice.wav", xattr, sizeof(xattr));
	CHECK(store_obj_create(st, &m, &obj) == 0 && obj != NULL, "store_obj_create");
	CHECK(m.seq == 1, "create writes seq 1");
	id = *store_obj_id(obj);
	CHECK(!store_id_is_zero(&id), "the new object has a nonzero id");
	obj_path(&id, path);
	CHECK(file_exists(path), "the object file is named by the id in hex");

	CHECK(scan_for(st, &id, p, &damaged) == 0 && damaged == 0, "scan -> 0, nothing damaged");
	CHECK(p->seen == 1 && p->calls == 1, "scan calls fn once, for the object");
	CHECK(meta_same(&p->meta, &m), "scan returns every meta field and the xattr bytes");
	CHECK(p->size == 0, "scan reports size 0 for an empty object");

	memset(&back, 0, sizeof(back));
	CHECK(store_meta_read(obj, &back, xbuf) == 0 && meta_same(&back, &m) &&
	      back.xattr == xbuf, "store_meta_read returns the meta, xattr in the buffer");

	/* Alternation: seq 2 goes to slot B, seq 3 back to A. */
	file_get(path, before, sizeof(before), SLOT_A_OFF);
	m.mtime += 1000;
	CHECK(store_meta_write(obj, &m) == 0 && m.seq == 2, "meta write -> seq 2");
	file_get(path, after, sizeof(after), SLOT_A_OFF);
	CHECK(memcmp(before, after, STORE_SLOT_BYTES) == 0, "seq 2 left slot A alone");
	CHECK(memcmp(before + STORE_SLOT_BYTES, after + STORE_SLOT_BYTES, STORE_SLOT_BYTES) != 0,
	      "seq 2 was written to slot B (offset 8192)");
	memcpy(before, after, sizeof(before));
	m.uid = 4321;
	CHECK(store_meta_write(obj, &m) == 0 && m.seq == 3, "meta write -> seq 3");
	file_get(path, after, sizeof(after), SLOT_A_OFF);
	CHECK(memcmp(before, after, STORE_SLOT_BYTES) != 0, "seq 3 was written to slot A (offset 4096)");
	CHECK(memcmp(before + STORE_SLOT_BYTES, after + STORE_SLOT_BYTES, STORE_SLOT_BYTES) == 0,
	      "seq 3 left slot B alone");
	CHECK(store_meta_read(obj, &back, xbuf) == 0 && meta_same(&back, &m),
	      "meta read returns seq 3");
	CHECK(store_obj_close(obj) == 0, "close");

	m.name_len = 3;
	memcpy(m.name, "new", 4);
	m.xattr_len = 0;
	CHECK(store_meta_write_id(st, &id, &m) == 0 && m.seq == 4,
	      "meta write by id on a closed object -> seq 4");
	CHECK(scan_for(st, &id, p, &damaged) == 0 && p->seen == 1 && meta_same(&p->meta, &m),
	      "scan sees seq 4 with the new name and no xattr");

	memset(p, 0, sizeof(*p));
	p->id = id;
	p->stop_rc = -EINTR;
	CHECK(store_scan(st, scan_fn, p, &damaged) == -EINTR && p->calls == 1,
	      "fn's error stops the scan and is returned");
	obj_discard(&id);
	free(p);
}

static void test_torn_slots(struct store *st)
{
	/* magic, version, flags (in the key's AAD), the id copy, the wrapped
	 * key's nonce, ciphertext and last tag byte. */
	static const off_t hdr_flips[] = { 0, 8, 12, 16, 32, 60, 103 };
	uint8_t junk[STORE_SLOT_BYTES];
	struct scan_probe *p = malloc(sizeof(*p));
	struct store_meta m, back;
	uint8_t xbuf[STORE_XATTR_BYTES];
	struct store_obj *obj = NULL;
	struct store_id id;
	char path[PATH_MAX];
	unsigned damaged = 0;

	if (!p)
		die("malloc");
	meta_fill(&m, "v1", NULL, 0);
	if (store_obj_create(st, &m, &obj) != 0)
		die("store_obj_create");
	id = *store_obj_id(obj);
	obj_path(&id, path);
	memcpy(m.name, "v2", 3);
	m.mtime = 42;
	if (store_meta_write(obj, &m) != 0 || m.seq != 2)
		die("store_meta_write");
	store_obj_close(obj);

	/* A write of slot B torn halfway: its tail is whatever was there. */
	crypto_random(junk, sizeof(junk));
	file_put(path, junk, STORE_SLOT_BYTES / 2, SLOT_B_OFF + STORE_SLOT_BYTES / 2);
	CHECK(scan_for(st, &id, p, &damaged) == 0 && damaged == 0 && p->seen == 1,
	      "torn newest slot: object still scanned, not damaged");
	CHECK(p->meta.seq == 1 && strcmp(p->meta.name, "v1") == 0 && p->meta.mtime != 42,
	      "torn newest slot: scan returns the seq 1 version");
	CHECK(store_obj_open(st, &id, &obj) == 0, "open with slot B torn");
	CHECK(store_meta_read(obj, &back, xbuf) == 0 && back.seq == 1,
	      "meta read falls back to seq 1");
	/* The next write goes to B again (seq 2), repairing it. */
	back.xattr = NULL;
	back.xattr_len = 0;
	CHECK(store_meta_write(obj, &back) == 0 && back.seq == 2, "rewrite after a torn slot -> seq 2");
	CHECK(store_meta_read(obj, &back, xbuf) == 0 && back.seq == 2 &&
	      strcmp(back.name, "v1") == 0, "repaired slot B is read back");
	store_obj_close(obj);

	file_flip(path, SLOT_B_OFF + 100);
	file_flip(path, SLOT_A_OFF + STORE_SLOT_BYTES - 1);
	CHECK(scan_for(st, &id, p, &damaged) == 0 && damaged == 1 && p->seen == 0,
	      "both slots garbled: counted as damaged, fn not called for it");
	CHECK(store_obj_open(st, &id, &obj) == 0 && store_meta_read(obj, &back, xbuf) == -EBADMSG,
	      "both slots garbled: meta read -> EBADMSG");
	store_obj_close(obj);
	obj_discard(&id);

	/* A garbled header makes the whole object unreadable. */
	for (size_t i = 0; i < sizeof(hdr_flips) / sizeof(hdr_flips[0]); i++) {
		char what[80];

		obj = obj_new(st, "h");
		id = *store_obj_id(obj);
		store_obj_close(obj);
		obj_path(&id, path);
		file_flip(path, hdr_flips[i]);
		snprintf(what, sizeof(what), "header byte %lld garbled: scan counts it damaged",
		         (long long)hdr_flips[i]);
		CHECK(scan_for(st, &id, p, &damaged) == 0 && damaged == 1 && p->seen == 0, what);
		obj = NULL;
		CHECK(store_obj_open(st, &id, &obj) == -EBADMSG && obj == NULL,
		      "store_obj_open on a garbled header -> EBADMSG");
		obj_discard(&id);
	}

	/* An object file renamed to another id: the header names its own. */
	obj = obj_new(st, "moved");
	id = *store_obj_id(obj);
	store_obj_close(obj);
	{
		struct store_id other = id;
		char opath[PATH_MAX];

		other.b[0] ^= 1;
		obj_path(&id, path);
		obj_path(&other, opath);
		if (rename(path, opath) < 0)
			die("rename");
		CHECK(scan_for(st, &other, p, &damaged) == 0 && damaged == 1 && p->seen == 0,
		      "object file under another id's name -> damaged");
		obj_discard(&other);
	}
	free(p);
}

/* ---- content ---- */

/* Compare obj's content with model[0..msize) over [off, off+len). */
static int range_ok(struct store_obj *obj, const uint8_t *model, uint64_t msize,
                    uint64_t off, size_t len)
{
	size_t want = off >= msize ? 0 : (msize - off < len ? (size_t)(msize - off) : len);
	uint8_t *buf = malloc(len + 1);
	ssize_t n;
	int ok;

	if (!buf)
		die("malloc");
	n = store_obj_pread(obj, buf, len, off);
	ok = n == (ssize_t)want && (want == 0 || memcmp(buf, model + off, want) == 0);
	free(buf);
	return ok;
}

/* Size and every byte, plus reads that start and end around block edges. */
static int content_ok(struct store_obj *obj, const uint8_t *model, uint64_t msize)
{
	static const uint64_t offs[] = { 0, 1, 319, 320, 4095, 4096, 4097, 8191, 8192, 12345 };
	static const size_t lens[] = { 1, 2, 320, 4095, 4096, 4097, 10000 };
	int ok = store_obj_size(obj) == msize && range_ok(obj, model, msize, 0, msize + 10);

	for (size_t i = 0; ok && i < sizeof(offs) / sizeof(offs[0]); i++)
		for (size_t j = 0; ok && j < sizeof(lens) / sizeof(lens[0]); j++)
			ok = range_ok(obj, model, msize, offs[i], lens[j]);
	if (ok && msize > 2)
		ok = range_ok(obj, model, msize, msize - 1, 5) &&
		     range_ok(obj, model, msize, msize / 2 + 1, msize);
	return ok;
}

static void test_round_trips(struct store *st)
{
	static const struct {
		uint64_t off;
		size_t len;
	} cases[] = {
		{ 0, 1 },       { 0, 320 },        { 0, 4096 },         { 0, 4097 },
		{ 0, 256 * KIB }, { 1, 4095 },     { 4095, 2 },         { 4096, 4096 },
		{ 4097, 8191 }, { 100, 320 },      { 123457, 65537 },   { 7, 256 * KIB - 13 },
		{ 8191, 1 },    { 40960, 4096 * 3 },
	};
	size_t cap = 512 * KIB;
	uint8_t *model = malloc(cap), *data = malloc(cap);
	uint64_t seed = 1;
	char what[96];

	if (!model || !data)
		die("malloc");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct store_obj *obj = obj_new(st, "rt");
		uint64_t off = cases[i].off;
		size_t len = cases[i].len;

		memset(model, 0, cap);
		rng_fill(&seed, data, len);
		memcpy(model + off, data, len);
		snprintf(what, sizeof(what), "pwrite %zu bytes at %llu returns the length", len,
		         (unsigned long long)off);
		CHECK(store_obj_pwrite(obj, data, len, off) == (ssize_t)len, what);
		snprintf(what, sizeof(what), "read back %zu bytes at %llu (cached)", len,
		         (unsigned long long)off);
		CHECK(content_ok(obj, model, off + len), what);
		CHECK(store_obj_flush(obj) == 0, "flush");
		CHECK(content_ok(obj, model, off + len), "read back after flush");
		obj = obj_reopen(st, obj);
		snprintf(what, sizeof(what), "read back %zu bytes at %llu after reopen", len,
		         (unsigned long long)off);
		CHECK(content_ok(obj, model, off + len), what);
		obj_discard(store_obj_id(obj));
		store_obj_close(obj);
	}
	free(model);
	free(data);
}

/* A recorder's pattern: 320-byte frames appended one by one. */
static void test_frames(struct store *st)
{
	enum { FRAME = 320, FRAMES = 200 };
	uint8_t *model = malloc(FRAME * FRAMES);
	struct store_obj *obj = obj_new(st, "frames");
	uint64_t seed = 2;
	int ok = 1;

	if (!model)
		die("malloc");
	rng_fill(&seed, model, FRAME * FRAMES);
	for (int i = 0; i < FRAMES; i++) {
		ok &= store_obj_pwrite(obj, model + i * FRAME, FRAME, (uint64_t)i * FRAME) == FRAME;
		ok &= store_obj_size(obj) == (uint64_t)(i + 1) * FRAME;
		/* Read the frame just written, and the one across a block edge. */
		ok &= range_ok(obj, model, (uint64_t)(i + 1) * FRAME, (uint64_t)i * FRAME, FRAME);
		if (i > 0)
			ok &= range_ok(obj, model, (uint64_t)(i + 1) * FRAME,
			               (uint64_t)(i - 1) * FRAME, 2 * FRAME);
	}
	CHECK(ok, "200 appended 320-byte frames read back as they go");
	CHECK(content_ok(obj, model, FRAME * FRAMES), "all frames read back");
	obj = obj_reopen(st, obj);
	CHECK(content_ok(obj, model, FRAME * FRAMES), "all frames read back after reopen");
	obj_discard(store_obj_id(obj));
	store_obj_close(obj);
	free(model);
}

static void test_holes_and_truncate(struct store *st)
{
	enum { CAP = 64 * 1024 };
	uint8_t *model = calloc(1, CAP), *data = malloc(CAP);
	struct store_obj *obj = obj_new(st, "holes");
	uint64_t seed = 3;

	if (!model || !data)
		die("malloc");
	rng_fill(&seed, data, CAP);

	/* Beyond EOF: the gap reads as zeros, in the cache and on disk. */
	memcpy(model, data, 10);
	memcpy(model + 50000, data + 10, 10);
	CHECK(store_obj_pwrite(obj, data, 10, 0) == 10 &&
	      store_obj_pwrite(obj, data + 10, 10, 50000) == 10, "write at 0 and at 50000");
	CHECK(content_ok(obj, model, 50010), "bytes 10..50000 read as zeros");
	obj = obj_reopen(st, obj);
	CHECK(content_ok(obj, model, 50010), "bytes 10..50000 are zeros after reopen");

	/* Overwrite in the middle, across two block edges. */
	memcpy(model + 3000, data + 100, 6000);
	CHECK(store_obj_pwrite(obj, data + 100, 6000, 3000) == 6000, "overwrite 6000 bytes at 3000");
	CHECK(content_ok(obj, model, 50010), "overwrite in the middle reads back, size unchanged");
	obj = obj_reopen(st, obj);
	CHECK(content_ok(obj, model, 50010), "overwrite survives reopen");

	/* Down into the middle of block 1, then up: zeros where data was. */
	memcpy(model, data, 12288);
	memset(model + 12288, 0, CAP - 12288);
	CHECK(store_obj_truncate(obj, 0) == 0 && store_obj_size(obj) == 0, "truncate to 0");
	CHECK(store_obj_pwrite(obj, data, 12288, 0) == 12288, "write 3 blocks");
	CHECK(store_obj_flush(obj) == 0, "flush");
	CHECK(store_obj_truncate(obj, 5000) == 0 && store_obj_size(obj) == 5000,
	      "truncate down into block 1");
	memset(model + 5000, 0, CAP - 5000);
	CHECK(content_ok(obj, model, 5000), "truncated object reads its first 5000 bytes");
	CHECK(store_obj_truncate(obj, 12288) == 0 && store_obj_size(obj) == 12288,
	      "truncate up again to 12288");
	CHECK(content_ok(obj, model, 12288), "bytes 5000..12288 read as zeros after growing");
	obj = obj_reopen(st, obj);
	CHECK(content_ok(obj, model, 12288), "zeros where data was, after reopen");

	/* The same with nothing flushed in between, and at a block edge. */
	CHECK(store_obj_pwrite(obj, data, 9000, 0) == 9000, "rewrite 9000 bytes");
	memcpy(model, data, 9000);
	CHECK(store_obj_truncate(obj, 4096) == 0 && store_obj_truncate(obj, 4100) == 0,
	      "truncate to a block edge and 4 bytes past it");
	memset(model + 4096, 0, CAP - 4096);
	CHECK(content_ok(obj, model, 4100), "4 zero bytes past the edge");
	CHECK(store_obj_truncate(obj, 1) == 0 && store_obj_truncate(obj, 20000) == 0,
	      "truncate to 1, then up to 20000");
	memset(model + 1, 0, CAP - 1);
	CHECK(content_ok(obj, model, 20000), "one byte and zeros");
	obj = obj_reopen(st, obj);
	CHECK(content_ok(obj, model, 20000), "one byte and zeros after reopen");

	obj_discard(store_obj_id(obj));
	store_obj_close(obj);
	free(model);
	free(data);
}

/* The backing file's length for a plaintext size, per docs/format.md. */
static off_t obj_file_len(uint64_t size)
{
	uint64_t full = size / STORE_BLOCK_BYTES, rem = size % STORE_BLOCK_BYTES;

	return STORE_DATA_OFF + (off_t)(full * STORE_CBLOCK_BYTES) +
	       (rem ? (off_t)(rem + CRYPTO_SEAL_OVERHEAD) : 0);
}

static void test_sizes(struct store *st)
{
	static const uint64_t sizes[] = { 0, 1, 40, 41, 320, 4095, 4096, 4097, 8192, 100000 };
	uint8_t *data = calloc(1, 100000);
	char what[80], path[PATH_MAX];

	if (!data)
		die("malloc");
	memset(data, 0xab, 100000);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct store_obj *obj = obj_new(st, "size");
		off_t want_len = obj_file_len(sizes[i]);

		store_obj_pwrite(obj, data, sizes[i], 0);
		obj = obj_reopen(st, obj);
		obj_path(store_obj_id(obj), path);
		snprintf(what, sizeof(what), "size %llu survives close/reopen",
		         (unsigned long long)sizes[i]);
		CHECK(store_obj_size(obj) == sizes[i], what);
		if (sizes[i]) {
			snprintf(what, sizeof(what), "file length for size %llu follows the format",
			         (unsigned long long)sizes[i]);
			CHECK(file_size(path) == want_len, what);
		}
		obj_discard(store_obj_id(obj));
		store_obj_close(obj);
	}
	free(data);
}

static void test_sparse(struct store *st)
{
	static const char head[] = "head of a long silence";
	uint8_t buf[4096], zeros[4096] = { 0 };
	struct store_obj *obj = obj_new(st, "huge");
	char path[PATH_MAX];
	struct stat stb;
	struct store_id id = *store_obj_id(obj);

	obj_path(&id, path);
	CHECK(store_obj_pwrite(obj, head, sizeof(head), 0) == (ssize_t)sizeof(head),
	      "write a head before growing");
	CHECK(store_obj_truncate(obj, TIB) == 0 && store_obj_size(obj) == TIB, "truncate to 1 TiB");
	CHECK(store_obj_flush(obj) == 0, "flush the 1 TiB object");
	if (stat(path, &stb) < 0)
		die(path);
	CHECK(stb.st_size > (off_t)TIB, "the backing file is longer than 1 TiB");
	CHECK(stb.st_blocks * 512 < 1 * (off_t)MIB, "and occupies under 1 MiB: it stays sparse");
	CHECK(store_obj_pread(obj, buf, sizeof(buf), TIB - sizeof(buf)) == (ssize_t)sizeof(buf) &&
	      memcmp(buf, zeros, sizeof(buf)) == 0, "the last 4096 bytes read as zeros");
	CHECK(store_obj_pread(obj, buf, sizeof(buf), TIB / 2 + 77) == (ssize_t)sizeof(buf) &&
	      memcmp(buf, zeros, sizeof(buf)) == 0, "bytes in the middle read as zeros");
	CHECK(store_obj_pread(obj, buf, 100, TIB - 10) == 10, "read at the end is short");
	CHECK(store_obj_pread(obj, buf, 100, TIB) == 0, "read at EOF returns 0");
	obj = obj_reopen(st, obj);
	CHECK(store_obj_size(obj) == TIB, "1 TiB survives reopen");
	CHECK(store_obj_pread(obj, buf, sizeof(head), 0) == (ssize_t)sizeof(head) &&
	      memcmp(buf, head, sizeof(head)) == 0, "the head is intact");
	CHECK(store_obj_pread(obj, buf, sizeof(buf), TIB - sizeof(buf)) == (ssize_t)sizeof(buf) &&
	      memcmp(buf, zeros, sizeof(buf)) == 0, "the last 4096 bytes read as zeros after reopen");
	CHECK(store_obj_pwrite(obj, "tail", 4, TIB - 4) == 4 &&
	      store_obj_pread(obj, buf, 4, TIB - 4) == 4 && memcmp(buf, "tail", 4) == 0,
	      "write at the end of 1 TiB");
	CHECK(store_obj_truncate(obj, UINT64_MAX) == -EFBIG && store_obj_size(obj) == TIB,
	      "truncate to 2^64-1 -> EFBIG, size unchanged");
	CHECK(store_obj_pwrite(obj, "x", 1, UINT64_MAX - 1) == -EFBIG &&
	      store_obj_pwrite(obj, "xy", 2, (uint64_t)INT64_MAX) == -EFBIG &&
	      store_obj_size(obj) == TIB, "pwrite past the representable size -> EFBIG");
	CHECK(store_obj_truncate(obj, 1 * MIB) == 0 && store_obj_size(obj) == MIB,
	      "truncate 1 TiB down to 1 MiB");
	store_obj_close(obj);
	CHECK(file_size(path) == obj_file_len(MIB), "the backing file shrank to 1 MiB's blocks");
	CHECK(store_shred(st, &id) == 0 && store_reap_shredded(st, &id, 1) == 0, "destroy it");
}

/* Three full blocks of known content, flushed and closed. */
static struct store_id three_blocks(struct store *st, uint8_t *data, uint64_t seed)
{
	struct store_obj *obj = obj_new(st, "3b");
	struct store_id id = *store_obj_id(obj);

	rng_fill(&seed, data, 3 * STORE_BLOCK_BYTES);
	if (store_obj_pwrite(obj, data, 3 * STORE_BLOCK_BYTES, 0) != 3 * STORE_BLOCK_BYTES ||
	    store_obj_close(obj) != 0)
		die("three_blocks");
	return id;
}

static off_t cblock_at(uint64_t idx)
{
	return STORE_DATA_OFF + (off_t)idx * STORE_CBLOCK_BYTES;
}

static void test_block_damage(struct store *st)
{
	enum { B = STORE_BLOCK_BYTES };
	uint8_t data[3 * STORE_BLOCK_BYTES], buf[3 * STORE_BLOCK_BYTES];
	uint8_t c0[STORE_CBLOCK_BYTES], c2[STORE_CBLOCK_BYTES];
	struct store_obj *obj = NULL;
	struct store_id id, id2;
	char path[PATH_MAX], path2[PATH_MAX];

	/* A flipped ciphertext byte in block 1. */
	id = three_blocks(st, data, 10);
	obj_path(&id, path);
	file_flip(path, cblock_at(1) + CRYPTO_NONCE_BYTES + 100);
	CHECK(store_obj_open(st, &id, &obj) == 0, "open with block 1 damaged");
	CHECK(store_obj_pread(obj, buf, B, B) == -EIO, "read of block 1 -> EIO");
	CHECK(store_obj_pread(obj, buf, 10, B + 900) == -EIO, "read inside block 1 -> EIO");
	CHECK(store_obj_pread(obj, buf, B, 0) == B && memcmp(buf, data, B) == 0,
	      "block 0 still reads");
	CHECK(store_obj_pread(obj, buf, B, 2 * B) == B &&
	      memcmp(buf, data + 2 * B, B) == 0, "block 2 still reads");
	CHECK(store_obj_pread(obj, buf, sizeof(buf), 0) == B,
	      "read across the damage stops short at it");
	CHECK(store_obj_pwrite(obj, "x", 1, B + 900) == -EIO,
	      "a partial write into the damaged block -> EIO");
	store_obj_close(obj);
	obj_discard(&id);

	/* Blocks 0 and 2 swapped: each authenticates only at its own index. */
	id = three_blocks(st, data, 11);
	obj_path(&id, path);
	file_get(path, c0, sizeof(c0), cblock_at(0));
	file_get(path, c2, sizeof(c2), cblock_at(2));
	file_put(path, c2, sizeof(c2), cblock_at(0));
	file_put(path, c0, sizeof(c0), cblock_at(2));
	CHECK(store_obj_open(st, &id, &obj) == 0, "open with blocks 0 and 2 swapped");
	CHECK(store_obj_pread(obj, buf, B, 0) == -EIO, "swapped block at index 0 -> EIO");
	CHECK(store_obj_pread(obj, buf, B, 2 * B) == -EIO, "swapped block at index 2 -> EIO");
	CHECK(store_obj_pread(obj, buf, B, B) == B &&
	      memcmp(buf, data + B, B) == 0, "block 1, not moved, still reads");
	store_obj_close(obj);
	obj_discard(&id);

	/* Block 0 of another object, same index: another key and id. */
	id = three_blocks(st, data, 12);
	id2 = three_blocks(st, buf, 13);
	obj_path(&id, path);
	obj_path(&id2, path2);
	file_get(path2, c0, sizeof(c0), cblock_at(0));
	file_put(path, c0, sizeof(c0), cblock_at(0));
	CHECK(store_obj_open(st, &id, &obj) == 0, "open with a block from another object");
	CHECK(store_obj_pread(obj, buf, B, 0) == -EIO, "another object's block -> EIO");
	CHECK(store_obj_pread(obj, buf, 2 * B, B) == 2 * B &&
	      memcmp(buf, data + B, 2 * B) == 0, "its own blocks still read");
	store_obj_close(obj);
	obj_discard(&id);
	obj_discard(&id2);
}

/* A child rewrites block 1 (full) and the growing last block 2 in place,
 * each version all one letter, and is killed with SIGKILL at a random
 * moment: every block must still authenticate and hold one whole version.
 * The kernel gives up a pwrite between two pages when a fatal signal is
 * pending, so this holds only because a block never straddles two pages
 * (format v1's 4136-byte blocks failed about every other kill here). */
static void rewrite_forever(struct store *st, const struct store_id *id)
{
	uint8_t v[STORE_BLOCK_BYTES];
	struct store_obj *obj = NULL;

	if (store_obj_open(st, id, &obj) != 0)
		_exit(1);
	for (unsigned i = 0;; i++) {
		/* The whole tail each time, one byte longer while it can grow. */
		uint64_t tail = store_obj_size(obj) - 2 * STORE_BLOCK_BYTES;

		if (tail < STORE_BLOCK_BYTES - 1)
			tail++;
		/* Never 'a', the first version's letter: one pass shows. */
		memset(v, 'b' + i % 25, sizeof(v));
		if (store_obj_pwrite(obj, v, STORE_BLOCK_BYTES, STORE_BLOCK_BYTES) < 0 ||
		    store_obj_pwrite(obj, v, tail, 2 * STORE_BLOCK_BYTES) < 0 ||
		    store_obj_flush(obj) != 0)
			_exit(1);
	}
}

static int uniform(const uint8_t *p, size_t n)
{
	return n > 0 && p[0] >= 'a' && p[0] <= 'z' && memcmp(p, p + 1, n - 1) == 0;
}

static void test_kill_during_rewrite(struct store *st)
{
	enum { B = STORE_BLOCK_BYTES, KILLS = 150 };
	uint8_t *buf = malloc(3 * B);
	struct store_obj *obj = obj_new(st, "kill");
	struct store_id id = *store_obj_id(obj);
	uint64_t seed = 42;
	int bad = 0, ran = 0;

	if (!buf)
		die("malloc");
	memset(buf, 'a', 2 * B + 100);
	if (store_obj_pwrite(obj, buf, 2 * B + 100, 0) != 2 * B + 100 || store_obj_close(obj) != 0)
		die("kill: first version");
	for (int k = 0; k < KILLS && !bad; k++) {
		struct timespec pause = { 0, (long)(100 + rng_below(&seed, 2900)) * 1000 };
		pid_t pid = fork();
		uint64_t size;
		ssize_t got;

		if (pid < 0)
			die("fork");
		if (pid == 0)
			rewrite_forever(st, &id);
		nanosleep(&pause, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (store_obj_open(st, &id, &obj) != 0)
			die("kill: reopen");
		size = store_obj_size(obj);
		got = store_obj_pread(obj, buf, 3 * B, 0);
		bad = got != (ssize_t)size || size <= 2 * B || size > 3 * B ||
		      !uniform(buf, B) || !uniform(buf + B, B) ||
		      !uniform(buf + 2 * B, size - 2 * B);
		ran += buf[B] != 'a';
		store_obj_close(obj);
	}
	CHECK(!bad, "kill -9 during in-place rewrites: every block whole, old or new");
	CHECK(ran > 0, "and the rewrites did run before the kills");
	CHECK(store_shred(st, &id) == 0 && store_reap_shredded(st, &id, 1) == 0, "destroy it");
	free(buf);
}

/* ---- destruction, clock mark, secrecy ---- */

static void test_shred(struct store *st)
{
	struct scan_probe *p = malloc(sizeof(*p));
	uint8_t hdr[STORE_DATA_OFF], zeros[STORE_DATA_OFF] = { 0 };
	struct store_obj *obj;
	struct store_id a, b;
	char pa[PATH_MAX], pb[PATH_MAX];
	unsigned damaged = 9;
	struct store *ro;
	int err;

	if (!p)
		die("malloc");
	obj = obj_new(st, "a");
	store_obj_pwrite(obj, "some audio", 10, 0);
	a = *store_obj_id(obj);
	store_obj_close(obj);
	obj = obj_new(st, "b");
	store_obj_pwrite(obj, "more audio", 10, 0);
	b = *store_obj_id(obj);
	store_obj_close(obj);
	obj_path(&a, pa);
	obj_path(&b, pb);

	CHECK(store_shred(st, &a) == 0, "shred a");
	CHECK(store_reap_shredded(st, &a, 1) == 0 && !file_exists(pa), "reap a: its file is gone");
	CHECK(store_reap_shredded(st, &a, 1) == 0, "reaping it again is harmless");
	CHECK(store_shred(st, &a) == -ENOENT, "shred of a missing object -> ENOENT");

	CHECK(store_shred(st, &b) == 0 && file_exists(pb), "shred b only: its file stays");
	file_get(pb, hdr, sizeof(hdr), 0);
	CHECK(memcmp(hdr, zeros, sizeof(hdr)) == 0, "header and both slots are zeros");
	obj = NULL;
	CHECK(store_obj_open(st, &b, &obj) == -EBADMSG, "a shredded object no longer opens");
	ro = store_open(sdir, master, STORE_READONLY, &err);
	CHECK(ro && scan_for(ro, &b, p, &damaged) == 0 && p->seen == 0 && damaged == 0 &&
	      file_exists(pb), "a read-only scan skips the shredded leftover and leaves it");
	store_close(ro);
	CHECK(scan_for(st, &b, p, &damaged) == 0 && p->seen == 0 && damaged == 0,
	      "scan does not report the shredded leftover, nor count it damaged");
	CHECK(!file_exists(pb), "scan unlinked the shredded leftover");

	/* Many leftovers, as a crash during a mass expiry leaves them: the
	 * scan's workers collect them and all go after one sync. */
	{
		enum { MANY = 300 };
		struct store_id many[MANY];
		char path[PATH_MAX];
		unsigned shredded = 0, left = 0;

		for (int i = 0; i < MANY; i++) {
			obj = obj_new(st, "x");
			store_obj_pwrite(obj, "x", 1, 0);
			many[i] = *store_obj_id(obj);
			store_obj_close(obj);
			shredded += store_shred(st, &many[i]) == 0;
		}
		CHECK(shredded == MANY, "300 objects shredded, not unlinked");
		CHECK(scan_for(st, &b, p, &damaged) == 0 && p->seen == 0 && damaged == 0,
		      "a scan over 300 shredded leftovers succeeds, none reported or damaged");
		for (int i = 0; i < MANY; i++) {
			obj_path(&many[i], path);
			left += file_exists(path);
		}
		CHECK(left == 0, "the scan unlinked all 300 leftovers");
	}
	free(p);
}

/* Empty object files in objects/ (the spares a mounted daemon keeps). */
static unsigned empty_objects(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	unsigned n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/objects", sdir);
	d = opendir(path);
	if (!d)
		die(path);
	while ((de = readdir(d))) {
		char f[PATH_MAX + 300];
		struct stat stb;

		snprintf(f, sizeof(f), "%s/%s", path, de->d_name);
		if (de->d_name[0] != '.' && stat(f, &stb) == 0 && S_ISREG(stb.st_mode) &&
		    stb.st_size == 0)
			n++;
	}
	closedir(d);
	return n;
}

static void test_spares(void)
{
	struct scan_probe *p = malloc(sizeof(*p));
	struct store_id ids[100], left;
	struct store_obj *obj;
	char path[PATH_MAX], buf[16];
	unsigned damaged = 9, distinct = 1, readable = 1;
	struct store *st, *ro;
	int err, fd;

	st = store_open(sdir, master, 0, &err);
	if (!p || !st)
		die("spares: store_open");
	CHECK(empty_objects() == 0, "spares: none before the thread starts");
	CHECK(store_spares_start(st) == 0, "spares: the thread starts");
	for (int i = 0; i < 200 && empty_objects() == 0; i++)
		usleep(10000);
	CHECK(empty_objects() > 0 && empty_objects() <= 32, "spares: empty objects made ready (at most 32)");
	/* More creates than spares: some take one, the rest make their own. */
	for (int i = 0; i < 100; i++) {
		obj = obj_new(st, "spare");
		ids[i] = *store_obj_id(obj);
		store_obj_pwrite(obj, "call", 4, 0);
		store_obj_close(obj);
		for (int j = 0; j < i; j++)
			distinct &= memcmp(&ids[i], &ids[j], sizeof(ids[i])) != 0;
	}
	for (int i = 0; i < 100; i++) {
		obj = NULL;
		readable &= store_obj_open(st, &ids[i], &obj) == 0 &&
		            store_obj_pread(obj, buf, sizeof(buf), 0) == 4 && !memcmp(buf, "call", 4);
		store_obj_close(obj);
	}
	CHECK(distinct && readable, "spares: 100 creates, each its own object, each reads back");
	store_close(st);
	CHECK(empty_objects() == 0, "spares: store_close removes the spares");

	/* A daemon killed with spares ready leaves empty files behind. */
	crypto_random(left.b, sizeof(left.b));
	obj_path(&left, path);
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		die(path);
	close(fd);
	ro = store_open(sdir, master, STORE_READONLY, &err);
	CHECK(ro && scan_for(ro, &left, p, &damaged) == 0 && p->seen == 0 && damaged == 0 &&
	      file_exists(path), "a read-only scan skips an empty object and leaves it");
	store_close(ro);
	st = store_open(sdir, master, 0, &err);
	CHECK(st && scan_for(st, &left, p, &damaged) == 0 && p->seen == 0 && damaged == 0,
	      "scan does not report an empty object, nor count it damaged");
	CHECK(!file_exists(path), "scan unlinked the empty object");
	for (int i = 0; i < 100; i++)
		if (store_shred(st, &ids[i]) == 0)
			store_reap_shredded(st, &ids[i], 1);
	store_close(st);
	free(p);
}

static void test_mark(struct store *st)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/clock", sdir);
	CHECK(store_mark_read(st) == 0, "no mark yet -> 0");
	CHECK(store_mark_write(st, 1790000000123456789LL) == 0, "mark write");
	CHECK(store_mark_read(st) == 1790000000123456789LL, "mark read returns it");
	CHECK(store_mark_write(st, 1790000001000000000LL) == 0 &&
	      store_mark_read(st) == 1790000001000000000LL, "a later mark replaces it");
	file_flip(path, 0);
	CHECK(store_mark_read(st) == 0, "tampered time -> 0");
	file_flip(path, 0);
	CHECK(store_mark_read(st) == 1790000001000000000LL, "untampered again -> the mark");
	file_flip(path, 8 + 31);
	CHECK(store_mark_read(st) == 0, "tampered MAC -> 0");
	if (truncate(path, 20) < 0)
		die("truncate");
	CHECK(store_mark_read(st) == 0, "truncated mark -> 0");
	CHECK(store_mark_write(st, 1790000002000000000LL) == 0 &&
	      store_mark_read(st) == 1790000002000000000LL, "a fresh write repairs it");
}

static void test_no_plaintext(struct store *st)
{
	static const char name[] = "+4512345678";
	static const char secret[] = "010203-1234";
	uint8_t xattr[] = "user.caller=+4512345678";
	uint8_t content[20000];
	struct store_meta m;
	struct store_obj *obj = NULL;

	meta_fill(&m, name, xattr, sizeof(xattr));
	if (store_obj_create(st, &m, &obj) != 0)
		die("store_obj_create");
	memset(content, 'a', sizeof(content));
	/* Once inside a block, once straddling the edge of blocks 0 and 1. */
	memcpy(content + 100, secret, strlen(secret));
	memcpy(content + 4090, secret, strlen(secret));
	CHECK(store_obj_pwrite(obj, content, sizeof(content), 0) == (ssize_t)sizeof(content),
	      "write content holding the secret");
	CHECK(store_meta_write(obj, &m) == 0, "write the meta again (slot B)");
	CHECK(store_obj_sync(obj, 0) == 0, "sync");
	CHECK(files_holding("RECFS") >= 2, "control: the search finds the format's magic");
	CHECK(files_holding(name) == 0, "no store file holds the name \"+4512345678\"");
	CHECK(files_holding(secret) == 0, "no store file holds the content \"010203-1234\"");
	CHECK(files_holding("user.caller") == 0, "no store file holds the xattr");
	obj_discard(store_obj_id(obj));
	store_obj_close(obj);
}

/* ---- a random walk against an in-memory model ---- */

static uint64_t pick_off(uint64_t *s, uint64_t msize)
{
	switch (rng_below(s, 4)) {
	case 0: { /* within 2 bytes of a block edge */
		uint64_t edge = (1 + rng_below(s, MODEL_MAX_OFF / STORE_BLOCK_BYTES)) * STORE_BLOCK_BYTES;

		return edge + rng_below(s, 5) - 2;
	}
	case 1: { /* around the current end */
		uint64_t at = msize + rng_below(s, 9000);

		return at > 4500 ? at - 4500 : 0;
	}
	default:
		return rng_below(s, MODEL_MAX_OFF + 1);
	}
}

static size_t pick_len(uint64_t *s)
{
	switch (rng_below(s, 4)) {
	case 0:
		return 1 + rng_below(s, 16);
	case 1:
		return 320;
	case 2:
		return STORE_BLOCK_BYTES - 2 + rng_below(s, 5);
	default:
		return 1 + rng_below(s, MODEL_MAX_LEN);
	}
}

static void test_model(struct store *st)
{
	uint8_t *model = calloc(1, MODEL_CAP), *buf = malloc(MODEL_CAP);
	uint64_t s = MODEL_SEED, msize = 0;
	struct store_obj *obj = obj_new(st, "model");
	int bad = -1;
	int i;

	if (!model || !buf)
		die("malloc");
	for (i = 0; i < MODEL_OPS && bad < 0; i++) {
		uint64_t r = rng_below(&s, 100), off = pick_off(&s, msize);
		size_t len = pick_len(&s);

		if (off > MODEL_MAX_OFF)
			off = MODEL_MAX_OFF;
		if (r < 45) {
			rng_fill(&s, buf, len);
			if (store_obj_pwrite(obj, buf, len, off) != (ssize_t)len)
				bad = i;
			memcpy(model + off, buf, len);
			if (off + len > msize)
				msize = off + len;
		} else if (r < 60) {
			uint64_t size = rng_below(&s, 3) ? off : off + len;

			if (store_obj_truncate(obj, size) != 0)
				bad = i;
			if (size < msize)
				memset(model + size, 0, msize - size);
			msize = size;
		} else if (!range_ok(obj, model, msize, off, len)) {
			bad = i;
		}
		if (store_obj_size(obj) != msize)
			bad = i;
		if (bad < 0 && i % MODEL_REOPEN == MODEL_REOPEN - 1) {
			obj = obj_reopen(st, obj);
			if (store_obj_size(obj) != msize)
				bad = i;
		}
	}
	if (bad >= 0)
		printf("model: first mismatch at op %d (seed 0x%llx), model size %llu, store size %llu\n",
		       bad, (unsigned long long)MODEL_SEED, (unsigned long long)msize,
		       (unsigned long long)store_obj_size(obj));
	CHECK(bad < 0, "3000 random pwrite/truncate/pread ops match the model");
	obj = obj_reopen(st, obj);
	CHECK(store_obj_size(obj) == msize && range_ok(obj, model, msize, 0, MODEL_CAP),
	      "after the walk, the reopened object equals the model");
	obj_discard(store_obj_id(obj));
	store_obj_close(obj);
	free(model);
	free(buf);
}

/* ---- the wrong key, on a store with content ---- */

static void test_wrong_key(void)
{
	uint8_t before[CRYPTO_HASH_BYTES], after[CRYPTO_HASH_BYTES];
	struct store *st, *bad;
	struct store_obj *obj;
	int err = 0;

	st = store_open(sdir, master, 0, &err);
	if (!st)
		die("store_open");
	obj = obj_new(st, "kept");
	store_obj_pwrite(obj, "data", 4, 0);
	store_obj_close(obj);
	store_mark_write(st, 1800000000000000000LL);
	snapshot(before);

	err = 0;
	bad = store_open(sdir, wrong, 0, &err);
	CHECK(bad == NULL && err == -EKEYREJECTED, "wrong key while open -> EKEYREJECTED");
	store_close(bad);
	store_close(st);
	err = 0;
	bad = store_open(sdir, wrong, 0, &err);
	CHECK(bad == NULL && err == -EKEYREJECTED, "wrong key while closed -> EKEYREJECTED");
	store_close(bad);
	snapshot(after);
	CHECK(memcmp(before, after, sizeof(before)) == 0,
	      "after the wrong key, every store file is byte-identical");
	st = store_open(sdir, master, 0, &err);
	CHECK(st != NULL && store_mark_read(st) == 1800000000000000000LL,
	      "the right key still opens it, mark intact");
	store_close(st);
}

int main(void)
{
	struct store *st;
	int err = 0;

	/* Line by line, so the store's log lines on stderr fall between
	 * results, next to the check that caused them. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	CHECK(crypto_init() == 0, "crypto_init");
	if (!mkdtemp(tmpdir))
		die("mkdtemp");
	tmp_made = 1;
	snprintf(sdir, sizeof(sdir), "%s/store", tmpdir);
	snprintf(sbpath, sizeof(sbpath), "%s/recfs.store", sdir);
	crypto_random(master, sizeof(master));
	memcpy(wrong, master, sizeof(wrong));
	wrong[CRYPTO_KEY_BYTES - 1] ^= 0x01;

	test_missing();
	test_init();
	test_open_close();
	test_superblock();

	st = store_open(sdir, master, 0, &err);
	if (!st) {
		CHECK(0, "store_open for the object tests");
		goto out;
	}
	test_obj_meta(st);
	test_torn_slots(st);
	test_round_trips(st);
	test_frames(st);
	test_holes_and_truncate(st);
	test_sizes(st);
	test_sparse(st);
	test_block_damage(st);
	test_kill_during_rewrite(st);
	test_shred(st);
	test_mark(st);
	test_no_plaintext(st);
	test_model(st);
	store_close(st);
	test_spares();
	test_wrong_key();
out:
	cleanup();
	return check_done();
}
