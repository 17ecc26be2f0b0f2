/*
 * unlock: key material lives only in sodium_malloc'd buffers and is wiped
 * on every path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "crypto.h"
#include "unlock.h"

#define PASS_MAX 1024

/* Read up to max bytes of path into buf; *len gets the count. A file
 * longer than max is -EFBIG. */
static int read_secret(const char *path, uint8_t *buf, size_t max, size_t *len)
{
	ssize_t n;
	size_t got = 0;
	uint8_t extra;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	while (got < max && (n = read(fd, buf + got, max - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		got += (size_t)n;
	}
	if (rc == 0 && read(fd, &extra, 1) > 0)
		rc = -EFBIG;
	close(fd);
	*len = got;
	return rc;
}

static int load_passphrase(const struct recfs_config *cfg, const struct store_kdf *kdf,
                           uint8_t *key, char *err, size_t errlen)
{
	uint8_t *buf = crypto_secret_alloc(PASS_MAX);
	size_t len;
	int rc;

	if (!buf)
		return -ENOMEM;
	rc = read_secret(cfg->passphrase_file, buf, PASS_MAX, &len);
	/* A final newline is not part of the passphrase (echo adds one). */
	while (rc == 0 && len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (rc < 0) {
		snprintf(err, errlen, "cannot read passphrase file %s: %s", cfg->passphrase_file,
		         rc == -EFBIG ? "longer than 1024 bytes" : strerror(-rc));
	} else if (len == 0) {
		snprintf(err, errlen, "passphrase file %s is empty", cfg->passphrase_file);
		rc = -EINVAL;
	} else {
		rc = crypto_key_from_passphrase(key, (const char *)buf, len, kdf->salt,
		                                kdf->opslimit, kdf->memlimit);
		if (rc == -EINVAL)
			snprintf(err, errlen, "store %s asks for passphrase work limits beyond what "
			         "recfs allows (damaged or forged superblock?)", cfg->path);
		else if (rc < 0)
			snprintf(err, errlen, "cannot derive the key from the passphrase: %s",
			         strerror(-rc));
	}
	crypto_secret_free(buf);
	return rc;
}

/* The master key for cfg: the raw key file, or Argon2id of the passphrase
 * file with the store's KDF parameters. */
static int load_key(const struct recfs_config *cfg, const struct store_kdf *kdf,
                    uint8_t *key, char *err, size_t errlen)
{
	size_t len;
	int rc;

	if (cfg->key_file[0] && kdf->passphrase) {
		snprintf(err, errlen, "store %s was made with a passphrase, but the config names a key file",
		         cfg->path);
		return -EINVAL;
	}
	if (!cfg->key_file[0] && !kdf->passphrase) {
		snprintf(err, errlen, "store %s uses a key file, but the config names a passphrase file",
		         cfg->path);
		return -EINVAL;
	}
	if (kdf->passphrase)
		return load_passphrase(cfg, kdf, key, err, errlen);
	rc = read_secret(cfg->key_file, key, CRYPTO_KEY_BYTES, &len);
	if (rc == 0 && len != CRYPTO_KEY_BYTES)
		rc = -EFBIG;
	if (rc == -EFBIG)
		snprintf(err, errlen, "key file %s must hold exactly %d bytes", cfg->key_file,
		         CRYPTO_KEY_BYTES);
	else if (rc < 0)
		snprintf(err, errlen, "cannot read key file %s: %s", cfg->key_file, strerror(-rc));
	return rc;
}

static void probe_error(int rc, const char *path, uint32_t version, char *err, size_t errlen)
{
	switch (rc) {
	case -ENOENT:
		snprintf(err, errlen, "no store at %s (create one with: recctl init --config FILE)", path);
		break;
	case -EPROTO:
		snprintf(err, errlen, "%s is not a recfs store (bad superblock magic)", path);
		break;
	case -EPROTONOSUPPORT:
		snprintf(err, errlen, "store %s has format version %u; this recfs reads version %d",
		         path, version, STORE_FORMAT_VERSION);
		break;
	case -EBADMSG:
		snprintf(err, errlen, "damaged superblock in %s/recfs.store (checksum mismatch)", path);
		break;
	case -EINPROGRESS:
		snprintf(err, errlen, "a key rotation of %s was interrupted: run the same "
		         "recctl rekey --new-key FILE again to finish it", path);
		break;
	default:
		snprintf(err, errlen, "cannot open store %s: %s", path, strerror(-rc));
	}
}

int unlock_store(const struct recfs_config *cfg, int flags, struct store **out, char *err,
                 size_t errlen)
{
	struct store_kdf kdf;
	uint32_t version;
	uint8_t *key;
	int rc;

	rc = store_probe(cfg->path, &kdf, &version);
	if (rc < 0) {
		probe_error(rc, cfg->path, version, err, errlen);
		return rc;
	}
	key = crypto_key_alloc();
	if (!key)
		return -ENOMEM;
	rc = load_key(cfg, &kdf, key, err, errlen);
	if (rc == 0) {
		*out = store_open(cfg->path, key, flags, &rc);
		if (rc == -EKEYREJECTED)
			snprintf(err, errlen, "wrong key for store %s", cfg->path);
		else if (rc == -EBUSY)
			snprintf(err, errlen, "store %s is in use (mounted, or recctl is working on it)",
			         cfg->path);
		else if (rc < 0)
			probe_error(rc, cfg->path, version, err, errlen);
	}
	crypto_key_free(key);
	return rc;
}

/* A new key file: created exclusively, 0600, written, synced. */
static int make_key_file(const char *path, uint8_t *key)
{
	ssize_t n;
	int fd, rc = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	crypto_random(key, CRYPTO_KEY_BYTES);
	n = write(fd, key, CRYPTO_KEY_BYTES);
	if (n != CRYPTO_KEY_BYTES)
		rc = n < 0 ? -errno : -EIO;
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc < 0)
		unlink(path);
	return rc;
}

int unlock_init(const struct recfs_config *cfg, char *err, size_t errlen)
{
	struct store_kdf kdf = { 0 };
	struct stat stb;
	uint8_t *key;
	int rc, made_key = 0;

	if (stat(cfg->path, &stb) == 0 && S_ISDIR(stb.st_mode)) {
		char sb[PATH_MAX + 16];

		snprintf(sb, sizeof(sb), "%s/recfs.store", cfg->path);
		if (access(sb, F_OK) == 0) {
			snprintf(err, errlen, "a store already exists at %s; not touching it", cfg->path);
			return -EEXIST;
		}
	}
	key = crypto_key_alloc();
	if (!key)
		return -ENOMEM;
	if (cfg->passphrase_file[0]) {
		kdf.passphrase = 1;
		kdf.opslimit = crypto_pwhash_default_ops();
		kdf.memlimit = crypto_pwhash_default_mem();
		crypto_random(kdf.salt, sizeof(kdf.salt));
		rc = load_passphrase(cfg, &kdf, key, err, errlen);
	} else if (access(cfg->key_file, F_OK) == 0) {
		snprintf(err, errlen, "key file %s already exists; not overwriting it", cfg->key_file);
		rc = -EEXIST;
	} else {
		rc = make_key_file(cfg->key_file, key);
		made_key = rc == 0;
		if (rc < 0)
			snprintf(err, errlen, "cannot create key file %s: %s", cfg->key_file, strerror(-rc));
	}
	if (rc == 0) {
		rc = store_init(cfg->path, key, &kdf);
		if (rc < 0) {
			snprintf(err, errlen, "cannot create store at %s: %s", cfg->path, strerror(-rc));
			if (made_key)
				unlink(cfg->key_file);
		}
	}
	crypto_key_free(key);
	return rc;
}

int unlock_audit(struct store *st, const struct recfs_config *cfg, char *err, size_t errlen)
{
	uint8_t *key;
	int rc;

	if (!cfg->audit.enabled)
		return 0;
	key = crypto_key_alloc();
	if (!key)
		return -ENOMEM;
	rc = store_subkey(st, key, AUDIT_SUBKEY_ID, AUDIT_SUBKEY_CTX);
	if (rc == 0)
		rc = audit_open(store_dir(st), key, &cfg->audit);
	if (rc < 0)
		snprintf(err, errlen, "cannot open the audit trail of %s: %s", cfg->path,
		         strerror(-rc));
	crypto_key_free(key);
	return rc;
}
