/*
 * mkcorpus OUTDIR: seed inputs for the fuzz targets, made at run time from
 * real store files, so no binary blobs live in the repository. It makes a
 * store with the fuzz master key in a scratch directory, creates objects,
 * content and an audit trail through the public API, and writes each as
 * an input in the format its target expects (see the comment at the top
 * of each tests/fuzz/fuzz_*.c) into OUTDIR/<target>/seed-NN.
 *
 * Exit status 0, or 2 with a message when anything fails.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "clock.h"
#include "harness.h"

#define META_AD_LABEL "recfs meta v1"

static const char *outdir;
static char store[PATH_MAX];
static struct store *st;

/* OUTDIR/target/seed-NN = head (hlen bytes) followed by body. */
static void seed(const char *target, const void *head, size_t hlen, const void *body,
                 size_t blen)
{
	static int n;
	char path[PATH_MAX];
	uint8_t *buf = malloc(hlen + blen + 1);

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		fz_die(path);
	snprintf(path, sizeof(path), "%s/%s/seed-%02d", outdir, target, ++n);
	if (!buf)
		fz_die("malloc");
	memcpy(buf, head, hlen);
	if (blen)
		memcpy(buf + hlen, body, blen);
	if (fz_write_file(path, buf, hlen + blen) < 0)
		fz_die(path);
	free(buf);
}

static uint8_t *must_read(const char *path, size_t *len)
{
	uint8_t *b = fz_read_file(path, len);

	if (!b)
		fz_die(path);
	return b;
}

static void seeds_superblock(void)
{
	uint8_t out[CRYPTO_KEY_BYTES], *sb, *clk, *key;
	char path[PATH_MAX];
	size_t len, clen, klen;

	snprintf(path, sizeof(path), "%s/recfs.store", store);
	sb = must_read(path, &len);
	seed("fuzz_superblock", "\x00", 1, sb, len);
	seed("fuzz_superblock", "\x80", 1, sb, len);
	seed("fuzz_superblock", "\x01\x07", 2, sb, len);
	seed("fuzz_superblock", "\x00", 1, sb, 8);
	if (store_mark_write(st, 1760000000123456789LL) < 0 ||
	    store_subkey(st, out, AUDIT_SUBKEY_ID, AUDIT_SUBKEY_CTX) < 0)
		fz_die("clock mark or subkey");
	snprintf(path, sizeof(path), "%s/clock", store);
	clk = must_read(path, &clen);
	seed("fuzz_superblock", "\x02", 1, clk, clen);
	snprintf(path, sizeof(path), "%s/keys/%016x", store, AUDIT_SUBKEY_ID);
	key = must_read(path, &klen);
	seed("fuzz_superblock", "\x03\x00", 2, key, klen);
	seed("fuzz_superblock", "\x03\x01", 2, key, 16);
	free(sb);
	free(clk);
	free(key);
}

/* An object made through the API; its file as a raw seed, its slots'
 * plaintext as a structured one. */
static void object_seeds(struct store_meta *m, const void *content, size_t clen, int update)
{
	uint8_t key[CRYPTO_KEY_BYTES], ad[STORE_ID_BYTES + sizeof(META_AD_LABEL)];
	static uint8_t plain[2][FZ_SLOT_PLAIN_BYTES], head[2 + 32];
	char path[PATH_MAX];
	struct store_obj *obj;
	uint8_t *f, lenb[2];
	size_t len, pos;
	int rc;

	rc = store_obj_create(st, m, &obj);
	if (rc == 0 && clen)
		rc = store_obj_pwrite(obj, content, clen, 0) == (ssize_t)clen ? 0 : -EIO;
	if (rc == 0 && update)
		rc = store_meta_write(obj, m);
	if (rc < 0) {
		errno = -rc;
		fz_die("making an object");
	}
	fz_obj_path(store, store_obj_id(obj), path);
	store_obj_close(obj);
	f = must_read(path, &len);
	seed("fuzz_object", "\x00", 1, f, len);

	/* Structured: the same header fields and slot plaintexts, resealed
	 * by the harness (opt 0x0f: magic, wrap, both slots sealed). */
	if (fz_hdr_unwrap(f, key) < 0)
		fz_die("unwrapping an object made just now");
	memcpy(ad, f + 16, STORE_ID_BYTES);
	memcpy(ad + STORE_ID_BYTES, META_AD_LABEL, sizeof(META_AD_LABEL));
	for (int i = 0; i < 2; i++) {
		size_t off = STORE_SLOT_OFF + (size_t)i * STORE_SLOT_BYTES;

		memset(plain[i], 0, sizeof(plain[i]));
		if (off + STORE_SLOT_BYTES <= len)
			(void)crypto_open(plain[i], key, f + off, STORE_SLOT_BYTES, ad, sizeof(ad));
	}
	{
		/* mode 1, opt, header 0..31, then per slot u16 length + bytes
		 * (only the used part: the rest is zero-filled anyway). */
		uint8_t *s = malloc(2 * (2 + FZ_SLOT_PLAIN_BYTES));

		if (!s)
			fz_die("malloc");
		head[0] = 1;
		head[1] = 0x0f;
		memcpy(head + 2, f, 32);
		pos = 0;
		for (int i = 0; i < 2; i++) {
			size_t used = STORE_META_FIXED_BYTES;

			lenb[0] = (uint8_t)used;
			lenb[1] = (uint8_t)(used >> 8);
			memcpy(s + pos, lenb, 2);
			memcpy(s + pos + 2, plain[i], used);
			pos += 2 + used;
		}
		seed("fuzz_object", head, sizeof(head), s, pos);
		free(s);
	}
	crypto_wipe(key, sizeof(key));
	free(f);
	unlink(path);
}

