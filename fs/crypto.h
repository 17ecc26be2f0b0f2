/*
 * crypto: every use of libsodium in recfs. Nothing else includes sodium.h.
 *
 * Keys: the master key (32 bytes, locked memory) wraps one random key per
 * object. Object keys seal metadata slots and content blocks with
 * XChaCha20-Poly1305 (IETF), a fresh random nonce per seal. Results are
 * 0 or a negative errno; a failed authentication is -EBADMSG.
 */
#ifndef RECFS_CRYPTO_H
#define RECFS_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_KEY_BYTES 32
#define CRYPTO_NONCE_BYTES 24
#define CRYPTO_TAG_BYTES 16
#define CRYPTO_SEAL_OVERHEAD (CRYPTO_NONCE_BYTES + CRYPTO_TAG_BYTES)
#define CRYPTO_WRAPPED_KEY_BYTES (CRYPTO_KEY_BYTES + CRYPTO_SEAL_OVERHEAD)
#define CRYPTO_SALT_BYTES 16
#define CRYPTO_HASH_BYTES 32

/* sodium_init(); 0 or -EIO. Call before any other crypto_* function;
 * safe to call more than once. */
int crypto_init(void);

/* A key buffer in guarded, locked memory (sodium_malloc). NULL on ENOMEM.
 * crypto_key_free wipes and releases it; NULL is a no-op. */
uint8_t *crypto_key_alloc(void);
void crypto_key_free(uint8_t *key);

/* A secret buffer of n bytes in guarded, locked memory; NULL on ENOMEM.
 * crypto_secret_free wipes and releases it; NULL is a no-op. */
void *crypto_secret_alloc(size_t n);
void crypto_secret_free(void *p);

/* Fill buf with n random bytes. */
void crypto_random(void *buf, size_t n);

/* Zero n bytes in a way the compiler may not remove. */
void crypto_wipe(void *buf, size_t n);

/* Constant-time comparison of two 32-byte values: 0 when equal, -1 if not. */
int crypto_equal32(const uint8_t *a, const uint8_t *b);

/* Argon2id (crypto_pwhash) of a passphrase into key. opslimit/memlimit are
 * stored in the superblock. 0, -ENOMEM when the limits cannot be met,
 * -EINVAL on bad limits. */
int crypto_key_from_passphrase(uint8_t *key, const char *pass, size_t passlen,
                               const uint8_t salt[CRYPTO_SALT_BYTES],
                               uint64_t opslimit, uint64_t memlimit);
/* The defaults recctl init stores for new passphrase stores
 * (crypto_pwhash_OPSLIMIT_MODERATE / MEMLIMIT_MODERATE). */
uint64_t crypto_pwhash_default_ops(void);
uint64_t crypto_pwhash_default_mem(void);

/* Keyed BLAKE2b-256: out = MAC(key, msg). Used for the key check value,
 * the clock mark and the audit chain. */
void crypto_mac(uint8_t out[CRYPTO_HASH_BYTES], const uint8_t *key,
                const void *msg, size_t len);

/* Unkeyed BLAKE2b-256 checksum (superblock damage detection). */
void crypto_checksum(uint8_t out[CRYPTO_HASH_BYTES], const void *msg, size_t len);

/* Derive a 32-byte subkey from key for purpose id within an 8-char context
 * (crypto_kdf). */
void crypto_derive(uint8_t sub[CRYPTO_KEY_BYTES], const uint8_t *key,
                   uint64_t id, const char ctx[8]);

/* Seal len bytes of plain into out (len + CRYPTO_SEAL_OVERHEAD bytes:
 * nonce | ciphertext | tag) with a fresh random nonce; ad is authenticated,
 * not stored. out and plain must not overlap. Returns 0. */
int crypto_seal(uint8_t *out, const uint8_t *key, const uint8_t *plain,
                size_t len, const uint8_t *ad, size_t adlen);

/* Open what crypto_seal made (inlen >= CRYPTO_SEAL_OVERHEAD) into plain
 * (inlen - CRYPTO_SEAL_OVERHEAD bytes). 0, or -EBADMSG when the tag, the key
 * or ad do not match (plain is then zeroed). */
int crypto_open(uint8_t *plain, const uint8_t *key, const uint8_t *in,
                size_t inlen, const uint8_t *ad, size_t adlen);

/* Incremental SHA-256 (sealed recordings' digest). */
struct crypto_sha256 {
	_Alignas(16) unsigned char opaque[128];
};
void crypto_sha256_init(struct crypto_sha256 *st);
void crypto_sha256_update(struct crypto_sha256 *st, const void *p, size_t n);
void crypto_sha256_final(struct crypto_sha256 *st, uint8_t out[CRYPTO_HASH_BYTES]);

#endif
