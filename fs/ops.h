/*
 * ops: the FUSE side of the daemon.
 */
#ifndef RECFS_OPS_H
#define RECFS_OPS_H

#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>

#include "node.h"

/* A low-level session with recfs's operations (args are checked here);
 * config is the absolute config path, shown as user.recfs.config on the
 * root. NULL on error. */
struct fuse_session *ops_session_new(struct fuse_args *args, const char *config);

/* node_gone_fn for the reaper: tells the kernel a name has expired. */
void ops_gone(void *ctx, const struct node *parent, const struct node *n, const char *name);

/* flusher_fn: makes the kernel write back n's dirty pages now. */
void ops_flush(void *ctx, const struct node *n);

#endif
