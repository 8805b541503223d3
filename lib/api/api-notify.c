/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder: no notifications yet. */
#include "api-private.h"

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
