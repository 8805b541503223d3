/* SPDX-License-Identifier: Apache-2.0 */
/*
 * listen: subscribe and log every line the API sends, as the original
 * does (at INFO on stderr, as Python's str() of what it parsed). A closed
 * or broken connection is opened again after 3 s; one that cannot be
 * opened ends the command, as in the original.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define RECONNECT_S 3

/*
 * One subscription: -EINVAL when it could not start (the original's
 * RuntimeError and ValueError, which end it), else why it ended.
 */
static int listen_once(struct cli_conn *c, const struct cli_target *t)
{
	json_object *req = json_object_new_object();
	json_object *res = NULL, *result;
	int r;

	if (!req)
		return -ENOMEM;
	json_object_object_add(req, "action", json_object_new_string("enable_notifications"));
	r = conn_open(c, t);
	if (r < 0) {
		json_object_put(req);
		return -EINVAL;
	}
	r = conn_request(c, t, req, &res);
	json_object_put(req);
	if (r == -ENOTCONN)
		return -EINVAL;
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(res, "result", &result) ||
	    !json_object_is_type(result, json_type_string) ||
	    !streq(json_object_get_string(result), "ok")) {
		char *s = py_to_str(res);

		cli_log(CLI_ERROR, "Failed to enable notifications: %s", s ? s : "");
		free(s);
	}
	json_object_put(res);
	for (;;) {
		json_object *o = NULL;
		char *s;

		r = conn_recv(c, 0, "API notification", &o);
		if (r == -ECONNRESET) {
			snprintf(c->err, sizeof(c->err),
				 "API connection for notifications closed by remote");
			return r;
		}
		if (r < 0)
			return r;
		s = py_to_str(o);
		cli_log(CLI_INFO, "%s", s ? s : "");
		free(s);
		json_object_put(o);
	}
}

int cmd_listen(const struct cli_target *t, const struct cli_args *a _unused_)
{
	struct cli_conn c;
	int r;

	cli_log(CLI_INFO, "Listening for notifications");
	conn_init(&c);
	for (;;) {
		r = listen_once(&c, t);
		conn_close(&c);
		if (r == -ENOMEM) {
			cli_log(CLI_ERROR, "%s", strerror(ENOMEM));
			return 1;
		}
		/* The original ends on these, after its pause. */
		if (r == -EINVAL) {
			sleep(RECONNECT_S);
			cli_log(CLI_ERROR, "%s", c.err);
			return 1;
		}
		cli_log(CLI_WARNING, "Notification listener error: %s", c.err);
		cli_log(CLI_WARNING, "Reconnecting in %d sec...", RECONNECT_S);
		sleep(RECONNECT_S);
	}
}
