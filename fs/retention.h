/*
 * retention: the rules of when things expire, as pure decisions from a
 * node's state and the time, and the min-heap of deadlines the reaper
 * sleeps on. No I/O and no threads here.
 *
 * Rules (docs/retention.md): a file outside the keep folder expires `short`
 * after its last writer closed it; inside, `keep` after. Folders other than
 * the root and the keep folder expire their class's period after they
 * became empty. Other nodes (symlinks, FIFOs, ...) count from creation.
 * A file with a writer has no deadline.
 *
 * Call everything with tree_lock held.
 */
#ifndef RECFS_RETENTION_H
#define RECFS_RETENTION_H

#include <stdint.h>

#include "tree.h"

enum { CLASS_SHORT = 0, CLASS_KEEP = 1 };

#define RET_NOT_QUEUED ((size_t)-1)

/* Periods and the keep folder's name, from the config. */
void ret_configure(int64_t short_ns, int64_t keep_ns, const char *keep_dir);
const char *ret_keep_name(void);

/* The keep folder (a child of the root), or NULL. */
struct node *ret_keep_dir(void);
void ret_set_keep_dir(struct node *keep);

/* 1 for the root and the keep folder: never expire, never move. */
int ret_is_fixed(const struct node *n);
/* The class n's place in the tree gives it. */
int ret_class_of(const struct node *n);
/* The deadline the rules give n now (0: none). Uses n->m.ended. */
int64_t ret_deadline(const struct node *n);

/* Recompute n's class and deadline after a change (writer closed, moved,
 * emptied, ...), update n->m.klass / m.deadline and the heap. now is the
 * clock. Returns 1 when anything persisted changed (the caller writes the
 * metadata), 0 if not. */
int ret_update(struct node *n, int64_t now);

/* fn is called (tree_lock held) whenever a node becomes the heap's top,
 * i.e. the earliest deadline moved earlier: the reaper wakes up. */
void ret_set_top_hook(void (*fn)(void));

/* The heap. */
void ret_heap_remove(struct node *n);
/* The node with the earliest deadline, or NULL. */
struct node *ret_heap_top(void);
size_t ret_heap_size(void);
void ret_heap_free(void);

/* 1 when a regular file in the keep class with no writer is not yet
 * sealed: the caller seals it. */
int ret_wants_seal(const struct node *n);

#endif
