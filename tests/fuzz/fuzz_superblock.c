/*
 * fuzz_superblock: the store's own files through store_probe, store_open,
 * store_mark_read and store_subkey — the superblock recfs.store (sb_read,
 * sb_parse, the key check), the clock mark and a wrapped subkey file.
 *
 * Input: byte 0 picks the mode (low 2 bits), the rest is the file:
 *   0  recfs.store = the rest, as it is;
 *   1  recfs.store = 256 bytes of the rest, then byte 1's bits repair it:
 *      0x1 magic and version, 0x2 key check value, 0x4 checksum (last),
 *      0x8 keep the rest's own length instead of 256 (torn or padded);
 *   2  a valid superblock, and clock = the rest;
 *   3  a valid superblock, and keys/0000000000000001 = the rest; byte 1
 *      bit 0x1 wraps a fresh key under the master key with the rest's first
 *      16 bytes as id and context (so the success path is reached too).
 * Byte 1 bit 0x80 opens read-write (flock) instead of read-only.
 *
 * Only clean errors are allowed: each call's result must be one the
 * header promises, and probe and open must agree.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define SUBKEY_ID 1
#define SUBKEY_CTX "recfsaud"
#define SUBKEY_BYTES (8 + 8 + CRYPTO_WRAPPED_KEY_BYTES)

static char store[PATH_MAX], sbpath[PATH_MAX], clockpath[PATH_MAX], keypath[PATH_MAX];
static uint8_t sb_good[STORE_SB_BYTES];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t *sb;
	size_t len;

	(void)argc;
	(void)argv;
	fz_store_make("sb", store);
	snprintf(sbpath, sizeof(sbpath), "%s/recfs.store", store);
	snprintf(clockpath, sizeof(clockpath), "%s/clock", store);
	snprintf(keypath, sizeof(keypath), "%s/keys/%016x", store, SUBKEY_ID);
	sb = fz_read_file(sbpath, &len);
	if (!sb || len != STORE_SB_BYTES)
		fz_die("reading the new superblock");
	memcpy(sb_good, sb, sizeof(sb_good));
	free(sb);
	return 0;
}

static int probe_rc_ok(int rc)
{
	return rc == 0 || rc == -EPROTO || rc == -EPROTONOSUPPORT || rc == -EBADMSG;
}

/* store_probe and store_open on whatever recfs.store holds now. */
static struct store *probe_and_open(int flags)
{
	struct store_kdf kdf;
	struct store *st;
	uint32_t version;
	int prc, orc = 0;

	prc = store_probe(store, &kdf, &version);
	FZ_ASSERT(probe_rc_ok(prc), "store_probe returned an undocumented error");
	FZ_ASSERT(prc != -EPROTONOSUPPORT || version != STORE_FORMAT_VERSION,
	          "unknown version reported for version 1");
	FZ_ASSERT(prc != 0 || version == STORE_FORMAT_VERSION, "version not set");
	st = store_open(store, fz_master, flags, &orc);
	if (prc == 0) {
		FZ_ASSERT(kdf.passphrase == 0 || kdf.passphrase == 1, "kdf.passphrase not 0/1");
		FZ_ASSERT(st || orc == -EKEYREJECTED, "probe accepted, open refused");
	} else {
		FZ_ASSERT(!st && orc == prc, "open and probe disagree");
	}
	return st;
}

static void mode_superblock(struct fz_in *in, int shaped, uint8_t opt)
{
	uint8_t sb[STORE_SB_BYTES];
	size_t len = in->n;
	struct store *st;

	if (shaped) {
		fz_take(in, sb, sizeof(sb));
		if (opt & 0x1) {
			memcpy(sb, FZ_SB_MAGIC, 8);
			fz_put32(sb + 8, STORE_FORMAT_VERSION);
		}
		if (opt & 0x2)
			fz_sb_kcv(sb);
		if (opt & 0x4)
			fz_sb_sum(sb);
		if (!(opt & 0x8))
			len = sizeof(sb);
		if (len > sizeof(sb)) {
			/* Padded: the superblock, then the rest of the input. */
			uint8_t *buf = malloc(len);

			if (!buf)
				fz_die("malloc");
			memcpy(buf, sb, sizeof(sb));
			fz_take(in, buf + sizeof(sb), len - sizeof(sb));
			if (fz_write_file(sbpath, buf, len) < 0)
				fz_die(sbpath);
			free(buf);
		} else if (fz_write_file(sbpath, sb, len) < 0) {
			fz_die(sbpath);
		}
	} else if (fz_write_file(sbpath, in->p, in->n) < 0) {
		fz_die(sbpath);
	}
	st = probe_and_open(opt & 0x80 ? 0 : STORE_READONLY);
	if (st) {
		(void)store_mark_read(st);
		store_close(st);
	}
	fz_unlink(sbpath);
}

static void mode_clock(struct fz_in *in, uint8_t opt)
{
	struct store *st;

	if (fz_write_file(sbpath, sb_good, sizeof(sb_good)) < 0 ||
	    fz_write_file(clockpath, in->p, in->n) < 0)
		fz_die(clockpath);
	st = probe_and_open(opt & 0x80 ? 0 : STORE_READONLY);
	FZ_ASSERT(st, "valid superblock refused");
	(void)store_mark_read(st);
	store_close(st);
	fz_unlink(clockpath);
	fz_unlink(sbpath);
}

static void mode_subkey(struct fz_in *in, uint8_t opt)
{
	uint8_t rec[SUBKEY_BYTES], key[CRYPTO_KEY_BYTES], out[CRYPTO_KEY_BYTES];
	struct store *st;
	int rc;

	if (fz_write_file(sbpath, sb_good, sizeof(sb_good)) < 0)
		fz_die(sbpath);
	if (opt & 0x1) {
		fz_take(in, rec, 16);
		memset(key, 0x5a, sizeof(key));
		crypto_seal(rec + 16, fz_master, key, sizeof(key), rec, 16);
		rc = fz_write_file(keypath, rec, sizeof(rec));
	} else {
		rc = fz_write_file(keypath, in->p, in->n);
	}
	if (rc < 0)
		fz_die(keypath);
	/* Read-only: store_subkey must then never create or rewrite. */
	st = probe_and_open(STORE_READONLY);
	FZ_ASSERT(st, "valid superblock refused");
	rc = store_subkey(st, out, SUBKEY_ID, SUBKEY_CTX);
	FZ_ASSERT(rc == 0 || rc == -EBADMSG, "store_subkey: undocumented error");
	if (rc == 0 && (opt & 0x1))
		FZ_ASSERT(!memcmp(out, key, sizeof(key)), "subkey unwrapped to other bytes");
	store_close(st);
	fz_unlink(keypath);
	fz_unlink(sbpath);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint8_t mode = fz_u8(&in), opt;

	switch (mode & 3) {
	case 0:
		mode_superblock(&in, 0, mode & 0x80);
		break;
	case 1:
		opt = fz_u8(&in);
		mode_superblock(&in, 1, opt);
		break;
	case 2:
		mode_clock(&in, mode & 0x80);
		break;
	default:
		opt = fz_u8(&in);
		mode_subkey(&in, opt);
		break;
	}
	return 0;
}
