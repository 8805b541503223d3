/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device actions as lib/ops operations, after the checks the
 * original's device.py made, with its words: _attach_existing_device()
 * and remove_device() for one device, attach/detach_connected_usb() and
 * _pci() for a tag, a suspend, a resume.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api-req.h"
#include "log.h"
#include "safety.h"

static struct ops ops_of(struct api_ctx *ctx, const struct api_caller *caller)
{
	return (struct ops){ .paths = ctx->paths, .cfg = ctx->cfg, .db = ctx->db, .who = caller->who };
}

/* Refuse with TEXT now: the reply, a history row and a log line. */
static int refuse(struct api_ctx *ctx, const struct api_caller *caller, enum api_action action,
		  const struct api_dev *d, const char *vm, const char *text, struct api_answer *ans)
{
	log_info("api: %s from %s: %s", api_action_to_string(action), caller->who, text);
	api_history(ctx, caller, action, d ? d->id : 0, d ? d->label : NULL, vm, text);
	ans->reply = api_failedf("%s", text);
	return ans->reply ? 0 : -ENOMEM;
}

static bool in_list(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (streq(v[i], s))
			return true;
	return false;
}

/*
 * Why D (read from udev: api-select.c) may not go to a VM at all, in the
 * original's words where it had them; NULL: it may.
 */
static const char *unattachable(const struct api_dev *d, const char *name, char *buf, size_t size)
{
	char reason[256] = "";
	const char *never;
	int r = d->dev->kind == DEV_USB ? safety_check_usb(d->dev->syspath, reason, sizeof(reason)) : 0;

	if (r < 0) {
		/* Not knowing is a refusal, as statd's preparation has it. */
		snprintf(buf, size, "Device %s: whether it backs a mounted filesystem could not be "
			 "told: %s", name, strerror(-r));
		return buf;
	}
	/* The hub is said below; the rest is what the original called the boot device. */
	if (r > 0 && !strstr(reason, "hub")) {
		snprintf(buf, size, "Device %s is used as a boot device", name);
		return buf;
	}
	never = match_never_reason(d->dev);
	if (never) {
		/* The original had no such refusal: hubs were never its to pass. */
		snprintf(buf, size, "Device %s %s", name, never);
		return buf;
	}
	if (!d->m.set) {
		snprintf(buf, size, "No VM found for %s", name);
		return buf;
	}
	return NULL;
}

int api_dev_attach(struct api_ctx *ctx, const struct api_caller *caller, enum api_action action,
		   struct api_dev *d, const char *vm, struct api_answer *ans)
{
	struct ops o = ops_of(ctx, caller);
	struct ops_result res = { 0 };
	const struct ruleset *set;
	_cleanup_free_ char *chosen = NULL;
	const char *target, *why, *pass = NULL;
	char name[512], buf[1024];
	int r;

	api_friendly(d, name, sizeof(name));
	why = unattachable(d, name, buf, sizeof(buf));
	if (why)
		return refuse(ctx, caller, action, d, vm, why, ans);
	set = d->m.set;
	target = set->target_vm;
	if (target && vm && !streq(vm, target)) {
		snprintf(buf, sizeof(buf), "Selected VM %s but target VM is set to %s", vm, target);
		return refuse(ctx, caller, action, d, vm, buf, ans);
	}
	if (!target && set->n_allowed_vms == 0)
		return refuse(ctx, caller, action, d, vm, "No allowed VMs defined", ans);
	if (!target && vm && !in_list(set->allowed_vms, set->n_allowed_vms, vm)) {
		snprintf(buf, sizeof(buf), "Selected VM %s is not allowed", vm);
		return refuse(ctx, caller, action, d, vm, buf, ans);
	}
	if (!target && vm) {
		/* A choice among allowedVms is remembered (ops_attach saves the VM it is given). */
		target = pass = vm;
	} else if (!target) {
		/* The original's _autoselect_vm(): the remembered choice, else the first allowed. */
		r = db_choice_get(ctx->db, d->ident, &chosen);
		if (r < 0)
			return r;
		if (chosen && in_list(set->allowed_vms, set->n_allowed_vms, chosen))
			target = chosen;
		else
			target = pass = set->allowed_vms[0];
	}
	if (!config_find_vm(ctx->cfg, target)) {
		snprintf(buf, sizeof(buf), "VM %s is not found in the config file", target);
		return refuse(ctx, caller, action, d, target, buf, ans);
	}
	log_info("api: %s from %s: %s to %s", api_action_to_string(action), caller->who, d->label,
		 target);
	r = ops_attach(&o, d->id, pass, false, &res);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		/* Refused by lib/ops (a PCI function offered a choice, the database): its words. */
		r = refuse(ctx, caller, action, d, target, res.error, ans);
		ops_result_clear(&res);
		return r;
	}
	return api_answer_ops(caller, action, &res, false, ans);
}

