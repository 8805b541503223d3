/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who may ask what. The original lets any caller of any transport name any
 * VM, so a guest could rebind host PCI functions to vfio-pci. Here a unix
 * caller (the host's socket, guarded by its owner and mode) may ask
 * everything; a vsock caller (a guest: the ghaf applet) only the USB
 * actions a desktop needs, unless general.api.cidActions grants its CID
 * more. tcp carries no peer identity (any local user, or with another
 * address any host, may connect), so it gets the vsock caller's actions
 * and no grant: the host's scripts use the unix socket, as vhotplugcli
 * does by default outside a VM.
 */
#include <stdio.h>
#include <string.h>

#include "api-req.h"
#include "macro.h"

/* What every vsock or tcp caller may ask. */
static const bool guest_actions[API_ACTION_MAX] = {
	[API_ENABLE_NOTIFICATIONS] = true,
	[API_USB_LIST] = true,
	[API_USB_ATTACH] = true,
	[API_USB_DETACH] = true,
};

static bool granted(const struct config *cfg, unsigned cid, enum api_action action)
{
	const char *name = api_action_to_string(action);

	for (size_t i = 0; i < cfg->api.n_grants; i++) {
		const struct api_cid_grant *g = &cfg->api.grants[i];

		if (g->cid != cid)
			continue;
		for (size_t k = 0; k < g->n_actions; k++)
			if (streq(g->actions[k], name))
				return true;
	}
	return false;
}

bool api_permitted(const struct config *cfg, const struct api_caller *caller,
		   enum api_action action, char *why, size_t size)
{
	const char *name = api_action_to_string(action);

	if (caller->transport == API_UNIX || guest_actions[action])
		return true;
	if (caller->transport == API_VSOCK && granted(cfg, caller->cid, action))
		return true;
	if (caller->transport == API_VSOCK)
		snprintf(why, size, "%s is not allowed over vsock (CID %u): a guest may ask "
			 "enable_notifications, usb_list, usb_attach and usb_detach only, unless "
			 "general.api.cidActions grants its CID more", name, caller->cid);
	else
		snprintf(why, size, "%s is not allowed over tcp: ask it on the unix socket", name);
	return false;
}
