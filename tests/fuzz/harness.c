/*
 * harness: the shared part of the fuzz targets (see harness.h). The
 * format helpers restate docs/format.md from the reader's side; when the
 * format changes, they change with it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sanitizer/common_interface_defs.h>

#include "harness.h"
#include "log.h"

#define KCV_LABEL "recfs key check v1"
#define META_AD_LABEL "recfs meta v1"
#define HDR_WRAP_OFF 32

const uint8_t fz_master[CRYPTO_KEY_BYTES] = {
	0x66, 0x75, 0x7a, 0x7a, 0x20, 0x6d, 0x61, 0x73, 0x74, 0x65, 0x72, 0x20,
	0x6b, 0x65, 0x79, 0x20, 0x66, 0x6f, 0x72, 0x20, 0x72, 0x65, 0x63, 0x66,
	0x73, 0x20, 0x74, 0x65, 0x73, 0x74, 0x73, 0x21,
};
const uint8_t fz_audit_key[CRYPTO_KEY_BYTES] = {
	0x61, 0x75, 0x64, 0x69, 0x74, 0x20, 0x6b, 0x65, 0x79, 0x20, 0x66, 0x6f,
	0x72, 0x20, 0x72, 0x65, 0x63, 0x66, 0x73, 0x20, 0x66, 0x75, 0x7a, 0x7a,
	0x20, 0x74, 0x61, 0x72, 0x67, 0x65, 0x74, 0x73,
};

static char scratch[PATH_MAX];
static int scratch_ours; /* made by us: removed at exit */

static int rm_fn(const char *path, const struct stat *stb, int flag, struct FTW *ftw)
{
	(void)stb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void scratch_remove(void)
{
	if (scratch_ours)
		nftw(scratch, rm_fn, 16, FTW_DEPTH | FTW_PHYS);
}

void fz_fail(const char *file, int line, const char *cond, const char *what)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "FUZZ FINDING: %s:%d: %s (%s)", file, line, what, cond);
	fprintf(stderr, "%s\n", msg);
	/* libFuzzer's -close_fd_mask=2 sends stderr to /dev/null but keeps
	 * the sanitizers' report file: say it there too. */
	__sanitizer_report_error_summary(msg);
	scratch_remove(); /* abort() skips atexit */
	abort();
}

void fz_die(const char *what)
{
	fprintf(stderr, "fuzz harness: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int usable_dir(const char *d)
{
	struct stat stb;

	return d && d[0] && stat(d, &stb) == 0 && S_ISDIR(stb.st_mode) &&
	       access(d, W_OK | X_OK) == 0;
}

const char *fz_scratch(void)
{
	const char *env = getenv("FUZZ_TMPDIR"), *base;

	if (scratch[0])
		return scratch;
	if (crypto_init() < 0) {
		errno = EIO;
		fz_die("crypto_init");
	}
	/* Each damaged input is logged at error level, which cannot be
	 * switched off: make fuzz passes -close_fd_mask=2 to keep millions
	 * of those lines out of the log (sanitizer reports still show). */
	log_setup(LOG_LVL_ERROR, 0);
	if (usable_dir("/dev/shm"))
		base = "/dev/shm";
	else if (usable_dir(getenv("TMPDIR")))
		base = getenv("TMPDIR");
	else
		base = "/tmp";
	if (usable_dir(env)) {
		/* The caller's directory (make fuzz, the integration test):
		 * a subdirectory of our own, so parallel targets never meet. */
		base = env;
	}
	snprintf(scratch, sizeof(scratch), "%s/recfs-fuzz.XXXXXX", base);
	if (!mkdtemp(scratch))
		fz_die(scratch);
	scratch_ours = 1;
	atexit(scratch_remove);
	return scratch;
}

void fz_store_make(const char *name, char *out)
{
	struct store_kdf kdf = { 0 };
	int rc;

	snprintf(out, PATH_MAX, "%s/%s", fz_scratch(), name);
	rc = store_init(out, fz_master, &kdf);
	if (rc < 0) {
		errno = -rc;
		fz_die(out);
	}
}

int fz_write_file(const char *path, const void *data, size_t len)
{
	const uint8_t *p = data;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rc = 0;

	if (fd < 0)
		return -errno;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	close(fd);
	return rc;
}

uint8_t *fz_read_file(const char *path, size_t *len)
{
	struct stat stb;
	uint8_t *buf = NULL;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &stb) < 0 || !(buf = malloc((size_t)stb.st_size + 1)))
		goto fail;
	while (got < (size_t)stb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)stb.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

void fz_unlink(const char *path)
{
	if (unlink(path) < 0 && errno != ENOENT)
		fz_die(path);
}

void fz_empty_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		fz_die(dir);
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) < 0 && errno != ENOENT)
			fz_die(path);
	}
	closedir(d);
}

/* ---- input reader ---- */

size_t fz_take(struct fz_in *in, void *out, size_t want)
{
	size_t n = want < in->n ? want : in->n;

	if (n)
		memcpy(out, in->p, n);
	memset((uint8_t *)out + n, 0, want - n);
	in->p += n;
	in->n -= n;
	return n;
}

