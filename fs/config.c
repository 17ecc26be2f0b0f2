/*
 * config: reads recfs.conf into struct recfs_config. The only file that
 * includes <ini.h>. inih splits the file into sections and key = value
 * pairs; the rest is ours: which keys exist, what their values mean, and
 * an error report naming the first bad line.
 *
 * inih reads through our own line reader (read_line) so that we know the
 * line number inside the handler, can flag a section header we do not
 * know even when no key follows it, and never let inih treat an indented
 * line as a continuation of the previous value.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <ini.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NS_PER_SEC 1000000000LL
/* Ten years with their leap days: the longest retention that makes sense. */
#define MAX_DURATION_SECS (3653LL * 86400)
#define MAX_KEYS 16
#define MSG_BYTES 512
/* Cap on the buffer getpwnam_r / getgrnam_r may grow to. */
#define MAX_NSS_BYTES (1 << 20)

struct load {
	struct recfs_config cfg; /* built here, copied out only on success */
	const char *file;
	FILE *fp;
	char *line; /* getline's buffer */
	size_t line_cap;
	int lineno;   /* last line read: the one inih is handling now */
	int err_line; /* line of the first error we found, 0 = none */
	char msg[MSG_BYTES];
	int read_errno;
	int seen[MAX_KEYS]; /* line each key was set on, 0 = not yet */
};

/* Records the first error only: later ones tend to be its echoes.
 * Returns -EINVAL so that setters can "return fail(...)". */
