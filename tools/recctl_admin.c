/*
 * recctl_admin: the subcommands that look at or change a whole store:
 * status, ls, verify, rekey, keep and unkeep. They use the daemon's own
 * store and node code; status, ls and verify open the store read-only, so
 * they work while it is mounted.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "audio.h"
#include "audit.h"
#include "clock.h"
#include "crypto.h"
#include "log.h"
#include "node.h"
#include "recctl.h"
#include "retention.h"
#include "unlock.h"

#define ERRLEN (PATH_MAX + 256)

/* ---- mounts ---- */

/* Undo /proc/mounts' octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* The recfs mount holding path (longest prefix): its mount point and the
 * config it was mounted with (the root's user.recfs.config). 0 or -ENOENT. */
int recctl_find_mount(const char *path, char *mnt, char *conf)
{
	char real[PATH_MAX], line[3 * PATH_MAX], dev[PATH_MAX], dir[PATH_MAX], type[64];
	size_t best = 0;
	FILE *f;

	if (!realpath(path, real))
		return -errno;
	f = fopen("/proc/mounts", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		size_t len;

		if (sscanf(line, "%4095s %4095s %63s", dev, dir, type) != 3 ||
		    strcmp(type, "fuse.recfs") != 0)
			continue;
		unescape(dev);
		unescape(dir);
		len = strlen(dir);
		if (strncmp(real, dir, len) == 0 && (real[len] == '/' || real[len] == '\0' ||
		                                     len == 1) && len > best) {
			best = len;
			strcpy(mnt, dir);
		}
	}
	fclose(f);
	if (!best)
		return -ENOENT;
	ssize_t n = getxattr(mnt, "user.recfs.config", conf, PATH_MAX - 1);

	if (n < 0)
		return -errno;
	conf[n] = '\0';
	return 0;
}

/* Is the store mounted (or busy with another recctl)? */
static int store_busy(const struct recfs_config *cfg)
{
	char err[ERRLEN];
	struct store *st;
	int rc = unlock_store(cfg, 0, &st, err, sizeof(err));

	if (rc == 0)
		store_close(st);
	return rc == -EBUSY;
}

/* A read-only snapshot of the tree. */
static int snapshot(const struct recfs_config *cfg, struct store **st, unsigned *damaged)
{
	char err[ERRLEN];
	unsigned reaped;
	int rc;

	rc = unlock_store(cfg, STORE_READONLY, st, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "recctl: %s\n", err);
		return rc;
	}
	clock_start(store_mark_read(*st), cfg->test_clock_offset_ns);
	rc = node_load(*st, cfg, NODE_LOAD_READONLY, damaged, &reaped);
	if (rc < 0) {
		fprintf(stderr, "recctl: cannot read store %s: %s\n", cfg->path, strerror(-rc));
		store_close(*st);
	}
	return rc;
}

static void snapshot_end(struct store *st)
{
	node_unload();
	store_close(st);
}

/* "27m", "29d", "3h", "45s"; "due" when past, "-" for none. */
static void time_left(int64_t deadline, int64_t now, char *buf, size_t len)
{
	int64_t s = (deadline - now) / NSEC_PER_SEC;

	if (!deadline)
		snprintf(buf, len, "-");
	else if (deadline <= now)
		snprintf(buf, len, "due");
	else if (s < 120)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 2 * 3600)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else if (s < 2 * 86400)
		snprintf(buf, len, "%lldh", (long long)(s / 3600));
	else
		snprintf(buf, len, "%lldd", (long long)(s / 86400));
}

static const char *state_name(const struct node *n)
{
	static const char *const names[] = { "closed", "recording", "sealed" };

	if (!S_ISREG(n->m.mode))
		return "-";
	return n->m.state <= STATE_SEALED ? names[n->m.state] : "?";
}

/* ---- status ---- */

struct stats {
	uint64_t files[2], bytes[2], dirs, recording;
	const struct node *next, *oldest_kept;
};

static void count(struct node *n, void *ctx)
{
	struct stats *s = ctx;

	if (S_ISDIR(n->m.mode)) {
		s->dirs++;
	} else {
		s->files[n->m.klass == CLASS_KEEP]++;
		s->bytes[n->m.klass == CLASS_KEEP] += n->size;
		if (n->m.state == STATE_RECORDING)
			s->recording++;
		if (n->m.klass == CLASS_KEEP &&
		    (!s->oldest_kept || n->m.btime < s->oldest_kept->m.btime))
			s->oldest_kept = n;
	}
	if (n->m.deadline && (!s->next || n->m.deadline < s->next->m.deadline))
		s->next = n;
}

