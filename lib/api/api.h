/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The original vhotplug's JSON API, as requests and replies: what a request
 * line asks, who may ask it, and the notifications history turns into.
 * statd/api/ owns the sockets and calls this; nothing here does socket I/O
 * or blocks on a VM: a request that changes a VM queues intents (lib/ops)
 * and becomes a pending call, polled after each of statd's loop batches,
 * and at the time its deadline() names, should nothing else wake the loop.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "config.h"
#include "db.h"
#include "paths.h"

struct api_ctx {
	const struct paths *paths;
	const struct config *cfg;
	struct db *db;
};

/* Who sent a request: fixed when the connection is accepted. */
struct api_caller {
	enum api_transport transport;	/* API_UNIX, API_TCP or API_VSOCK */
	uid_t uid;			/* unix: SO_PEERCRED */
	pid_t pid;
	unsigned cid;			/* vsock: the peer's CID */
	const char *vm;			/* vsock: the VM that CID belongs to, or NULL */
	char who[96];			/* "api unix uid=0 pid=12", "api vsock cid=3 vm=gui-vm":
					 * requested_by in intents and history */
};

/* A request still waiting for its intents (or other work) to end. */
struct api_call {
	const struct api_call_ops *ops;
};
struct api_call_ops {
	/* 1: still open; 0: ended, *REPLY set; -errno: the database failed. */
	int (*poll)(struct api_call *call, struct api_ctx *ctx, json_object **reply);
	void (*free)(struct api_call *call);
	/*
	 * When it next wants a poll with no event to cause one (something it
	 * waits for that the loop does not watch): a clock_now_ms() time, or
	 * -1 for none; a time already past is polled at once, so name the
	 * next look, not one gone by. NULL: polled on the loop's events only.
	 */
	int64_t (*deadline)(struct api_call *call);
};

/* What api_request() made of one request. Exactly one of REPLY and PENDING is set. */
struct api_answer {
	json_object *reply;		/* answer now (owned by the caller) */
	struct api_call *pending;	/* answer when api_call_poll() says so */
	bool subscribe;			/* enable_notifications: this connection gets them */
	bool queued;			/* intents were written: statd should read them */
};

/*
 * Handle one request REQ (parsed from one line; NULL when the line was not
 * a JSON object) from CALLER. Fills ANS; 0, or -ENOMEM.
 */
int api_request(struct api_ctx *ctx, const struct api_caller *caller, json_object *req,
		struct api_answer *ans);

static inline int api_call_poll(struct api_call *call, struct api_ctx *ctx, json_object **reply)
{
	return call->ops->poll(call, ctx, reply);
}

static inline int64_t api_call_deadline(struct api_call *call)
{
	return call->ops->deadline ? call->ops->deadline(call) : -1;
}

static inline void api_call_free(struct api_call *call)
{
	if (call)
		call->ops->free(call);
}

/*
 * Notifications: history rows after *LAST_ID become the original's event
 * objects, in the original's order, each passed to EMIT (which takes a
 * reference if it keeps it). *LAST_ID advances past what was read.
 * api_notify_start() sets *LAST_ID to the newest row: only what happens
 * after a client subscribed is sent.
 * One reader: the notes held between collects (a disconnect waits for its
 * detach) are lib/api's, and api_notify_start() drops them.
 */
int api_notify_start(struct api_ctx *ctx, int64_t *last_id);
int api_notify_collect(struct api_ctx *ctx, int64_t *last_id,
		       void (*emit)(json_object *note, void *userdata), void *userdata);