static int __attribute__((format(printf, 2, 3)))
fail(struct load *ld, const char *fmt, ...)
{
	va_list ap;

	if (ld->err_line)
		return -EINVAL;
	ld->err_line = ld->lineno;
	va_start(ap, fmt);
	vsnprintf(ld->msg, sizeof(ld->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Digits only: no sign, no blanks, no base prefix. Returns the end of the
 * digits, or NULL if there are none or the number exceeds max. */
static const char *parse_digits(const char *s, int64_t max, int64_t *n)
{
	int64_t v = 0;

	if (*s < '0' || *s > '9')
		return NULL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (max - (*s - '0')) / 10)
			return NULL;
		v = v * 10 + (*s - '0');
	}
	*n = v;
	return s;
}

int cfg_parse_duration(const char *s, int64_t *ns)
{
	int64_t n, unit;
	const char *p = parse_digits(s, INT64_MAX, &n);

	if (!p)
		return -EINVAL;
	switch (*p) {
	case '\0': unit = 1; break;
	case 's': unit = 1; p++; break;
	case 'm': unit = 60; p++; break;
	case 'h': unit = 3600; p++; break;
	case 'd': unit = 86400; p++; break;
	default: return -EINVAL;
	}
	if (*p || n > INT64_MAX / (unit * NS_PER_SEC))
		return -EINVAL;
	*ns = n * unit * NS_PER_SEC;
	return 0;
}

/* A relative value is taken relative to the directory holding file, made
 * absolute with the cwd: the daemon may chdir("/") before it opens it. */
static int resolve_path(char *out, const char *file, const char *value)
{
	char cwd[PATH_MAX] = "";
	const char *slash = strrchr(file, '/');
	const char *sep = "";
	int n;

	if (value[0] == '/') {
		n = snprintf(out, PATH_MAX, "%s", value);
		return n < PATH_MAX ? 0 : -ENAMETOOLONG;
	}
	if (file[0] != '/') {
		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		if (strcmp(cwd, "/") != 0)
			sep = "/";
	}
	if (slash)
		n = snprintf(out, PATH_MAX, "%s%s%.*s/%s", cwd, sep,
			     (int)(slash - file), file, value);
	else
		n = snprintf(out, PATH_MAX, "%s%s%s", cwd, sep, value);
	return n < PATH_MAX ? 0 : -ENAMETOOLONG;
}

/* getpwnam_r and getgrnam_r fill a caller's buffer: grow it until the
 * entry fits. 0, -ENOENT for no such name, or another -errno. */
static int lookup_user(const char *name, int64_t *uid)
{
	struct passwd pw, *found = NULL;
	char *buf = NULL, *bigger;
	size_t size = 1024;
	int e;

	for (;;) {
		if (!(bigger = realloc(buf, size))) {
			e = ENOMEM;
			break;
		}
		buf = bigger;
		e = getpwnam_r(name, &pw, buf, size, &found);
		if (e != ERANGE || size >= MAX_NSS_BYTES)
			break;
		size *= 2;
	}
	if (found)
		*uid = pw.pw_uid;
	free(buf);
	if (found)
		return 0;
	return e == 0 || e == ENOENT || e == ESRCH ? -ENOENT : -e;
}

static int lookup_group(const char *name, int64_t *gid)
{
	struct group gr, *found = NULL;
	char *buf = NULL, *bigger;
	size_t size = 1024;
	int e;

	for (;;) {
		if (!(bigger = realloc(buf, size))) {
			e = ENOMEM;
			break;
		}
		buf = bigger;
		e = getgrnam_r(name, &gr, buf, size, &found);
		if (e != ERANGE || size >= MAX_NSS_BYTES)
			break;
		size *= 2;
	}
	if (found)
		*gid = gr.gr_gid;
	free(buf);
	if (found)
		return 0;
	return e == 0 || e == ENOENT || e == ESRCH ? -ENOENT : -e;
}

/* Setters: turn one value into its field at dst, or fail(). */

static int set_path(struct load *ld, const char *key, const char *value, void *dst)
{
	int rc = resolve_path(dst, ld->file, value);

	if (rc == -ENAMETOOLONG)
		return fail(ld, "%s '%s' is too long once resolved", key, value);
	if (rc)
		return fail(ld, "cannot resolve %s '%s': %s", key, value, strerror(-rc));
	return 0;
}

static int set_duration(struct load *ld, const char *key, const char *value,
			int64_t *dst, int64_t min_ns)
{
	int64_t ns;

	if (cfg_parse_duration(value, &ns))
		return fail(ld, "bad duration '%s' for %s (use e.g. 45s, 30m, 2h, 30d)",
			    value, key);
	if (ns < min_ns)
		return fail(ld, "%s must be longer than 0", key);
	if (ns > MAX_DURATION_SECS * NS_PER_SEC)
		return fail(ld, "%s '%s' is longer than 10 years", key, value);
	*dst = ns;
	return 0;
}

static int set_period(struct load *ld, const char *key, const char *value, void *dst)
{
	return set_duration(ld, key, value, dst, 1);
}

static int set_offset(struct load *ld, const char *key, const char *value, void *dst)
{
	return set_duration(ld, key, value, dst, 0);
}

/* keep_dir names an entry of the store's root: it must stay one name. */
static int set_keep_dir(struct load *ld, const char *key, const char *value, void *dst)
{
	size_t cap = sizeof(ld->cfg.keep_dir);

	if (!*value || strchr(value, '/'))
		return fail(ld, "%s '%s' must be a single name, without '/'", key, value);
	if (!strcmp(value, ".") || !strcmp(value, ".."))
		return fail(ld, "%s may not be '%s'", key, value);
	if (strlen(value) >= cap)
		return fail(ld, "%s is longer than %zu bytes", key, cap - 1);
	memcpy(dst, value, strlen(value) + 1);
	return 0;
}

/* uid_t and gid_t are 32 bits and (uid_t)-1 means "no change": not an id. */
static int set_owner(struct load *ld, const char *key, const char *value, void *dst)
{
	const char *end;
	int rc;

	if (*value >= '0' && *value <= '9') {
		end = parse_digits(value, (int64_t)(uid_t)-1 - 1, dst);
		return end && !*end ? 0 : fail(ld, "bad uid '%s' for %s", value, key);
	}
	rc = lookup_user(value, dst);
	if (rc == -ENOENT)
		return fail(ld, "unknown user '%s' for %s", value, key);
	if (rc)
		return fail(ld, "cannot look up user '%s' for %s: %s", value, key,
			    strerror(-rc));
	return 0;
}

static int set_group(struct load *ld, const char *key, const char *value, void *dst)
{
	const char *end;
	int rc;

	if (*value >= '0' && *value <= '9') {
		end = parse_digits(value, (int64_t)(gid_t)-1 - 1, dst);
		return end && !*end ? 0 : fail(ld, "bad gid '%s' for %s", value, key);
	}
	rc = lookup_group(value, dst);
	if (rc == -ENOENT)
		return fail(ld, "unknown group '%s' for %s", value, key);
	if (rc)
		return fail(ld, "cannot look up group '%s' for %s: %s", value, key,
			    strerror(-rc));
	return 0;
}

static int set_mode(struct load *ld, const char *key, const char *value, void *dst)
{
	int mode = 0;
	const char *p;

	for (p = value; *p; p++) {
		if (*p < '0' || *p > '7')
			return fail(ld, "bad mode '%s' for %s (octal, e.g. 0640)", value, key);
		mode = mode * 8 + (*p - '0');
		if (mode > 07777)
			return fail(ld, "mode '%s' for %s is above 07777", value, key);
	}
	*(int *)dst = mode;
	return 0;
}

static int set_level(struct load *ld, const char *key, const char *value, void *dst)
{
	/* Indexed by enum log_level. */
	static const char *const names[] = { "error", "warning", "info", "debug" };
	size_t i;

	for (i = 0; i < ARRAY_LEN(names); i++) {
		if (!strcmp(value, names[i])) {
			*(enum log_level *)dst = (enum log_level)i;
			return 0;
		}
	}
	return fail(ld, "bad %s '%s' (use error, warning, info or debug)", key, value);
}

/* A switch: "on" or "off", nothing else, so a typo cannot mean either. */
static int set_switch(struct load *ld, const char *key, const char *value, void *dst)
{
	if (!strcmp(value, "on"))
		*(int *)dst = 1;
	else if (!strcmp(value, "off"))
		*(int *)dst = 0;
	else
		return fail(ld, "bad %s '%s' (use on or off)", key, value);
	return 0;
}

typedef int (*setter)(struct load *ld, const char *key, const char *value, void *dst);

static const struct key {
	const char *section;
	const char *name;
	setter set;
	size_t offset; /* of the field in struct recfs_config */
} keys[] = {
	{ "store", "path", set_path, offsetof(struct recfs_config, path) },
	{ "store", "key_file", set_path, offsetof(struct recfs_config, key_file) },
	{ "store", "passphrase_file", set_path,
	  offsetof(struct recfs_config, passphrase_file) },
	{ "retention", "short", set_period, offsetof(struct recfs_config, short_ns) },
	{ "retention", "keep", set_period, offsetof(struct recfs_config, keep_ns) },
	{ "retention", "keep_dir", set_keep_dir, offsetof(struct recfs_config, keep_dir) },
	{ "access", "owner", set_owner, offsetof(struct recfs_config, owner) },
	{ "access", "group", set_group, offsetof(struct recfs_config, group) },
	{ "access", "file_mode", set_mode, offsetof(struct recfs_config, file_mode) },
	{ "access", "dir_mode", set_mode, offsetof(struct recfs_config, dir_mode) },
	{ "log", "level", set_level, offsetof(struct recfs_config, log_level) },
	{ "testing", "clock_offset", set_offset,
	  offsetof(struct recfs_config, test_clock_offset_ns) },
	{ "audit", "enabled", set_switch, offsetof(struct recfs_config, audit.enabled) },
	{ "audit", "keep", set_period, offsetof(struct recfs_config, audit.keep_ns) },
	{ "audit", "log_tools", set_switch, offsetof(struct recfs_config, audit.log_tools) },
};
_Static_assert(ARRAY_LEN(keys) <= MAX_KEYS, "raise MAX_KEYS");

static int section_known(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(keys); i++)
		if (strlen(keys[i].section) == len && !memcmp(keys[i].section, name, len))
			return 1;
	return 0;
}

