/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * lib/api's insides, one file per part: api.c (the action table, who may
 * ask what, the attach/detach/suspend/resume requests as lib/ops
 * operations), api-list.c (device objects, usb_list and pci_list),
 * api-notify.c (history rows as notifications), api-vmm-args.c (vmm_args).
 * api.c calls the others; they do not call api.c (api_failed() and
 * api_ok() live in api-value.c for that).
 */
#include "api.h"

/* {"result": "failed", "error": ERROR} */
json_object *api_failed(const char *error);
/* {"result": "ok"} */
json_object *api_ok(void);

/* usb_list (KIND DEV_USB) or pci_list (DEV_PCI): the reply to REQ. */
int api_list(struct api_ctx *ctx, enum dev_kind kind, json_object *req, struct api_answer *ans);
/* vmm_args: the reply to REQ, now or pending (binding to vfio-pci may wait for /dev/vfio). */
int api_vmm_args(struct api_ctx *ctx, const struct api_caller *caller, json_object *req,
		 struct api_answer *ans);
