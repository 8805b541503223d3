/* SPDX-License-Identifier: Apache-2.0 */
/* Waiting, bounded, for what an operation queued: see ops_wait() in ops.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "macro.h"
#include "ops-private.h"
#include "string-table.h"
#include "wake.h"

#define POLL_MS 50

static const char *const ops_state_table[OPS_STATE_MAX] = {
	[OPS_NOTHING] = "nothing",
	[OPS_QUEUED] = "queued",
	[OPS_DONE] = "done",
	[OPS_FAILED] = "failed",
	[OPS_REFUSED] = "refused",
	[OPS_WAITING] = "waiting",
};

const char *ops_state_to_string(enum ops_state s)
{
	return s >= 0 && s < OPS_STATE_MAX ? ops_state_table[s] : NULL;
}

void ops_result_clear(struct ops_result *res)
{
	for (size_t i = 0; i < res->n; i++) {
		free(res->items[i].ident);
		free(res->items[i].label);
		free(res->items[i].vm);
		free(res->items[i].from);
		free(res->items[i].result);
	}
	free(res->items);
	res->items = NULL;
	res->n = 0;
}

/* Is VM's socket there (the VM runs, as far as a look can tell)? */
static bool vm_up(const struct config *cfg, const char *name)
{
	const struct vm *vm = name ? config_find_vm(cfg, name) : NULL;
	struct stat st;

	return !vm || (stat(vm->socket, &st) == 0 && S_ISSOCK(st.st_mode));
}

/* Read ITEM's intents: true while one is open. */
static int look(struct ops *o, struct ops_item *item, bool *open)
{
	int64_t ids[2] = { item->detach_id, item->intent_id };

	*open = false;
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		_cleanup_free_ char *result = NULL;
		enum intent_state state;
		int r;

		if (!ids[i] || (i == 1 && ids[0] == ids[1]))
			continue;
		r = db_intent_status(o->db, ids[i], &state, &result);
		if (r < 0)
			return r;
		if (state == INTENT_PENDING || state == INTENT_CLAIMED || state == INTENT_HELD) {
			*open = true;
			return 0;
		}
		free(item->result);
		item->result = result;
		result = NULL;
		item->state = state == INTENT_DONE ? OPS_DONE : OPS_FAILED;
		/* A move whose detach failed: the attach is not what went wrong. */
		if (item->state == OPS_FAILED)
			return 0;
	}
	return 0;
}

int ops_poll(struct ops *o, struct ops_result *res)
{
	bool any = false;

	for (size_t i = 0; i < res->n; i++) {
		struct ops_item *item = &res->items[i];
		bool open = false;
		int r;

		if (item->state != OPS_QUEUED && item->state != OPS_WAITING)
			continue;
		r = look(o, item, &open);
		/* statd holds the lock a moment: look again next round. */
		if (r == -EBUSY)
			open = true;
		else if (r < 0)
			return r;
		if (open) {
			item->state = OPS_WAITING;
			item->vm_down = !vm_up(o->cfg, item->from && item->detach_id ?
					       item->from : item->vm);
		}
		any |= open;
	}
	return any;
}

int ops_wait(struct ops *o, struct ops_result *res, int timeout_ms)
{
	int64_t deadline = clock_now_ms() + timeout_ms;

	/* statd not running is fine: it reads the intents when it starts. */
	wake_statd(o->paths, "ops");
	if (timeout_ms <= 0)
		return 0;
	for (;;) {
		int r = ops_poll(o, res);

		if (r <= 0)
			return r;
		if (clock_now_ms() >= deadline)
			return 1;
		nanosleep(&(struct timespec){ .tv_nsec = POLL_MS * 1000000L }, NULL);
	}
}