static int config_for(const char *arg, struct recfs_config *cfg, char *mnt)
{
	char conf[PATH_MAX], err[ERRLEN];

	if (recctl_find_mount(arg, mnt, conf) < 0) {
		fprintf(stderr, "recctl: %s is not on a mounted recfs\n", arg);
		return -ENOENT;
	}
	cfg_defaults(cfg);
	if (cfg_load(cfg, conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "recctl: %s\n", err);
		return -EINVAL;
	}
	return 0;
}

int recctl_status(const struct recfs_config *given, int argc, char **argv)
{
	struct recfs_config cfg;
	char mnt[PATH_MAX] = "", when[32], left[16], path[PATH_MAX];
	struct stats s = { 0 };
	struct store *st;
	unsigned damaged;
	int64_t now;

	if (argc > 0) {
		if (config_for(argv[0], &cfg, mnt) < 0)
			return 1;
	} else if (given) {
		cfg = *given;
	} else {
		fprintf(stderr, "recctl: status needs --config FILE or a mount point\n");
		return 2;
	}
	if (!mnt[0] && store_busy(&cfg))
		snprintf(mnt, sizeof(mnt), "(by another process)");
	if (snapshot(&cfg, &st, &damaged) < 0)
		return 1;
	now = clock_now();
	tree_walk(tree_root(), count, &s);
	printf("store        %s (format %d)\n", cfg.path, STORE_FORMAT_VERSION);
	printf("mounted      %s%s\n", mnt[0] ? "yes " : "no", mnt);
	printf("short        %llu files, %llu bytes\n", (unsigned long long)s.files[0],
	       (unsigned long long)s.bytes[0]);
	printf("keep         %llu files, %llu bytes\n", (unsigned long long)s.files[1],
	       (unsigned long long)s.bytes[1]);
	printf("folders      %llu\n", (unsigned long long)s.dirs);
	printf("recording    %llu\n", (unsigned long long)s.recording);
	if (s.next) {
		clock_iso8601(s.next->m.deadline, when, sizeof(when));
		time_left(s.next->m.deadline, now, left, sizeof(left));
		printf("next expiry  %s (in %s)\n", when, left);
	} else {
		printf("next expiry  -\n");
	}
	if (s.oldest_kept) {
		clock_iso8601(s.oldest_kept->m.btime, when, sizeof(when));
		node_path(s.oldest_kept, path, sizeof(path));
		time_left(s.oldest_kept->m.deadline, now, left, sizeof(left));
		printf("oldest kept  %s %s (expires in %s)\n", when, path, left);
	}
	printf("health       %u damaged object(s)%s\n", damaged,
	       damaged ? " - run recctl verify" : "");
	snapshot_end(st);
	return damaged ? 1 : 0;
}

/* ---- ls ---- */

struct entry {
	struct node *n;
};

static int by_deadline(const void *a, const void *b)
{
	const struct node *x = ((const struct entry *)a)->n, *y = ((const struct entry *)b)->n;
	int64_t dx = x->m.deadline ? x->m.deadline : INT64_MAX;
	int64_t dy = y->m.deadline ? y->m.deadline : INT64_MAX;

	return dx < dy ? -1 : dx > dy;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->n->m.name, ((const struct entry *)b)->n->m.name);
}

static struct node *resolve(const char *path)
{
	char buf[PATH_MAX], *save = NULL, *part;
	struct node *n = tree_root();

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, "/", &save); part && n; part = strtok_r(NULL, "/", &save))
		n = strcmp(part, ".") == 0 ? n : tree_lookup(n, part);
	return n;
}

static ssize_t obj_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	return store_obj_pread(ctx, buf, len, off);
}

/* "183.4s" for audio libsndfile reads, "-" otherwise. */
static void duration(struct store *st, const struct node *n, char *buf, size_t len)
{
	struct audio_info ai;
	struct store_obj *obj;

	snprintf(buf, len, "-");
	if (!S_ISREG(n->m.mode) || store_obj_open(st, &n->id, &obj) < 0)
		return;
	if (audio_probe(obj_read, obj, store_obj_size(obj), &ai) == 0)
		snprintf(buf, len, "%.1fs", ai.seconds);
	store_obj_close(obj);
}

