/*
 * fusedev: recfs's own reads and writes of /dev/fuse, so that the INIT
 * reply can claim FUSE_HANDLE_KILLPRIV_V2, which libfuse 3.14 cannot ask
 * for. With it the kernel stops asking for security.capability before
 * every write(2) — a whole round trip per 320-byte audio frame — and
 * so that the mount's read-ahead can be raised once INIT is answered.
 */
#ifndef RECFS_FUSEDEV_H
#define RECFS_FUSEDEV_H

#include "ops.h"

/* Route the mounted session's device I/O through fusedev; mountpoint
 * names the mount (for its read-ahead). 0 or -errno. */
int fusedev_attach(struct fuse_session *se, const char *mountpoint);

#endif
