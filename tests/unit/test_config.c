/*
 * test_config: cfg_parse_duration and cfg_load. Every error path must name
 * the right line; good files must land in the right fields. Config files
 * are written to a mkdtemp directory under /tmp, removed at the end.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"

#define SEC 1000000000LL
/* Three lines that make a valid file: errors below start on line 4. */
#define STORE "[store]\npath = /srv/rec\nkey_file = /etc/recfs.key\n"

static char dir[] = "/tmp/recfs-test-config-XXXXXX";
static char conf[PATH_MAX]; /* dir/t.conf, rewritten by each case */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) == EOF || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

static int load_text(const char *text, struct recfs_config *cfg, char *err, size_t errlen)
{
	write_file(conf, text);
	cfg_defaults(cfg);
	return cfg_load(cfg, conf, err, errlen);
}

/* The load must fail with one line "CONF:LINE: msg..." ("CONF: msg..." for
 * line 0), and leave cfg as it was. */
static void expect_error(const char *text, int line, const char *msg)
{
	struct recfs_config cfg, dflt;
	char err[1024] = "", want[PATH_MAX + 256], what[512];
	int rc = load_text(text, &cfg, err, sizeof(err));

	if (line)
		snprintf(want, sizeof(want), "%s:%d: %s", conf, line, msg);
	else
		snprintf(want, sizeof(want), "%s: %s", conf, msg);
	cfg_defaults(&dflt);
	snprintf(what, sizeof(what), "line %d: %s", line, msg);
	CHECK(rc == -1 && !strncmp(err, want, strlen(want)) && !strchr(err, '\n') &&
	      !memcmp(&cfg, &dflt, sizeof(cfg)), what);
	if (rc != -1 || strncmp(err, want, strlen(want)))
		printf("      got  '%s'\n      want '%s'\n", err, want);
}

static void test_durations(void)
{
	static const struct {
		const char *s;
		int64_t ns;
	} good[] = {
		{ "45s", 45 * SEC }, { "30m", 1800 * SEC }, { "2h", 7200 * SEC },
		{ "30d", 30 * 86400 * SEC }, { "10", 10 * SEC }, { "0", 0 },
		{ "007s", 7 * SEC }, { "106751d", 106751LL * 86400 * SEC },
	};
	static const char *const bad[] = {
		"", "-5", "-5s", "+5", " 5", "5 ", "5 s", "5x", "5S", "5M", "s", "5s5",
		"1.5h", "0x10", "5ms", "99999999999999999999", "9223372036854775807s",
		"106752d",
	};
	char what[128];
	size_t i;
	int64_t ns;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ns = -1;
		snprintf(what, sizeof(what), "duration '%s'", good[i].s);
		CHECK(cfg_parse_duration(good[i].s, &ns) == 0 && ns == good[i].ns, what);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ns = 42;
		snprintf(what, sizeof(what), "duration '%s' rejected, output untouched",
			 bad[i]);
		CHECK(cfg_parse_duration(bad[i], &ns) == -EINVAL && ns == 42, what);
	}
}

static void test_defaults(void)
{
	struct recfs_config cfg;

	memset(&cfg, 0x5a, sizeof(cfg));
	cfg_defaults(&cfg);
	CHECK(cfg.short_ns == 1800 * SEC && cfg.keep_ns == 30 * 86400 * SEC,
	      "default short 30m, keep 30d");
	CHECK(!strcmp(cfg.keep_dir, "keep"), "default keep_dir");
	CHECK(cfg.owner == -1 && cfg.group == -1 && cfg.file_mode == -1 &&
	      cfg.dir_mode == -1, "default access all -1");
	CHECK(cfg.log_level == LOG_LVL_INFO && cfg.test_clock_offset_ns == 0,
	      "default log info, clock offset 0");
	CHECK(!cfg.path[0] && !cfg.key_file[0] && !cfg.passphrase_file[0],
	      "default paths empty");
	CHECK(cfg.audit.enabled == 1 && cfg.audit.keep_ns == 180 * 86400 * SEC &&
	      cfg.audit.log_tools == 1, "default audit on, keep 180d, log_tools on");
}

