/*
 * store: format v2 on the host filesystem. The byte layout is specified in
 * docs/format.md; the offsets below are that specification's.
 *
 * Content: block i of an object fills the page at STORE_DATA_OFF + i *
 * STORE_CBLOCK_BYTES as nonce | ciphertext | tag, AAD = object id | le64(i).
 * Only the last block may be short, so the plaintext size follows from the
 * file's length. A block region of all zeros is a hole and reads as zeros.
 *
 * Space: a write that runs out of space half way leaves a torn block (and
 * a block rewritten in place to extend it loses what was there). So the
 * space a write needs is allocated first (fallocate, the file's length
 * unchanged): a full disk fails the write with ENOSPC and nothing on disk
 * changes. The bytes in the one-block cache always have their space, so a
 * write that was acknowledged cannot be lost for want of space when the
 * cache is flushed later; the header and both metadata slots get theirs
 * when the object is created. With room to spare, appends reserve ahead
 * (as much as the file holds, 64 KiB to 1 MiB: few calls, large extents on
 * the host) and close gives back what lies past the end; near full, only
 * the pages a write needs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "le.h"
#include "log.h"
#include "store.h"

#define SB_MAGIC "RECFS\0SB"
#define OBJ_MAGIC "RECFS\0OB"
#define MAGIC_BYTES 8
#define SB_FLAG_PASSPHRASE 0x1
#define SB_SUM_OFF (STORE_SB_BYTES - CRYPTO_HASH_BYTES)
#define HDR_WRAP_OFF 32
#define SLOT_PLAIN_BYTES (STORE_SLOT_BYTES - CRYPTO_SEAL_OVERHEAD)
#define MARK_BYTES (8 + CRYPTO_HASH_BYTES)
#define KCV_LABEL "recfs key check v1"
#define MARK_LABEL "recfs clock mark v1"
#define META_AD_LABEL "recfs meta v1"
#define REKEY_FILE "rekey.pending"
#define MARK_FILE "clock"
#define MARK_NEXT "clock.new" /* the mark under the new key, during a rekey */
#define SUBKEY_BYTES (8 + 8 + CRYPTO_WRAPPED_KEY_BYTES)
#define OBJ_MODE 0600
#define OBJ_MODE_CUTTING (OBJ_MODE | S_IXUSR) /* a truncate down is under way */

struct store {
	uint8_t sb[STORE_SB_BYTES]; /* the superblock as read */
	int dirfd;  /* the store directory */
	int objfd;  /* objects/ */
	int sbfd;   /* recfs.store, flocked */
	uint8_t *master;
	char *dir;
	int readonly;
	int no_falloc; /* the host filesystem has no fallocate: no reservations */
	struct spares *spares; /* NULL unless store_spares_start ran */
};

static void spares_stop(struct store *st);

struct store_obj {
	struct store *st;
	int fd;
	struct store_id id;
	uint8_t *key;   /* the object's own key, locked memory */
	uint64_t size;  /* plaintext size, including the cached block */
	/* One plaintext block cached for writing: small appends fill it in
	 * memory and it is sealed once when full or flushed. */
	uint64_t cache_idx;
	uint32_t cache_len; /* valid bytes in cache */
	int cache_valid, cache_dirty;
	uint8_t cache[STORE_BLOCK_BYTES];
	uint8_t cbuf[STORE_CBLOCK_BYTES];
	/* Space allocated ahead of writes: [resv_lo, resv_hi) of the file;
	 * anything up to resv_top past its end is given back at close. */
	off_t resv_lo, resv_hi, resv_top;
	off_t wb_from; /* write-behind started below this offset */
};

/* Not constant-time: it only ever looks at ciphertext and ids. Sealed
 * data almost always differs from zero in its first byte. */
static int all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

void store_id_hex(const struct store_id *id, char out[2 * STORE_ID_BYTES + 1])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < STORE_ID_BYTES; i++) {
		out[2 * i] = hex[id->b[i] >> 4];
		out[2 * i + 1] = hex[id->b[i] & 15];
	}
	out[2 * STORE_ID_BYTES] = '\0';
}

static int id_from_hex(const char *s, struct store_id *id)
{
	for (int i = 0; i < 2 * STORE_ID_BYTES; i++) {
		int c = s[i], v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else
			return -EINVAL;
		if (i % 2 == 0)
			id->b[i / 2] = (uint8_t)(v << 4);
		else
			id->b[i / 2] |= (uint8_t)v;
	}
	return s[2 * STORE_ID_BYTES] == '\0' ? 0 : -EINVAL;
}

int store_id_is_zero(const struct store_id *id)
{
	return all_zero(id->b, STORE_ID_BYTES);
}

/* Full-length pread/pwrite: short transfers are retried, EOF reads zeros. */
static int read_at(int fd, void *buf, size_t len, off_t off)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			memset(p, 0, len);
			break;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static int write_at(int fd, const void *buf, size_t len, off_t off)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Allocate [off, off + len) of fd's file without changing its length, so
 * that writing there cannot fail for want of space. 0, or -errno (ENOSPC,
 * EDQUOT, EFBIG) with nothing changed. A host filesystem without
 * fallocate (or without its KEEP_SIZE mode) gets no reservations: the
 * first refusal turns them off. */
static int reserve(struct store *st, int fd, off_t off, off_t len)
{
	if (len <= 0 || __atomic_load_n(&st->no_falloc, __ATOMIC_RELAXED))
		return 0;
	for (;;) {
		if (fallocate(fd, FALLOC_FL_KEEP_SIZE, off, len) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL) {
			if (!__atomic_exchange_n(&st->no_falloc, 1, __ATOMIC_RELAXED))
				log_warn("the store's filesystem cannot reserve space "
				         "(fallocate: %s): on a full disk, writes already "
				         "acknowledged can be lost", strerror(errno));
			return 0;
		}
		return -errno;
	}
}

/* Reservation sizes (obj_reserve). */
#define RESV_PAGE ((off_t)4096)
#define RESV_MIN ((off_t)64 << 10)
#define RESV_MAX ((off_t)1 << 20)
#define RESV_ROOM ((uint64_t)64 << 20) /* free space that allows chunks */

/* ---- superblock ---- */

static void kcv_compute(uint8_t out[CRYPTO_HASH_BYTES], const uint8_t *master,
                        const uint8_t *store_id)
{
	uint8_t msg[sizeof(KCV_LABEL) + STORE_ID_BYTES];

	memcpy(msg, KCV_LABEL, sizeof(KCV_LABEL));
	memcpy(msg + sizeof(KCV_LABEL), store_id, STORE_ID_BYTES);
	crypto_mac(out, master, msg, sizeof(msg));
}

/* Superblock layout: magic(8) version(4) flags(4) store_id(16) opslimit(8)
 * memlimit(8) salt(16) kcv(32) reserved(128) checksum(32) = 256 bytes. */
static int sb_parse(const uint8_t *sb, struct store_kdf *kdf, uint32_t *version)
{
	uint8_t sum[CRYPTO_HASH_BYTES];

	if (memcmp(sb, SB_MAGIC, MAGIC_BYTES) != 0)
		return -EPROTO;
	*version = get32(sb + 8);
	if (*version != STORE_FORMAT_VERSION)
		return -EPROTONOSUPPORT;
	crypto_checksum(sum, sb, SB_SUM_OFF);
	if (memcmp(sum, sb + SB_SUM_OFF, CRYPTO_HASH_BYTES) != 0)
		return -EBADMSG;
	kdf->passphrase = (get32(sb + 12) & SB_FLAG_PASSPHRASE) != 0;
	kdf->opslimit = get64(sb + 32);
	kdf->memlimit = get64(sb + 40);
	memcpy(kdf->salt, sb + 48, CRYPTO_SALT_BYTES);
	return 0;
}