int api_dev_detach(struct api_ctx *ctx, const struct api_caller *caller, enum api_action action,
		   struct api_dev *d, struct api_answer *ans)
{
	struct ops o = ops_of(ctx, caller);
	struct ops_result res = { 0 };
	struct db_attachment a = { 0 };
	char name[512], buf[1024];
	int r = db_attachment_find(ctx->db, d->id, NULL, &a);

	api_friendly(d, name, sizeof(name));
	if (r == -ENOENT) {
		/* As the original: nothing changes, not even the detached-by-user mark. */
		snprintf(buf, sizeof(buf), "Device %s is not attached to any VM", name);
		return refuse(ctx, caller, action, d, NULL, buf, ans);
	}
	if (r < 0)
		return r;
	if (!config_find_vm(ctx->cfg, a.vm)) {
		snprintf(buf, sizeof(buf), "VM %s not found in the configuration file", a.vm);
		db_attachment_clear(&a);
		return refuse(ctx, caller, action, d, NULL, buf, ans);
	}
	log_info("api: %s from %s: %s from %s, kept out until attached again",
		 api_action_to_string(action), caller->who, d->label, a.vm);
	db_attachment_clear(&a);
	r = ops_detach(&o, d->id, &res);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		r = refuse(ctx, caller, action, d, NULL, res.error, ans);
		ops_result_clear(&res);
		return r;
	}
	return api_answer_ops(caller, action, &res, false, ans);
}

static bool tag_known(const struct config *cfg, const char *tag)
{
	for (size_t i = 0; i < cfg->n_sets; i++)
		if (streq(cfg->sets[i].tag, tag))
			return true;
	return false;
}

int api_tag(struct api_ctx *ctx, const struct api_caller *caller, enum api_action action,
	    const char *tag, bool out, struct api_answer *ans)
{
	struct ops o = ops_of(ctx, caller);
	struct ops_result res = { 0 };
	char what[256];
	int r;

	snprintf(what, sizeof(what), "tag %s: no rule set has it, nothing to do", tag);
	/* The original answered "ok" to a tag no rule carries: it found no device of it. */
	if (!tag_known(ctx->cfg, tag)) {
		log_info("api: %s from %s: %s", api_action_to_string(action), caller->who, what);
		api_history(ctx, caller, action, 0, NULL, NULL, what);
		ans->reply = api_reply_ok();
		return ans->reply ? 0 : -ENOMEM;
	}
	log_info("api: %s from %s: tag %s", api_action_to_string(action), caller->who, tag);
	r = out ? ops_detach_tag(&o, tag, &res) : ops_attach_tag(&o, tag, NULL, &res);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		r = refuse(ctx, caller, action, NULL, NULL, res.error, ans);
		ops_result_clear(&res);
		return r;
	}
	return api_answer_ops(caller, action, &res, true, ans);
}

int api_suspend(struct api_ctx *ctx, const struct api_caller *caller, enum api_action action,
		const char *bus, const char *vm, bool out, struct api_answer *ans)
{
	struct ops o = ops_of(ctx, caller);
	struct ops_result res = { 0 };
	int r = 0;

	log_info("api: %s from %s: %s", api_action_to_string(action), caller->who, vm ?: "every VM");
	if (vm && !config_find_vm(ctx->cfg, vm)) {
		/* The original skipped every device, none being in that VM, and said "ok". */
		api_history(ctx, caller, action, 0, NULL, vm, "no such VM, nothing to do");
		ans->reply = api_reply_ok();
		return ans->reply ? 0 : -ENOMEM;
	}
	if (vm || streq(bus, "usb")) {
		r = ops_suspend(&o, bus, vm, out, &res);
	} else {
		/* lib/ops takes PCI one VM at a time; the original took every VM's without one. */
		for (size_t i = 0; r >= 0 && i < ctx->cfg->n_vms; i++)
			r = ops_suspend(&o, bus, ctx->cfg->vms[i].name, out, &res);
	}
	if (r == -ENOMEM) {
		ops_result_clear(&res);
		return r;
	}
	if (r < 0) {
		r = refuse(ctx, caller, action, NULL, vm, res.error, ans);
		ops_result_clear(&res);
		return r;
	}
	return api_answer_ops(caller, action, &res, true, ans);
}
