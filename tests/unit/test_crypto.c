/*
 * test_crypto: known-answer vectors for the hashes and the KDF, which pin
 * the on-disk format, and proof that every kind of tampering with a sealed
 * buffer is refused. Hash vectors: FIPS 180-2 for SHA-256; BLAKE2b values
 * from an independent implementation (Python's hashlib).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "crypto.h"

/* Argon2id minimums in libsodium 1.0.18 (crypto_pwhash_argon2id.h). */
#define PW_OPS_MIN 1
#define PW_MEM_MIN 8192

static void from_hex(uint8_t *out, const char *hex)
{
	for (size_t i = 0; hex[2 * i]; i++) {
		unsigned v;

		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static int equals_hex(const uint8_t *got, const char *hex)
{
	uint8_t want[CRYPTO_HASH_BYTES];

	from_hex(want, hex);
	return memcmp(got, want, sizeof(want)) == 0;
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void le64(uint8_t out[8], uint64_t v)
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

static void test_key_alloc(void)
{
	uint8_t *key = crypto_key_alloc();
	int ok = 1;

	CHECK(key != NULL, "crypto_key_alloc returns memory");
	if (!key)
		return;
	for (int i = 0; i < CRYPTO_KEY_BYTES; i++)
		key[i] = (uint8_t)(0xA0 + i);
	for (int i = 0; i < CRYPTO_KEY_BYTES; i++)
		ok &= key[i] == (uint8_t)(0xA0 + i);
	CHECK(ok, "key buffer holds what was written");
	crypto_key_free(key);
	crypto_key_free(NULL);
	CHECK(1, "crypto_key_free(NULL) is a no-op");
}

static void test_round_trip(const uint8_t *key, size_t len)
{
	/* +1 so a zero-length case still has real buffers. */
	uint8_t *plain = malloc(len + 1);
	uint8_t *back = malloc(len + 1);
	uint8_t *sealed = malloc(len + CRYPTO_SEAL_OVERHEAD);
	uint8_t ad[8];
	char what[64];

	crypto_random(plain, len + 1);
	le64(ad, 42);
	CHECK(crypto_seal(sealed, key, plain, len, ad, sizeof(ad)) == 0,
	      "seal returns 0");
	snprintf(what, sizeof(what), "round trip of %zu bytes", len);
	CHECK(crypto_open(back, key, sealed, len + CRYPTO_SEAL_OVERHEAD, ad,
			  sizeof(ad)) == 0 && memcmp(back, plain, len) == 0, what);
	free(plain);
	free(back);
	free(sealed);
}

/* Flip one bit of sealed at pos and expect a refusal with plain zeroed. */
static void check_tamper(const uint8_t *key, uint8_t *sealed, size_t inlen,
			 size_t pos, const uint8_t *ad, const char *what)
{
	size_t len = inlen - CRYPTO_SEAL_OVERHEAD;
	uint8_t *plain = malloc(len);
	int rc;

	memset(plain, 0xAA, len);
	sealed[pos] ^= 0x01;
	rc = crypto_open(plain, key, sealed, inlen, ad, 8);
	sealed[pos] ^= 0x01;
	CHECK(rc == -EBADMSG && all_zero(plain, len), what);
	free(plain);
}

static void test_seal(void)
{
	enum { LEN = 320, INLEN = LEN + CRYPTO_SEAL_OVERHEAD };
	static const size_t lens[] = { 0, 1, 320, 4096 };
	uint8_t key[CRYPTO_KEY_BYTES], other[CRYPTO_KEY_BYTES];
	uint8_t plain[LEN], back[LEN], ad[8], ad2[8];
	uint8_t sealed[INLEN], sealed2[INLEN];

	crypto_random(key, sizeof(key));
	memcpy(other, key, sizeof(key));
	other[0] ^= 0x80;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		test_round_trip(key, lens[i]);

	crypto_random(plain, sizeof(plain));
	le64(ad, 7);
	le64(ad2, 8);
	crypto_seal(sealed, key, plain, LEN, ad, sizeof(ad));
	CHECK(crypto_open(back, key, sealed, INLEN, ad, sizeof(ad)) == 0,
	      "untampered block opens");
	check_tamper(key, sealed, INLEN, 0, ad, "flipped nonce byte -> EBADMSG, plain zeroed");
	check_tamper(key, sealed, INLEN, CRYPTO_NONCE_BYTES + 100, ad,
		     "flipped ciphertext byte -> EBADMSG, plain zeroed");
	check_tamper(key, sealed, INLEN, INLEN - 1, ad,
		     "flipped tag byte -> EBADMSG, plain zeroed");

	memset(back, 0xAA, sizeof(back));
	CHECK(crypto_open(back, other, sealed, INLEN, ad, sizeof(ad)) == -EBADMSG &&
	      all_zero(back, LEN), "wrong key -> EBADMSG, plain zeroed");
	memset(back, 0xAA, sizeof(back));
	CHECK(crypto_open(back, key, sealed, INLEN, ad2, sizeof(ad2)) == -EBADMSG &&
	      all_zero(back, LEN), "block moved to another index -> EBADMSG");
	CHECK(crypto_open(back, key, sealed, INLEN, NULL, 0) == -EBADMSG,
	      "missing ad -> EBADMSG");
	CHECK(crypto_open(back, key, sealed, INLEN - 1, ad, sizeof(ad)) == -EBADMSG,
	      "truncated block -> EBADMSG");
	CHECK(crypto_open(back, key, sealed, CRYPTO_SEAL_OVERHEAD - 1, ad,
			  sizeof(ad)) == -EBADMSG, "shorter than overhead -> EBADMSG");

	crypto_seal(sealed2, key, plain, LEN, ad, sizeof(ad));
	CHECK(memcmp(sealed, sealed2, CRYPTO_NONCE_BYTES) != 0,
	      "two seals use different nonces");
	CHECK(memcmp(sealed, sealed2, INLEN) != 0,
	      "two seals of the same plaintext differ");

	crypto_seal(sealed2, key, plain, LEN, NULL, 0);
	CHECK(crypto_open(back, key, sealed2, INLEN, NULL, 0) == 0 &&
	      memcmp(back, plain, LEN) == 0, "round trip without ad");
}

/* Nonces come from per-thread pools: many in a row never repeat, and a
 * forked child does not replay the nonces its parent will use next. */
static void test_nonces(void)
{
	enum { N = 1000 };
	uint8_t key[CRYPTO_KEY_BYTES], plain[1] = { 0 };
	uint8_t (*seen)[CRYPTO_SEAL_OVERHEAD + 1] = calloc(N, sizeof(*seen));
	uint8_t mine[CRYPTO_SEAL_OVERHEAD + 1], child[CRYPTO_SEAL_OVERHEAD + 1];
	int fds[2], dup = 0, status = 0;
	pid_t pid;

	CHECK(seen != NULL, "nonce test memory");
	if (!seen)
		return;
	crypto_random(key, sizeof(key));
	for (int i = 0; i < N; i++) {
		crypto_seal(seen[i], key, plain, 1, NULL, 0);
		for (int j = 0; j < i; j++)
			dup += memcmp(seen[i], seen[j], CRYPTO_NONCE_BYTES) == 0;
	}
	CHECK(dup == 0, "1000 seals in a row: 1000 different nonces");
	free(seen);

	CHECK(pipe(fds) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		crypto_seal(child, key, plain, 1, NULL, 0);
		_exit(write(fds[1], child, CRYPTO_NONCE_BYTES) == CRYPTO_NONCE_BYTES ? 0 : 1);
	}
	crypto_seal(mine, key, plain, 1, NULL, 0);
	CHECK(pid > 0 && read(fds[0], child, CRYPTO_NONCE_BYTES) == CRYPTO_NONCE_BYTES &&
	      waitpid(pid, &status, 0) == pid && status == 0,
	      "a forked child seals");
	CHECK(memcmp(mine, child, CRYPTO_NONCE_BYTES) != 0,
	      "after fork, parent and child use different nonces");
	close(fds[0]);
	close(fds[1]);
}

static void test_mac(void)
{
	uint8_t key[CRYPTO_KEY_BYTES], a[CRYPTO_HASH_BYTES], b[CRYPTO_HASH_BYTES];

	for (int i = 0; i < CRYPTO_KEY_BYTES; i++)
		key[i] = (uint8_t)i;
	crypto_mac(a, key, "abc", 3);
	CHECK(equals_hex(a, "d63a32d3e44738d7907f964316c241ad"
			    "aba0abfeabc32349677578a15a203f7f"),
	      "mac known answer (key 00..1f, \"abc\")");
	crypto_mac(b, key, "abc", 3);
	CHECK(memcmp(a, b, sizeof(a)) == 0, "mac is deterministic");
	key[31] ^= 0x01;
	crypto_mac(b, key, "abc", 3);
	CHECK(memcmp(a, b, sizeof(a)) != 0, "mac depends on the key");
	key[31] ^= 0x01;
	crypto_mac(b, key, "abd", 3);
	CHECK(memcmp(a, b, sizeof(a)) != 0, "mac depends on the message");

	crypto_checksum(a, "", 0);
	CHECK(equals_hex(a, "0e5751c026e543b2e8ab2eb06099daa1"
			    "d1e5df47778f7787faab45cdf12fe3a8"),
	      "checksum known answer (\"\")");
	crypto_checksum(a, "abc", 3);
	CHECK(equals_hex(a, "bddd813c634239723171ef3fee98579b"
			    "94964e3bb1cb3e427262c8c068d52319"),
	      "checksum known answer (\"abc\")");
}

static void sha256_of(uint8_t out[CRYPTO_HASH_BYTES], const char *msg)
{
	struct crypto_sha256 st;

	crypto_sha256_init(&st);
	crypto_sha256_update(&st, msg, strlen(msg));
	crypto_sha256_final(&st, out);
}

static void test_sha256(void)
{
	static const char two_blocks[] =
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static const char two_blocks_hex[] =
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
	struct crypto_sha256 st;
	uint8_t out[CRYPTO_HASH_BYTES], chunk[1000];
	size_t len = strlen(two_blocks);

	sha256_of(out, "");
	CHECK(equals_hex(out, "e3b0c44298fc1c149afbf4c8996fb924"
			      "27ae41e4649b934ca495991b7852b855"), "sha256(\"\")");
	sha256_of(out, "abc");
	CHECK(equals_hex(out, "ba7816bf8f01cfea414140de5dae2223"
			      "b00361a396177a9cb410ff61f20015ad"), "sha256(\"abc\")");
	sha256_of(out, two_blocks);
	CHECK(equals_hex(out, two_blocks_hex), "sha256 of the 448-bit message");

	crypto_sha256_init(&st);
	crypto_sha256_update(&st, "a", 1);
	crypto_sha256_update(&st, "", 0);
	crypto_sha256_update(&st, "bc", 2);
	crypto_sha256_final(&st, out);
	CHECK(equals_hex(out, "ba7816bf8f01cfea414140de5dae2223"
			      "b00361a396177a9cb410ff61f20015ad"),
	      "sha256(\"abc\") fed as \"a\", \"\", \"bc\"");

	crypto_sha256_init(&st);
	for (size_t i = 0; i < len; i++)
		crypto_sha256_update(&st, two_blocks + i, 1);
	crypto_sha256_final(&st, out);
	CHECK(equals_hex(out, two_blocks_hex), "sha256 of 448-bit message byte by byte");

	/* Pieces of growing size cross the 64-byte block edge unevenly. */
	crypto_sha256_init(&st);
	for (size_t off = 0, n = 1; off < len; off += n, n++)
		crypto_sha256_update(&st, two_blocks + off, n < len - off ? n : len - off);
	crypto_sha256_final(&st, out);
	CHECK(equals_hex(out, two_blocks_hex), "sha256 of 448-bit message in uneven pieces");

	memset(chunk, 'a', sizeof(chunk));
	crypto_sha256_init(&st);
	for (int i = 0; i < 1000; i++)
		crypto_sha256_update(&st, chunk, sizeof(chunk));
	crypto_sha256_final(&st, out);
	CHECK(equals_hex(out, "cdc76e5c9914fb9281a1c7e284d73e67"
			      "f1809a48a497200e046d39ccc7112cd0"),
	      "sha256 of one million 'a' in 1000-byte pieces");
}

static void test_passphrase(void)
{
	static const char pass[] = "correct horse battery staple";
	uint8_t salt[CRYPTO_SALT_BYTES], salt2[CRYPTO_SALT_BYTES];
	uint8_t a[CRYPTO_KEY_BYTES], b[CRYPTO_KEY_BYTES];
	size_t n = strlen(pass);

	memset(salt, 0x11, sizeof(salt));
	memset(salt2, 0x22, sizeof(salt2));
	CHECK(crypto_key_from_passphrase(a, pass, n, salt, PW_OPS_MIN, PW_MEM_MIN) == 0,
	      "passphrase derivation at minimum limits");
	CHECK(crypto_key_from_passphrase(b, pass, n, salt, PW_OPS_MIN, PW_MEM_MIN) == 0 &&
	      memcmp(a, b, sizeof(a)) == 0, "same passphrase and salt -> same key");
	CHECK(crypto_key_from_passphrase(b, pass, n, salt2, PW_OPS_MIN, PW_MEM_MIN) == 0 &&
	      memcmp(a, b, sizeof(a)) != 0, "another salt -> another key");
	CHECK(crypto_key_from_passphrase(b, pass, n - 1, salt, PW_OPS_MIN, PW_MEM_MIN) == 0 &&
	      memcmp(a, b, sizeof(a)) != 0, "another passphrase -> another key");
	CHECK(crypto_key_from_passphrase(b, pass, n, salt, PW_OPS_MIN + 1, PW_MEM_MIN) == 0 &&
	      memcmp(a, b, sizeof(a)) != 0, "other limits -> another key");

	CHECK(crypto_key_from_passphrase(b, pass, n, salt, PW_OPS_MIN - 1, PW_MEM_MIN) == -EINVAL,
	      "opslimit below minimum -> EINVAL");
	CHECK(crypto_key_from_passphrase(b, pass, n, salt, PW_OPS_MIN, PW_MEM_MIN - 1) == -EINVAL,
	      "memlimit below minimum -> EINVAL");
	CHECK(crypto_key_from_passphrase(b, pass, n, salt, (uint64_t)UINT32_MAX + 1,
					 PW_MEM_MIN) == -EINVAL,
	      "opslimit above maximum -> EINVAL");
	CHECK(crypto_key_from_passphrase(b, pass, n, salt, PW_OPS_MIN, UINT64_MAX) == -EINVAL,
	      "memlimit above maximum -> EINVAL");

	CHECK(crypto_pwhash_default_ops() >= PW_OPS_MIN &&
	      crypto_pwhash_default_mem() >= PW_MEM_MIN, "defaults are within limits");
}

static void test_derive(void)
{
	uint8_t key[CRYPTO_KEY_BYTES], s0[CRYPTO_KEY_BYTES], s1[CRYPTO_KEY_BYTES];

	for (int i = 0; i < CRYPTO_KEY_BYTES; i++)
		key[i] = (uint8_t)i;
	crypto_derive(s0, key, 0, "unittest");
	crypto_derive(s1, key, 1, "unittest");
	CHECK(equals_hex(s0, "23fb160c7d8d1ca0d1f7af8712400729"
			     "93d8d209d80b15466eaac17a5f273fa5"), "derive known answer (id 0)");
	CHECK(equals_hex(s1, "eda140c5b863d350a14e176d0d4cc895"
			     "34ef686847eeb95d6e637f7544d76eb4"), "derive known answer (id 1)");
	CHECK(memcmp(s0, s1, sizeof(s0)) != 0, "different ids give different subkeys");
	crypto_derive(s1, key, 0, "unittesT");
	CHECK(memcmp(s0, s1, sizeof(s0)) != 0, "different contexts give different subkeys");
}

static void test_small(void)
{
	uint8_t a[CRYPTO_HASH_BYTES], b[CRYPTO_HASH_BYTES];

	crypto_random(a, sizeof(a));
	memcpy(b, a, sizeof(a));
	CHECK(crypto_equal32(a, b) == 0, "equal32 of equal values is 0");
	b[31] ^= 0x01;
	CHECK(crypto_equal32(a, b) == -1, "equal32 of values differing in the last byte is -1");
	crypto_wipe(a, sizeof(a));
	CHECK(all_zero(a, sizeof(a)), "wipe zeroes");
}

int main(void)
{
	CHECK(crypto_init() == 0, "crypto_init");
	CHECK(crypto_init() == 0, "crypto_init again");
	test_key_alloc();
	test_seal();
	test_nonces();
	test_mac();
	test_sha256();
	test_passphrase();
	test_derive();
	test_small();
	return check_done();
}
