/*
 * recctl audit: the access trail (docs/audit.md), read with the daemon's
 * own reader. The store is opened read-only, so this works while it is
 * mounted; the records come out in the order they were logged, which is
 * time order.
 *
 *   recctl audit [--since T] [--until T] [--path GLOB] [--uid N]
 *                [--event NAME[,NAME...]] [--json]
 *   recctl audit verify
 *
 * Text output is one line per record; --json is one JSON object per line.
 * Paths are personal data (they may hold a caller's number): the output
 * is for the person who asked for it, never for a log.
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "clock.h"
#include "config.h"
#include "crypto.h"
#include "recctl.h"
#include "retention.h"
#include "store.h"
#include "unlock.h"

#define ERR_BYTES (PATH_MAX + 512)

struct filter {
	int64_t since, until; /* records with since <= time < until */
	const char *glob;     /* matched against path and path2, or NULL */
	int64_t uid;          /* -1: any */
	uint64_t events;      /* bit per enum audit_event; 0: any */
	int json;
	uint64_t shown;
};

_Static_assert(AUDIT_EVENT_MAX <= 64, "events fit a 64-bit mask");

/* ---- parsing the command line ---- */

/* n digits exactly. */
static int digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/* "2026-11-28" (midnight UTC; with end_of_day the next midnight),
 * "2026-11-28T14:00Z" or "2026-11-28T14:00:00Z", always UTC. 0 or -EINVAL. */
static int parse_time(const char *s, int end_of_day, int64_t *ns)
{
	struct tm tm = { 0 }, back;
	int y, mo, d, h = 0, mi = 0, sec = 0;
	size_t len = strlen(s);
	time_t t;

	if (len < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d))
		return -EINVAL;
	if (len == 10) {
		/* a whole day */
	} else if (s[10] == 'T' && !digits(s + 11, 2, &h) && s[13] == ':' &&
		   !digits(s + 14, 2, &mi) &&
		   ((len == 17 && s[16] == 'Z') ||
		    (len == 20 && s[16] == ':' && !digits(s + 17, 2, &sec) && s[19] == 'Z'))) {
		end_of_day = 0;
	} else {
		return -EINVAL;
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	/* timegm normalises 2026-02-30 into March (in tm, too): refuse a
	 * date that moved. */
	if (!gmtime_r(&t, &back) || back.tm_year != y - 1900 || back.tm_mon != mo - 1 ||
	    back.tm_mday != d || back.tm_hour != h || back.tm_min != mi || back.tm_sec != sec)
		return -EINVAL;
	if (end_of_day)
		t += 86400;
	*ns = (int64_t)t * NSEC_PER_SEC;
	return 0;
}

static int parse_events(const char *list, uint64_t *mask)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");
		uint32_t e;

		for (e = 1; e < AUDIT_EVENT_MAX; e++)
			if (strlen(audit_event_name(e)) == n && !strncmp(p, audit_event_name(e), n))
				break;
		if (n == 0 || e == AUDIT_EVENT_MAX)
			return -EINVAL;
		*mask |= 1ULL << e;
		p += n;
		if (*p == ',' && *++p == '\0')
			return -EINVAL;
	}
	return 0;
}

static void list_events(FILE *f)
{
	fprintf(f, "events:");
	for (uint32_t e = 1; e < AUDIT_EVENT_MAX; e++)
		fprintf(f, " %s", audit_event_name(e));
	fprintf(f, "\n");
}

/* --name VALUE or --name=VALUE at argv[*i]; NULL when argv[*i] is not it. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, int *missing)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n])
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

/* 0, or 2 (bad usage, message printed). */
static int parse_filter(struct filter *f, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *v;
		int missing = 0;
		char *end;

		if (!strcmp(argv[i], "--json")) {
			f->json = 1;
		} else if ((v = opt_value(argc, argv, &i, "--since", &missing))) {
			if (parse_time(v, 0, &f->since) < 0)
				goto bad_time;
		} else if ((v = opt_value(argc, argv, &i, "--until", &missing))) {
			if (parse_time(v, 1, &f->until) < 0)
				goto bad_time;
		} else if ((v = opt_value(argc, argv, &i, "--path", &missing))) {
			f->glob = v;
		} else if ((v = opt_value(argc, argv, &i, "--uid", &missing))) {
			errno = 0;
			f->uid = (int64_t)strtoull(v, &end, 10);
			if (*v < '0' || *v > '9' || *end || errno || f->uid > UINT32_MAX) {
				fprintf(stderr, "recctl: audit: bad uid '%s'\n", v);
				return 2;
			}
		} else if ((v = opt_value(argc, argv, &i, "--event", &missing))) {
			if (parse_events(v, &f->events) < 0) {
				fprintf(stderr, "recctl: audit: unknown event in '%s'\n", v);
				list_events(stderr);
				return 2;
			}
		} else if (missing) {
			fprintf(stderr, "recctl: audit: %s needs a value\n", argv[i]);
			return 2;
		} else {
			fprintf(stderr, "recctl: audit: unexpected argument '%s'\n", argv[i]);
			return 2;
		}
		continue;
bad_time:
		fprintf(stderr, "recctl: audit: bad time '%s' (use 2026-11-28 or "
				"2026-11-28T14:00:00Z, UTC)\n", v);
		return 2;
	}
	if (f->since >= f->until) {
		fprintf(stderr, "recctl: audit: --since is not before --until\n");
		return 2;
	}
	return 0;
}

