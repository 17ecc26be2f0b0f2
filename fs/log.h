/*
 * log: one line per event worth an admin's attention. To stderr while in
 * the foreground, to syslog (journald) once daemonized. File names and
 * content never go to the log above debug level: object ids stand in.
 * Thread-safe.
 */
#ifndef RECFS_LOG_H
#define RECFS_LOG_H

#include "config.h"

/* Messages above level are dropped. to_syslog: 0 stderr, 1 syslog. */
void log_setup(enum log_level level, int to_syslog);

/* While on, this thread's messages are dropped: for a read that is tried
 * again before its failure counts (recctl verify beside the daemon). */
void log_quiet(int on);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
