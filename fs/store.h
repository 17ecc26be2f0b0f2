/*
 * store: the backing store on the host filesystem (format v2, see
 * docs/format.md). A superblock file, and one object file per node under
 * objects/, named by a random id. store knows objects, metadata records and
 * content blocks; it knows nothing of names' meaning, trees or FUSE.
 *
 * Thread safety: struct store is safe to share; one struct store_obj must
 * be used by one thread at a time (the caller's per-node lock).
 */
#ifndef RECFS_STORE_H
#define RECFS_STORE_H

#include <stdint.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include "crypto.h"

#define STORE_FORMAT_VERSION 2
#define STORE_ID_BYTES 16
#define STORE_NAME_MAX 255
#define STORE_SB_BYTES 256
/* An object file is laid out in host pages: the header in the first, the
 * two metadata slots in the next two, then one sealed content block per
 * page. A block is rewritten in place (the growing last block at every
 * flush), and the kernel may stop a write between two pages when the
 * daemon is killed: a block inside one page is replaced whole or not at
 * all. */
#define STORE_PAGE_BYTES 4096
#define STORE_HDR_BYTES 128
#define STORE_SLOT_BYTES STORE_PAGE_BYTES
#define STORE_SLOT_OFF STORE_PAGE_BYTES /* slot A; slot B follows */
#define STORE_DATA_OFF (STORE_SLOT_OFF + 2 * STORE_SLOT_BYTES)
#define STORE_CBLOCK_BYTES STORE_PAGE_BYTES
#define STORE_BLOCK_BYTES (STORE_CBLOCK_BYTES - CRYPTO_SEAL_OVERHEAD)
#define STORE_META_FIXED_BYTES 400
#define STORE_XATTR_BYTES (STORE_SLOT_BYTES - CRYPTO_SEAL_OVERHEAD - STORE_META_FIXED_BYTES)

/* meta flags */
#define META_ROOT 0x1   /* the root directory */
#define META_ORPHAN 0x2 /* unlinked while open: destroy at next mount */

/* meta state */
enum { STATE_CLOSED = 0, STATE_RECORDING = 1, STATE_SEALED = 2 };

struct store_id {
	uint8_t b[STORE_ID_BYTES];
};

/* The persisted attributes of one node: what a metadata slot holds. */
struct store_meta {
	uint64_t seq; /* managed by store_meta_write */
	struct store_id parent;
	uint32_t flags, mode, uid, gid;
	uint64_t rdev;
	int64_t atime, mtime, ctime, btime; /* ns since the epoch */
	int64_t ended;    /* ns: recording ended / folder became empty; 0 = n/a */
	int64_t deadline; /* ns: expiry time; 0 = none yet */
	uint8_t klass;    /* retention class (retention.h) */
	uint8_t state;    /* STATE_* */
	uint16_t name_len;
	uint16_t xattr_len;
	uint64_t sealed_size;
	uint8_t sha256[CRYPTO_HASH_BYTES];
	char name[STORE_NAME_MAX + 1];
	uint8_t *xattr; /* xattr_len bytes, owned by the caller */
};

struct store_kdf {
	int passphrase; /* 0: raw key file; 1: Argon2id from a passphrase */
	uint64_t opslimit, memlimit;
	uint8_t salt[CRYPTO_SALT_BYTES];
};

struct store;
struct store_obj;

/* Create a new store in dir (made 0700 if missing; must be empty of a
 * store) for master key, with kdf recorded. 0 or -errno (-EEXIST when a
 * store is already there). */
int store_init(const char *dir, const uint8_t *master, const struct store_kdf *kdf);

/* Read and check dir's superblock without a key (for the KDF parameters).
 * 0, or -ENOENT (no store), -EPROTO (not a recfs store / bad magic),
 * -EPROTONOSUPPORT (unknown format version, *version set), -EBADMSG
 * (damaged superblock), other -errno. */
int store_probe(const char *dir, struct store_kdf *kdf, uint32_t *version);

/* Open the store: probe, check the key (-EKEYREJECTED when wrong) and,
 * unless flags has STORE_READONLY, take an exclusive flock on the
 * superblock (-EBUSY when another process holds it). A read-only opener
 * (recctl reading a mounted store) must not write. master is copied into
 * locked memory. NULL, *err and errno set on error. */
#define STORE_READONLY 0x1
struct store *store_open(const char *dir, const uint8_t *master, int flags, int *err);

/* A 32-byte key for another purpose (the audit trail): random, made on
 * first use and kept in keys/<id> wrapped under the master key, so a
 * rekey keeps it. A read-only store cannot make one (-EROFS). ctx (8
 * chars) is bound to the wrapping. 0 or -errno. */
int store_subkey(struct store *st, uint8_t out[CRYPTO_KEY_BYTES], uint64_t id, const char ctx[8]);