static void test_errors(void)
{
	char missing[PATH_MAX + 16], err[1024], want[PATH_MAX + 64];
	struct recfs_config cfg;

	/* Sections and keys. */
	expect_error(STORE "[bogus]\nx = 1\n", 4, "unknown section [bogus]");
	expect_error(STORE "[retension]\n", 4, "unknown section [retension]");
	expect_error(STORE "[retention]\nshrot = 30m\n", 5,
		     "unknown key 'shrot' in section [retention]");
	expect_error("path = /srv/rec\n" STORE, 1, "key 'path' is outside any [section]");
	expect_error(STORE "[retention]\nshort = 1m\nshort = 2m\n", 6,
		     "duplicate key 'short' in section [retention] (first set on line 5)");
	expect_error(STORE "[store]\npath = /other\n", 5,
		     "duplicate key 'path' in section [store] (first set on line 2)");
	expect_error("[store]\npath =\nkey_file = /k\n", 2, "empty value for path");

	/* Lines inih itself rejects, and the first error winning. */
	expect_error(STORE "[retention]\nshort 30m\n", 5,
		     "expected '[section]' or 'key = value'");
	expect_error("[store\n" STORE, 1, "expected '[section]' or 'key = value'");
	expect_error("[store]\ngarbage\npath = /s\nkey_file = /k\n[log]\nlevel = loud\n",
		     2, "expected '[section]' or 'key = value'");
	expect_error(STORE "[log]\nlevel = loud\nnonsense\n", 5, "bad level 'loud'");
	expect_error(STORE "[retention]\nshort = 0\nkeep = 0\n", 5,
		     "short must be longer than 0");
	{
		char text[512] = STORE "[retention]\nkeep_dir = ";

		memset(text + strlen(text), 'k', 300);
		strcat(text, "\nshort = 1m\n");
		expect_error(text, 5, "line longer than 197 bytes");
	}

	/* Durations. */
	expect_error(STORE "[retention]\nshort = 30x\n", 5,
		     "bad duration '30x' for short (use e.g. 45s, 30m, 2h, 30d)");
	expect_error(STORE "[retention]\nkeep = 0d\n", 5, "keep must be longer than 0");
	expect_error(STORE "[retention]\nkeep = 3654d\n", 5,
		     "keep '3654d' is longer than 10 years");
	expect_error(STORE "[testing]\nclock_offset = -5s\n", 5,
		     "bad duration '-5s' for clock_offset");

	/* keep_dir. */
	expect_error(STORE "[retention]\nkeep_dir = a/b\n", 5,
		     "keep_dir 'a/b' must be a single name, without '/'");
	expect_error(STORE "[retention]\nkeep_dir = ..\n", 5, "keep_dir may not be '..'");
	expect_error(STORE "[retention]\nkeep_dir = .\n", 5, "keep_dir may not be '.'");
	expect_error(STORE "[retention]\nkeep_dir =\n", 5, "empty value for keep_dir");

	/* Access. */
	expect_error(STORE "[access]\nfile_mode = 0999\n", 5,
		     "bad mode '0999' for file_mode (octal, e.g. 0640)");
	expect_error(STORE "[access]\ndir_mode = 010000\n", 5,
		     "mode '010000' for dir_mode is above 07777");
	expect_error(STORE "[access]\nfile_mode = -1\n", 5, "bad mode '-1' for file_mode");
	expect_error(STORE "[access]\nowner = nobodyxyz\n", 5,
		     "unknown user 'nobodyxyz' for owner");
	expect_error(STORE "[access]\ngroup = nogroupxyz\n", 5,
		     "unknown group 'nogroupxyz' for group");
	expect_error(STORE "[access]\nowner = 4294967295\n", 5,
		     "bad uid '4294967295' for owner");
	expect_error(STORE "[access]\nowner = 12ab\n", 5, "bad uid '12ab' for owner");
	expect_error(STORE "[access]\ngroup = 99999999999\n", 5,
		     "bad gid '99999999999' for group");

	/* Log. */
	expect_error(STORE "[log]\nlevel = verbose\n", 5,
		     "bad level 'verbose' (use error, warning, info or debug)");

	/* Audit. */
	expect_error(STORE "[audit]\nenabled = yes\n", 5,
		     "bad enabled 'yes' (use on or off)");
	expect_error(STORE "[audit]\nenabled = On\n", 5, "bad enabled 'On' (use on or off)");
	expect_error(STORE "[audit]\nlog_tools = 1\n", 5,
		     "bad log_tools '1' (use on or off)");
	expect_error(STORE "[audit]\nenabled =\n", 5, "empty value for enabled");
	expect_error(STORE "[audit]\nkeep = 0\n", 5, "keep must be longer than 0");
	expect_error(STORE "[audit]\nkeep = 0d\n", 5, "keep must be longer than 0");
	expect_error(STORE "[audit]\nkeep = 6 months\n", 5,
		     "bad duration '6 months' for keep (use e.g. 45s, 30m, 2h, 30d)");
	expect_error(STORE "[audit]\nkeep = 3654d\n", 5,
		     "keep '3654d' is longer than 10 years");
	expect_error(STORE "[audit]\nkeep = 90d\nenabled = off\nkeep = 30d\n", 7,
		     "duplicate key 'keep' in section [audit] (first set on line 5)");
	expect_error(STORE "[audit]\naudit_keep = 90d\n", 5,
		     "unknown key 'audit_keep' in section [audit]");
	expect_error(STORE "[audit]\nshort = 1m\n", 5,
		     "unknown key 'short' in section [audit]");
	expect_error(STORE "[audits]\n", 4, "unknown section [audits]");

	/* Checks of the whole file. */
	expect_error("[store]\nkey_file = /k\n", 0, "[store] path is required");
	expect_error(STORE "passphrase_file = /p\n", 0,
		     "set exactly one of key_file and passphrase_file");
	expect_error("[store]\npath = /s\n", 0,
		     "set exactly one of key_file and passphrase_file");

	/* Files that cannot be read. */
	snprintf(missing, sizeof(missing), "%s/missing.conf", dir);
	cfg_defaults(&cfg);
	snprintf(want, sizeof(want), "%s: cannot read: %s", missing, strerror(ENOENT));
	CHECK(cfg_load(&cfg, missing, err, sizeof(err)) == -1 && !strcmp(err, want),
	      "missing file: cannot read");
	snprintf(want, sizeof(want), "%s: cannot read: %s", dir, strerror(EISDIR));
	CHECK(cfg_load(&cfg, dir, err, sizeof(err)) == -1 && !strcmp(err, want),
	      "directory: cannot read");
	CHECK(cfg_load(&cfg, missing, NULL, 0) == -1, "NULL err buffer is allowed");
}

