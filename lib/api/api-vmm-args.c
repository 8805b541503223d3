/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder: vmm_args comes later. */
#include "api-private.h"

int api_vmm_args(struct api_ctx *ctx, const struct api_caller *caller, json_object *req,
		 struct api_answer *ans)
{
	(void)ctx;
	(void)caller;
	(void)req;
	ans->reply = api_failed("not implemented yet");
	return 0;
}
