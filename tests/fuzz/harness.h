/*
 * harness: what the libFuzzer targets in tests/fuzz/ share. One scratch
 * directory per process (made on first use, removed at exit), the fixed
 * test keys, a reader that takes typed values from the fuzz input, file
 * helpers, and the few pieces of the on-disk format the targets need to
 * build authentic input themselves (docs/format.md): a target that only
 * fed random bytes would never get past the first MAC, so structured modes
 * seal fuzz-chosen plaintext with the test key and let the parsers behind
 * the authentication see it.
 *
 * Everything here is single-threaded, like libFuzzer's input loop.
 * A broken environment (cannot make the scratch directory, cannot create
 * the store) ends the process with a message: that is not a finding.
 */
#ifndef RECFS_FUZZ_HARNESS_H
#define RECFS_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "crypto.h"
#include "store.h"

/* libFuzzer's entry points (declared for -Wmissing-prototypes). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The master key every fuzz store is made with, and the audit key. */
extern const uint8_t fz_master[CRYPTO_KEY_BYTES];
extern const uint8_t fz_audit_key[CRYPTO_KEY_BYTES];

/* A finding that no sanitizer would see (a wrong result): print what and
 * abort, so libFuzzer saves the input. */
#define FZ_ASSERT(cond, what)                                                   \
	do {                                                                    \
		if (!(cond))                                                    \
			fz_fail(__FILE__, __LINE__, #cond, (what));             \
	} while (0)
void fz_fail(const char *file, int line, const char *cond, const char *what)
	__attribute__((noreturn));
/* The environment failed: message with errno, exit(2). */
void fz_die(const char *what) __attribute__((noreturn));

/* crypto_init, quiet logging, and the scratch directory: $FUZZ_TMPDIR when
 * set, else a new directory under /dev/shm (tmpfs: syncfs is cheap there)
 * or $TMPDIR or /tmp. Idempotent. Returns the directory. */
const char *fz_scratch(void);

/* A new store (store_init with fz_master, a raw-key store) in
 * scratch/name. Returns its path (static storage per call site is the
 * caller's: out has PATH_MAX bytes). */
void fz_store_make(const char *name, char *out);

/* Write len bytes to path (created 0600, truncated). 0 or -errno. */
int fz_write_file(const char *path, const void *data, size_t len);
/* Read a whole file into a malloc'd buffer; NULL on error. */
uint8_t *fz_read_file(const char *path, size_t *len);
/* unlink, ENOENT is fine. */
void fz_unlink(const char *path);
/* Remove every entry of directory dir that is a plain file. */
void fz_empty_dir(const char *dir);

/* Typed reads from the fuzz input; past the end they yield zeros. */
struct fz_in {
	const uint8_t *p;
	size_t n;
};
uint8_t fz_u8(struct fz_in *in);
uint16_t fz_u16(struct fz_in *in);
uint32_t fz_u32(struct fz_in *in);
uint64_t fz_u64(struct fz_in *in);
/* Copy up to want bytes into out, zero-fill the rest; returns bytes taken. */
size_t fz_take(struct fz_in *in, void *out, size_t want);

/* ---- the format, as docs/format.md states it ---- */

#define FZ_OBJ_MAGIC "RECFS\0OB"
#define FZ_SB_MAGIC "RECFS\0SB"
#define FZ_SLOT_PLAIN_BYTES (STORE_SLOT_BYTES - CRYPTO_SEAL_OVERHEAD)
#define FZ_SB_SUM_OFF (STORE_SB_BYTES - CRYPTO_HASH_BYTES)

void fz_put32(uint8_t *p, uint32_t v);
void fz_put64(uint8_t *p, uint64_t v);
uint64_t fz_get64(const uint8_t *p);

/* Plaintext size from an object file's length (docs/format.md). */
uint64_t fz_size_from_length(uint64_t len);

/* A superblock for fz_master: sets magic, version, kcv and checksum of sb
 * whose other fields the caller chose. */
void fz_sb_seal(uint8_t sb[STORE_SB_BYTES]);
/* Recompute only the checksum. */
void fz_sb_sum(uint8_t sb[STORE_SB_BYTES]);
/* Recompute only the key check value for fz_master. */
void fz_sb_kcv(uint8_t sb[STORE_SB_BYTES]);

/* Header bytes 0..31 are the caller's; wrap key under fz_master. */
void fz_hdr_wrap(uint8_t hdr[STORE_HDR_BYTES], const uint8_t *key);
/* Unwrap a header made for id with fz_master. 0 or -EBADMSG. */
int fz_hdr_unwrap(const uint8_t hdr[STORE_HDR_BYTES], uint8_t *key);
/* Seal a slot plaintext (FZ_SLOT_PLAIN_BYTES) for object id under key. */
void fz_slot_seal(uint8_t slot[STORE_SLOT_BYTES], const uint8_t *key,
                  const struct store_id *id, const uint8_t *plain);
/* Seal plaintext block idx (len bytes) into out (len + overhead). */
void fz_block_seal(uint8_t *out, const uint8_t *key, const struct store_id *id,
                   uint64_t idx, const uint8_t *plain, size_t len);

/* The object the block and corpus code share: a fixed id and key, a valid
 * header and slot A (a regular file named "t"), slot B empty. prefix gets
 * the first STORE_DATA_OFF bytes of its file; content follows them. The
 * same every run, so content sealed in one process opens in another. */
void fz_block_template(uint8_t prefix[STORE_DATA_OFF], struct store_id *id,
                       uint8_t key[CRYPTO_KEY_BYTES]);

/* Path of object id in store dir. */
void fz_obj_path(const char *store, const struct store_id *id, char *out);

#endif