static void test_full(void)
{
	struct recfs_config cfg;
	char err[1024] = "";
	int rc = load_text("; a full file\n"
			   "[store]\n"
			   "path = /srv/rec   ; inline comment\n"
			   "passphrase_file = /etc/recfs/pass\n"
			   "\n"
			   "[retention]\n"
			   "short = 45s\n"
			   "keep = 2h\n"
			   "keep_dir = saved\n"
			   "[access]\n"
			   "owner = 1234\n"
			   "group = root\n"
			   "file_mode = 0640\n"
			   "dir_mode = 07777\n"
			   "[log]\n"
			   "level = debug\n"
			   "[testing]\n"
			   "clock_offset = 0\n"
			   "[audit]\n"
			   "enabled = off\n"
			   "keep = 90d\n"
			   "log_tools = off\n",
			   &cfg, err, sizeof(err));

	CHECK(rc == 0, "full file loads");
	if (rc)
		printf("      %s\n", err);
	CHECK(!strcmp(cfg.path, "/srv/rec"), "path, inline comment stripped");
	CHECK(!cfg.key_file[0] && !strcmp(cfg.passphrase_file, "/etc/recfs/pass"),
	      "passphrase_file");
	CHECK(cfg.short_ns == 45 * SEC && cfg.keep_ns == 7200 * SEC, "short, keep");
	CHECK(!strcmp(cfg.keep_dir, "saved"), "keep_dir");
	CHECK(cfg.owner == 1234, "numeric owner");
	CHECK(cfg.group == 0, "group by name");
	CHECK(cfg.file_mode == 0640 && cfg.dir_mode == 07777, "modes");
	CHECK(cfg.log_level == LOG_LVL_DEBUG, "log level");
	CHECK(cfg.test_clock_offset_ns == 0, "clock offset 0 allowed");
	CHECK(cfg.audit.enabled == 0 && cfg.audit.keep_ns == 90 * 86400 * SEC &&
	      cfg.audit.log_tools == 0, "audit off, keep 90d, log_tools off");
	CHECK(cfg.keep_ns == 7200 * SEC, "[audit] keep leaves [retention] keep alone");

	rc = load_text(STORE "[audit]\nkeep = 1s\nenabled = on\n[retention]\nkeep = 1d\n",
		       &cfg, err, sizeof(err));
	CHECK(rc == 0 && cfg.audit.keep_ns == SEC && cfg.audit.enabled == 1 &&
	      cfg.audit.log_tools == 1 && cfg.keep_ns == 86400 * SEC,
	      "[audit] keep and [retention] keep are separate keys; log_tools default");
	if (rc)
		printf("      %s\n", err);

	rc = load_text("\xEF\xBB\xBF[store]\r\n"
		       "  path = /srv/rec\r\n"
		       "\tkey_file = /k\r\n"
		       "[access]\r\n"
		       "owner = root\r\n"
		       "[retention]\r\n"
		       "keep = 3653d\r\n"
		       "[testing]\r\n"
		       "clock_offset = 1h", /* no final newline */
		       &cfg, err, sizeof(err));
	CHECK(rc == 0 && !strcmp(cfg.path, "/srv/rec") && !strcmp(cfg.key_file, "/k") &&
	      cfg.owner == 0 && cfg.keep_ns == 3653LL * 86400 * SEC &&
	      cfg.test_clock_offset_ns == 3600 * SEC,
	      "BOM, CRLF, indented keys, no final newline, owner by name, 10 years");
	if (rc)
		printf("      %s\n", err);
}

