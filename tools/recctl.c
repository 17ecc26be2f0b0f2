/*
 * recctl: what shell tools cannot do, with the daemon's own code.
 *   recctl init --config FILE     create the store (and key file)
 *   recctl reap --config FILE     destroy what has expired, offline
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "crypto.h"
#include "log.h"
#include "node.h"
#include "unlock.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: recctl COMMAND --config FILE\n\n"
	           "commands:\n"
	           "  init    create the store named in FILE; generate its key file when\n"
	           "          [store] key_file does not exist yet (mode 0600). Refuses to\n"
	           "          touch an existing store or key.\n"
	           "  reap    destroy every recording and folder whose time is up, without\n"
	           "          mounting (a safety net for a systemd timer). Refuses while the\n"
	           "          store is mounted: the daemon expires things itself.\n");
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

	if (unlock_store(cfg, 0, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "recctl: %s\n", err);
		return 1;
	}
	clock_start(store_mark_read(st), cfg->test_clock_offset_ns);
	rc = node_load(st, cfg, 0, &damaged, &reaped);
	if (rc == 0)
		node_unload();
	store_close(st);
	if (rc < 0) {
		fprintf(stderr, "recctl: cannot load store %s: %s\n", cfg->path, strerror(-rc));
		return 1;
	}
	printf("reaped %u\n", reaped);
	if (damaged)
		printf("%u damaged object(s) left out (see the log)\n", damaged);
	return 0;
}

int main(int argc, char *argv[])
{
	struct recfs_config cfg;
	const char *conf = NULL, *cmd;
	char err[PATH_MAX + 256];

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			conf = argv[++i];
		else if (!strncmp(argv[i], "--config=", 9))
			conf = argv[i] + 9;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "recctl: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (!conf) {
		fprintf(stderr, "recctl: --config FILE is required\n");
		return 2;
	}
	cfg_defaults(&cfg);
	if (cfg_load(&cfg, conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "recctl: %s\n", err);
		return 1;
	}
	log_setup(cfg.log_level, 0);
	if (crypto_init() < 0) {
		fprintf(stderr, "recctl: cannot initialise libsodium\n");
		return 1;
	}
	if (!strcmp(cmd, "init"))
		return cmd_init(&cfg);
	if (!strcmp(cmd, "reap"))
		return cmd_reap(&cfg);
	fprintf(stderr, "recctl: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
