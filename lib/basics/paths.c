/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "macro.h"
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
}

int paths_wake_socket(const struct paths *p, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/statd.sock", p->rundir);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int paths_option(struct paths *p, int c, const char *arg)
{
	switch (c) {
	case 'c':
		p->config = arg;
		return 1;
	case PATHS_OPT_DB:
		p->db = arg;
		return 1;
	case PATHS_OPT_RUNDIR:
		p->rundir = arg;
		return 1;
	case 'd':
		log_set_max_level(LOG_DEBUG);
		return 1;
	case PATHS_OPT_VERSION:
		puts(PACKAGE_STRING);
		return -1;
	default:
		return 0;
	}
}

void paths_db_private(const char *db)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	char path[4096];
	struct stat st;

	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
		snprintf(path, sizeof(path), "%s%s", db, suffixes[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) &&
		    chmod(path, st.st_mode & 0700) < 0)
			log_warn("%s: cannot make it private: %m", path);
	}
}
