/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "paths.h"

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v && *v ? v : fallback;
}

void paths_init(struct paths *p)
{
	p->config = env_or("VHOTPLUG_CONFIG", VHOTPLUG_CONFIG);
	p->db = env_or("VHOTPLUG_DB", VHOTPLUG_DB);
	p->rundir = env_or("VHOTPLUG_RUNDIR", VHOTPLUG_RUNDIR);
	p->schema = env_or("VHOTPLUG_SCHEMA", VHOTPLUG_SCHEMA);
}

int paths_wake_socket(const struct paths *p, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/statd.sock", p->rundir);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}
