/* SPDX-License-Identifier: Apache-2.0 */
/* Messages as the original's logging writes them: "LEVEL message" on stderr. */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

bool cli_debug;

void cli_log(enum cli_level level, const char *fmt, ...)
{
	static const char *const names[] = { "DEBUG", "INFO", "WARNING", "ERROR" };
	va_list ap;

	if (level == CLI_DEBUG && !cli_debug)
		return;
	fprintf(stderr, "%s ", names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
