/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api-peek: lib/api's lists and notifications on a real statd's database,
 * for tests/api-lists.bats (the sockets are statd/api's, tested apart):
 *
 *   api-peek CONFIG DB start                  the history id notes start after
 *   api-peek CONFIG DB notes AFTER N S        collect every 20 ms, one note a
 *                                             line; exit 0 once N are sent, 1
 *                                             after S seconds
 *   api-peek CONFIG DB list usb|pci [REQUEST] the reply, one line
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api-private.h"
#include "clock.h"
#include "log.h"
#include "macro.h"

static int sent;

static void print(json_object *note, void *userdata)
{
	(void)userdata;
	puts(json_object_to_json_string_ext(note, JSON_C_TO_STRING_PLAIN |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	sent++;
}

static int notes(struct api_ctx *ctx, const char *after, const char *count, const char *secs)
{
	int64_t last = strtoll(after, NULL, 10);
	int64_t deadline = clock_now_ms() + atoi(secs) * 1000;
	int n = atoi(count);

	while (sent < n && clock_now_ms() < deadline) {
		if (api_notify_collect(ctx, &last, print, NULL) < 0)
			return 2;
		nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
	}
	return sent >= n ? 0 : 1;
}

static int list(struct api_ctx *ctx, const char *kind, const char *request)
{
	json_object *req = json_tokener_parse(request ?: "{}");
	struct api_answer ans = { 0 };
	int r = api_list(ctx, streq(kind, "pci") ? DEV_PCI : DEV_USB, req, &ans);

	if (r == 0)
		puts(json_object_to_json_string_ext(ans.reply, JSON_C_TO_STRING_PLAIN |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(ans.reply);
	json_object_put(req);
	return r < 0 ? 2 : 0;
}

int main(int argc, char **argv)
{
	struct config *cfg = NULL;
	struct db *db = NULL;
	struct api_ctx ctx;
	int64_t last = 0;
	int r = 2;

	if (argc < 4) {
		fprintf(stderr, "usage: api-peek CONFIG DB start|notes|list ...\n");
		return 2;
	}
	if (config_load_flags(argv[1], CONFIG_QUIET, &cfg, stderr) < 0 ||
	    db_open(argv[2], 2000, 0, &db) < 0)
		goto out;
	ctx = (struct api_ctx){ .cfg = cfg, .db = db };
	if (streq(argv[3], "start") && api_notify_start(&ctx, &last) == 0) {
		printf("%lld\n", (long long)last);
		r = 0;
	} else if (streq(argv[3], "notes") && argc == 7) {
		r = notes(&ctx, argv[4], argv[5], argv[6]);
	} else if (streq(argv[3], "list") && argc >= 5) {
		r = list(&ctx, argv[4], argc > 5 ? argv[5] : NULL);
	}
out:
	db_close(db);
	config_free(cfg);
	return r;
}
