/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A request that queued intents is answered when they end: the original
 * answered once its coroutine had attached or detached. statd polls the
 * call after each loop batch; a poll only reads the intents' states.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api-req.h"
#include "log.h"
#include "macro.h"

struct pending {
	struct api_call call;
	struct ops_result res;
	enum api_action action;
	bool batch;
	char who[sizeof(((struct api_caller *)0)->who)];
};

/* The reply once nothing is open; logs each device's end. */
static json_object *ended(const char *who, enum api_action action, struct ops_result *res,
			  bool batch)
{
	const struct ops_item *failed = NULL;

	for (size_t i = 0; i < res->n; i++) {
		const struct ops_item *item = &res->items[i];

		if (item->state == OPS_FAILED || item->state == OPS_REFUSED) {
			log_info("api: %s from %s: %s: %s", api_action_to_string(action), who,
				 item->label, item->result ?: "failed");
			failed = failed ?: item;
		} else {
			log_debug("api: %s from %s: %s: %s", api_action_to_string(action), who,
				  item->label, ops_state_to_string(item->state));
		}
	}
	if (failed && !batch)
		return api_failedf("%s", failed->result ?: "failed");
	return api_reply_ok();
}

static int pending_poll(struct api_call *call, struct api_ctx *ctx, json_object **reply)
{
	struct pending *p = container_of(call, struct pending, call);
	struct ops o = { .paths = ctx->paths, .cfg = ctx->cfg, .db = ctx->db, .who = p->who };
	int r = ops_poll(&o, &p->res);

	if (r != 0)
		return r;
	*reply = ended(p->who, p->action, &p->res, p->batch);
	return *reply ? 0 : -ENOMEM;
}

static void pending_free(struct api_call *call)
{
	struct pending *p = container_of(call, struct pending, call);

	ops_result_clear(&p->res);
	free(p);
}

static const struct api_call_ops pending_ops = {
	.poll = pending_poll,
	.free = pending_free,
};

int api_answer_ops(const struct api_caller *caller, enum api_action action, struct ops_result *res,
		   bool batch, struct api_answer *ans)
{
	struct pending *p;
	bool queued = false;

	for (size_t i = 0; i < res->n; i++)
		queued |= res->items[i].state == OPS_QUEUED;
	if (!queued) {
		ans->reply = ended(caller->who, action, res, batch);
		ops_result_clear(res);
		return ans->reply ? 0 : -ENOMEM;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		ops_result_clear(res);
		return -ENOMEM;
	}
	p->call.ops = &pending_ops;
	p->res = *res;
	*res = (struct ops_result){ 0 };
	p->action = action;
	p->batch = batch;
	snprintf(p->who, sizeof(p->who), "%s", caller->who);
	ans->pending = &p->call;
	ans->queued = true;
	return 0;
}