/* Loads file (as named, relative to the cwd) and checks where path and
 * key_file landed. */
static void check_resolved(const char *file, const char *want_dir, const char *what)
{
	struct recfs_config cfg;
	char err[1024] = "", path[PATH_MAX + 16], key[PATH_MAX + 16];
	int rc;

	cfg_defaults(&cfg);
	rc = cfg_load(&cfg, file, err, sizeof(err));
	snprintf(path, sizeof(path), "%s/data", want_dir);
	snprintf(key, sizeof(key), "%s/../keys/k", want_dir);
	CHECK(rc == 0 && !strcmp(cfg.path, path) && !strcmp(cfg.key_file, key) &&
	      cfg.path[0] == '/', what);
	if (rc || strcmp(cfg.path, path))
		printf("      rc %d err '%s' path '%s' want '%s'\n", rc, err, cfg.path, path);
}

static void test_relative(void)
{
	char sub[PATH_MAX + 16], file[PATH_MAX + 32], old[PATH_MAX], here[PATH_MAX];

	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(file, sizeof(file), "%s/r.conf", sub);
	if (mkdir(sub, 0700) || !getcwd(old, sizeof(old))) {
		perror(sub);
		exit(2);
	}
	write_file(file, "[store]\npath = data\nkey_file = ../keys/k\n");
	check_resolved(file, sub, "relative paths, absolute config name");

	/* Relative config names: the cwd supplies the rest. */
	if (chdir(dir) || !getcwd(here, sizeof(here)))
		exit(2);
	snprintf(sub, sizeof(sub), "%s/sub", here);
	check_resolved("sub/r.conf", sub, "relative paths, config 'sub/r.conf'");
	if (chdir("sub"))
		exit(2);
	check_resolved("r.conf", sub, "relative paths, config 'r.conf'");
	if (chdir(old))
		exit(2);
	unlink(file);
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	rmdir(sub);
}

/* The shipped example must load and say what the defaults say. Tests run
 * from the repository root; elsewhere there is nothing to check. */
static void test_example(void)
{
	struct recfs_config cfg, dflt;
	char err[1024] = "";
	int rc;

	if (access("etc/recfs.conf", R_OK) != 0)
		return;
	cfg_defaults(&cfg);
	cfg_defaults(&dflt);
	rc = cfg_load(&cfg, "etc/recfs.conf", err, sizeof(err));
	CHECK(rc == 0, "etc/recfs.conf loads");
	if (rc)
		printf("      %s\n", err);
	/* key_file is relative: it lands beside the config (etc/ here). */
	CHECK(!strcmp(cfg.path, "/var/lib/recfs") && strlen(cfg.key_file) > 14 &&
	      !strcmp(cfg.key_file + strlen(cfg.key_file) - 14, "/etc/recfs.key") &&
	      !cfg.passphrase_file[0], "etc/recfs.conf store");
	CHECK(cfg.short_ns == dflt.short_ns && cfg.keep_ns == dflt.keep_ns &&
	      !strcmp(cfg.keep_dir, dflt.keep_dir) && cfg.owner == -1 &&
	      cfg.group == -1 && cfg.file_mode == -1 && cfg.dir_mode == -1 &&
	      cfg.log_level == dflt.log_level && cfg.test_clock_offset_ns == 0,
	      "etc/recfs.conf matches the defaults");
	CHECK(cfg.audit.enabled == dflt.audit.enabled &&
	      cfg.audit.keep_ns == dflt.audit.keep_ns &&
	      cfg.audit.log_tools == dflt.audit.log_tools,
	      "etc/recfs.conf [audit] matches the defaults");
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(conf, sizeof(conf), "%s/t.conf", dir);

	test_durations();
	test_defaults();
	test_errors();
	test_full();
	test_relative();
	test_example();

	unlink(conf);
	rmdir(dir);
	return check_done();
}
