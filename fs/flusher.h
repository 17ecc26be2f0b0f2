/*
 * flusher: with writeback caching, what recorders write sits in the
 * kernel's page cache until the kernel writes it back, up to half a minute
 * later, and a daemon crash would lose it. Once a second this thread asks
 * the kernel to write back every file that is open for writing, so a crash
 * loses at most about a second of audio.
 */
#ifndef RECFS_FLUSHER_H
#define RECFS_FLUSHER_H

#include "node.h"

/* flush(ctx, n) makes the kernel write back n's dirty pages. */
typedef void (*flusher_fn)(void *ctx, const struct node *n);

int flusher_start(flusher_fn flush, void *ctx);
void flusher_stop(void);

#endif