/* ---- output ---- */

/* "2026-11-28T14:03:00.123Z" with frac digits (3 or 9) of the second. */
static void fmt_time(int64_t ns, int frac, char *buf, size_t len)
{
	int64_t sec = ns / NSEC_PER_SEC, sub = ns % NSEC_PER_SEC;
	time_t t;
	struct tm tm;
	size_t n;

	if (sub < 0) {
		sub += NSEC_PER_SEC;
		sec--;
	}
	t = (time_t)sec;
	gmtime_r(&t, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac == 3)
		snprintf(buf + n, len - n, ".%03dZ", (int)(sub / 1000000));
	else
		snprintf(buf + n, len - n, ".%09dZ", (int)sub);
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0. */
static int utf8_len(const unsigned char *p)
{
	int n, i;
	uint32_t c;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, c = p[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

/* Text: valid UTF-8 as it is (Danish names stay readable), everything
 * else escaped C-style (\\xff for a byte that is not UTF-8); quoted when
 * asked or needed. */
static void text_str(const char *s, int quote)
{
	const unsigned char *p;
	int n;

	for (p = (const unsigned char *)s; *p && !quote; p++)
		if (*p <= ' ' || *p == '"' || *p == '\\' || *p == 0x7f)
			quote = 1;
	if (!*s)
		quote = 1;
	if (quote)
		putchar('"');
	for (p = (const unsigned char *)s; *p; p += n) {
		n = utf8_len(p);
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p == '\t')
			fputs("\\t", stdout);
		else if (n == 0 || *p < ' ' || *p == 0x7f)
			printf("\\x%02x", *p);
		else
			fwrite(p, 1, (size_t)n, stdout);
		if (n == 0)
			n = 1;
	}
	if (quote)
		putchar('"');
}

/* A JSON string. Names are bytes, JSON is Unicode: a byte that is not
 * part of valid UTF-8 becomes U+FFFD (docs/audit.md). */
static void json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	while (*p) {
		int n = utf8_len(p);

		if (n == 0) {
			fputs("\\ufffd", stdout);
			p++;
		} else if (*p == '"' || *p == '\\') {
			printf("\\%c", *p++);
		} else if (*p == '\n') {
			fputs("\\n", stdout);
			p++;
		} else if (*p == '\t') {
			fputs("\\t", stdout);
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			printf("\\u%04x", *p++);
		} else {
			fwrite(p, 1, (size_t)n, stdout);
			p += n;
		}
	}
	putchar('"');
}

/* One output line, either format. */
struct line {
	int json;
};

static void put_key(const struct line *l, const char *key)
{
	if (l->json)
		printf(",\"%s\":", key);
	else
		printf(" %s=", key);
}

static void put_str(const struct line *l, const char *key, const char *val)
{
	put_key(l, key);
	if (l->json)
		json_str(val);
	else
		text_str(val, 0);
}

static void put_u64(const struct line *l, const char *key, uint64_t v)
{
	put_key(l, key);
	printf("%" PRIu64, v);
}

static void put_i64(const struct line *l, const char *key, int64_t v)
{
	put_key(l, key);
	printf("%" PRId64, v);
}

static void put_time(const struct line *l, const char *key, int64_t ns)
{
	char buf[48];

	fmt_time(ns, l->json ? 9 : 3, buf, sizeof(buf));
	put_key(l, key);
	printf(l->json ? "\"%s\"" : "%s", buf);
}

static void put_hex(const struct line *l, const char *key, const uint8_t *b, size_t n)
{
	put_key(l, key);
	if (l->json)
		putchar('"');
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	if (l->json)
		putchar('"');
}

static int is_zero(const uint8_t *b, size_t n)
{
	while (n--)
		if (*b++)
			return 0;
	return 1;
}

/* The fields an event is about are always shown; any other field only
 * when it holds something, so nothing a record says is hidden. */
static void put_details(const struct line *l, const struct audit_rec *r)
{
	uint32_t e = r->event;

	if (e == AUDIT_CLOSE_WRITE || e == AUDIT_SEAL || r->size)
		put_u64(l, "size", r->size);
	if (e == AUDIT_CLOSE_READ || r->bytes)
		put_u64(l, "bytes", r->bytes);
	if (e == AUDIT_CATCHUP || e == AUDIT_DROPPED || r->count)
		put_u64(l, "count", r->count);
	if (e == AUDIT_CHMOD || r->mode) {
		put_key(l, "mode");
		printf(l->json ? "%" PRIu32 : "%04" PRIo32, r->mode);
	}
	if (e == AUDIT_CHOWN || r->uid2 || r->gid2) {
		put_u64(l, "uid2", r->uid2);
		put_u64(l, "gid2", r->gid2);
	}
	if (e == AUDIT_EXPIRE || r->klass)
		put_str(l, "class", r->klass == CLASS_SHORT ? "short" :
				    r->klass == CLASS_KEEP ? "keep" : "other");
	if (e == AUDIT_EXPIRE || r->deadline)
		put_time(l, "deadline", r->deadline);
	if (e == AUDIT_EXPIRE || r->lateness_ms)
		put_i64(l, "lateness_ms", r->lateness_ms);
	if ((e == AUDIT_CLOSE_WRITE && r->duration_ms >= 0) ||
	    (r->duration_ms != 0 && r->duration_ms != -1))
		put_i64(l, "duration_ms", r->duration_ms);
	if (e == AUDIT_SEAL || !is_zero(r->sha256, sizeof(r->sha256)))
		put_hex(l, "sha256", r->sha256, sizeof(r->sha256));
}

static void print_text(const struct audit_rec *r)
{
	const struct line l = { .json = 0 };
	const char *name = audit_event_name(r->event);
	char when[48];

	fmt_time(r->time, 3, when, sizeof(when));
	if (name)
		printf("%s %s", when, name);
	else
		printf("%s event-%" PRIu32, when, r->event);
	printf(" uid=%" PRIu32 " gid=%" PRIu32 " pid=%" PRId32, r->uid, r->gid, r->pid);
	put_str(&l, "comm", r->comm);
	if (r->path[0] || r->path2[0]) {
		putchar(' ');
		text_str(r->path, 1);
	}
	if (r->path2[0]) {
		fputs(" -> ", stdout);
		text_str(r->path2, 1);
	}
	if (!store_id_is_zero(&r->id))
		put_hex(&l, "id", r->id.b, sizeof(r->id.b));
	put_details(&l, r);
	putchar('\n');
}

static void print_json(const struct audit_rec *r)
{
	const struct line l = { .json = 1 };
	const char *name = audit_event_name(r->event);
	char when[48], other[32];

	fmt_time(r->time, 9, when, sizeof(when));
	snprintf(other, sizeof(other), "event-%" PRIu32, r->event);
	printf("{\"time\":\"%s\"", when);
	put_str(&l, "event", name ? name : other);
	put_u64(&l, "uid", r->uid);
	put_u64(&l, "gid", r->gid);
	put_i64(&l, "pid", r->pid);
	put_str(&l, "comm", r->comm);
	put_str(&l, "path", r->path);
	if (r->path2[0])
		put_str(&l, "path2", r->path2);
	if (!store_id_is_zero(&r->id))
		put_hex(&l, "id", r->id.b, sizeof(r->id.b));
	put_details(&l, r);
	fputs("}\n", stdout);
}

static int matches(const struct filter *f, const struct audit_rec *r)
{
	if (r->time < f->since || r->time >= f->until)
		return 0;
	if (f->uid >= 0 && r->uid != (uint64_t)f->uid)
		return 0;
	if (f->events && (r->event >= 64 || !(f->events & 1ULL << r->event)))
		return 0;
	if (f->glob && fnmatch(f->glob, r->path, 0) != 0 &&
	    (!r->path2[0] || fnmatch(f->glob, r->path2, 0) != 0))
		return 0;
	return 1;
}

static int on_record(void *ctx, const struct audit_rec *r)
{
	struct filter *f = ctx;

	if (!matches(f, r))
		return 0;
	if (f->json)
		print_json(r);
	else
		print_text(r);
	f->shown++;
	return 0;
}

/* ---- the store's audit key ---- */

/* The audit key into key. A store whose trail was never written has none
 * (the daemon makes it at its first mount with audit on): then *none is
 * set and key is a random one, which reads an empty trail fine and any
 * segment as foreign. 0, or 1 with the message printed. */
static int load_key(const struct recfs_config *cfg, uint8_t *key, int *none)
{
	char err[ERR_BYTES];
	struct store *st;
	int rc;

	*none = 0;
	if (unlock_store(cfg, STORE_READONLY, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "recctl: %s\n", err);
		return 1;
	}
	rc = store_subkey(st, key, AUDIT_SUBKEY_ID, AUDIT_SUBKEY_CTX);
	store_close(st);
	if (rc == -EROFS) {
		*none = 1;
		crypto_random(key, CRYPTO_KEY_BYTES);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "recctl: cannot read the audit key of store %s: %s\n", cfg->path,
			strerror(-rc));
		return 1;
	}
	return 0;
}

