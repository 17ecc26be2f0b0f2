/*
 * crypto: the one file that speaks libsodium. It pins every primitive and
 * size the on-disk format depends on (XChaCha20-Poly1305 IETF, BLAKE2b-256,
 * crypto_kdf, Argon2id 1.3, SHA-256) and turns libsodium's -1 into a
 * negative errno. All functions are thread-safe once crypto_init succeeded.
 */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "crypto.h"

/* The header states these sizes without sodium.h; keep them honest. */
_Static_assert(CRYPTO_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
	       "aead key size");
_Static_assert(CRYPTO_NONCE_BYTES == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	       "aead nonce size");
_Static_assert(CRYPTO_TAG_BYTES == crypto_aead_xchacha20poly1305_ietf_ABYTES,
	       "aead tag size");
_Static_assert(CRYPTO_SALT_BYTES == crypto_pwhash_SALTBYTES, "pwhash salt size");
_Static_assert(CRYPTO_KEY_BYTES >= crypto_pwhash_BYTES_MIN, "pwhash output size");
_Static_assert(CRYPTO_KEY_BYTES >= crypto_generichash_KEYBYTES_MIN &&
	       CRYPTO_KEY_BYTES <= crypto_generichash_KEYBYTES_MAX, "mac key size");
_Static_assert(CRYPTO_HASH_BYTES >= crypto_generichash_BYTES_MIN &&
	       CRYPTO_HASH_BYTES <= crypto_generichash_BYTES_MAX, "mac size");
_Static_assert(CRYPTO_KEY_BYTES == crypto_kdf_KEYBYTES, "kdf key size");
_Static_assert(CRYPTO_KEY_BYTES >= crypto_kdf_BYTES_MIN &&
	       CRYPTO_KEY_BYTES <= crypto_kdf_BYTES_MAX, "kdf subkey size");
_Static_assert(crypto_kdf_CONTEXTBYTES == 8, "kdf context size");
_Static_assert(CRYPTO_HASH_BYTES == crypto_hash_sha256_BYTES, "sha256 size");
_Static_assert(sizeof(crypto_hash_sha256_state) <=
	       sizeof(((struct crypto_sha256 *)0)->opaque), "sha256 state size");
_Static_assert(_Alignof(crypto_hash_sha256_state) <= _Alignof(struct crypto_sha256),
	       "sha256 state alignment");

/* Nonces: a getrandom(2) for every sealed block was a seventh of a stream
 * write's time. Each thread takes them from its own pool of kernel random
 * bytes, refilled 168 nonces at a time. A fork bumps fork_gen, so a child
 * refills before its first nonce and never repeats its parent's. */
#define NONCE_POOL_BYTES (168 * CRYPTO_NONCE_BYTES)
static _Thread_local struct {
	uint8_t b[NONCE_POOL_BYTES];
	size_t used;
	unsigned gen;
} nonces = { .used = NONCE_POOL_BYTES };
static unsigned fork_gen;
static pthread_once_t fork_hook_once = PTHREAD_ONCE_INIT;

static void nonces_after_fork(void)
{
	__atomic_add_fetch(&fork_gen, 1, __ATOMIC_RELAXED);
}

static void fork_hook(void)
{
	pthread_atfork(NULL, NULL, nonces_after_fork);
}

static void nonce_next(uint8_t out[CRYPTO_NONCE_BYTES])
{
	unsigned gen = __atomic_load_n(&fork_gen, __ATOMIC_RELAXED);

	if (nonces.used == NONCE_POOL_BYTES || nonces.gen != gen) {
		randombytes_buf(nonces.b, sizeof(nonces.b));
		nonces.used = 0;
		nonces.gen = gen;
	}
	memcpy(out, nonces.b + nonces.used, CRYPTO_NONCE_BYTES);
	nonces.used += CRYPTO_NONCE_BYTES;
}

int crypto_init(void)
{
	pthread_once(&fork_hook_once, fork_hook);
	/* 1 means already initialised, which is fine. */
	return sodium_init() < 0 ? -EIO : 0;
}

void *crypto_secret_alloc(size_t n)
{
	void *p = sodium_malloc(n);

	if (!p)
		errno = ENOMEM;
	return p;
}

void crypto_secret_free(void *p)
{
	sodium_free(p);
}

/* Keys come from slabs of guarded, locked memory: a sodium_malloc per
 * key would cost several system calls and pages for every file opened.
 * A free key holds the link to the next free one; slabs are never
 * returned (their number follows the peak of open files). */
#define SLAB_KEYS 1024

static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *key_free_list;

uint8_t *crypto_key_alloc(void)
{
	uint8_t *key;

	pthread_mutex_lock(&key_lock);
	if (!key_free_list) {
		uint8_t *slab = sodium_malloc((size_t)SLAB_KEYS * CRYPTO_KEY_BYTES);

		for (int i = 0; slab && i < SLAB_KEYS; i++) {
			uint8_t *k = slab + (size_t)i * CRYPTO_KEY_BYTES;

			memcpy(k, &key_free_list, sizeof(key_free_list));
			key_free_list = k;
		}
	}
	key = key_free_list;
	if (key) {
		memcpy(&key_free_list, key, sizeof(key_free_list));
		sodium_memzero(key, CRYPTO_KEY_BYTES);
	}
	pthread_mutex_unlock(&key_lock);
	if (!key)
		errno = ENOMEM;
	return key;
}

