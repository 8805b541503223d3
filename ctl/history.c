/* SPDX-License-Identifier: Apache-2.0 */
/* vhotplugctl history [DEVICE]: what happened, oldest first, from device_history's table. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "devname.h"
#include "log.h"

#define USAGE "vhotplugctl history [DEVICE] [--since TIME] [-n N] [--json]"

/*
 * DEVICE in any form vhotplugctl names devices by (lib/ops/devname.h).
 * Returns 0 with *ID, or an exit status with the error said.
 */
static int history_device_find(struct db *db, const char *name, int64_t *id)
{
	struct devname_hit *hits = NULL;
	size_t n = 0;
	int r = devname_resolve(db, name, &hits, &n);

	if (r < 0) {
		log_err("cannot read the devices: %s", strerror(-r));
		return CTL_EXIT_FAILED;
	}
	if (n == 1)
		*id = hits[0].id;
	else if (n == 0)
		log_err("no device \"%s\" (see vhotplugctl list)", name);
	else {
		log_err("\"%s\" names %zu devices:", name, n);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "  #%lld %s\n", (long long)hits[i].id, hits[i].label);
	}
	devname_free(hits, n);
	return n == 1 ? 0 : CTL_EXIT_FAILED;
}

/*
 * --since: UTC ISO-8601 as history stores it ("2026-12-06", "2026-12-06 10:30",
 * "2026-12-06T10:30:00"), or a time ago ("90s", "15m", "2h", "7d"), into BUF.
 */
static int since_parse(const char *arg, char *buf, size_t size)
{
	static const char units[] = "smhd";
	static const long secs[] = { 1, 60, 3600, 86400 };
	char *end;
	long n = strtol(arg, &end, 10);
	const char *u = *end ? strchr(units, *end) : NULL;

	if (isdigit((unsigned char)arg[0]) && u && !end[1] && n >= 0) {
		time_t t = time(NULL) - n * secs[u - units];
		struct tm tm;

		strftime(buf, size, "%Y-%m-%dT%H:%M:%S", gmtime_r(&t, &tm));
		return 0;
	}
	if (strlen(arg) < 10 || strlen(arg) >= size || !isdigit((unsigned char)arg[0]) ||
	    arg[4] != '-' || arg[7] != '-' || strspn(arg, "0123456789-:.TZ ") != strlen(arg))
		return -EINVAL;
	snprintf(buf, size, "%s", arg);
	if (buf[10] == ' ')
		buf[10] = 'T';	/* as stored */
	return 0;
}

static int row_add(void *userdata, const struct db_history_row *h)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(h->id));
	json_object_object_add(o, "time", ctl_json_str(h->time));
	json_object_object_add(o, "number", h->device_id ? json_object_new_int64(h->device_id) :
							   NULL);
	json_object_object_add(o, "device", ctl_json_str(h->device));
	json_object_object_add(o, "event", ctl_json_str(h->event));
	json_object_object_add(o, "vm", ctl_json_str(h->vm));
	json_object_object_add(o, "detail", ctl_json_str(h->detail));
	return json_object_array_add(userdata, o);
}

static int row_print(void *userdata, const struct db_history_row *h)
{
	printf("%s %s", h->time, h->event);
	if (h->vm && *h->vm)
		printf(" %s", h->vm);
	if (*h->device)
		printf(": %s", h->device);
	if (h->detail && *h->detail)
		printf(": %s", h->detail);
	putchar('\n');
	return 0;
}

int ctl_history(const struct paths *paths, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "lines", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct json_object *rows = NULL;
	const char *since = NULL;
	char since_buf[40];
	struct db *db = NULL;
	int64_t device = 0;
	long limit = 0;
	bool json = false;
	char *end;
	int c, r;

	while ((c = getopt_long(argc, argv, "+s:n:jh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (since_parse(optarg, since_buf, sizeof(since_buf)) < 0)
				return ctl_usage_error("history: --since \"%s\": give a UTC "
						       "time (2026-12-06 10:30) or an age (15m, 2h, 7d)",
						       optarg);
			since = since_buf;
			break;
		case 'n':
			limit = strtol(optarg, &end, 10);
			if (limit <= 0 || limit > 1000000000 || *end)
				return ctl_usage_error("history: -n \"%s\": give a positive "
						       "number of rows", optarg);
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			return ctl_help(USAGE, "\nWhat happened to DEVICE (the number, identity or label "
					"from vhotplugctl list),\nor to every device: oldest first; "
					"-n N: the newest N rows only.\n");
		default:
			return ctl_usage_error("history: unknown option \"%s\"",
					       argv[optind - 1]);
		}
	}
	if (optind + 1 < argc)
		return ctl_usage_error("history: one DEVICE at most");
	if (ctl_db_open(paths, &db) < 0)
		return CTL_EXIT_FAILED;
	if (optind < argc) {
		r = history_device_find(db, argv[optind], &device);
		if (r) {
			db_close(db);
			return r;
		}
	}
	if (json) {
		rows = json_object_new_array();
		r = db_history_each(db, device, since, (int)limit, row_add, rows);
	} else {
		r = db_history_each(db, device, since, (int)limit, row_print, NULL);
	}
	db_close(db);
	if (r < 0) {
		json_object_put(rows);
		log_err("cannot read the history: %s", strerror(-r));
		return CTL_EXIT_FAILED;
	}
	if (json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "history", rows);
		ctl_json_print(o);
	}
	return CTL_EXIT_OK;
}
