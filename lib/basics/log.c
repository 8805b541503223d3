/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* The only global state in the project, as in kmod and libgpiod. */
static struct {
	const char *ident;
	enum log_target target;
	int max_level;
} log_state = { "vhotplug", LOG_TARGET_PLAIN, LOG_INFO };

/*
 * systemd's documented test: stderr is the journal's stream when
 * $JOURNAL_STREAM names its device and inode. Inherited by a child whose
 * stderr was redirected (a terminal, a file), it no longer matches.
 */
bool log_stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	uintmax_t dev, ino;
	struct stat st;
	int n = 0;

	if (!env || sscanf(env, "%ju:%ju%n", &dev, &ino, &n) != 2 || env[n] ||
	    fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

void log_open(const char *ident, enum log_target target)
{
	if (target == LOG_TARGET_STDERR && !log_stderr_is_journal())
		target = LOG_TARGET_PLAIN;
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

/* Each line with the prefix: journald reads a line as a message, with its own priority. */
static void write_lines(int prio, const char *text)
{
	const char *end;

	do {
		end = strchrnul(text, '\n');
		if (log_state.target == LOG_TARGET_STDERR)
			fprintf(stderr, "<%d>%.*s\n", prio, (int)(end - text), text);
		else
			fprintf(stderr, "%s: %.*s\n", log_state.ident, (int)(end - text), text);
		text = end + 1;
	} while (*end && *text);
}

void log_msg(int prio, const char *fmt, ...)
{
	int saved_errno = errno;
	char *text = NULL;
	va_list ap;

	if (prio > log_state.max_level)
		return;
	va_start(ap, fmt);
	if (log_state.target == LOG_TARGET_SYSLOG) {
		vsyslog(prio, fmt, ap);
	} else {
		errno = saved_errno;	/* for %m */
		if (vasprintf(&text, fmt, ap) >= 0) {
			write_lines(prio, text);
			free(text);
		}
	}
	va_end(ap);
	errno = saved_errno;
}