static void explain_no_key(int none)
{
	if (none)
		fprintf(stderr, "recctl: the store has no audit key, yet its audit/ folder holds "
				"segments: they cannot be authentic\n");
}

static int cmd_verify(const struct recfs_config *cfg, int argc, char **argv)
{
	struct audit_stats st;
	char err[ERR_BYTES];
	uint8_t *key;
	int none, rc, status = 1;

	if (argc > 0) {
		fprintf(stderr, "recctl: audit verify: unexpected argument '%s'\n", argv[0]);
		return 2;
	}
	if (!(key = crypto_key_alloc())) {
		fprintf(stderr, "recctl: out of memory\n");
		return 1;
	}
	if (load_key(cfg, key, &none))
		goto out;
	rc = audit_read_stats(cfg->path, key, NULL, NULL, &st, err, sizeof(err));
	if (rc == -EBADMSG) {
		printf("audit trail BROKEN: %s\n", err);
		printf("the %" PRIu64 " record(s) before the break are intact\n", st.records);
		explain_no_key(none);
		goto out;
	}
	if (rc < 0) {
		fprintf(stderr, "recctl: audit: %s\n", err[0] ? err : strerror(-rc));
		goto out;
	}
	printf("audit trail intact: %" PRIu64 " records in %" PRIu64 " segments\n", st.records,
	       st.segments);
	if (st.first_segment > 1)
		printf("segments before number %" PRIu64 " were destroyed by retention "
		       "([audit] keep)\n", st.first_segment);
	if (st.torn)
		printf("ignored %" PRIu64 " torn record(s) left by a crash (never committed)\n",
		       st.torn);
	if (!cfg->audit.enabled)
		printf("note: [audit] enabled = off: no new records are being written\n");
	status = 0;
out:
	crypto_key_free(key);
	return status;
}

