/* SPDX-License-Identifier: Apache-2.0 */
/* The log macros evaluate their arguments only when the level is logged. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "log.h"

static int evaluated;

static const char *costly(void)
{
	evaluated++;
	return "serialized";
}

static int fail_with_log(void)
{
	errno = EACCES;
	return log_err("expected error line: %m"), -errno;
}

/*
 * What log_err("first\nsecond") writes with LOG_TARGET_STDERR, stderr a new
 * file; $JOURNAL_STREAM names that file when MATCH, another one when not.
 */
static char *logged_to_stderr(bool match)
{
	char path[] = "/tmp/test-log-XXXXXX", other[] = "/tmp/test-log-other-XXXXXX", env[64];
	static char buf[256];
	int fd = mkstemp(path), ofd = mkstemp(other), saved = dup(STDERR_FILENO);
	struct stat st;
	ssize_t n;

	if (fd < 0 || ofd < 0 || saved < 0 || fstat(match ? fd : ofd, &st) < 0)
		return NULL;
	snprintf(env, sizeof(env), "%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	log_open("test-log", LOG_TARGET_STDERR);
	log_err("first\nsecond");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	close(ofd);
	unlink(path);
	unlink(other);
	unsetenv("JOURNAL_STREAM");
	return buf;
}

int main(void)
{
	const char *out;

	log_open("test-log", LOG_TARGET_PLAIN);

	log_set_max_level(LOG_INFO);
	log_debug("never shown: %s", costly());
	CHECK(evaluated == 0);
	log_info("expected info line: %s", costly());
	CHECK(evaluated == 1);

	log_set_max_level(LOG_DEBUG);
	log_debug("expected debug line: %s", costly());
	CHECK(evaluated == 2);

	log_set_max_level(LOG_ERR);
	log_warn("never shown: %s", costly());
	CHECK(evaluated == 2);
	/* An expression: usable with the comma operator, and %m sees errno. */
	CHECK(fail_with_log() == -EACCES);

	/* Priority prefixes on every line when stderr is the journal, none elsewhere. */
	log_set_max_level(LOG_INFO);
	out = logged_to_stderr(true);
	CHECK(out && streq(out, "<3>first\n<3>second\n"));
	out = logged_to_stderr(false);
	CHECK(out && streq(out, "test-log: first\ntest-log: second\n"));
	return check_result();
}
