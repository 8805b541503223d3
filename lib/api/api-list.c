/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder: device lists come with the device objects. */
#include "api-private.h"

int api_list(struct api_ctx *ctx, enum dev_kind kind, json_object *req, struct api_answer *ans)
{
	(void)ctx;
	(void)kind;
	(void)req;
	ans->reply = api_failed("not implemented yet");
	return 0;
}
