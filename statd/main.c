/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "macro.h"
#include "paths.h"

static int check_config(const char *file)
{
	struct config *cfg;

	if (config_load(file, &cfg, stderr) < 0)
		return 1;
	config_free(cfg);
	printf("%s: ok\n", file);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: vhotplug-statd [-c CONFIG] [--db FILE] [--run-dir DIR] [-a] [-d]\n"
		   "       vhotplug-statd --check-config [-c CONFIG]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'D' },
		{ "run-dir", required_argument, NULL, 'R' },
		{ "attach-connected", no_argument, NULL, 'a' },
		{ "debug", no_argument, NULL, 'd' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct paths paths;
	bool check = false;
	int c;

	log_open("vhotplug-statd", LOG_TARGET_STDERR);
	paths_init(&paths);
	while ((c = getopt_long(argc, argv, "c:adh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			paths.config = optarg;
			break;
		case 'D':
			paths.db = optarg;
			break;
		case 'R':
			paths.rundir = optarg;
			break;
		case 'a':
			break;
		case 'd':
			log_set_max_level(LOG_DEBUG);
			break;
		case 'C':
			check = true;
			break;
		case 'V':
			puts(PACKAGE_STRING);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (check) {
		log_open("vhotplug-statd", LOG_TARGET_PLAIN);
		return check_config(paths.config);
	}
	log_err("the daemon is not implemented yet");
	return 1;
}
