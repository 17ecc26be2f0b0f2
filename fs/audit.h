/*
 * audit: the access trail. Who created, kept, listened to, copied and
 * erased which recording, and when each recording was destroyed.
 * Records are encrypted and MAC-chained in segment files under the store's
 * audit/ folder (format in docs/audit.md); whole segments older than
 * audit_keep are destroyed, so the trail expires too.
 *
 * audit_log never waits for the disk: records are queued and a writer
 * thread commits them in groups (at least once a second), so a crash loses
 * at most the last second of records and never damages earlier ones.
 */
#ifndef RECFS_AUDIT_H
#define RECFS_AUDIT_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "crypto.h"
#include "store.h"

enum audit_event {
	AUDIT_CREATE = 1,   /* path, uid/gid/pid/comm */
	AUDIT_OPEN_READ,    /* an open for reading; bytes at AUDIT_CLOSE_READ */
	AUDIT_CLOSE_READ,   /* bytes = bytes read through that handle */
	AUDIT_OPEN_WRITE,
	AUDIT_CLOSE_WRITE,  /* size, duration_ms when audio */
	AUDIT_KEEP,         /* moved into keep/: path -> path2 */
	AUDIT_UNKEEP,       /* moved out of keep/: path -> path2 */
	AUDIT_RENAME,       /* path -> path2 within a class */
	AUDIT_CHMOD,        /* mode */
	AUDIT_CHOWN,        /* uid2/gid2 are the new owner */
	AUDIT_SEAL,         /* sha256, size */
	AUDIT_UNLINK,       /* erasure by a user */
	AUDIT_EXPIRE,       /* klass, deadline, time = destruction, lateness_ms */
	AUDIT_DAMAGED,      /* a damaged object or block detected */
	AUDIT_MOUNT,
	AUDIT_UNMOUNT,
	AUDIT_CATCHUP,      /* count = destroyed at mount */
	AUDIT_REKEY,
	AUDIT_DROPPED,      /* count = records lost (queue full, write failed) */
	AUDIT_EVENT_MAX
};

struct audit_rec {
	int64_t time;        /* internal clock, ns; set by audit_log when 0 */
	uint32_t event;      /* enum audit_event */
	uint32_t uid, gid;
	int32_t pid;
	char comm[16];       /* /proc/PID/comm at open/create */
	struct store_id id;  /* the object, zero when none */
	char path[PATH_MAX]; /* the path at that moment, "" when none */
	char path2[PATH_MAX];/* rename/keep/unkeep target */
	uint64_t size;
	uint64_t bytes;      /* bytes read (CLOSE_READ) */
	uint64_t count;      /* CATCHUP */
	uint32_t mode;       /* CHMOD */
	uint32_t uid2, gid2; /* CHOWN */
	uint8_t klass;       /* EXPIRE */
	int64_t deadline;    /* EXPIRE, ns */
	int64_t lateness_ms; /* EXPIRE */
	int64_t duration_ms; /* CLOSE_WRITE of audio, -1 when unknown */
	uint8_t sha256[CRYPTO_HASH_BYTES]; /* SEAL */
};

/* struct audit_config ([audit] enabled, keep, log_tools) lives in config.h,
 * next to the rest of the configuration. */

/* The audit key: store_subkey(st, key, AUDIT_SUBKEY_ID, AUDIT_SUBKEY_CTX). */
#define AUDIT_SUBKEY_ID 1
#define AUDIT_SUBKEY_CTX "recfsaud"

/* Open (creating audit/ when needed) the trail of the store in store_dir
 * with the audit key, and start the writer thread. With enabled off it
 * does nothing and audit_log is a no-op. 0 or -errno (-EBUSY when already
 * open).
 *
 * One writer per store: call it only while holding the store's lock (a
 * store opened without STORE_READONLY), after clock_start (record times
 * and the trail's expiry use clock_now). It finds where the chain stands
 * (ignoring a torn tail from a crash), destroys segments past
 * cfg->keep_ns; the first record logged starts a new segment. key and cfg
 * are copied.
 *
 * The trail survives fork (fuse_daemonize): the writer drains the queue
 * before the fork, and a child that logs gets a writer of its own. Only
 * one of the two processes may go on logging. */
int audit_open(const char *store_dir, const uint8_t *key, const struct audit_config *cfg);
/* Queue one record: r is copied (the caller may reuse it at once); time 0
 * means now (clock_now). Paths longer than PATH_MAX - 1 are cut. Thread-
 * safe, from any thread, at any time: before audit_open and after
 * audit_close it does nothing. It never waits for I/O; when the queue is
 * full the record is dropped and counted (see audit_dropped). */
void audit_log(const struct audit_rec *r);
/* Commit what is queued (one last group), destroy expired segments, stop
 * the thread, and log the chain's head. Not concurrently with audit_open;
 * audit_log may still be called (it is then a no-op). */
void audit_close(void);

/* Records lost since audit_open: dropped because the queue was full, or
 * lost to a failed write. Each loss is also logged and written to the
 * trail as an AUDIT_DROPPED record. Thread-safe. */
uint64_t audit_dropped(void);

/* "open-read", "expire", ... (the names recctl audit shows and --event
 * takes), or NULL for a value outside enum audit_event. */
const char *audit_event_name(uint32_t event);

/* Fill comm with /proc/pid/comm ("?" when unreadable). */
void audit_comm(pid_t pid, char comm[16]);

/* Reading, for recctl: call fn for each record in time order. 0, or the
 * first -errno; a broken chain is -EBADMSG with the position of the first
 * bad record (segment name and index) in err. */
typedef int (*audit_fn)(void *ctx, const struct audit_rec *r);
int audit_read(const char *store_dir, const uint8_t *key, audit_fn fn, void *ctx,
               char *err, size_t errlen);

/* What audit_read_stats saw, for `recctl audit verify`. */
struct audit_stats {
	uint64_t records;       /* records read and authenticated */
	uint64_t segments;      /* segments read */
	uint64_t first_segment; /* number of the oldest one; > 1: older ones expired */
	uint64_t torn;          /* torn records from crashes that were ignored */
};
/* audit_read, counting into stats (zeroed first; may be NULL). fn may be
 * NULL: every record is still authenticated and decoded. Records already
 * passed to fn before a break stay valid: they authenticated. Thread-safe:
 * it shares nothing with the writer, and may run while a daemon writes. */
int audit_read_stats(const char *store_dir, const uint8_t *key, audit_fn fn, void *ctx,
                     struct audit_stats *stats, char *err, size_t errlen);

/* The plaintext encoding of one record (docs/audit.md), exposed for the
 * tests and the parser's fuzz target. audit_encode writes at most
 * AUDIT_PLAIN_MAX bytes and returns the length, a multiple of
 * AUDIT_PLAIN_ALIGN (paths longer than PATH_MAX - 1 bytes are cut).
 * audit_decode zeroes r, then fills it from len bytes: 0, or -EBADMSG when
 * they are not exactly a valid encoding. */
#define AUDIT_PLAIN_FIXED 156
#define AUDIT_PLAIN_ALIGN 256
#define AUDIT_PLAIN_MAX \
	((AUDIT_PLAIN_FIXED + 2 * (PATH_MAX - 1) + AUDIT_PLAIN_ALIGN - 1) / \
	 AUDIT_PLAIN_ALIGN * AUDIT_PLAIN_ALIGN)
size_t audit_encode(uint8_t *buf, const struct audit_rec *r);
int audit_decode(struct audit_rec *r, const uint8_t *buf, size_t len);

#endif
