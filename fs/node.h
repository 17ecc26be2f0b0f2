/*
 * node: every change to a file or folder, applied to the tree, the
 * retention state and the store together. FUSE-free, so the daemon's
 * ops.c and the tools share it. Functions return 0 (or a count) or -errno.
 *
 * References: a struct node handed out by node_lookup/node_make stays
 * valid until node_forget drops the lookups; open handles pin it too.
 */
#ifndef RECFS_NODE_H
#define RECFS_NODE_H

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include "config.h"
#include "tree.h"

struct node_ctx {
	uid_t uid;
	gid_t gid;
	pid_t pid;
};

/* What node_setattr changes. */
enum {
	NODE_SET_MODE = 1 << 0,
	NODE_SET_UID = 1 << 1,
	NODE_SET_GID = 1 << 2,
	NODE_SET_SIZE = 1 << 3,
	NODE_SET_ATIME = 1 << 4,
	NODE_SET_MTIME = 1 << 5,
	NODE_SET_ATIME_NOW = 1 << 6,
	NODE_SET_MTIME_NOW = 1 << 7,
	NODE_SET_CTIME = 1 << 8,
};

/* Called by node_expire_due for each name that expired, after tree_lock
 * was dropped: parent and n may be gone already, use them as keys only. */
typedef void (*node_gone_fn)(void *ctx, const struct node *parent,
                             const struct node *n, const char *name);

/* Build the tree from the store, create the root and keep folder when
 * missing, and destroy everything overdue (catch-up). *damaged counts
 * objects left out, *reaped those destroyed. With NODE_LOAD_READONLY
 * (recctl looking at a mounted store) nothing is written or destroyed:
 * the tree is a snapshot, and nothing else in node.c may change it. */
#define NODE_LOAD_READONLY 0x1
int node_load(struct store *st, const struct recfs_config *cfg, int flags,
              unsigned *damaged, unsigned *reaped);
/* Persist what is pending, destroy queued objects, free the tree. */
void node_unload(void);

int node_lookup(struct node *dir, const char *name, struct node **out);
/* Drop count kernel references; frees n when nothing holds it. */
void node_forget(struct node *n, uint64_t count);
/* n's retention class (CLASS_*), as its place in the tree gives it. */
int node_class(struct node *n);
void node_stat(struct node *n, struct stat *stb);

/* Entries of dir after offset off ("." is 1, ".." 2, children their
 * cookie). fill returns nonzero when its buffer is full; the entry is then
 * not counted. With plus, each child handed to fill gains a lookup
 * (n is NULL for "." and ".."). Returns the number of entries filled. */
typedef int (*node_fill_fn)(void *ctx, struct node *n, const char *name,
                            const struct stat *stb, uint64_t next_off);
int node_readdir(struct node *dir, uint64_t off, int plus, node_fill_fn fill, void *ctx);

/* Create name in dir: a file, folder, FIFO, socket, device node, or a
 * symlink when target is not NULL. *out has one lookup reference. With
 * open_flags >= 0 (a regular file) it also holds one open handle, as
 * node_open(open_flags) would give; -1 for none. */
int node_make(struct node *dir, const char *name, mode_t mode, dev_t rdev,
              const char *target, const struct node_ctx *c, int open_flags,
              struct node **out);
int node_remove(struct node *dir, const char *name, int isdir);
/* Kept files a move left to seal, pinned until node_seal_moved. */
struct node_seals {
	struct node **v;
	size_t n, cap;
};
/* What a rename touched, for its audit records: the node moved and the
 * one that was at the new name (NULL when none), each pinned (release
 * with node_forget(x, 1)), and their classes before the move. */
struct node_renamed {
	struct node *n, *t;
	int n_class, t_class;
};
/* flags: RENAME_NOREPLACE, RENAME_EXCHANGE. The move is written before
 * this returns; kept files it made that want a seal (hashing their whole
 * content) go into *seals, for node_seal_moved once the rename has been
 * answered. *done is filled whether or not the rename succeeds. */
int node_rename(struct node *dir, const char *name, struct node *newdir,
                const char *newname, unsigned flags, struct node_seals *seals,
                struct node_renamed *done);
/* Seal and unpin what node_rename collected; *seals is empty after. */
void node_seal_moved(struct node_seals *seals);
int node_setattr(struct node *n, int set, const struct stat *attr);
int node_readlink(struct node *n, char *buf, size_t len);

int node_open(struct node *n, int flags);
/* closed_at: when the handle was last closed (its FLUSH), 0 if unknown;
 * a writer's recording ends then. */
int node_release(struct node *n, int flags, int64_t closed_at);
ssize_t node_read(struct node *n, void *buf, size_t len, off_t off);
ssize_t node_write(struct node *n, const void *buf, size_t len, off_t off);
int node_flush(struct node *n);
int node_fsync(struct node *n, int datasync);

/* xattrs: get/list return the size (or needed size when size is 0). */
ssize_t node_getxattr(struct node *n, const char *name, void *buf, size_t size);
ssize_t node_listxattr(struct node *n, char *buf, size_t size);
int node_setxattr(struct node *n, const char *name, const void *val, size_t size, int flags);
int node_removexattr(struct node *n, const char *name);

int node_statfs(struct statvfs *sv);

/* Expire every node whose deadline is <= now; returns how many. *next
 * gets the next deadline (0: none). */
int node_expire_due(int64_t now, int64_t *next, node_gone_fn gone, void *ctx);
/* Duration and format when libsndfile reads n's content as audio;
 * -ENODATA when it does not. */
struct audio_info;
int node_audio(struct node *n, struct audio_info *ai);

/* n's path from the root ("/2026/11/28/call.wav"). -ENOENT when n is no
 * longer in the tree, -ENAMETOOLONG when it does not fit. */
int node_path(const struct node *n, char *buf, size_t len);

/* Background duties, without tree_lock: node_tidy writes pending
 * metadata, refreshes the clock mark and hands over the shredded objects
 * waiting to be unlinked; node_dispose syncs and unlinks them (slow on a
 * host filesystem that discards freed blocks) and frees the array.
 * node_housekeeping does both, in turn. */
size_t node_tidy(int64_t now, struct store_id **shredded);
void node_dispose(struct store_id *shredded, size_t n);
void node_housekeeping(int64_t now);

#endif
