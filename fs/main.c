/*
 * main: options, config, key and store, catch-up, mount, loop, teardown.
 * Everything that can fail is checked before the mount, so a bad config,
 * key or store gives one line on stderr and mounts nothing.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "audit.h"
#include "crypto.h"
#include "fusedev.h"
#include "log.h"
#include "node.h"
#include "ops.h"
#include "reaper.h"
#include "unlock.h"

#define RECFS_VERSION "0.1.0"
/* Worker threads. Requests queue in the kernel in order; more workers than
 * a few per core only make the scheduler share the cores among them, and
 * some requests then wait far longer than others (64 workers, 2 cores:
 * write max ~250 ms; 16: ~60 ms, with the same frames/s). Enough stay for
 * the ones blocked in fsync or on the disk. */
#define MAX_THREADS 16

struct recfs_opts {
	char *config;
	char *mountpoint;
	int reap_only;
};

static const struct fuse_opt recfs_optspec[] = {
	{ "--config=%s", offsetof(struct recfs_opts, config), 0 },
	{ "--config %s", offsetof(struct recfs_opts, config), 0 },
	{ "--reap-only", offsetof(struct recfs_opts, reap_only), 1 },
	FUSE_OPT_END
};

/* The mount point is taken here, not by fuse_parse_cmdline, so that a
 * missing or busy one gets recfs's own one-line error. */
static int opt_proc(void *data, const char *arg, int key, struct fuse_args *out)
{
	struct recfs_opts *ro = data;

	(void)out;
	if (key == FUSE_OPT_KEY_NONOPT && !ro->mountpoint) {
		ro->mountpoint = strdup(arg);
		return 0;
	}
	return 1;
}

static void usage(const char *prog)
{
	printf("usage: %s --config FILE MOUNTPOINT [options]\n"
	       "       %s --config FILE --reap-only\n\n"
	       "Mounts the recfs store named in FILE (see recfs.conf(5)) at MOUNTPOINT.\n"
	       "Files outside keep/ vanish `short` after their recording ended;\n"
	       "files moved into keep/ after `keep`.\n\n"
	       "recfs options:\n"
	       "    --config FILE          configuration file (required)\n"
	       "    --reap-only            destroy what has expired, then exit; no mount\n"
	       "    -f                     stay in the foreground, log to stderr\n"
	       "    -d                     debug: foreground, FUSE request trace\n"
	       "    -h, --help             this help\n"
	       "    -V, --version          version\n\n"
	       "allow_other and default_permissions are always on.\n\n",
	       prog, prog);
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

/* 1 when path is already the root of a mount (or a dead FUSE mount). */
static int mountpoint_busy(const char *path, char *why, size_t len)
{
	char parent[PATH_MAX + 4];
	struct stat a, b;

	if (stat(path, &a) < 0) {
		if (errno == ENOENT)
			snprintf(why, len, "mount point %s does not exist", path);
		else if (errno == ENOTCONN)
			snprintf(why, len, "mount point %s: a dead FUSE mount is there (fusermount3 -u %s)",
			         path, path);
		else
			snprintf(why, len, "mount point %s: %s", path, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(a.st_mode)) {
		snprintf(why, len, "mount point %s is not a folder", path);
		return 1;
	}
	snprintf(parent, sizeof(parent), "%s/..", path);
	if (stat(parent, &b) == 0 && (a.st_dev != b.st_dev || a.st_ino == b.st_ino)) {
		snprintf(why, len, "mount point %s is busy: something is already mounted there", path);
		return 1;
	}
	return 0;
}

/* allow_other, default_permissions, subtype and fsname = the store's
 * path (as in an fstab line, so mount -a sees it is mounted), with the
 * characters fuse_opt treats specially escaped. */
static int mount_options(struct fuse_args *args, const char *store)
{
	char opt[3 * PATH_MAX + 128], *o;

	o = opt + sprintf(opt, "-oallow_other,default_permissions,subtype=recfs,fsname=");
	for (const char *c = store; *c; c++) {
		if (*c == ',' || *c == '\\')
			*o++ = '\\';
		*o++ = *c;
	}
	*o = '\0';
	/* First, so an fsname the caller gives (mount.recfs passes the fstab
	 * source) wins. */
	return fuse_opt_insert_arg(args, 1, opt);
}

/* A daemon event for the audit trail, with a count. */
static void trail(uint32_t event, uint64_t count)
{
	struct audit_rec *r = calloc(1, sizeof(*r));

	if (!r)
		return;
	r->event = event;
	r->pid = (int32_t)getpid();
	audit_comm(getpid(), r->comm);
	r->count = count;
	r->duration_ms = -1;
	audit_log(r);
	free(r);
}

static void no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 };

	/* Keys and plaintext are in this process's memory. */
	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0);
}

static int run_mounted(struct fuse_session *se, struct store *st,
                       struct fuse_cmdline_opts *co, enum log_level level)
{
	struct fuse_loop_config *lc = NULL;
	int rc = 1;