static int cmd_list(const struct recfs_config *cfg, int argc, char **argv)
{
	struct filter f = { .since = INT64_MIN, .until = INT64_MAX, .uid = -1 };
	char err[ERR_BYTES];
	uint8_t *key;
	int none, rc, status;

	status = parse_filter(&f, argc, argv);
	if (status)
		return status;
	status = 1;
	if (!(key = crypto_key_alloc())) {
		fprintf(stderr, "recctl: out of memory\n");
		return 1;
	}
	if (load_key(cfg, key, &none))
		goto out;
	rc = audit_read(cfg->path, key, on_record, &f, err, sizeof(err));
	if (fflush(stdout) != 0) {
		fprintf(stderr, "recctl: audit: cannot write the output: %s\n", strerror(errno));
		goto out;
	}
	if (rc == -EBADMSG) {
		fprintf(stderr, "recctl: audit trail BROKEN: %s\n"
				"recctl: records after the break are not shown; see recctl audit verify\n",
			err);
		explain_no_key(none);
		goto out;
	}
	if (rc < 0) {
		fprintf(stderr, "recctl: audit: %s\n", err[0] ? err : strerror(-rc));
		goto out;
	}
	if (!cfg->audit.enabled)
		fprintf(stderr, "recctl: note: [audit] enabled = off: no new records are "
				"being written\n");
	status = 0;
out:
	crypto_key_free(key);
	return status;
}

int recctl_audit(const struct recfs_config *cfg, int argc, char **argv)
{
	if (argc > 0 && !strcmp(argv[0], "verify"))
		return cmd_verify(cfg, argc - 1, argv + 1);
	return cmd_list(cfg, argc, argv);
}
