/*
 * recctl: what shell tools cannot do, with the daemon's own code.
 * Subcommands are in recctl_*.c; this file parses the command line,
 * loads the config and dispatches; init and reap live here.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "audit.h"
#include "config.h"
#include "crypto.h"
#include "log.h"
#include "node.h"
#include "recctl.h"
#include "unlock.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: recctl COMMAND [--config FILE] [ARGS]\n\n"
	           "commands:\n"
	           "  init                 create the store named in FILE; generate its key file\n"
	           "                       when [store] key_file does not exist yet (mode 0600).\n"
	           "                       Refuses to touch an existing store or key.\n"
	           "  reap                 destroy every recording and folder whose time is up,\n"
	           "                       without mounting. Refuses (exit 3) while mounted: the\n"
	           "                       daemon expires things itself.\n"
	           "  status [MOUNTPOINT]  mounted or not, files and bytes per class, next expiry,\n"
	           "                       oldest kept recording, damaged objects\n"
	           "  ls [-l] [-t] [PATH]  list a folder of the store with class, time left, state\n"
	           "                       (-t: soonest expiry first)\n"
	           "  verify               check every object's metadata and every block; exit 1\n"
	           "                       when anything is damaged\n"
	           "  rekey --new-key FILE re-wrap every object key under a new master key (store\n"
	           "                       unmounted); rerun the same command after an interruption\n"
	           "  keep PATH...         move recordings on a mounted recfs into the keep folder\n"
	           "  unkeep PATH...       move them out of it, into the mount's root\n"
	           "  audit [--since T] [--until T] [--path GLOB] [--uid N] [--event NAME,...]\n"
	           "        [--json]       the audit trail in time order (T: 2026-11-28 or\n"
	           "                       2026-11-28T14:00:00Z, UTC; --until DAY includes DAY)\n"
	           "  audit verify         check the audit trail's chain; exit 1 at a break\n\n"
	           "status, ls, verify and audit work while the store is mounted (read-only).\n"
	           "Exit status: 0 fine, 1 failed or damage found, 2 bad usage, 3 store in use.\n");
}

static int cmd_init(const struct recfs_config *cfg)
{
	char err[PATH_MAX + 256];

	if (unlock_init(cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "recctl: %s\n", err);
		return 1;
	}
	printf("created store %s\n", cfg->path);
	return 0;
}

static int cmd_reap(const struct recfs_config *cfg)
{
	char err[PATH_MAX + 256];
	unsigned damaged, reaped;
	struct store *st;
	int rc;

	rc = unlock_store(cfg, 0, &st, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "recctl: %s\n", err);
		return rc == -EBUSY ? 3 : 1;
	}
	clock_start(store_mark_read(st), cfg->test_clock_offset_ns);
	/* Destruction receipts go to the trail, as when the daemon reaps. */
	rc = unlock_audit(st, cfg, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "recctl: %s\n", err);
		store_close(st);
		return 1;
	}
	rc = node_load(st, cfg, 0, &damaged, &reaped);
	if (rc == 0)
		node_unload();
	audit_close();
	store_close(st);
	if (rc < 0) {
		fprintf(stderr, "recctl: cannot load store %s: %s\n", cfg->path, strerror(-rc));
		return 1;
	}
	printf("reaped %u\n", reaped);
	if (damaged)
		printf("%u damaged object(s) left out (see the messages above)\n", damaged);
	return 0;
}

static int need_config(const char *cmd)
{
	fprintf(stderr, "recctl: %s needs --config FILE\n", cmd);
	return 2;
}

static int no_args(const char *cmd, int argc, char **argv)
{
	if (argc == 0)
		return 0;
	fprintf(stderr, "recctl: %s: unexpected argument '%s'\n", cmd, argv[0]);
	return 2;
}

static int dispatch(const char *cmd, const struct recfs_config *cfg, int argc, char **argv)
{
	if (!strcmp(cmd, "status"))
		return recctl_status(cfg, argc, argv);
	if (!strcmp(cmd, "keep") || !strcmp(cmd, "unkeep"))
		return recctl_keep(cfg, argc, argv, !strcmp(cmd, "keep"));
	if (!strcmp(cmd, "init") || !strcmp(cmd, "reap") || !strcmp(cmd, "ls") ||
	    !strcmp(cmd, "verify") || !strcmp(cmd, "rekey") || !strcmp(cmd, "audit")) {
		if (!cfg)
			return need_config(cmd);
		if (!strcmp(cmd, "audit"))
			return recctl_audit(cfg, argc, argv);
		if (!strcmp(cmd, "init"))
			return no_args(cmd, argc, argv) ? 2 : cmd_init(cfg);
		if (!strcmp(cmd, "reap"))
			return no_args(cmd, argc, argv) ? 2 : cmd_reap(cfg);
		if (!strcmp(cmd, "ls"))
			return recctl_ls(cfg, argc, argv);
		if (!strcmp(cmd, "verify"))
			return recctl_verify(cfg, argc, argv);
		return recctl_rekey(cfg, argc, argv);
	}
	fprintf(stderr, "recctl: unknown command '%s' (see recctl --help)\n", cmd);
	return 2;
}

int main(int argc, char *argv[])
{
	struct recfs_config cfg;
	const char *conf = NULL, *cmd;
	char err[PATH_MAX + 256];
	char **sub;
	int nsub = 0;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	/* --config anywhere; everything else belongs to the subcommand. */
	sub = calloc((size_t)argc, sizeof(*sub));
	if (!sub)
		return 1;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			conf = argv[++i];
		else if (!strncmp(argv[i], "--config=", 9))
			conf = argv[i] + 9;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			free(sub);
			return 0;
		} else
			sub[nsub++] = argv[i];
	}
	if (conf) {
		cfg_defaults(&cfg);
		if (cfg_load(&cfg, conf, err, sizeof(err)) != 0) {
			fprintf(stderr, "recctl: %s\n", err);
			free(sub);
			return 1;
		}
		log_setup(cfg.log_level, 0);
	}
	if (crypto_init() < 0) {
		fprintf(stderr, "recctl: cannot initialise libsodium\n");
		free(sub);
		return 1;
	}
	int rc = dispatch(cmd, conf ? &cfg : NULL, nsub, sub);

	free(sub);
	return rc;
}