static void print_entry(struct store *st, const struct node *n, int lng, int64_t now)
{
	char left[16], when[32], dur[32];

	if (!lng) {
		printf("%s%s\n", n->m.name, S_ISDIR(n->m.mode) ? "/" : "");
		return;
	}
	time_left(n->m.deadline, now, left, sizeof(left));
	clock_iso8601(n->m.mtime, when, sizeof(when));
	duration(st, n, dur, sizeof(dur));
	printf("%06o %5u %5u %12llu %s %-5s %5s %-9s %9s %s%s\n", n->m.mode, n->m.uid, n->m.gid,
	       (unsigned long long)n->size, when, n->m.klass == CLASS_KEEP ? "keep" : "short",
	       left, state_name(n), dur, n->m.name, S_ISDIR(n->m.mode) ? "/" : "");
}

int recctl_ls(const struct recfs_config *cfg, int argc, char **argv)
{
	const char *path = "/";
	int lng = 0, bytime = 0, rc = 0;
	struct entry *v = NULL;
	struct store *st;
	struct node *dir;
	unsigned damaged;
	size_t k = 0;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-l"))
			lng = 1;
		else if (!strcmp(argv[i], "-t"))
			bytime = 1;
		else if (!strcmp(argv[i], "-lt") || !strcmp(argv[i], "-tl"))
			lng = bytime = 1;
		else
			path = argv[i];
	}
	if (snapshot(cfg, &st, &damaged) < 0)
		return 1;
	dir = resolve(path);
	if (!dir) {
		fprintf(stderr, "recctl: %s: no such file or folder in the store\n", path);
		rc = 1;
		goto out;
	}
	if (!S_ISDIR(dir->m.mode)) {
		print_entry(st, dir, lng, clock_now());
		goto out;
	}
	v = malloc((dir->nkids + 1) * sizeof(*v));
	if (!v) {
		rc = 1;
		goto out;
	}
	for (struct node *c = tree_next_child(dir, 0); c; c = tree_next_child(dir, c->cookie))
		v[k++].n = c;
	qsort(v, k, sizeof(*v), bytime ? by_deadline : by_name);
	if (lng)
		printf("%-6s %5s %5s %12s %-20s %-5s %5s %-9s %9s %s\n", "mode", "uid", "gid",
		       "size", "modified", "class", "left", "state", "duration", "name");
	for (size_t i = 0; i < k; i++)
		print_entry(st, v[i].n, lng, clock_now());
out:
	free(v);
	snapshot_end(st);
	return rc;
}

/* ---- verify ---- */

struct tool_read {
	struct node *n;
	int64_t time;
};

struct verify_ctx {
	struct store *st;
	unsigned bad;
	uint64_t objects, bytes;
	int log;                /* [audit] log_tools */
	char mnt[PATH_MAX];     /* where the store is mounted, or "" */
	/* Reads of a stopped store, logged after the walk (log_later). */
	struct tool_read *later;
	size_t nlater, later_cap;
};

/* A tool read is accountable too ([audit] log_tools). While the store is
 * mounted only the daemon may append to the trail, so the file is opened
 * through the mount and the daemon logs who opened it; otherwise recctl
 * logs the read itself (time: when it was read). */
static void log_tool_read(struct verify_ctx *vc, struct node *n, int64_t time)
{
	char path[PATH_MAX], full[2 * PATH_MAX];
	struct audit_rec *r;

	if (!vc->log || !S_ISREG(n->m.mode) || node_path(n, path, sizeof(path)) < 0)
		return;
	if (vc->mnt[0]) {
		int fd;

		/* Non-blocking: should the name be a FIFO by now, the open
		 * must not wait for a writer. */
		snprintf(full, sizeof(full), "%s%s", vc->mnt, path);
		fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd >= 0)
			close(fd);
		return;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return;
	r->uid = getuid();
	r->gid = getgid();
	r->pid = getpid();
	audit_comm(getpid(), r->comm);
	r->id = n->id;
	r->size = n->size;
	r->duration_ms = -1;
	r->time = time;
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->event = AUDIT_OPEN_READ;
	audit_log(r);
	r->event = AUDIT_CLOSE_READ;
	r->bytes = n->size; /* verify read all of it */
	audit_log(r);
	free(r);
}