void crypto_key_free(uint8_t *key)
{
	if (!key)
		return;
	sodium_memzero(key, CRYPTO_KEY_BYTES);
	pthread_mutex_lock(&key_lock);
	memcpy(key, &key_free_list, sizeof(key_free_list));
	key_free_list = key;
	pthread_mutex_unlock(&key_lock);
}

void crypto_random(void *buf, size_t n)
{
	randombytes_buf(buf, n);
}

void crypto_wipe(void *buf, size_t n)
{
	sodium_memzero(buf, n);
}

int crypto_equal32(const uint8_t *a, const uint8_t *b)
{
	return sodium_memcmp(a, b, CRYPTO_HASH_BYTES) == 0 ? 0 : -1;
}

int crypto_key_from_passphrase(uint8_t *key, const char *pass, size_t passlen,
                               const uint8_t salt[CRYPTO_SALT_BYTES],
                               uint64_t opslimit, uint64_t memlimit)
{
	/* Limits come from the superblock, whose checksum anyone who can
	 * write it can redo: capped at libsodium's "sensitive" level, so a
	 * forged superblock cannot make every mount hang for hours. */
	if (!pass || passlen > crypto_pwhash_PASSWD_MAX ||
	    opslimit < crypto_pwhash_OPSLIMIT_MIN ||
	    opslimit > crypto_pwhash_OPSLIMIT_SENSITIVE ||
	    memlimit < crypto_pwhash_MEMLIMIT_MIN ||
	    memlimit > crypto_pwhash_MEMLIMIT_SENSITIVE)
		return -EINVAL;
	if (crypto_pwhash(key, CRYPTO_KEY_BYTES, pass, passlen, salt, opslimit,
			  (size_t)memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		sodium_memzero(key, CRYPTO_KEY_BYTES);
		return -ENOMEM;
	}
	return 0;
}

uint64_t crypto_pwhash_default_ops(void)
{
	return crypto_pwhash_OPSLIMIT_MODERATE;
}

uint64_t crypto_pwhash_default_mem(void)
{
	return crypto_pwhash_MEMLIMIT_MODERATE;
}

void crypto_mac(uint8_t out[CRYPTO_HASH_BYTES], const uint8_t *key,
                const void *msg, size_t len)
{
	/* Cannot fail: all sizes are within bounds (see the asserts above). */
	(void)crypto_generichash(out, CRYPTO_HASH_BYTES, msg, len, key,
				 CRYPTO_KEY_BYTES);
}

void crypto_checksum(uint8_t out[CRYPTO_HASH_BYTES], const void *msg, size_t len)
{
	(void)crypto_generichash(out, CRYPTO_HASH_BYTES, msg, len, NULL, 0);
}

void crypto_derive(uint8_t sub[CRYPTO_KEY_BYTES], const uint8_t *key,
                   uint64_t id, const char ctx[8])
{
	(void)crypto_kdf_derive_from_key(sub, CRYPTO_KEY_BYTES, id, ctx, key);
}

int crypto_seal(uint8_t *out, const uint8_t *key, const uint8_t *plain,
                size_t len, const uint8_t *ad, size_t adlen)
{
	uint8_t *nonce = out;

	/* 192-bit random nonces: no counter to persist, collisions are not a
	 * practical concern at any number of seals recfs will make. */
	nonce_next(nonce);
	(void)crypto_aead_xchacha20poly1305_ietf_encrypt(
		out + CRYPTO_NONCE_BYTES, NULL, plain, len, ad, adlen, NULL,
		nonce, key);
	return 0;
}

int crypto_open(uint8_t *plain, const uint8_t *key, const uint8_t *in,
                size_t inlen, const uint8_t *ad, size_t adlen)
{
	if (inlen < CRYPTO_SEAL_OVERHEAD)
		return -EBADMSG;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    plain, NULL, NULL, in + CRYPTO_NONCE_BYTES,
		    inlen - CRYPTO_NONCE_BYTES, ad, adlen, in, key) != 0) {
		/* libsodium zeroes too, but the contract is ours to keep. */
		sodium_memzero(plain, inlen - CRYPTO_SEAL_OVERHEAD);
		return -EBADMSG;
	}
	return 0;
}

/* The opaque buffer stands in for the state so callers need no sodium.h;
 * only libsodium touches its contents. */
static crypto_hash_sha256_state *sha256_state(struct crypto_sha256 *st)
{
	return (crypto_hash_sha256_state *)(void *)st->opaque;
}

void crypto_sha256_init(struct crypto_sha256 *st)
{
	(void)crypto_hash_sha256_init(sha256_state(st));
}

void crypto_sha256_update(struct crypto_sha256 *st, const void *p, size_t n)
{
	(void)crypto_hash_sha256_update(sha256_state(st), p, n);
}

void crypto_sha256_final(struct crypto_sha256 *st, uint8_t out[CRYPTO_HASH_BYTES])
{
	(void)crypto_hash_sha256_final(sha256_state(st), out);
}