static int set_pair(struct load *ld, const char *section, const char *name,
		    const char *value)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(keys); i++)
		if (!strcmp(keys[i].section, section) && !strcmp(keys[i].name, name))
			break;
	if (i == ARRAY_LEN(keys)) {
		if (!*section)
			return fail(ld, "key '%s' is outside any [section]", name);
		if (!section_known(section, strlen(section)))
			return fail(ld, "unknown section [%s]", section);
		return fail(ld, "unknown key '%s' in section [%s]", name, section);
	}
	if (ld->seen[i])
		return fail(ld, "duplicate key '%s' in section [%s] (first set on line %d)",
			    name, section, ld->seen[i]);
	ld->seen[i] = ld->lineno;
	if (!*value)
		return fail(ld, "empty value for %s", name);
	return keys[i].set(ld, name, value, (char *)&ld->cfg + keys[i].offset);
}

/* inih's handler: nonzero means the pair was fine. */
static int on_pair(void *user, const char *section, const char *name, const char *value)
{
	return set_pair(user, section, name, value) == 0;
}

/* inih's line source, in place of fgets. Every line reaches inih whole,
 * ending in '\n' and never filling its buffer, so inih's line count stays
 * ours. Leading blanks are dropped: to inih an indented line would
 * continue the previous value, to an admin it is just indented. A line
 * inih cannot take (too long, NUL byte) goes to it as a blank line. */