/* The mount point of the store cfg names (recfs mounts with the store's
 * path as the source), or "" when not mounted. */
static void mount_of(const struct recfs_config *cfg, char *mnt)
{
	char line[3 * PATH_MAX], dev[PATH_MAX], dir[PATH_MAX], type[64], real[PATH_MAX];
	FILE *f = fopen("/proc/mounts", "re");

	mnt[0] = '\0';
	if (!f || !realpath(cfg->path, real)) {
		if (f)
			fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%4095s %4095s %63s", dev, dir, type) != 3 ||
		    strcmp(type, "fuse.recfs") != 0)
			continue;
		unescape(dev);
		unescape(dir);
		if (strcmp(dev, real) == 0)
			strcpy(mnt, dir);
	}
	fclose(f);
}

/* Rereads of a failed range. While the store is mounted the daemon
 * rewrites the last block of a recording in place, so between taking the
 * object's length and reading its last block that block may have grown:
 * the length is read again and the same range retried. Real damage stays. */
#define VERIFY_RETRIES 3

static int verify_open(struct verify_ctx *vc, struct node *n, struct store_obj **obj,
                       char *why, size_t len)
{
	int rc = store_obj_open(vc->st, &n->id, obj);

	if (rc < 0)
		snprintf(why, len, "header: %s", strerror(-rc));
	return rc;
}

/* Read every block of n's object; for a sealed file compare size and
 * SHA-256 with what sealing recorded. -ENOENT when the object went away
 * through the mount meanwhile. */
static int verify_node(struct verify_ctx *vc, struct node *n, char *why, size_t len)
{
	struct crypto_sha256 sha;
	uint8_t digest[CRYPTO_HASH_BYTES];
	struct store_obj *obj;
	uint64_t off = 0, size;
	uint8_t *buf;
	int rc, retries = VERIFY_RETRIES;

	rc = verify_open(vc, n, &obj, why, len);
	if (rc < 0)
		return rc;
	buf = malloc(1 << 16);
	size = store_obj_size(obj);
	crypto_sha256_init(&sha);
	while (buf && off < size) {
		ssize_t got;

		log_quiet(retries > 0); /* only the last try names a bad block */
		got = store_obj_pread(obj, buf, 1 << 16, off);
		if (got <= 0 && retries-- > 0) {
			store_obj_close(obj);
			rc = verify_open(vc, n, &obj, why, len);
			if (rc < 0) {
				obj = NULL;
				break;
			}
			size = store_obj_size(obj);
			continue;
		}
		if (got <= 0) {
			snprintf(why, len, "content at byte %llu does not authenticate",
			         (unsigned long long)off);
			rc = -EIO;
			break;
		}
		crypto_sha256_update(&sha, buf, (size_t)got);
		off += (uint64_t)got;
		retries = VERIFY_RETRIES; /* per range: a live file may move again */
	}
	log_quiet(0);
	crypto_sha256_final(&sha, digest);
	if (rc == 0 && n->m.state == STATE_SEALED) {
		if (size != n->m.sealed_size) {
			snprintf(why, len, "sealed at %llu bytes, now %llu",
			         (unsigned long long)n->m.sealed_size, (unsigned long long)size);
			rc = -EBADMSG;
		} else if (memcmp(digest, n->m.sha256, sizeof(digest)) != 0) {
			snprintf(why, len, "SHA-256 differs from the one recorded at sealing");
			rc = -EBADMSG;
		}
	}
	vc->bytes += off;
	free(buf);
	store_obj_close(obj);
	return rc;
}

static void defer_tool_read(struct verify_ctx *vc, struct node *n)
{
	if (vc->nlater == vc->later_cap) {
		size_t cap = vc->later_cap ? 2 * vc->later_cap : 256;
		struct tool_read *v = realloc(vc->later, cap * sizeof(*v));

		if (!v) {
			fprintf(stderr, "recctl: out of memory: a read of %s is not in the audit "
			        "trail\n", n->m.name);
			return;
		}
		vc->later = v;
		vc->later_cap = cap;
	}
	vc->later[vc->nlater++] = (struct tool_read){ n, clock_now() };
}

/* The reads of a stopped store, appended by recctl itself. The store's
 * lock is held for that moment only, not for the whole walk: a daemon
 * that cannot mount is retried by systemd only a few times. If one
 * mounted meanwhile, the files are opened through it and it logs them. */