	if (fuse_set_signal_handlers(se) != 0)
		return 1;
	if (fuse_session_mount(se, co->mountpoint) != 0) {
		fprintf(stderr, "recfs: cannot mount at %s\n", co->mountpoint);
		goto out_signals;
	}
	if (fusedev_attach(se, co->mountpoint) < 0) {
		fprintf(stderr, "recfs: cannot take over the FUSE device\n");
		goto out_unmount;
	}
	if (fuse_daemonize(co->foreground) != 0)
		goto out_unmount;
	if (!co->foreground)
		log_setup(level, 1);
	log_info("mounted at %s", co->mountpoint);
	trail(AUDIT_MOUNT, 0);
	/* After fuse_daemonize: threads do not survive its fork. */
	if (reaper_start(ops_gone, NULL) < 0) {
		log_error("cannot start the reaper thread");
		goto out_unmount;
	}
	if (store_spares_start(st) < 0)
		log_warn("no spare objects: every create makes its own file");
	lc = fuse_loop_cfg_create();
	if (!lc)
		goto out_reaper;
	fuse_loop_cfg_set_max_threads(lc, MAX_THREADS);
	fuse_loop_cfg_set_clone_fd(lc, (unsigned)co->clone_fd);
	rc = co->singlethread ? fuse_session_loop(se) : fuse_session_loop_mt(se, lc);
	rc = rc < 0 ? 1 : 0;
	fuse_loop_cfg_destroy(lc);
out_reaper:
	reaper_stop();
out_unmount:
	fuse_session_unmount(se);
	log_info("unmounted");
	trail(AUDIT_UNMOUNT, 0);
out_signals:
	fuse_remove_signal_handlers(se);
	return rc;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts co = { 0 };
	struct recfs_opts ro = { 0 };
	struct recfs_config cfg;
	struct fuse_session *se = NULL;
	struct store *st = NULL;
	char err[PATH_MAX + 256];
	unsigned damaged = 0, reaped = 0;
	int rc = 1;

	if (fuse_opt_parse(&args, &ro, recfs_optspec, opt_proc) != 0 ||
	    fuse_parse_cmdline(&args, &co) != 0)
		goto out_args;
	if (co.mountpoint) {
		fprintf(stderr, "recfs: one mount point only (see recfs --help)\n");
		goto out_args;
	}
	if (co.show_help) {
		usage(argv[0]);
		rc = 0;
		goto out_args;
	}
	if (co.show_version) {
		printf("recfs %s (store format %d, libfuse %s)\n", RECFS_VERSION,
		       STORE_FORMAT_VERSION, fuse_pkgversion());
		rc = 0;
		goto out_args;
	}
	if (!ro.config) {
		fprintf(stderr, "recfs: --config FILE is required (see recfs --help)\n");
		goto out_args;
	}
	if (!ro.reap_only && !ro.mountpoint) {
		fprintf(stderr, "recfs: no mount point given (see recfs --help)\n");
		goto out_args;
	}
	cfg_defaults(&cfg);
	if (cfg_load(&cfg, ro.config, err, sizeof(err)) != 0) {
		fprintf(stderr, "recfs: %s\n", err);
		goto out_args;
	}
	log_setup(cfg.log_level, 0);
	no_core_dumps();
	if (crypto_init() < 0) {
		fprintf(stderr, "recfs: cannot initialise libsodium\n");
		goto out_args;
	}
	if (!ro.reap_only) {
		if (mountpoint_busy(ro.mountpoint, err, sizeof(err))) {
			fprintf(stderr, "recfs: %s\n", err);
			goto out_args;
		}
		co.mountpoint = realpath(ro.mountpoint, NULL);
		if (!co.mountpoint) {
			fprintf(stderr, "recfs: mount point %s: %s\n", ro.mountpoint, strerror(errno));
			goto out_args;
		}
	}
	/* Mount options are checked now: a typo must not cost a catch-up. */
	if (!ro.reap_only) {
		char abs[PATH_MAX];

		if (!realpath(ro.config, abs))
			snprintf(abs, sizeof(abs), "%s", ro.config);
		if (mount_options(&args, cfg.path) < 0 || !(se = ops_session_new(&args, abs))) {
			fprintf(stderr, "recfs: bad mount options (see recfs --help)\n");
			goto out_args;
		}
	}
	if (unlock_store(&cfg, 0, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "recfs: %s\n", err);
		goto out_args;
	}
	if (cfg.test_clock_offset_ns)
		log_warn("testing: the clock runs %lld s ahead of the system clock",
		         (long long)(cfg.test_clock_offset_ns / NSEC_PER_SEC));
	clock_start(store_mark_read(st), cfg.test_clock_offset_ns);
	if (unlock_audit(st, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "recfs: %s\n", err);
		goto out_store;
	}
	/* Catch-up: what expired while unmounted is gone before the first
	 * request is served. */
	if (node_load(st, &cfg, 0, &damaged, &reaped) < 0) {
		fprintf(stderr, "recfs: cannot load store %s\n", cfg.path);
		goto out_audit;
	}
	if (damaged) {
		log_warn("%u damaged object(s) left out", damaged);
		trail(AUDIT_DAMAGED, damaged);
	}
	log_info("caught up: %u expired while unmounted", reaped);
	trail(AUDIT_CATCHUP, reaped);
	if (ro.reap_only) {
		rc = 0;
		goto out_nodes;
	}
	rc = run_mounted(se, st, &co, cfg.log_level);
out_nodes:
	node_unload();
out_audit:
	audit_close();
out_store:
	store_close(st);
out_args:
	if (se)
		fuse_session_destroy(se);
	free(co.mountpoint);
	free(ro.mountpoint);
	free(ro.config);
	fuse_opt_free_args(&args);
	return rc;
}
