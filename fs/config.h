/*
 * config: reads recfs.conf (INI, parsed by libinih) into struct recfs_config.
 * The only user of inih. Every key is validated; errors are "FILE:LINE: msg".
 */
#ifndef RECFS_CONFIG_H
#define RECFS_CONFIG_H

#include <stdint.h>
#include <sys/types.h>
#include <limits.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARNING, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* [audit]: the access trail (audit.h, docs/audit.md). */
struct audit_config {
	int enabled;          /* [audit] enabled = on|off, default on */
	int64_t keep_ns;      /* [audit] keep, default 180d: the trail's own retention */
	int log_tools;        /* [audit] log_tools = on|off, default on: recctl's reads are logged */
};

struct recfs_config {
	char path[PATH_MAX];            /* [store] path: store directory */
	char key_file[PATH_MAX];        /* [store] key_file, or "" */
	char passphrase_file[PATH_MAX]; /* [store] passphrase_file, or "" */
	int64_t short_ns;               /* [retention] short, default 30m */
	int64_t keep_ns;                /* [retention] keep, default 30d */
	char keep_dir[256];             /* [retention] keep_dir, default "keep" */
	int64_t owner;                  /* [access] owner: uid, -1 = caller's */
	int64_t group;                  /* [access] group: gid, -1 = caller's */
	int file_mode;                  /* [access] file_mode, -1 = caller's */
	int dir_mode;                   /* [access] dir_mode, -1 = caller's */
	enum log_level log_level;       /* [log] level, default info */
	int64_t test_clock_offset_ns;   /* [testing] clock_offset, default 0 */
	struct audit_config audit;      /* [audit] */
};

/* Fill cfg with the defaults. */
void cfg_defaults(struct recfs_config *cfg);

/* Load FILE over the defaults. Relative paths in the file are taken
 * relative to the directory holding FILE. 0 on success; on error -1 and
 * err (errlen bytes) holds one line "FILE:LINE: message" (or "FILE: message"
 * when the file cannot be read). Also checks the whole: exactly one of
 * key_file / passphrase_file, path set. */
int cfg_load(struct recfs_config *cfg, const char *file, char *err, size_t errlen);

/* Parse a duration such as "45s", "30m", "2h", "30d" (a bare number is
 * seconds) into nanoseconds. 0 or -EINVAL. */
int cfg_parse_duration(const char *s, int64_t *ns);

#endif