static char *read_line(char *buf, int size, void *user)
{
	struct load *ld = user;
	ssize_t n = getline(&ld->line, &ld->line_cap, ld->fp);
	char *s = ld->line;
	size_t len;
	char *end;

	if (n < 0) {
		if (ferror(ld->fp))
			ld->read_errno = errno ? errno : EIO;
		return NULL;
	}
	ld->lineno++;
	if (ld->lineno == 1 && !strncmp(s, "\xEF\xBB\xBF", 3))
		s += 3; /* UTF-8 byte order mark */
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\f' || *s == '\v')
		s++;
	len = strlen(s);
	if (len != (size_t)n - (size_t)(s - ld->line)) {
		fail(ld, "NUL byte in line");
		len = 0;
	} else if (len && s[len - 1] == '\n') {
		len--;
	}
	/* len plus '\n' plus NUL must leave the last byte of buf unused. */
	if (len + 3 > (size_t)size) {
		fail(ld, "line longer than %d bytes", size - 3);
		len = 0;
	}
	if (*s == '[' && len && (end = memchr(s, ']', len)) &&
	    !section_known(s + 1, (size_t)(end - s - 1)))
		fail(ld, "unknown section [%.*s]", (int)(end - s - 1), s + 1);
	memcpy(buf, s, len);
	buf[len] = '\n';
	buf[len + 1] = '\0';
	return buf;
}

static void __attribute__((format(printf, 3, 4)))
report(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void cfg_defaults(struct recfs_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->short_ns = 30 * 60 * NS_PER_SEC;
	cfg->keep_ns = 30 * 86400 * NS_PER_SEC;
	strcpy(cfg->keep_dir, "keep");
	cfg->owner = -1;
	cfg->group = -1;
	cfg->file_mode = -1;
	cfg->dir_mode = -1;
	cfg->log_level = LOG_LVL_INFO;
	cfg->test_clock_offset_ns = 0;
	cfg->audit.enabled = 1;
	cfg->audit.keep_ns = 180 * 86400 * NS_PER_SEC;
	cfg->audit.log_tools = 1;
}

/* The checks no single line can make. 0 or -EINVAL with err set. */
static int check_whole(const struct recfs_config *cfg, const char *file,
		       char *err, size_t errlen)
{
	if (!cfg->path[0]) {
		report(err, errlen, "%s: [store] path is required", file);
		return -EINVAL;
	}
	if (!cfg->key_file[0] == !cfg->passphrase_file[0]) {
		report(err, errlen, "%s: set exactly one of key_file and passphrase_file",
		       file);
		return -EINVAL;
	}
	return 0;
}

int cfg_load(struct recfs_config *cfg, const char *file, char *err, size_t errlen)
{
	/* Large (three PATH_MAX paths) but cfg_load runs once, at startup. */
	struct load ld = { .file = file };
	int rc = -1;
	int line;

	ld.cfg = *cfg;
	ld.fp = fopen(file, "re");
	if (!ld.fp) {
		report(err, errlen, "%s: cannot read: %s", file, strerror(errno));
		return -1;
	}
	line = ini_parse_stream(read_line, &ld, on_pair, &ld);
	/* inih reports the first bad line, ours or a syntax error only it saw;
	 * ld.err_line is the first line we had a message for. */
	if (ld.read_errno)
		report(err, errlen, "%s: cannot read: %s", file, strerror(ld.read_errno));
	else if (ld.err_line && (line <= 0 || ld.err_line <= line))
		report(err, errlen, "%s:%d: %s", file, ld.err_line, ld.msg);
	else if (line > 0)
		report(err, errlen, "%s:%d: expected '[section]' or 'key = value'",
		       file, line);
	else if (line < 0)
		report(err, errlen, "%s: cannot parse (inih error %d)", file, line);
	else if (check_whole(&ld.cfg, file, err, errlen) == 0)
		rc = 0;
	if (rc == 0)
		*cfg = ld.cfg;
	free(ld.line);
	fclose(ld.fp);
	return rc;
}