static int sb_read(int dirfd, uint8_t sb[STORE_SB_BYTES], int *fdout)
{
	struct stat stb;
	int fd, rc;

	fd = openat(dirfd, "recfs.store", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	if (fstat(fd, &stb) < 0) {
		rc = -errno;
		goto fail;
	}
	if (stb.st_size != STORE_SB_BYTES) {
		rc = stb.st_size < MAGIC_BYTES ? -EPROTO : -EBADMSG;
		if (stb.st_size >= MAGIC_BYTES && read_at(fd, sb, MAGIC_BYTES, 0) == 0 &&
		    memcmp(sb, SB_MAGIC, MAGIC_BYTES) != 0)
			rc = -EPROTO;
		goto fail;
	}
	rc = read_at(fd, sb, STORE_SB_BYTES, 0);
	if (rc < 0)
		goto fail;
	*fdout = fd;
	return 0;
fail:
	close(fd);
	return rc;
}

int store_probe(const char *dir, struct store_kdf *kdf, uint32_t *version)
{
	uint8_t sb[STORE_SB_BYTES];
	int dirfd, fd = -1, rc;

	*version = 0;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	rc = sb_read(dirfd, sb, &fd);
	if (rc == 0)
		rc = sb_parse(sb, kdf, version);
	if (fd >= 0)
		close(fd);
	close(dirfd);
	return rc;
}

int store_init(const char *dir, const uint8_t *master, const struct store_kdf *kdf)
{
	uint8_t sb[STORE_SB_BYTES] = { 0 };
	int dirfd = -1, fd = -1, rc;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	if (mkdirat(dirfd, "objects", 0700) < 0) {
		rc = -errno;
		goto out;
	}
	memcpy(sb, SB_MAGIC, MAGIC_BYTES);
	put32(sb + 8, STORE_FORMAT_VERSION);
	put32(sb + 12, kdf->passphrase ? SB_FLAG_PASSPHRASE : 0);
	crypto_random(sb + 16, STORE_ID_BYTES);
	put64(sb + 32, kdf->opslimit);
	put64(sb + 40, kdf->memlimit);
	memcpy(sb + 48, kdf->salt, CRYPTO_SALT_BYTES);
	kcv_compute(sb + 64, master, sb + 16);
	crypto_checksum(sb + SB_SUM_OFF, sb, SB_SUM_OFF);
	if (mkdirat(dirfd, "keys", 0700) < 0) {
		rc = -errno;
		goto out;
	}

	fd = openat(dirfd, "recfs.store", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	rc = write_at(fd, sb, sizeof(sb), 0);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (rc == 0 && fsync(dirfd) < 0)
		rc = -errno;
out:
	if (fd >= 0)
		close(fd);
	close(dirfd);
	return rc;
}

struct store *store_open(const char *dir, const uint8_t *master, int flags, int *err)
{
	uint8_t sb[STORE_SB_BYTES], kcv[CRYPTO_HASH_BYTES];
	struct store_kdf kdf;
	struct store *st;
	uint32_t version;
	int rc;

	st = calloc(1, sizeof(*st));
	if (!st) {
		*err = -ENOMEM;
		return NULL;
	}
	st->dirfd = st->objfd = st->sbfd = -1;
	st->master = crypto_key_alloc();
	st->dir = strdup(dir);
	rc = -ENOMEM;
	if (!st->master || !st->dir)
		goto fail;
	memcpy(st->master, master, CRYPTO_KEY_BYTES);

	st->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dirfd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = sb_read(st->dirfd, sb, &st->sbfd);
	if (rc == 0)
		rc = sb_parse(sb, &kdf, &version);
	if (rc < 0)
		goto fail;
	memcpy(st->sb, sb, sizeof(sb));
	kcv_compute(kcv, master, sb + 16);
	if (crypto_equal32(kcv, sb + 64) != 0) {
		rc = -EKEYREJECTED;
		goto fail;
	}
	if (!(flags & STORE_REKEY) && faccessat(st->dirfd, REKEY_FILE, F_OK, 0) == 0) {
		rc = -EINPROGRESS;
		goto fail;
	}
	st->readonly = (flags & STORE_READONLY) != 0;
	if (!st->readonly && flock(st->sbfd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto fail;
	}
	st->objfd = openat(st->dirfd, "objects", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->objfd < 0) {
		rc = errno == ENOENT ? -EBADMSG : -errno;
		goto fail;
	}
	return st;
fail:
	store_close(st);
	*err = rc;
	errno = -rc;
	return NULL;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	spares_stop(st);
	if (st->objfd >= 0)
		close(st->objfd);
	if (st->sbfd >= 0)
		close(st->sbfd); /* drops the flock */
	if (st->dirfd >= 0)
		close(st->dirfd);
	crypto_key_free(st->master);
	free(st->dir);
	free(st);
}

/* ---- clock mark: le64 ns | MAC(master, label | le64) ---- */

static void mark_mac(uint8_t out[CRYPTO_HASH_BYTES], const uint8_t *master, const uint8_t *le)
{
	uint8_t msg[sizeof(MARK_LABEL) + 8];

	memcpy(msg, MARK_LABEL, sizeof(MARK_LABEL));
	memcpy(msg + sizeof(MARK_LABEL), le, 8);
	crypto_mac(out, master, msg, sizeof(msg));
}

/* The mark in file name, if it authenticates under key: 0 with *ns set,
 * -ENOENT without the file, -EBADMSG when it does not authenticate. */
static int mark_load(struct store *st, const char *name, const uint8_t *key, int64_t *ns)
{
	uint8_t buf[MARK_BYTES], mac[CRYPTO_HASH_BYTES];
	int fd, rc;

	fd = openat(st->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	rc = read_at(fd, buf, sizeof(buf), 0);
	close(fd);
	if (rc < 0)
		return -EBADMSG;
	mark_mac(mac, key, buf);
	if (crypto_equal32(mac, buf + 8) != 0)
		return -EBADMSG;
	*ns = (int64_t)get64(buf);
	return 0;
}

static int mark_store(struct store *st, const char *name, const uint8_t *key, int64_t ns,
                      int durable)
{
	uint8_t buf[MARK_BYTES];
	int fd, rc;

	put64(buf, (uint64_t)ns);
	mark_mac(buf + 8, key, buf);
	fd = openat(st->dirfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = write_at(fd, buf, sizeof(buf), 0);
	if (rc == 0 && durable && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int64_t store_mark_read(struct store *st)
{
	int64_t ns = 0;
	int rc = mark_load(st, MARK_FILE, st->master, &ns);

	/* A rekey stopped between its switch to the new key and putting the
	 * mark it wrote under that key in place (store_rekey_finish). */
	if (rc == -EBADMSG && mark_load(st, MARK_NEXT, st->master, &ns) == 0)
		return ns;
	if (rc == -EBADMSG)
		log_warn("clock mark does not authenticate; using system time");
	return rc == 0 ? ns : 0;
}

int store_mark_write(struct store *st, int64_t ns)
{
	return mark_store(st, MARK_FILE, st->master, ns, 0);
}

/* ---- objects ---- */

static void obj_name(const struct store_id *id, char out[2 * STORE_ID_BYTES + 1])
{
	store_id_hex(id, out);
}

/* Header layout: magic(8) version(4) flags(4) id(16) wrapped key(72)
 * reserved(24). The wrapped key's AAD is the first 32 bytes. */
static int hdr_unwrap(const uint8_t *hdr, const struct store_id *id,
                      const uint8_t *master, uint8_t *key)
{
	if (memcmp(hdr, OBJ_MAGIC, MAGIC_BYTES) != 0 ||
	    get32(hdr + 8) != STORE_FORMAT_VERSION ||
	    memcmp(hdr + 16, id->b, STORE_ID_BYTES) != 0)
		return -EBADMSG;
	return crypto_open(key, master, hdr + HDR_WRAP_OFF, CRYPTO_WRAPPED_KEY_BYTES,
	                   hdr, HDR_WRAP_OFF);
}

static void meta_ad(uint8_t ad[STORE_ID_BYTES + sizeof(META_AD_LABEL)],
                    const struct store_id *id)
{
	memcpy(ad, id->b, STORE_ID_BYTES);
	memcpy(ad + STORE_ID_BYTES, META_AD_LABEL, sizeof(META_AD_LABEL));
}

/* Slot plaintext layout: see docs/format.md, "metadata slot". */
static void meta_encode(uint8_t *p, const struct store_meta *m)
{
	memset(p, 0, SLOT_PLAIN_BYTES);
	put64(p + 0, m->seq);
	memcpy(p + 8, m->parent.b, STORE_ID_BYTES);
	put32(p + 24, m->flags);
	put32(p + 28, m->mode);
	put32(p + 32, m->uid);
	put32(p + 36, m->gid);
	put64(p + 40, m->rdev);
	put64(p + 48, (uint64_t)m->atime);
	put64(p + 56, (uint64_t)m->mtime);
	put64(p + 64, (uint64_t)m->ctime);
	put64(p + 72, (uint64_t)m->btime);
	put64(p + 80, (uint64_t)m->ended);
	put64(p + 88, (uint64_t)m->deadline);
	p[96] = m->klass;
	p[97] = m->state;
	p[98] = (uint8_t)m->name_len;
	p[99] = (uint8_t)(m->name_len >> 8);
	p[100] = (uint8_t)m->xattr_len;
	p[101] = (uint8_t)(m->xattr_len >> 8);
	put64(p + 104, m->sealed_size);
	memcpy(p + 112, m->sha256, CRYPTO_HASH_BYTES);
	memcpy(p + 144, m->name, m->name_len);
	if (m->xattr_len)
		memcpy(p + STORE_META_FIXED_BYTES, m->xattr, m->xattr_len);
}

static int meta_decode(const uint8_t *p, struct store_meta *m, uint8_t *xattr)
{
	m->seq = get64(p + 0);
	memcpy(m->parent.b, p + 8, STORE_ID_BYTES);
	m->flags = get32(p + 24);
	m->mode = get32(p + 28);
	m->uid = get32(p + 32);
	m->gid = get32(p + 36);
	m->rdev = get64(p + 40);
	m->atime = (int64_t)get64(p + 48);
	m->mtime = (int64_t)get64(p + 56);
	m->ctime = (int64_t)get64(p + 64);
	m->btime = (int64_t)get64(p + 72);
	m->ended = (int64_t)get64(p + 80);
	m->deadline = (int64_t)get64(p + 88);
	m->klass = p[96];
	m->state = p[97];
	m->name_len = (uint16_t)(p[98] | p[99] << 8);
	m->xattr_len = (uint16_t)(p[100] | p[101] << 8);
	m->sealed_size = get64(p + 104);
	memcpy(m->sha256, p + 112, CRYPTO_HASH_BYTES);
	/* Authenticated, but still checked: a bug must not become an overflow. */
	if (m->name_len > STORE_NAME_MAX || m->xattr_len > STORE_XATTR_BYTES)
		return -EBADMSG;
	memcpy(m->name, p + 144, m->name_len);
	m->name[m->name_len] = '\0';
	memcpy(xattr, p + STORE_META_FIXED_BYTES, m->xattr_len);
	m->xattr = xattr;
	return 0;
}

/* Pick the newest slot of the two that authenticates. */
static int slots_decode(const uint8_t *slots, const struct store_id *id,
                        const uint8_t *key, struct store_meta *m, uint8_t *xattr)
{
	uint8_t ad[STORE_ID_BYTES + sizeof(META_AD_LABEL)];
	uint8_t *plain;
	uint64_t best_seq = 0;
	int best = -1, rc = -EBADMSG;

	plain = malloc(2 * SLOT_PLAIN_BYTES);
	if (!plain)
		return -ENOMEM;
	meta_ad(ad, id);
	for (int i = 0; i < 2; i++) {
		uint8_t *pi = plain + i * SLOT_PLAIN_BYTES;

		if (crypto_open(pi, key, slots + i * STORE_SLOT_BYTES, STORE_SLOT_BYTES,
		                ad, sizeof(ad)) != 0)
			continue;
		if (best < 0 || get64(pi) > best_seq) {
			best = i;
			best_seq = get64(pi);
		}
	}
	if (best >= 0)
		rc = meta_decode(plain + best * SLOT_PLAIN_BYTES, m, xattr);
	crypto_wipe(plain, 2 * SLOT_PLAIN_BYTES);
	free(plain);
	return rc;
}

static int slot_write(int fd, const struct store_id *id, const uint8_t *key,
                      const struct store_meta *m)
{
	uint8_t ad[STORE_ID_BYTES + sizeof(META_AD_LABEL)];
	uint8_t plain[SLOT_PLAIN_BYTES], sealed[STORE_SLOT_BYTES];
	off_t off = STORE_SLOT_OFF + (m->seq % 2 ? 0 : STORE_SLOT_BYTES);

	meta_ad(ad, id);
	meta_encode(plain, m);
	crypto_seal(sealed, key, plain, sizeof(plain), ad, sizeof(ad));
	crypto_wipe(plain, sizeof(plain));
	return write_at(fd, sealed, sizeof(sealed), off);
}

static uint64_t size_from_length(off_t len)
{
	uint64_t n, full, rem;

	if (len <= STORE_DATA_OFF)
		return 0;
	n = (uint64_t)len - STORE_DATA_OFF;
	full = n / STORE_CBLOCK_BYTES;
	rem = n % STORE_CBLOCK_BYTES;
	/* A tail of CRYPTO_SEAL_OVERHEAD bytes or less is a torn write. */
	return full * STORE_BLOCK_BYTES + (rem > CRYPTO_SEAL_OVERHEAD ? rem - CRYPTO_SEAL_OVERHEAD : 0);
}

static struct store_obj *obj_alloc(struct store *st, const struct store_id *id)
{
	struct store_obj *obj = calloc(1, sizeof(*obj));

	if (!obj)
		return NULL;
	obj->key = crypto_key_alloc();
	if (!obj->key) {
		free(obj);
		return NULL;
	}
	obj->st = st;
	obj->fd = -1;
	obj->id = *id;
	return obj;
}

static void obj_free(struct store_obj *obj)
{
	if (obj->fd >= 0)
		close(obj->fd);
	crypto_wipe(obj->cache, sizeof(obj->cache));
	crypto_key_free(obj->key);
	free(obj);
}

/* ---- spare objects ----
 *
 * Making a file can cost the host filesystem far more than writing one
 * (ext4 without a journal passes over every inode freed in the last
 * minute, reading each: hundreds of microseconds after many deletions).
 * So a thread keeps a few empty object files ready under fresh random ids,
 * and a create takes one instead of waiting for the host. An empty object
 * reads as all zeros, which every scan takes for a shredded leftover: a
 * spare left by a crash is removed at the next mount. */
#define SPARES_MAX 32
#define SPARES_RETRY_NS 1000000000LL /* after a failed create (full disk) */

struct spares {
	pthread_t thread;
	pthread_mutex_t lock; /* guards the rest */
	pthread_cond_t cond;  /* the pool ran low, or quit */
	int quit, n;
	int fd[SPARES_MAX];
	struct store_id id[SPARES_MAX];
};

/* An open spare's fd with its id in *id, or -1 when none is ready. */
static int spare_take(struct store *st, struct store_id *id)
{
	struct spares *sp = st->spares;
	int fd = -1;

	if (!sp)
		return -1;
	pthread_mutex_lock(&sp->lock);
	if (sp->n > 0) {
		sp->n--;
		fd = sp->fd[sp->n];
		*id = sp->id[sp->n];
		if (sp->n < SPARES_MAX / 2)
			pthread_cond_signal(&sp->cond);
	}
	pthread_mutex_unlock(&sp->lock);
	return fd;
}

static void *spares_main(void *arg)
{
	struct store *st = arg;
	struct spares *sp = st->spares;
	char name[2 * STORE_ID_BYTES + 1];
	struct store_id id;
	struct timespec ts;
	int fd;

	pthread_mutex_lock(&sp->lock);
	while (!sp->quit) {
		if (sp->n == SPARES_MAX) {
			pthread_cond_wait(&sp->cond, &sp->lock);
			continue;
		}
		pthread_mutex_unlock(&sp->lock);
		crypto_random(id.b, sizeof(id.b));
		obj_name(&id, name);
		fd = openat(st->objfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, OBJ_MODE);
		pthread_mutex_lock(&sp->lock);
		if (fd >= 0) {
			sp->fd[sp->n] = fd;
			sp->id[sp->n++] = id;
			continue;
		}
		/* Creates fall back to making their own file meanwhile, and
		 * report the error themselves. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += SPARES_RETRY_NS / 1000000000LL;
		pthread_cond_timedwait(&sp->cond, &sp->lock, &ts);
	}
	pthread_mutex_unlock(&sp->lock);
	return NULL;
}

int store_spares_start(struct store *st)
{
	struct spares *sp = calloc(1, sizeof(*sp));
	pthread_condattr_t attr;
	int rc;

	if (!sp)
		return -ENOMEM;
	pthread_mutex_init(&sp->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&sp->cond, &attr);
	pthread_condattr_destroy(&attr);
	st->spares = sp;
	rc = pthread_create(&sp->thread, NULL, spares_main, st);
	if (rc != 0) {
		st->spares = NULL;
		pthread_cond_destroy(&sp->cond);
		pthread_mutex_destroy(&sp->lock);
		free(sp);
	}
	return -rc;
}

/* End the thread and remove the spares it made. */
static void spares_stop(struct store *st)
{
	struct spares *sp = st->spares;
	char name[2 * STORE_ID_BYTES + 1];

	if (!sp)
		return;
	pthread_mutex_lock(&sp->lock);
	sp->quit = 1;
	pthread_cond_signal(&sp->cond);
	pthread_mutex_unlock(&sp->lock);
	pthread_join(sp->thread, NULL);
	st->spares = NULL;
	while (sp->n > 0) {
		sp->n--;
		close(sp->fd[sp->n]);
		obj_name(&sp->id[sp->n], name);
		unlinkat(st->objfd, name, 0);
	}
	pthread_cond_destroy(&sp->cond);
	pthread_mutex_destroy(&sp->lock);
	free(sp);
}

int store_obj_create(struct store *st, struct store_meta *meta, struct store_obj **out)
{
	uint8_t hdr[STORE_HDR_BYTES] = { 0 };
	char name[2 * STORE_ID_BYTES + 1];
	struct store_obj *obj;
	struct store_id id;
	int rc;

	crypto_random(id.b, sizeof(id.b));
	obj = obj_alloc(st, &id);
	if (!obj)
		return -ENOMEM;
	obj->fd = spare_take(st, &obj->id);
	obj_name(&obj->id, name);
	if (obj->fd < 0)
		obj->fd = openat(st->objfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, OBJ_MODE);
	if (obj->fd < 0) {
		rc = -errno;
		goto fail;
	}
	id = obj->id;
	crypto_random(obj->key, CRYPTO_KEY_BYTES);
	memcpy(hdr, OBJ_MAGIC, MAGIC_BYTES);
	put32(hdr + 8, STORE_FORMAT_VERSION);
	memcpy(hdr + 16, id.b, STORE_ID_BYTES);
	crypto_seal(hdr + HDR_WRAP_OFF, st->master, obj->key, CRYPTO_KEY_BYTES, hdr, HDR_WRAP_OFF);

	/* Space for the header and both slots now: on a full disk the create
	 * fails here, and later metadata writes (close, rename, xattrs) never
	 * fail for want of space. */
	rc = reserve(st, obj->fd, 0, STORE_DATA_OFF);
	if (rc == 0) {
		obj->resv_hi = obj->resv_top = STORE_DATA_OFF;
		rc = write_at(obj->fd, hdr, sizeof(hdr), 0);
	}
	if (rc < 0)
		goto fail_unlink;
	meta->seq = 1;
	rc = slot_write(obj->fd, &id, obj->key, meta);
	if (rc < 0)
		goto fail_unlink;
	*out = obj;
	return 0;
fail_unlink:
	unlinkat(st->objfd, name, 0);
fail:
	obj_free(obj);
	return rc;
}

static int obj_open_fd(struct store *st, const struct store_id *id, int *fd)
{
	char name[2 * STORE_ID_BYTES + 1];

	obj_name(id, name);
	*fd = openat(st->objfd, name, O_RDWR | O_CLOEXEC);
	return *fd < 0 ? -errno : 0;
}

int store_obj_open(struct store *st, const struct store_id *id, struct store_obj **out)
{
	uint8_t hdr[STORE_HDR_BYTES];
	struct store_obj *obj;
	struct stat stb;
	int rc;

	obj = obj_alloc(st, id);
	if (!obj)
		return -ENOMEM;
	rc = obj_open_fd(st, id, &obj->fd);
	if (rc < 0)
		goto fail;
	rc = read_at(obj->fd, hdr, sizeof(hdr), 0);
	if (rc < 0)
		goto fail;
	rc = hdr_unwrap(hdr, id, st->master, obj->key);
	if (rc < 0)
		goto fail;
	if (fstat(obj->fd, &stb) < 0) {
		rc = -errno;
		goto fail;
	}
	obj->size = size_from_length(stb.st_size);
	*out = obj;
	return 0;
fail:
	obj_free(obj);
	return rc;
}

int store_obj_close(struct store_obj *obj)
{
	struct stat stb;
	int rc;

	if (!obj)
		return 0;
	rc = store_obj_flush(obj);
	/* Give back the space reserved past the end: cutting a file to its
	 * own length frees what is allocated beyond it. Not below the slots:
	 * their space stays for the metadata writes to come. */
	if (obj->resv_top > 0 && !__atomic_load_n(&obj->st->no_falloc, __ATOMIC_RELAXED) &&
	    fstat(obj->fd, &stb) == 0 && stb.st_size >= STORE_DATA_OFF &&
	    (stb.st_size + RESV_PAGE - 1) / RESV_PAGE * RESV_PAGE < obj->resv_top &&
	    ftruncate(obj->fd, stb.st_size) < 0)
		log_warn("cannot give back space reserved for an object: %s", strerror(errno));
	obj_free(obj);
	return rc;
}

const struct store_id *store_obj_id(const struct store_obj *obj)
{
	return &obj->id;
}

int store_meta_write(struct store_obj *obj, struct store_meta *meta)
{
	int rc;

	meta->seq++;
	rc = slot_write(obj->fd, &obj->id, obj->key, meta);
	if (rc < 0)
		meta->seq--;
	return rc;
}

int store_meta_write_id(struct store *st, const struct store_id *id, struct store_meta *meta)
{
	struct store_obj *obj;
	int rc;

	rc = store_obj_open(st, id, &obj);
	if (rc < 0)
		return rc;
	rc = store_meta_write(obj, meta);
	store_obj_close(obj);
	return rc;
}

int store_meta_read(struct store_obj *obj, struct store_meta *meta, uint8_t *xattr)
{
	uint8_t *slots;
	int rc;

	slots = malloc(2 * STORE_SLOT_BYTES);
	if (!slots)
		return -ENOMEM;
	rc = read_at(obj->fd, slots, 2 * STORE_SLOT_BYTES, STORE_SLOT_OFF);
	if (rc == 0)
		rc = slots_decode(slots, &obj->id, obj->key, meta, xattr);
	free(slots);
	return rc;
}

/* ---- scan ---- */

/* Mounting reads every object's header and metadata slots: for 100 000
 * recordings that is 400 000 system calls and 200 000 decryptions, so
 * workers on every core share them out. fn runs under the scan's lock,
 * one call at a time, so callers need not be thread-safe. */
#define SCAN_MAX_WORKERS 8
#define SCAN_MIN_PER_WORKER 64

struct scan {
	struct store *st;
	const struct store_id *ids;
	size_t count;
	store_scan_fn fn;
	void *ctx;
	pthread_mutex_t lock; /* guards the rest */
	size_t next;
	unsigned damaged;
	int rc;
	/* Shredded leftovers, removed after the scan with one sync (a crash
	 * during a mass expiry can leave thousands). */
	struct store_id *shredded;
	size_t nshredded, shredded_cap;
};

enum { SCAN_OK, SCAN_SHREDDED, SCAN_EMPTY, SCAN_DAMAGED, SCAN_SKIPPED };

static void cut_recover(struct store *st, const struct store_id *id, const uint8_t *key,
                        struct stat *stb);

/* Read and open one object's header and metadata. */
static int scan_read(struct store *st, const struct store_id *id, uint8_t *buf, uint8_t *key,
                     struct store_meta *meta, uint8_t *xattr, struct stat *stb)
{
	char name[2 * STORE_ID_BYTES + 1];
	int fd, rc;

	obj_name(id, name);
	fd = openat(st->objfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return SCAN_DAMAGED;
	rc = fstat(fd, stb) < 0 ? -errno : read_at(fd, buf, STORE_DATA_OFF, 0);
	close(fd);
	if (rc < 0)
		return SCAN_DAMAGED;
	/* A read-only look (recctl) may run beside a mounted daemon that is
	 * creating or destroying this object: neither is damage, and only
	 * the daemon may remove anything. */
	if (st->readonly && (stb->st_size < STORE_SLOT_OFF + STORE_SLOT_BYTES ||
	                     all_zero(buf, STORE_DATA_OFF)))
		return SCAN_SKIPPED;
	/* A spare, or a create cut short (before slot A was whole): it never
	 * held anything. */
	if (stb->st_size < STORE_SLOT_OFF + STORE_SLOT_BYTES)
		return SCAN_EMPTY;
	/* Shredded but not yet unlinked when the daemon stopped. */
	if (all_zero(buf, STORE_DATA_OFF))
		return SCAN_SHREDDED;
	if (hdr_unwrap(buf, id, st->master, key) < 0 ||
	    slots_decode(buf + STORE_SLOT_OFF, id, key, meta, xattr) < 0)
		return SCAN_DAMAGED;
	if (!st->readonly && (stb->st_mode & S_IXUSR))
		cut_recover(st, id, key, stb);
	return SCAN_OK;
}

/* Take the next object, or none once done or stopped. */
static int scan_take(struct scan *s, size_t *i)
{
	pthread_mutex_lock(&s->lock);
	*i = s->next < s->count && s->rc == 0 ? s->next++ : s->count;
	pthread_mutex_unlock(&s->lock);
	return *i < s->count;
}

/* Called with s->lock held. */
static int scan_add_shredded(struct scan *s, const struct store_id *id)
{
	if (s->nshredded == s->shredded_cap) {
		size_t cap = s->shredded_cap ? 2 * s->shredded_cap : 64;
		struct store_id *v = realloc(s->shredded, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->shredded = v;
		s->shredded_cap = cap;
	}
	s->shredded[s->nshredded++] = *id;
	return 0;
}

static void *scan_worker(void *arg)
{
	struct scan *s = arg;
	uint8_t *buf = malloc(STORE_DATA_OFF), *xattr = malloc(STORE_XATTR_BYTES);
	uint8_t *key = crypto_key_alloc();
	char hex[2 * STORE_ID_BYTES + 1];
	struct store_meta meta;
	struct stat stb;
	size_t i;

	if (!buf || !xattr || !key) {
		pthread_mutex_lock(&s->lock);
		s->rc = s->rc ? s->rc : -ENOMEM;
		pthread_mutex_unlock(&s->lock);
	}
	while (buf && xattr && key && scan_take(s, &i)) {
		const struct store_id *id = &s->ids[i];
		int got = scan_read(s->st, id, buf, key, &meta, xattr, &stb);
		int rc = 0;

		if (got == SCAN_EMPTY) {
			obj_name(id, hex);
			unlinkat(s->st->objfd, hex, 0);
		}

		if (got == SCAN_DAMAGED) {
			store_id_hex(id, hex);
			log_error("object %s is damaged (header or metadata does not "
			          "authenticate); left out", hex);
		}
		pthread_mutex_lock(&s->lock);
		s->damaged += got == SCAN_DAMAGED;
		if (got == SCAN_SHREDDED)
			rc = scan_add_shredded(s, id);
		if (got == SCAN_OK && s->rc == 0)
			rc = s->fn(s->ctx, id, &meta, size_from_length(stb.st_size),
			           (int64_t)stb.st_mtim.tv_sec * 1000000000LL + stb.st_mtim.tv_nsec);
		if (rc < 0 && s->rc == 0)
			s->rc = rc;
		pthread_mutex_unlock(&s->lock);
		crypto_wipe(key, CRYPTO_KEY_BYTES);
	}
	free(buf);
	free(xattr);
	crypto_key_free(key);
	return NULL;
}

int store_scan(struct store *st, store_scan_fn fn, void *ctx, unsigned *damaged)
{
	struct scan s = { .st = st, .fn = fn, .ctx = ctx, .lock = PTHREAD_MUTEX_INITIALIZER };
	struct store_id *ids = NULL;
	pthread_t tid[SCAN_MAX_WORKERS];
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want, started = 0;

	*damaged = 0;
	s.rc = store_list(st, &ids, &s.count);
	if (s.rc < 0)
		return s.rc;
	s.ids = ids;
	want = s.count / SCAN_MIN_PER_WORKER;
	if (want > (size_t)(cores > 0 ? cores : 1))
		want = (size_t)(cores > 0 ? cores : 1);
	if (want > SCAN_MAX_WORKERS)
		want = SCAN_MAX_WORKERS;
	/* This thread works too; helpers that cannot start are not needed. */
	while (started + 1 < want && pthread_create(&tid[started], NULL, scan_worker, &s) == 0)
		started++;
	scan_worker(&s);
	while (started > 0)
		pthread_join(tid[--started], NULL);
	free(ids);
	/* Left on disk, a shredded object holds nothing readable: a failed
	 * unlink is reported and tried again at the next mount. */
	if (s.rc == 0 && s.nshredded > 0) {
		int rc = store_reap_shredded(st, s.shredded, s.nshredded);

		if (rc < 0)
			log_error("cannot remove destroyed objects left by the last run: %s",
			          strerror(-rc));
	}
	free(s.shredded);
	*damaged = s.damaged;
	return s.rc;
}

/* ---- content ---- */

static off_t block_off(uint64_t idx)
{
	return (off_t)(STORE_DATA_OFF + idx * (uint64_t)STORE_CBLOCK_BYTES);
}

static void block_ad(uint8_t ad[STORE_ID_BYTES + 8], const struct store_id *id, uint64_t idx)
{
	memcpy(ad, id->b, STORE_ID_BYTES);
	put64(ad + STORE_ID_BYTES, idx);
}

/* Largest plaintext size whose last block offset fits in off_t. */
static uint64_t size_limit(void)
{
	return ((uint64_t)INT64_MAX - STORE_DATA_OFF) / STORE_CBLOCK_BYTES * STORE_BLOCK_BYTES;
}

/* Open block idx from its stored form (len plaintext bytes + overhead). */
static int block_open(struct store_obj *obj, uint64_t idx, const uint8_t *cipher,
                      uint8_t *plain, uint32_t len)
{
	uint8_t ad[STORE_ID_BYTES + 8];
	char hex[2 * STORE_ID_BYTES + 1];
	size_t clen = len + CRYPTO_SEAL_OVERHEAD;

	if (all_zero(cipher, clen)) {
		memset(plain, 0, len);
		return 0;
	}
	block_ad(ad, &obj->id, idx);
	if (crypto_open(plain, obj->key, cipher, clen, ad, sizeof(ad)) < 0) {
		store_id_hex(&obj->id, hex);
		log_error("object %s: block %llu does not authenticate", hex,
		          (unsigned long long)idx);
		return -EIO;
	}
	return 0;
}

/* Read block idx's plaintext (len bytes as stored) from disk. The sealed
 * copy stays on this thread's stack: readers share the object. */
static int block_read(struct store_obj *obj, uint64_t idx, uint8_t *plain, uint32_t len)
{
	uint8_t cipher[STORE_CBLOCK_BYTES];
	int rc = read_at(obj->fd, cipher, len + CRYPTO_SEAL_OVERHEAD, block_off(idx));

	return rc < 0 ? rc : block_open(obj, idx, cipher, plain, len);
}

/* Space for [off, off + len) of obj's file, before it is written. An
 * append (ahead) with plenty of room left takes a chunk ahead, as much as
 * the file holds, 64 KiB to 1 MiB: appends cost one call per chunk and the
 * host allocates large extents (the excess goes back at close). Near full,
 * inside the file or for a grow, only the pages this write needs, so that
 * every page can still be used and sparse files stay sparse. 0 or -errno
 * (ENOSPC) with nothing changed. */
static int obj_reserve(struct store_obj *obj, off_t off, off_t len, int ahead)
{
	off_t end = off + len, lo = off, from = off, want, have = STORE_DATA_OFF, chunk;
	struct statvfs sv;
	int rc;

	if (off >= obj->resv_lo && end <= obj->resv_hi)
		return 0;
	if (off >= obj->resv_lo && off <= obj->resv_hi) {
		lo = obj->resv_lo; /* the range grows */
		from = obj->resv_hi;
	}
	if (obj->size) /* the stored length, the cached block included */
		have = block_off((obj->size - 1) / STORE_BLOCK_BYTES) + CRYPTO_SEAL_OVERHEAD +
		       (off_t)((obj->size - 1) % STORE_BLOCK_BYTES + 1);
	chunk = have < RESV_MIN ? RESV_MIN : have > RESV_MAX ? RESV_MAX : have;
	want = end;
	if (end <= INT64_MAX - RESV_MAX - RESV_PAGE) {
		end = (end + RESV_PAGE - 1) / RESV_PAGE * RESV_PAGE;
		want = (from + chunk) / RESV_PAGE * RESV_PAGE;
		if (!ahead || have < RESV_MIN || want < end || off + len <= have ||
		    fstatvfs(obj->fd, &sv) < 0 ||
		    (uint64_t)sv.f_bavail * sv.f_frsize < RESV_ROOM)
			want = end;
	}
	rc = reserve(obj->st, obj->fd, from, want - from);
	if (rc < 0 && want > end) {
		want = end;
		rc = reserve(obj->st, obj->fd, from, want - from);
	}
	if (rc < 0)
		return rc;
	obj->resv_lo = lo;
	obj->resv_hi = want;
	if (want > obj->resv_top)
		obj->resv_top = want;
	return 0;
}

/* Runs of whole blocks move between the file and this per-thread buffer
 * with one system call; each block is still sealed on its own. */
#define BATCH_BLOCKS 64
static pthread_key_t batch_key;
static pthread_once_t batch_once = PTHREAD_ONCE_INIT;

static void batch_key_make(void)
{
	/* Freed when its thread ends: FUSE worker threads come and go. */
	pthread_key_create(&batch_key, free);
}

static uint8_t *batch(void)
{
	uint8_t *b;

	pthread_once(&batch_once, batch_key_make);
	b = pthread_getspecific(batch_key);
	if (!b) {
		b = malloc((size_t)BATCH_BLOCKS * STORE_CBLOCK_BYTES);
		if (b && pthread_setspecific(batch_key, b) != 0) {
			free(b);
			b = NULL;
		}
	}
	return b;
}

/* Whole blocks [idx, idx + n) that can bypass the one-block cache. */
static uint64_t run_length(const struct store_obj *obj, uint64_t idx, size_t bytes)
{
	uint64_t n = bytes / STORE_BLOCK_BYTES;

	if (n > BATCH_BLOCKS)
		n = BATCH_BLOCKS;
	if (obj->cache_valid && obj->cache_idx >= idx && obj->cache_idx < idx + n)
		n = obj->cache_idx - idx;
	return n;
}

/* Read n whole blocks; returns how many opened before the first damaged
 * one (the caller then reports that one on its own), or -errno. */
static int64_t blocks_read(struct store_obj *obj, uint64_t idx, uint64_t n, uint8_t *out)
{
	uint8_t *b = batch();
	uint64_t i;
	int rc;

	if (!b)
		return -ENOMEM;
	rc = read_at(obj->fd, b, n * STORE_CBLOCK_BYTES, block_off(idx));
	if (rc < 0)
		return rc;
	for (i = 0; i < n; i++)
		if (block_open(obj, idx + i, b + i * STORE_CBLOCK_BYTES,
		               out + i * STORE_BLOCK_BYTES, STORE_BLOCK_BYTES) < 0)
			break;
	return (int64_t)i;
}

/* Write-behind: the host starts writing dirty pages back only after up
 * to 30 s, so an fsync after a long recording or a copy would find all of
 * it still to write, and a crash of the machine would lose it. Each
 * WB_CHUNK written past the last start is sent on its way at once (not
 * waited for). */
#define WB_CHUNK ((off_t)1 << 20)

static void write_behind(struct store_obj *obj, off_t end)
{
	if (end - obj->wb_from < WB_CHUNK)
		return;
	/* Only a hint: where the host cannot, the next chunk asks again. */
	sync_file_range(obj->fd, obj->wb_from, end - obj->wb_from, SYNC_FILE_RANGE_WRITE);
	obj->wb_from = end;
}

static int blocks_write(struct store_obj *obj, uint64_t idx, uint64_t n, const uint8_t *in)
{
	uint8_t ad[STORE_ID_BYTES + 8];
	uint8_t *b = batch();
	int rc;

	if (!b)
		return -ENOMEM;
	rc = obj_reserve(obj, block_off(idx), (off_t)(n * STORE_CBLOCK_BYTES), 1);
	if (rc < 0)
		return rc;
	for (uint64_t i = 0; i < n; i++) {
		block_ad(ad, &obj->id, idx + i);
		crypto_seal(b + i * STORE_CBLOCK_BYTES, obj->key, in + i * STORE_BLOCK_BYTES,
		            STORE_BLOCK_BYTES, ad, sizeof(ad));
	}
	rc = write_at(obj->fd, b, n * STORE_CBLOCK_BYTES, block_off(idx));
	if (rc == 0)
		write_behind(obj, block_off(idx + n));
	return rc;
}

static int block_write(struct store_obj *obj, uint64_t idx, const uint8_t *plain, uint32_t len)
{
	uint8_t ad[STORE_ID_BYTES + 8];
	int rc;

	block_ad(ad, &obj->id, idx);
	crypto_seal(obj->cbuf, obj->key, plain, len, ad, sizeof(ad));
	rc = write_at(obj->fd, obj->cbuf, len + CRYPTO_SEAL_OVERHEAD, block_off(idx));
	if (rc == 0)
		write_behind(obj, block_off(idx) + len + CRYPTO_SEAL_OVERHEAD);
	return rc;
}

/* Bytes of block idx that lie below size. */
static uint32_t block_len(uint64_t size, uint64_t idx)
{
	uint64_t start = idx * STORE_BLOCK_BYTES;

	if (size <= start)
		return 0;
	return size - start >= STORE_BLOCK_BYTES ? STORE_BLOCK_BYTES : (uint32_t)(size - start);
}

int store_obj_flush(struct store_obj *obj)
{
	int rc;

	if (!obj->cache_valid || !obj->cache_dirty)
		return 0;
	/* Reserved when the bytes came in; this matters after a truncate. */
	rc = obj_reserve(obj, block_off(obj->cache_idx), obj->cache_len + CRYPTO_SEAL_OVERHEAD, 0);
	if (rc == 0)
		rc = block_write(obj, obj->cache_idx, obj->cache, obj->cache_len);
	if (rc == 0)
		obj->cache_dirty = 0;
	return rc;
}

/* Make block idx the cached one. Its content is read unless the caller
 * overwrites it whole (full). */
static int cache_load(struct store_obj *obj, uint64_t idx, int full)
{
	uint32_t len;
	int rc;

	if (obj->cache_valid && obj->cache_idx == idx)
		return 0;
	rc = store_obj_flush(obj);
	if (rc < 0)
		return rc;
	obj->cache_valid = 0;
	len = block_len(obj->size, idx);
	if (!full && len > 0) {
		rc = block_read(obj, idx, obj->cache, len);
		if (rc < 0)
			return rc;
	}
	memset(obj->cache + len, 0, STORE_BLOCK_BYTES - len);
	obj->cache_idx = idx;
	obj->cache_len = len;
	obj->cache_valid = 1;
	obj->cache_dirty = 0;
	return 0;
}

uint64_t store_obj_size(const struct store_obj *obj)
{
	return obj->size;
}

ssize_t store_obj_pread(struct store_obj *obj, void *buf, size_t len, uint64_t off)
{
	uint8_t *out = buf;
	size_t done = 0;
	int rc;

	if (off >= obj->size)
		return 0;
	if (len > obj->size - off)
		len = obj->size - off;
	while (done < len) {
		uint64_t idx = (off + done) / STORE_BLOCK_BYTES;
		uint32_t in = (off + done) % STORE_BLOCK_BYTES;
		uint32_t blen = block_len(obj->size, idx);
		size_t n = blen - in < len - done ? blen - in : len - done;

		uint64_t run = in == 0 ? run_length(obj, idx, len - done) : 0;

		int64_t good = run > 1 ? blocks_read(obj, idx, run, out + done) : 0;

		if (good < 0)
			return done ? (ssize_t)done : (ssize_t)good;
		if (good > 0) {
			n = (size_t)good * STORE_BLOCK_BYTES;
		} else if (obj->cache_valid && obj->cache_idx == idx) {
			memcpy(out + done, obj->cache + in, n);
		} else if (in == 0 && n == blen) {
			rc = block_read(obj, idx, out + done, blen);
			if (rc < 0)
				return done ? (ssize_t)done : rc;
		} else {
			uint8_t tmp[STORE_BLOCK_BYTES];

			rc = block_read(obj, idx, tmp, blen);
			if (rc < 0)
				return done ? (ssize_t)done : rc;
			memcpy(out + done, tmp + in, n);
			crypto_wipe(tmp, sizeof(tmp));
		}
		done += n;
	}
	return (ssize_t)done;
}

/* Grow the file to size with zeros: the old last block is completed, the
 * new last block is written (it carries the size), the gap stays a hole. */
static int grow(struct store_obj *obj, uint64_t size)
{
	uint64_t last = (size - 1) / STORE_BLOCK_BYTES;
	uint64_t oldlast = obj->size ? (obj->size - 1) / STORE_BLOCK_BYTES : (uint64_t)-1;
	uint32_t lastlen = block_len(size, last);
	struct stat stb;
	int rc;

	/* What can fail without changing anything comes first: reading the
	 * old partial last block, and the space for it completed and for
	 * the new last block. */
	if (obj->size % STORE_BLOCK_BYTES) {
		rc = cache_load(obj, oldlast, 0);
		if (rc == 0)
			rc = obj_reserve(obj, block_off(oldlast), CRYPTO_SEAL_OVERHEAD +
			                 (oldlast == last ? lastlen : STORE_BLOCK_BYTES), 0);
		if (rc < 0)
			return rc;
		if (oldlast == last) {
			obj->cache_len = lastlen;
			obj->cache_dirty = 1;
			obj->size = size;
			return 0;
		}
	}
	rc = obj_reserve(obj, block_off(last), (off_t)lastlen + CRYPTO_SEAL_OVERHEAD, 0);
	if (rc < 0)
		return rc;
	if (fstat(obj->fd, &stb) < 0)
		return -errno;
	/* The old last block is completed on disk before the file takes its
	 * new length: a crash in between leaves it whole (the size then ends
	 * with it), never a short block inside a longer file. That holds as
	 * well for a last block the cache already holds full but has not
	 * written yet (a write that ended on the block boundary). */
	if (obj->size % STORE_BLOCK_BYTES) {
		obj->cache_len = STORE_BLOCK_BYTES;
		obj->cache_dirty = 1;
	}
	rc = store_obj_flush(obj);
	/* On the disk as well: the completed block was written in place,
	 * and a power loss must not keep the new length without it. */
	if (rc == 0 && obj->size % STORE_BLOCK_BYTES && fdatasync(obj->fd) < 0)
		rc = -errno;
	if (rc < 0)
		goto undo;
	/* Then the file takes its new length: a size the host filesystem
	 * cannot hold fails here (EFBIG). */
	if (ftruncate(obj->fd, block_off(last) + lastlen + CRYPTO_SEAL_OVERHEAD) < 0) {
		rc = -errno;
		goto undo;
	}
	rc = cache_load(obj, last, 1);
	if (rc < 0)
		goto undo;
	obj->cache_len = lastlen;
	obj->cache_dirty = 1;
	obj->size = size;
	return 0;
undo:
	/* Back to the old length, so the size does not change. The cut
	 * leaves the old last block (written whole above) short of its seal:
	 * it is written again at its old length at once, not at some later
	 * flush that a crash could forestall. */
	if (obj->size && obj->cache_valid && obj->cache_idx == oldlast) {
		obj->cache_len = block_len(obj->size, oldlast);
		obj->cache_dirty = 1;
	}
	obj->resv_lo = obj->resv_hi = 0; /* the cut may give it back */
	if (ftruncate(obj->fd, stb.st_size) < 0 || store_obj_flush(obj) < 0)
		log_error("cannot restore an object's length after a failed write");
	return rc;
}

ssize_t store_obj_pwrite(struct store_obj *obj, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *in = buf;
	size_t done = 0;
	int rc;

	if (len == 0)
		return 0;
	if (off > size_limit() || len > size_limit() - off)
		return -EFBIG;
	if (off > obj->size) {
		rc = grow(obj, off);
		if (rc < 0)
			return rc;
	}
	while (done < len) {
		uint64_t pos = off + done;
		uint64_t idx = pos / STORE_BLOCK_BYTES;
		uint32_t at = pos % STORE_BLOCK_BYTES;
		size_t n = STORE_BLOCK_BYTES - at < len - done ? STORE_BLOCK_BYTES - at : len - done;
		int full = at == 0 && (n == STORE_BLOCK_BYTES || pos + n >= obj->size);
		uint64_t run = at == 0 ? run_length(obj, idx, len - done) : 0;

		/* Whole blocks skip the cache: sealed and written in one go. */
		if (run > 1) {
			/* A cached block below the run (the old last block, just
			 * completed) reaches the file first: written after the
			 * run, a crash in between would leave it short inside a
			 * longer file. */
			rc = obj->cache_valid && obj->cache_idx < idx ? store_obj_flush(obj) : 0;
			if (rc == 0)
				rc = blocks_write(obj, idx, run, in + done);
			if (rc < 0)
				return done ? (ssize_t)done : rc;
			done += run * STORE_BLOCK_BYTES;
			if (pos + run * STORE_BLOCK_BYTES > obj->size)
				obj->size = pos + run * STORE_BLOCK_BYTES;
			continue;
		}
		rc = cache_load(obj, idx, full);
		/* Space first: a write is acknowledged only with its space. */
		if (rc == 0)
			rc = obj_reserve(obj, block_off(idx), CRYPTO_SEAL_OVERHEAD +
			                 (at + n > obj->cache_len ? at + n : obj->cache_len), 1);
		if (rc < 0)
			return done ? (ssize_t)done : rc;
		memcpy(obj->cache + at, in + done, n);
		if (at + n > obj->cache_len)
			obj->cache_len = at + (uint32_t)n;
		obj->cache_dirty = 1;
		if (pos + n > obj->size)
			obj->size = pos + n;
		done += n;
	}
	return (ssize_t)done;
}

/* Cut the file inside block idx, which keeps rem bytes. A block's length
 * is the one the file's length gives it, so the block is sealed anew at rem
 * before the file is cut to match, and in between the two its seal does not
 * fit. The owner-execute bit of the file marks that window: the scan at
 * mount finishes a cut that a crash left there (cut_recover). Every step
 * leaves the bytes below the new size whole: first the blocks past idx go,
 * then idx is resealed short, then the file is cut to it. The syncs order
 * the steps on the disk too: a power loss must not keep the cut and lose
 * the reseal written in place before it. */
static int shorten(struct store_obj *obj, uint64_t idx, uint32_t rem)
{
	uint64_t end = (idx + 1) * STORE_BLOCK_BYTES;
	uint32_t len;
	int rc = cache_load(obj, idx, 0);

	if (rc < 0)
		return rc;
	if (fchmod(obj->fd, OBJ_MODE_CUTTING) < 0)
		return -errno;
	if (obj->size > end) {
		if (ftruncate(obj->fd, block_off(idx + 1)) < 0) {
			rc = -errno;
			goto unmark;
		}
		obj->size = end;
		obj->resv_lo = obj->resv_hi = 0; /* the cut gave space back */
	}
	if (fsync(obj->fd) < 0) { /* the mark, before the reseal */
		rc = -errno;
		goto unmark;
	}
	len = obj->cache_len;
	obj->cache_len = rem;
	obj->cache_dirty = 1;
	rc = store_obj_flush(obj);
	if (rc < 0) {
		obj->cache_len = len; /* still dirty: a later flush writes it whole */
		goto unmark;
	}
	if (fdatasync(obj->fd) < 0 ||
	    ftruncate(obj->fd, block_off(idx) + rem + CRYPTO_SEAL_OVERHEAD) < 0) {
		rc = -errno;
		/* Block idx back at its old length, at once: a later open
		 * takes the length from the file, which is still the old. */
		obj->cache_dirty = 1;
		obj->cache_len = len;
		if (store_obj_flush(obj) < 0) {
			log_error("cannot cut an object's file, nor restore its last block: %s",
			          strerror(-rc));
			return rc; /* the mark stays: the next mount finishes the cut */
		}
		goto unmark;
	}
	memset(obj->cache + rem, 0, STORE_BLOCK_BYTES - rem);
	obj->size = idx * STORE_BLOCK_BYTES + rem;
unmark:
	if (fchmod(obj->fd, OBJ_MODE) < 0)
		log_warn("cannot clear an object's cut mark: %s", strerror(errno));
	return rc;
}

int store_obj_truncate(struct store_obj *obj, uint64_t size)
{
	uint64_t keep_blocks = size / STORE_BLOCK_BYTES;

	if (size > size_limit())
		return -EFBIG;
	if (size == obj->size)
		return 0;
	if (size > obj->size)
		return grow(obj, size);
	if (size % STORE_BLOCK_BYTES)
		return shorten(obj, keep_blocks, size % STORE_BLOCK_BYTES);
	/* On a block boundary the cut is all: the blocks below are whole. */
	if (ftruncate(obj->fd, block_off(keep_blocks)) < 0)
		return -errno;
	if (obj->cache_valid && obj->cache_idx >= keep_blocks)
		obj->cache_valid = obj->cache_dirty = 0;
	obj->resv_lo = obj->resv_hi = 0; /* the cut gave space back */
	obj->size = size;
	return 0;
}

/* Finish a truncate down that a crash cut short (see shorten): when the
 * last block's seal does not fit the length the file gives it, the block
 * was resealed short and the file not yet cut, so the shorter length at
 * which the seal opens is the new end. stb's length follows the cut. */
static void cut_recover(struct store *st, const struct store_id *id, const uint8_t *key,
                        struct stat *stb)
{
	uint64_t size = size_from_length(stb->st_size), idx = size ? (size - 1) / STORE_BLOCK_BYTES : 0;
	uint32_t len = block_len(size, idx), at = len;
	uint8_t cipher[STORE_CBLOCK_BYTES], plain[STORE_BLOCK_BYTES], ad[STORE_ID_BYTES + 8];
	char name[2 * STORE_ID_BYTES + 1];
	int fd;

	obj_name(id, name);
	fd = openat(st->objfd, name, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		log_error("object %s: cannot open it to finish a truncate: %s", name, strerror(errno));
		return;
	}
	block_ad(ad, id, idx);
	if (len > 0) {
		if (read_at(fd, cipher, len + CRYPTO_SEAL_OVERHEAD, block_off(idx)) < 0) {
			log_error("object %s: cannot read it to finish a truncate", name);
			goto out; /* the mark stays for the next mount */
		}
		/* A hole opens at any length; a seal at exactly one. */
		if (!all_zero(cipher, len + CRYPTO_SEAL_OVERHEAD))
			while (at > 0 && crypto_open(plain, key, cipher, at + CRYPTO_SEAL_OVERHEAD,
			                             ad, sizeof(ad)) < 0)
				at--;
		crypto_wipe(plain, sizeof(plain));
	}
	if (at == 0 && len > 0) {
		/* No length opens it: damage, which reads report. */
		log_error("object %s: a truncate was cut short and its last block "
		          "does not authenticate", name);
	} else if (at < len) {
		if (ftruncate(fd, block_off(idx) + at + CRYPTO_SEAL_OVERHEAD) < 0) {
			log_error("object %s: cannot finish a truncate: %s", name, strerror(errno));
			goto out;
		}
		stb->st_size = block_off(idx) + at + CRYPTO_SEAL_OVERHEAD;
		log_info("object %s: finished a truncate cut short by a crash", name);
	}
	if (fchmod(fd, OBJ_MODE) < 0)
		log_warn("object %s: cannot clear its cut mark: %s", name, strerror(errno));
out:
	close(fd);
}

int store_obj_sync(struct store_obj *obj, int datasync)
{
	int rc = store_obj_flush(obj);

	if (rc < 0)
		return rc;
	if ((datasync ? fdatasync(obj->fd) : fsync(obj->fd)) < 0)
		return -errno;
	return 0;
}

/* ---- destruction ---- */

int store_shred(struct store *st, const struct store_id *id)
{
	static const uint8_t zeros[STORE_DATA_OFF];
	size_t n = sizeof(zeros);
	struct stat stb;
	int fd, rc;

	rc = obj_open_fd(st, id, &fd);
	if (rc < 0)
		return rc;
	/* Zeros over what the file holds, never past its end (a shorter file
	 * reads as zeros there): growing it could need space a full disk no
	 * longer has, and an unlink must not fail for that. */
	if (fstat(fd, &stb) == 0 && stb.st_size < (off_t)n)
		n = (size_t)stb.st_size;
	rc = write_at(fd, zeros, n, 0);
	/* A hole reads as zeros too and needs no space (an object from before
	 * reservations could have one in its slots). */
	if ((rc == -ENOSPC || rc == -EDQUOT) &&
	    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)n) == 0)
		rc = 0;
	close(fd);
	return rc;
}

int store_reap_shredded(struct store *st, const struct store_id *ids, size_t n)
{
	char name[2 * STORE_ID_BYTES + 1];
	int rc = 0;

	/* The zeros must be on disk before the unlink lets the host
	 * filesystem drop them unwritten. */
	if (n > 0 && syncfs(st->objfd) < 0)
		return -errno;
	for (size_t i = 0; i < n; i++) {
		obj_name(&ids[i], name);
		if (unlinkat(st->objfd, name, 0) < 0 && errno != ENOENT && rc == 0)
			rc = -errno;
	}
	return rc;
}

int store_statfs(struct store *st, struct statvfs *sv)
{
	return fstatvfs(st->dirfd, sv) < 0 ? -errno : 0;
}

const char *store_dir(const struct store *st)
{
	return st->dir;
}

/* ---- subkeys: keys/<16 hex of id> = le64 id | ctx(8) | wrapped key ---- */

static void subkey_name(uint64_t id, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)id);
}

static int subkey_unwrap(const uint8_t *rec, const uint8_t *master, uint8_t *out)
{
	return crypto_open(out, master, rec + 16, CRYPTO_WRAPPED_KEY_BYTES, rec, 16);
}

static int subkey_write(int keysfd, const char *name, uint8_t *rec, const uint8_t *master,
                        const uint8_t *key)
{
	char tmp[32];
	int fd, rc;

	crypto_seal(rec + 16, master, key, CRYPTO_KEY_BYTES, rec, 16);
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	fd = openat(keysfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = write_at(fd, rec, SUBKEY_BYTES, 0);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && renameat(keysfd, tmp, keysfd, name) < 0)
		rc = -errno;
	if (rc == 0 && fsync(keysfd) < 0)
		rc = -errno;
	return rc;
}

static int keys_dir(struct store *st, int create)
{
	int fd = openat(st->dirfd, "keys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(st->dirfd, "keys", 0700) < 0)
			return -errno;
		fd = openat(st->dirfd, "keys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

int store_subkey(struct store *st, uint8_t out[CRYPTO_KEY_BYTES], uint64_t id, const char ctx[8])
{
	uint8_t rec[SUBKEY_BYTES];
	char name[17];
	int keysfd, fd, rc;

	subkey_name(id, name);
	keysfd = keys_dir(st, !st->readonly);
	if (keysfd < 0)
		return st->readonly && keysfd == -ENOENT ? -EROFS : keysfd;
	fd = openat(keysfd, name, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		rc = read_at(fd, rec, sizeof(rec), 0);
		close(fd);
		if (rc == 0 && (get64(rec) != id || memcmp(rec + 8, ctx, 8) != 0))
			rc = -EBADMSG;
		if (rc == 0)
			rc = subkey_unwrap(rec, st->master, out);
	} else if (errno != ENOENT) {
		rc = -errno;
	} else if (st->readonly) {
		rc = -EROFS;
	} else {
		put64(rec, id);
		memcpy(rec + 8, ctx, 8);
		crypto_random(out, CRYPTO_KEY_BYTES);
		rc = subkey_write(keysfd, name, rec, st->master, out);
	}
	close(keysfd);
	return rc;
}

/* ---- key rotation ---- */

int store_rekey_pending(struct store *st)
{
	return faccessat(st->dirfd, REKEY_FILE, F_OK, 0) == 0;
}

int store_rekey_begin(struct store *st, const uint8_t *newkey)
{
	uint8_t kcv[CRYPTO_HASH_BYTES];
	int fd, rc;

	kcv_compute(kcv, newkey, st->sb + 16);
	fd = openat(st->dirfd, REKEY_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = write_at(fd, kcv, sizeof(kcv), 0);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && fsync(st->dirfd) < 0)
		rc = -errno;
	return rc;
}

int store_rekey_object(struct store *st, const struct store_id *id, const uint8_t *newkey)
{
	uint8_t hdr[STORE_HDR_BYTES];
	uint8_t *key = crypto_key_alloc();
	int fd = -1, rc;

	if (!key)
		return -ENOMEM;
	rc = obj_open_fd(st, id, &fd);
	if (rc == 0)
		rc = read_at(fd, hdr, sizeof(hdr), 0);
	if (rc == 0 && all_zero(hdr, sizeof(hdr)))
		goto out; /* shredded: nothing to re-wrap */
	if (rc == 0 && hdr_unwrap(hdr, id, st->master, key) == 0) {
		crypto_seal(hdr + HDR_WRAP_OFF, newkey, key, CRYPTO_KEY_BYTES, hdr, HDR_WRAP_OFF);
		rc = write_at(fd, hdr, sizeof(hdr), 0);
	} else if (rc == 0 && hdr_unwrap(hdr, id, newkey, key) != 0) {
		rc = -EBADMSG; /* under neither key: damaged */
	}
out:
	if (fd >= 0)
		close(fd);
	crypto_key_free(key);
	return rc;
}

/* Re-wrap every subkey from the old master to newkey. */
static int rekey_subkeys(struct store *st, const uint8_t *newkey)
{
	uint8_t rec[SUBKEY_BYTES], *key = crypto_key_alloc();
	struct dirent *de;
	DIR *d;
	int keysfd, rc = 0;

	if (!key)
		return -ENOMEM;
	keysfd = keys_dir(st, 1);
	if (keysfd < 0) {
		crypto_key_free(key);
		return keysfd;
	}
	d = fdopendir(dup(keysfd));
	while (rc == 0 && d && (de = readdir(d)) != NULL) {
		int fd;

		if (strlen(de->d_name) != 16)
			continue;
		fd = openat(keysfd, de->d_name, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			rc = -errno;
			break;
		}
		rc = read_at(fd, rec, sizeof(rec), 0);
		close(fd);
		if (rc == 0 && subkey_unwrap(rec, st->master, key) == 0)
			rc = subkey_write(keysfd, de->d_name, rec, newkey, key);
		else if (rc == 0 && subkey_unwrap(rec, newkey, key) != 0)
			rc = -EBADMSG;
	}
	if (!d)
		rc = -errno;
	else
		closedir(d);
	close(keysfd);
	crypto_key_free(key);
	return rc;
}

int store_rekey_finish(struct store *st, const uint8_t *newkey)
{
	uint8_t sb[STORE_SB_BYTES];
	int64_t mark = store_mark_read(st);
	int fd, rc;

	/* Every re-wrapped header must be on disk before the superblock
	 * names the new key. */
	if (syncfs(st->objfd) < 0)
		return -errno;
	rc = rekey_subkeys(st, newkey);
	if (rc < 0)
		return rc;
	/* The mark under the new key is durable before the switch, and put
	 * in place after it: never is there only a mark the key of the day
	 * cannot read. */
	if (mark && (rc = mark_store(st, MARK_NEXT, newkey, mark, 1)) < 0)
		return rc;
	memcpy(sb, st->sb, sizeof(sb));
	kcv_compute(sb + 64, newkey, sb + 16);
	crypto_checksum(sb + SB_SUM_OFF, sb, SB_SUM_OFF);
	fd = openat(st->dirfd, "recfs.store.new", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = write_at(fd, sb, sizeof(sb), 0);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	/* rename() is the switch: before it the old key opens the store,
	 * after it the new one. */
	if (rc == 0 && renameat(st->dirfd, "recfs.store.new", st->dirfd, "recfs.store") < 0)
		rc = -errno;
	if (rc == 0 && fsync(st->dirfd) < 0)
		rc = -errno;
	if (rc < 0)
		return rc;
	memcpy(st->sb, sb, sizeof(sb));
	memcpy(st->master, newkey, CRYPTO_KEY_BYTES);
	if (mark && renameat(st->dirfd, MARK_NEXT, st->dirfd, MARK_FILE) < 0)
		return -errno;
	/* Gone already when a rerun finds the rotation finished. */
	if (unlinkat(st->dirfd, REKEY_FILE, 0) < 0 && errno != ENOENT)
		return -errno;
	return fsync(st->dirfd) < 0 ? -errno : 0;
}

int store_list(struct store *st, struct store_id **ids, size_t *count)
{
	struct store_id *v = NULL, id;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int fd;

	fd = openat(st->objfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d)) != NULL) {
		if (id_from_hex(de->d_name, &id) < 0)
			continue;
		if (n == cap) {
			struct store_id *nv;

			cap = cap ? cap * 2 : 1024;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = id;
	}
	closedir(d);
	*ids = v;
	*count = n;
	return 0;
}