uint8_t fz_u8(struct fz_in *in)
{
	uint8_t v;

	fz_take(in, &v, 1);
	return v;
}

uint16_t fz_u16(struct fz_in *in)
{
	uint8_t b[2];

	fz_take(in, b, 2);
	return (uint16_t)(b[0] | b[1] << 8);
}

uint32_t fz_u32(struct fz_in *in)
{
	uint8_t b[4];

	fz_take(in, b, 4);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

uint64_t fz_u64(struct fz_in *in)
{
	uint8_t b[8];

	fz_take(in, b, 8);
	return fz_get64(b);
}

/* ---- format ---- */

void fz_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void fz_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t fz_get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

uint64_t fz_size_from_length(uint64_t len)
{
	uint64_t n, r;

	if (len <= STORE_DATA_OFF)
		return 0;
	n = len - STORE_DATA_OFF;
	r = n % STORE_CBLOCK_BYTES;
	return n / STORE_CBLOCK_BYTES * STORE_BLOCK_BYTES +
	       (r > CRYPTO_SEAL_OVERHEAD ? r - CRYPTO_SEAL_OVERHEAD : 0);
}

void fz_sb_sum(uint8_t sb[STORE_SB_BYTES])
{
	crypto_checksum(sb + FZ_SB_SUM_OFF, sb, FZ_SB_SUM_OFF);
}

void fz_sb_kcv(uint8_t sb[STORE_SB_BYTES])
{
	uint8_t msg[sizeof(KCV_LABEL) + STORE_ID_BYTES];

	memcpy(msg, KCV_LABEL, sizeof(KCV_LABEL));
	memcpy(msg + sizeof(KCV_LABEL), sb + 16, STORE_ID_BYTES);
	crypto_mac(sb + 64, fz_master, msg, sizeof(msg));
}

void fz_sb_seal(uint8_t sb[STORE_SB_BYTES])
{
	memcpy(sb, FZ_SB_MAGIC, 8);
	fz_put32(sb + 8, STORE_FORMAT_VERSION);
	fz_sb_kcv(sb);
	fz_sb_sum(sb);
}

void fz_hdr_wrap(uint8_t hdr[STORE_HDR_BYTES], const uint8_t *key)
{
	crypto_seal(hdr + HDR_WRAP_OFF, fz_master, key, CRYPTO_KEY_BYTES, hdr, HDR_WRAP_OFF);
}

int fz_hdr_unwrap(const uint8_t hdr[STORE_HDR_BYTES], uint8_t *key)
{
	return crypto_open(key, fz_master, hdr + HDR_WRAP_OFF, CRYPTO_WRAPPED_KEY_BYTES, hdr,
	                   HDR_WRAP_OFF);
}

void fz_slot_seal(uint8_t slot[STORE_SLOT_BYTES], const uint8_t *key,
                  const struct store_id *id, const uint8_t *plain)
{
	uint8_t ad[STORE_ID_BYTES + sizeof(META_AD_LABEL)];

	memcpy(ad, id->b, STORE_ID_BYTES);
	memcpy(ad + STORE_ID_BYTES, META_AD_LABEL, sizeof(META_AD_LABEL));
	crypto_seal(slot, key, plain, FZ_SLOT_PLAIN_BYTES, ad, sizeof(ad));
}

void fz_block_seal(uint8_t *out, const uint8_t *key, const struct store_id *id,
                   uint64_t idx, const uint8_t *plain, size_t len)
{
	uint8_t ad[STORE_ID_BYTES + 8];

	memcpy(ad, id->b, STORE_ID_BYTES);
	fz_put64(ad + STORE_ID_BYTES, idx);
	crypto_seal(out, key, plain, len, ad, sizeof(ad));
}

void fz_block_template(uint8_t prefix[STORE_DATA_OFF], struct store_id *id,
                       uint8_t key[CRYPTO_KEY_BYTES])
{
	uint8_t plain[FZ_SLOT_PLAIN_BYTES] = { 0 };

	memset(id->b, 0xb1, STORE_ID_BYTES);
	memset(key, 0x6b, CRYPTO_KEY_BYTES);
	memset(prefix, 0, STORE_DATA_OFF);
	memcpy(prefix, FZ_OBJ_MAGIC, 8);
	fz_put32(prefix + 8, STORE_FORMAT_VERSION);
	memcpy(prefix + 16, id->b, STORE_ID_BYTES);
	fz_hdr_wrap(prefix, key);
	/* Slot plaintext (docs/format.md): seq 1, mode 0100600, name "t". */
	fz_put64(plain + 0, 1);
	fz_put32(plain + 28, 0100600);
	plain[98] = 1; /* name_len */
	plain[144] = 't';
	fz_slot_seal(prefix + STORE_SLOT_OFF, key, id, plain);
}

void fz_obj_path(const char *store, const struct store_id *id, char *out)
{
	char hex[2 * STORE_ID_BYTES + 1];

	store_id_hex(id, hex);
	snprintf(out, PATH_MAX, "%s/objects/%s", store, hex);
}