static void seeds_object(void)
{
	static const uint8_t xattr[] = "\x0c\x03\x00user.callidabc";
	struct store_meta m;
	uint8_t data[5000];

	memset(&m, 0, sizeof(m));
	m.mode = 040755;
	m.flags = META_ROOT;
	m.mtime = m.ctime = m.atime = m.btime = 1760000000000000000LL;
	object_seeds(&m, NULL, 0, 0);

	memset(&m, 0, sizeof(m));
	m.mode = 0100640;
	m.uid = 1000;
	m.state = STATE_SEALED;
	m.ended = 1760000000000000000LL;
	m.deadline = m.ended + 1800000000000LL;
	m.name_len = (uint16_t)strlen("call-0001.wav");
	memcpy(m.name, "call-0001.wav", m.name_len);
	m.xattr_len = sizeof(xattr) - 1;
	m.xattr = (uint8_t *)xattr;
	memset(data, 'r', sizeof(data));
	object_seeds(&m, data, sizeof(data), 1);
}

static void seeds_block(void)
{
	static const size_t sizes[] = { 1, 100, 4096, 4097, 3 * 4096 + 5, 8 * 4096 };
	uint8_t prefix[STORE_DATA_OFF], key[CRYPTO_KEY_BYTES], *data, *f;
	struct store_id id;
	struct store_obj *obj;
	char path[PATH_MAX];
	size_t len;

	fz_block_template(prefix, &id, key);
	fz_obj_path(store, &id, path);
	data = malloc(8 * 4096);
	if (!data)
		fz_die("malloc");
	for (size_t i = 0; i < 8 * 4096; i++)
		data[i] = (uint8_t)(i * 7 + (i >> 9));
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint8_t head1[10] = { 1, 0x10 };

		if (fz_write_file(path, prefix, sizeof(prefix)) < 0 ||
		    store_obj_open(st, &id, &obj) < 0 ||
		    store_obj_pwrite(obj, data, sizes[s], 0) != (ssize_t)sizes[s] ||
		    store_obj_close(obj) < 0)
			fz_die("writing content");
		f = must_read(path, &len);
		seed("fuzz_block", "\x00\x00", 2, f + STORE_DATA_OFF, len - STORE_DATA_OFF);
		fz_put64(head1 + 2, len + 4096);
		seed("fuzz_block", head1, sizeof(head1), f + STORE_DATA_OFF, len - STORE_DATA_OFF);
		free(f);
		unlink(path);
	}
	free(data);
	/* Model mode: 3 blocks and a bit, flip one byte, write and truncate. */
	seed("fuzz_block", "\x02\x03\x05\x30\x11\x00\x07\x10\x20\x00\x00", 11, NULL, 0);
	/* Length mode, a file near 2^40 bytes. */
	seed("fuzz_block", "\x01\x00\x00\x00\x00\x00\x00\x01\x00\x00", 10, NULL, 0);
}

static void seeds_audit(void)
{
	struct audit_config cfg = { .enabled = 1, .keep_ns = INT64_MAX / 2 };
	struct audit_rec *r = calloc(1, sizeof(*r));
	char dir[PATH_MAX], path[PATH_MAX + 300];
	struct dirent *de;
	DIR *d;
	int rc;

	if (!r)
		fz_die("calloc");
	clock_start(0, 0);
	rc = audit_open(store, fz_audit_key, &cfg);
	if (rc < 0) {
		errno = -rc;
		fz_die("audit_open");
	}
	for (int i = 0; i < 3; i++) {
		memset(r, 0, sizeof(*r));
		r->event = AUDIT_OPEN_READ + (uint32_t)i;
		r->uid = 1000;
		r->pid = 4242;
		memcpy(r->comm, "recplay", 7);
		snprintf(r->path, sizeof(r->path), "/keep/call-%04d.wav", i);
		r->duration_ms = -1;
		audit_log(r);
	}
	audit_close();
	snprintf(dir, sizeof(dir), "%s/audit", store);
	d = opendir(dir);
	if (!d)
		fz_die(dir);
	while ((de = readdir(d)) != NULL) {
		uint8_t *f;
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = must_read(path, &len);
		seed("fuzz_audit", "\x00", 1, f, len);
		seed("fuzz_audit", "\x80", 1, f, len);
		free(f);
	}
	closedir(d);
	/* A built trail: 2 segments of 2 records; and a torn one. */
	seed("fuzz_audit", "\x01\x01\x01\x10\x00\x02", 6, NULL, 0);
	seed("fuzz_audit", "\x01\x20\x01\x10\x00\x03", 6, NULL, 0);
	/* A record for the codec alone. */
	{
		uint8_t plain[AUDIT_PLAIN_MAX + 1];
		size_t n;

		memset(r, 0, sizeof(*r));
		r->event = AUDIT_KEEP;
		snprintf(r->path, sizeof(r->path), "/a.wav");
		snprintf(r->path2, sizeof(r->path2), "/keep/a.wav");
		plain[0] = 3;
		n = audit_encode(plain + 1, r);
		seed("fuzz_audit", plain, n + 1, NULL, 0);
	}
	free(r);
}

int main(int argc, char **argv)
{
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: mkcorpus OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0700) < 0 && errno != EEXIST)
		fz_die(outdir);
	fz_store_make("seeds", store);
	st = store_open(store, fz_master, 0, &err);
	if (!st) {
		errno = -err;
		fz_die("store_open");
	}
	seeds_superblock();
	seeds_object();
	seeds_block();
	seeds_audit();
	store_close(st);
	return 0;
}
