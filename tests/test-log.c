/* SPDX-License-Identifier: Apache-2.0 */
/* The log macros evaluate their arguments only when the level is logged. */
#include <errno.h>
#include <stdio.h>

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

int main(void)
{
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
	return check_result();
}
