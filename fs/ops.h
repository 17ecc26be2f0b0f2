/*
 * ops: the FUSE side of the daemon.
 */
#ifndef RECFS_OPS_H
#define RECFS_OPS_H

/* 3.12: the loop configuration API (fuse_loop_cfg_*) of libfuse 3.14. */
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include "node.h"

/* A low-level session with recfs's operations (args are checked here);
 * config is the absolute config path, shown as user.recfs.config on the
 * root. NULL on error. */
struct fuse_session *ops_session_new(struct fuse_args *args, const char *config);

/* node_gone_fn for the reaper: tells the kernel a name has expired. */
void ops_gone(void *ctx, const struct node *parent, const struct node *n, const char *name);

#endif