static void log_later(const struct recfs_config *cfg, struct verify_ctx *vc)
{
	struct store *locked = NULL;
	char err[ERRLEN] = "";
	int direct;

	direct = unlock_store(cfg, 0, &locked, err, sizeof(err)) == 0 &&
	         unlock_audit(locked, cfg, err, sizeof(err)) == 0;
	if (!direct)
		mount_of(cfg, vc->mnt);
	if (direct || vc->mnt[0]) {
		for (size_t i = 0; i < vc->nlater; i++)
			log_tool_read(vc, vc->later[i].n, vc->later[i].time);
	} else if (vc->nlater) {
		fprintf(stderr, "recctl: %zu read(s) are not in the audit trail: %s\n", vc->nlater,
		        err);
	}
	if (direct)
		audit_close();
	store_close(locked);
	free(vc->later);
}

static void verify_one(struct node *n, void *ctx)
{
	struct verify_ctx *vc = ctx;
	char path[PATH_MAX], why[128], hex[2 * STORE_ID_BYTES + 1];
	int rc;

	vc->objects++;
	if (S_ISDIR(n->m.mode))
		return;
	rc = verify_node(vc, n, why, sizeof(why));
	if (rc == 0 && vc->log && !vc->mnt[0])
		defer_tool_read(vc, n);
	else if (rc == 0)
		log_tool_read(vc, n, 0);
	if (rc == 0 || (rc == -ENOENT && vc->mnt[0]))
		return; /* or deleted through the mount since the tree was read */
	node_path(n, path, sizeof(path));
	store_id_hex(&n->id, hex);
	printf("damaged  %s (object %s): %s\n", path, hex, why);
	vc->bad++;
}

int recctl_verify(const struct recfs_config *cfg, int argc, char **argv)
{
	struct verify_ctx vc = { 0 };
	unsigned damaged;

	(void)argv;
	if (argc > 0) {
		fprintf(stderr, "recctl: verify takes no arguments\n");
		return 2;
	}
	if (snapshot(cfg, &vc.st, &damaged) < 0)
		return 1;
	vc.log = cfg->audit.enabled && cfg->audit.log_tools;
	mount_of(cfg, vc.mnt);
	tree_walk(tree_root(), verify_one, &vc);
	if (vc.log && !vc.mnt[0])
		log_later(cfg, &vc);
	if (damaged)
		printf("damaged  %u object(s) whose header or metadata does not authenticate "
		       "(ids in the messages above)\n", damaged);
	printf("checked  %llu objects, %llu bytes of content: %u damaged\n",
	       (unsigned long long)vc.objects, (unsigned long long)vc.bytes, vc.bad + damaged);
	snapshot_end(vc.st);
	return vc.bad + damaged ? 1 : 0;
}

/* ---- rekey ---- */

static int read_key(const char *path, uint8_t *key)
{
	ssize_t n;
	uint8_t extra;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	n = read(fd, key, CRYPTO_KEY_BYTES);
	if (n == CRYPTO_KEY_BYTES && read(fd, &extra, 1) > 0)
		n = -1;
	close(fd);
	return n == CRYPTO_KEY_BYTES ? 0 : -EINVAL;
}

/* Open for rotation: with the old key, or (a rerun after the superblock
 * already switched) with the new one. */
static int rekey_open(const struct recfs_config *cfg, const char *newkey_file,
                      struct store **st, int *switched)
{
	struct recfs_config alt = *cfg;
	char err[ERRLEN];
	int rc;

	*switched = 0;
	rc = unlock_store(cfg, STORE_REKEY, st, err, sizeof(err));
	if (rc == -EKEYREJECTED) {
		snprintf(alt.key_file, sizeof(alt.key_file), "%s", newkey_file);
		alt.passphrase_file[0] = '\0';
		if (unlock_store(&alt, STORE_REKEY, st, err, sizeof(err)) == 0) {
			*switched = 1;
			return 0;
		}
		snprintf(err, sizeof(err), "neither the configured key nor %s opens %s",
		         newkey_file, cfg->path);
	}
	if (rc < 0)
		fprintf(stderr, "recctl: %s\n", err);
	return rc;
}

