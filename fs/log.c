/*
 * log: stderr or syslog, filtered by level. vfprintf on stderr writes one
 * line per call, so concurrent threads do not interleave within a line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "log.h"

static enum log_level log_max = LOG_LVL_INFO;
static int log_syslog;
static __thread int log_muted;

void log_setup(enum log_level level, int to_syslog)
{
	log_max = level;
	log_syslog = to_syslog;
	if (to_syslog)
		openlog("recfs", LOG_PID, LOG_DAEMON);
}

void log_quiet(int on)
{
	log_muted = on;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char line[1024];
	va_list ap;

	if (level > log_max || log_muted)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_syslog)
		syslog(prio[level], "%s", line);
	else
		fprintf(stderr, "recfs: %s\n", line);
}
