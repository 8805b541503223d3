/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

/* The only global state in the project, as in kmod and libgpiod. */
static struct {
	const char *ident;
	enum log_target target;
	int max_level;
} log_state = { "vhotplug", LOG_TARGET_PLAIN, LOG_INFO };

void log_open(const char *ident, enum log_target target)
{
	log_state.ident = ident;
	log_state.target = target;
	if (target == LOG_TARGET_SYSLOG)
		openlog(ident, LOG_PID | LOG_PERROR, LOG_DAEMON); /* stderr too: tests and udev debug logs see it */
}

void log_set_max_level(int level)
{
	log_state.max_level = level;
}

int log_get_max_level(void)
{
	return log_state.max_level;
}

void log_msg(int prio, const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	if (prio > log_state.max_level)
		return;
	va_start(ap, fmt);
	switch (log_state.target) {
	case LOG_TARGET_SYSLOG:
		vsyslog(prio, fmt, ap);
		break;
	case LOG_TARGET_STDERR:
		fprintf(stderr, "<%d>", prio);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		break;
	case LOG_TARGET_PLAIN:
		fprintf(stderr, "%s: ", log_state.ident);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		break;
	}
	va_end(ap);
	errno = saved_errno;
}
