/*
 * reaper: the one thread that makes files vanish on time. It sleeps until
 * the earliest deadline (woken early when an earlier one appears), expires
 * what is due, and does the housekeeping (pending metadata, the clock
 * mark) about once a second; a second thread, the disposer, unlinks the
 * destroyed objects it hands over.
 */
#ifndef RECFS_REAPER_H
#define RECFS_REAPER_H

#include "node.h"

/* Start the thread; gone is told of every expired name (for the kernel's
 * caches). 0 or -errno. */
int reaper_start(node_gone_fn gone, void *ctx);
/* Stop and join it. */
void reaper_stop(void);

#endif