int recctl_rekey(const struct recfs_config *cfg, int argc, char **argv)
{
	const char *newkey_file = NULL;
	struct store_id *ids = NULL;
	uint8_t *newkey = NULL;
	struct store *st = NULL;
	size_t n = 0, bad = 0;
	int rc = 1, switched;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--new-key") && i + 1 < argc)
			newkey_file = argv[++i];
		else if (!strncmp(argv[i], "--new-key=", 10))
			newkey_file = argv[i] + 10;
	}
	if (!newkey_file) {
		fprintf(stderr, "recctl: rekey needs --new-key FILE (32 bytes, e.g. head -c 32 /dev/urandom)\n");
		return 2;
	}
	if (cfg->passphrase_file[0]) {
		fprintf(stderr, "recctl: rekey works on key-file stores; this store uses a passphrase\n");
		return 2;
	}
	newkey = crypto_key_alloc();
	if (!newkey || read_key(newkey_file, newkey) < 0) {
		fprintf(stderr, "recctl: new key file %s must hold exactly 32 bytes\n", newkey_file);
		goto out;
	}
	switch (rekey_open(cfg, newkey_file, &st, &switched)) {
	case 0:
		clock_start(store_mark_read(st), cfg->test_clock_offset_ns);
		break;
	case -EBUSY:
		rc = 3;
		goto out;
	default:
		goto out;
	}
	if (!switched) {
		if (store_rekey_begin(st, newkey) < 0 || store_list(st, &ids, &n) < 0) {
			fprintf(stderr, "recctl: cannot start the rotation: %s\n", strerror(errno));
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			char hex[2 * STORE_ID_BYTES + 1];

			if (store_rekey_object(st, &ids[i], newkey) == 0)
				continue;
			store_id_hex(&ids[i], hex);
			fprintf(stderr, "recctl: object %s is damaged; left as it is\n", hex);
			bad++;
		}
	}
	if (store_rekey_finish(st, newkey) < 0) {
		fprintf(stderr, "recctl: cannot finish the rotation; run the same command again\n");
		goto out;
	}
	{
		struct audit_rec *r = calloc(1, sizeof(*r));
		char err[ERRLEN];

		if (r && unlock_audit(st, cfg, err, sizeof(err)) == 0) {
			r->event = AUDIT_REKEY;
			r->uid = getuid();
			r->gid = getgid();
			r->pid = getpid();
			audit_comm(getpid(), r->comm);
			r->count = n - bad;
			r->duration_ms = -1;
			audit_log(r);
			audit_close();
		}
		free(r);
	}
	printf("re-wrapped %zu object keys (%zu damaged, left out)\n"
	       "now set key_file = %s in the config, and keep the old key until you are sure\n",
	       n - bad, bad, newkey_file);
	rc = 0;
out:
	free(ids);
	store_close(st);
	crypto_key_free(newkey);
	return rc;
}

/* ---- keep / unkeep: the move an operator would make ---- */

int recctl_keep(const struct recfs_config *given, int argc, char **argv, int keep)
{
	char mnt[PATH_MAX], conf[PATH_MAX], dst[2 * PATH_MAX], err[ERRLEN];
	struct recfs_config cfg;
	int rc = 0;

	if (argc == 0) {
		fprintf(stderr, "recctl: %s needs at least one PATH on a mounted recfs\n",
		        keep ? "keep" : "unkeep");
		return 2;
	}
	for (int i = 0; i < argc; i++) {
		const char *base = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];

		if (recctl_find_mount(argv[i], mnt, conf) < 0) {
			fprintf(stderr, "recctl: %s is not on a mounted recfs\n", argv[i]);
			rc = 1;
			continue;
		}
		cfg_defaults(&cfg);
		if (given)
			cfg = *given;
		else if (cfg_load(&cfg, conf, err, sizeof(err)) != 0)
			snprintf(cfg.keep_dir, sizeof(cfg.keep_dir), "keep");
		if (keep)
			snprintf(dst, sizeof(dst), "%s/%s/%s", mnt, cfg.keep_dir, base);
		else
			snprintf(dst, sizeof(dst), "%s/%s", mnt, base);
		if (renameat2(AT_FDCWD, argv[i], AT_FDCWD, dst, RENAME_NOREPLACE) < 0) {
			fprintf(stderr, "recctl: %s -> %s: %s\n", argv[i], dst, strerror(errno));
			rc = 1;
			continue;
		}
		printf("%s -> %s\n", argv[i], dst);
	}
	return rc;
}
