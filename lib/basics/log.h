/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

enum log_target {
	LOG_TARGET_STDERR,	/* "<N>" on every line when stderr is the journal, else as PLAIN */
	LOG_TARGET_SYSLOG,	/* udev RUN programs: stderr is not kept */
	LOG_TARGET_PLAIN,	/* interactive tools: no prefix */
};

/* Is stderr the journal's stream ($JOURNAL_STREAM matches it)? */
bool log_stderr_is_journal(void);
void log_open(const char *ident, enum log_target target);
void log_set_max_level(int level);
int log_get_max_level(void);
void log_msg(int prio, const char *fmt, ...) _printf_(2, 3);

/*
 * The level is tested before the arguments are evaluated, so a debug line
 * that serializes JSON costs nothing when debugging is off (as in kmod).
 * An expression, not a statement: "return log_err(...), -errno;" works.
 */
#define log_at(prio, ...) \
	(log_get_max_level() >= (prio) ? log_msg((prio), __VA_ARGS__) : (void)0)

#define log_crit(...) log_at(LOG_CRIT, __VA_ARGS__)
#define log_err(...) log_at(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_at(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)
