/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder until the actions land: every request is answered now. */
#include <errno.h>
#include <string.h>

#include "api.h"

static json_object *failed(const char *error)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "result", json_object_new_string("failed"));
	json_object_object_add(o, "error", json_object_new_string(error));
	return o;
}

int api_request(struct api_ctx *ctx, const struct api_caller *caller, json_object *req,
		struct api_answer *ans)
{
	json_object *action = NULL;
	char buf[256];

	(void)ctx;
	(void)caller;
	*ans = (struct api_answer){ 0 };
	if (!req || !json_object_object_get_ex(req, "action", &action) || !action ||
	    !json_object_get_string(action)[0]) {
		ans->reply = failed("No action specified");
	} else if (!strcmp(json_object_get_string(action), "enable_notifications")) {
		ans->reply = json_object_new_object();
		json_object_object_add(ans->reply, "result", json_object_new_string("ok"));
		ans->subscribe = true;
	} else {
		snprintf(buf, sizeof(buf), "Unknown message: %s", json_object_get_string(action));
		ans->reply = failed(buf);
	}
	return ans->reply ? 0 : -ENOMEM;
}

int api_notify_start(struct api_ctx *ctx, int64_t *last_id)
{
	(void)ctx;
	*last_id = 0;
	return 0;
}

int api_notify_collect(struct api_ctx *ctx, int64_t *last_id,
		       void (*emit)(json_object *note, void *userdata), void *userdata)
{
	(void)ctx;
	(void)last_id;
	(void)emit;
	(void)userdata;
	return 0;
}