/* Key rotation, all with the store open exclusively with the current
 * (old) key. store_rekey_begin records the new key's check value in
 * rekey.pending: until store_rekey_finish, store_open refuses the store
 * (-EINPROGRESS) unless flags has STORE_REKEY. store_rekey_object
 * re-wraps one object's key (an object already wrapped under the new key
 * is left as it is, so a rerun after a crash goes on where it stopped).
 * store_rekey_finish makes everything durable, re-wraps the subkeys and
 * the clock mark, writes the new superblock atomically and removes the
 * marker. Each returns 0 or -errno. */
#define STORE_REKEY 0x2
int store_rekey_begin(struct store *st, const uint8_t *newkey);
int store_rekey_object(struct store *st, const struct store_id *id, const uint8_t *newkey);
int store_rekey_finish(struct store *st, const uint8_t *newkey);
/* 1 when an interrupted rotation waits for a rerun. */
int store_rekey_pending(struct store *st);
/* The ids of every object file (for rekey and verify). *ids is malloc'd. */
int store_list(struct store *st, struct store_id **ids, size_t *count);
const char *store_dir(const struct store *st);
void store_close(struct store *st);

/* Clock high-water mark: read (0 when none yet or unauthentic) / write. */
int64_t store_mark_read(struct store *st);
int store_mark_write(struct store *st, int64_t ns);

/* Call fn for every object in objects/, with its newest valid metadata
 * and plaintext size. meta->xattr points into a buffer valid only during
 * the call. Damaged objects are logged by id and counted in *damaged;
 * shredded leftovers (store_shred without unlink) and empty objects (spares,
 * creates cut short) are unlinked. fn returns
 * 0 to go on, or a -errno that stops the scan and is returned. */
typedef int (*store_scan_fn)(void *ctx, const struct store_id *id,
                             const struct store_meta *meta, uint64_t size,
                             int64_t host_mtime);
int store_scan(struct store *st, store_scan_fn fn, void *ctx, unsigned *damaged);

/* Keep empty object files ready on a thread of their own, so that
 * store_obj_create need not wait for the host filesystem to make one (a
 * mounted daemon's store only; after any fork). store_close ends the
 * thread and removes the spares. 0 or -errno. */
int store_spares_start(struct store *st);

/* Create a new object with a fresh random id and key, write meta (seq 1)
 * into slot A. 0 or -errno; *out open. */
int store_obj_create(struct store *st, struct store_meta *meta, struct store_obj **out);
/* Open an existing object. -EBADMSG when its header does not authenticate. */
int store_obj_open(struct store *st, const struct store_id *id, struct store_obj **out);
/* Flush and close; NULL is a no-op. Returns the flush's result. */
int store_obj_close(struct store_obj *obj);
const struct store_id *store_obj_id(const struct store_obj *obj);

/* Write meta into the slot not holding the current version, with
 * meta->seq + 1 (meta->seq is updated). 0 or -errno. It touches only the
 * object's fd and key, so it may run while another thread uses the
 * object's content functions; the caller serializes meta writes. */
int store_meta_write(struct store_obj *obj, struct store_meta *meta);
/* Same for an object that is not open. */
int store_meta_write_id(struct store *st, const struct store_id *id, struct store_meta *meta);
/* Read the newest valid meta; xattr (STORE_XATTR_BYTES) receives the
 * xattr area and meta->xattr points at it. -EBADMSG when neither slot
 * authenticates. */
int store_meta_read(struct store_obj *obj, struct store_meta *meta, uint8_t *xattr);

/* Content. The plaintext size is tracked by the object; the last partial
 * block is buffered in memory until store_obj_flush or until a write moves
 * on, so small appends cost a memcpy. A damaged block is -EIO (logged).
 * Reads change nothing in the object: several may run at once, never
 * beside a write, truncate or flush. */
uint64_t store_obj_size(const struct store_obj *obj);
ssize_t store_obj_pread(struct store_obj *obj, void *buf, size_t len, uint64_t off);
ssize_t store_obj_pwrite(struct store_obj *obj, const void *buf, size_t len, uint64_t off);
/* -EFBIG when the size cannot be represented on the host filesystem. */
int store_obj_truncate(struct store_obj *obj, uint64_t size);
int store_obj_flush(struct store_obj *obj);
/* flush, then fdatasync (datasync) or fsync. */
int store_obj_sync(struct store_obj *obj, int datasync);

/* Destruction. store_shred overwrites an object's header and metadata
 * slots with zeros (its wrapped key is gone: the blocks are noise);
 * store_reap_shredded makes the overwrites durable with one syncfs and
 * then unlinks the files — so many destructions cost one sync. */
int store_shred(struct store *st, const struct store_id *id);
int store_reap_shredded(struct store *st, const struct store_id *ids, size_t n);

/* statvfs of the host filesystem under the store. */
int store_statfs(struct store *st, struct statvfs *sv);

/* Hex form of an id for logs and object file names (33 bytes). */
void store_id_hex(const struct store_id *id, char out[2 * STORE_ID_BYTES + 1]);
int store_id_is_zero(const struct store_id *id);

#endif
