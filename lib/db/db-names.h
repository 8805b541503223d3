/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The words the database stores: intent actions and states, attachment
 * states and history events (sql/schema.sql's CHECKs list the first three;
 * README.md "History events" lists the last). Each enum has one string
 * table in db-names.c; code names the values, never the text.
 */
#pragma once

#include <errno.h>

#include "string-table.h"

enum intent_action {
	INTENT_ATTACH,
	INTENT_DETACH,
	INTENT_SELECT,		/* waits for a user's choice of VM */
	INTENT_IGNORE,		/* pending: statd authorizes the interfaces a hostAllow rule names */
	INTENT_DECIDE,		/* recorded without a valid config: statd decides */
	INTENT_RECONCILE,	/* make a VM have what it should (no device) */
	INTENT_ACTION_MAX,
	INTENT_ACTION_INVALID = -EINVAL,
};

/* The zero value is what an intent gets unless told otherwise. */
enum intent_state {
	INTENT_PENDING,
	INTENT_HELD,
	INTENT_CLAIMED,
	INTENT_DONE,
	INTENT_FAILED,
	INTENT_CANCELLED,
	INTENT_STATE_MAX,
	INTENT_STATE_INVALID = -EINVAL,
};

enum attachment_state {
	ATTACHMENT_ATTACHING,
	ATTACHMENT_ATTACHED,
	ATTACHMENT_DETACHING,
	ATTACHMENT_DETACH_TIMEOUT,
	ATTACHMENT_VM_STOPPED,
	ATTACHMENT_STATE_MAX,
	ATTACHMENT_STATE_INVALID = -EINVAL,
};

enum history_event {
	HISTORY_PLUGGED,
	HISTORY_PRESENT,
	HISTORY_UNPLUGGED,
	HISTORY_IGNORED,
	HISTORY_QUEUED,
	HISTORY_AWAITING_SELECTION,
	HISTORY_UNDECIDED,
	HISTORY_DECIDED,
	HISTORY_CANCELLED,
	HISTORY_WAITING,
	HISTORY_ATTACHED,
	HISTORY_ATTACH_FAILED,
	HISTORY_ATTACH_CANCELLED,
	HISTORY_DETACHED,
	HISTORY_DETACH_FAILED,
	HISTORY_DETACH_TIMEOUT,
	HISTORY_RESTORE_FAILED,
	HISTORY_VM_STOPPED,
	HISTORY_FORGOTTEN,
	HISTORY_RECONCILED,
	HISTORY_RECONCILE_FAILED,
	HISTORY_REQUESTED,		/* a person asked (vhotplugctl, the API): the detail says who */
	HISTORY_KEPT_OUT,		/* a user's detach keeps the device out */
	HISTORY_CHOICE_IGNORED,		/* a remembered choice the rules no longer allow */
	HISTORY_AUTHORIZED,		/* usbAuthorization: a 1 written (a device, an interface, a default) */
	HISTORY_DEAUTHORIZED,		/* usbAuthorization: a 0 written */
	HISTORY_AUTHORIZATION_FAILED,	/* usbAuthorization: a write refused or failed (the detail says why) */
	HISTORY_EVENT_MAX,
	HISTORY_EVENT_INVALID = -EINVAL,	/* also: no history row */
};

DECLARE_STRING_TABLE_LOOKUP(intent_action, enum intent_action);
DECLARE_STRING_TABLE_LOOKUP(intent_state, enum intent_state);
DECLARE_STRING_TABLE_LOOKUP(attachment_state, enum attachment_state);
DECLARE_STRING_TABLE_LOOKUP(history_event, enum history_event);
