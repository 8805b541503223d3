/* SPDX-License-Identifier: Apache-2.0 */
#include "db-names.h"

static const char *const intent_action_table[INTENT_ACTION_MAX] = {
	[INTENT_ATTACH] = "attach",
	[INTENT_DETACH] = "detach",
	[INTENT_SELECT] = "select",
	[INTENT_IGNORE] = "ignore",
	[INTENT_DECIDE] = "decide",
	[INTENT_RECONCILE] = "reconcile",
};
DEFINE_STRING_TABLE_LOOKUP(intent_action, enum intent_action, INTENT_ACTION_MAX)

static const char *const intent_state_table[INTENT_STATE_MAX] = {
	[INTENT_PENDING] = "pending",
	[INTENT_HELD] = "held",
	[INTENT_CLAIMED] = "claimed",
	[INTENT_DONE] = "done",
	[INTENT_FAILED] = "failed",
	[INTENT_CANCELLED] = "cancelled",
};
DEFINE_STRING_TABLE_LOOKUP(intent_state, enum intent_state, INTENT_STATE_MAX)

static const char *const attachment_state_table[ATTACHMENT_STATE_MAX] = {
	[ATTACHMENT_ATTACHING] = "attaching",
	[ATTACHMENT_ATTACHED] = "attached",
	[ATTACHMENT_DETACHING] = "detaching",
	[ATTACHMENT_DETACH_TIMEOUT] = "detach_timeout",
	[ATTACHMENT_VM_STOPPED] = "vm_stopped",
};
DEFINE_STRING_TABLE_LOOKUP(attachment_state, enum attachment_state, ATTACHMENT_STATE_MAX)

static const char *const history_event_table[HISTORY_EVENT_MAX] = {
	[HISTORY_PLUGGED] = "plugged",
	[HISTORY_PRESENT] = "present",
	[HISTORY_UNPLUGGED] = "unplugged",
	[HISTORY_IGNORED] = "ignored",
	[HISTORY_QUEUED] = "queued",
	[HISTORY_AWAITING_SELECTION] = "awaiting_selection",
	[HISTORY_UNDECIDED] = "undecided",
	[HISTORY_DECIDED] = "decided",
	[HISTORY_CANCELLED] = "cancelled",
	[HISTORY_WAITING] = "waiting",
	[HISTORY_ATTACHED] = "attached",
	[HISTORY_ATTACH_FAILED] = "attach_failed",
	[HISTORY_ATTACH_CANCELLED] = "attach_cancelled",
	[HISTORY_DETACHED] = "detached",
	[HISTORY_DETACH_FAILED] = "detach_failed",
	[HISTORY_DETACH_TIMEOUT] = "detach_timeout",
	[HISTORY_RESTORE_FAILED] = "restore_failed",
	[HISTORY_VM_STOPPED] = "vm_stopped",
	[HISTORY_FORGOTTEN] = "forgotten",
	[HISTORY_RECONCILED] = "reconciled",
	[HISTORY_RECONCILE_FAILED] = "reconcile_failed",
	[HISTORY_REQUESTED] = "requested",
	[HISTORY_KEPT_OUT] = "kept_out",
	[HISTORY_CHOICE_IGNORED] = "choice_ignored",
	[HISTORY_AUTHORIZED] = "authorized",
	[HISTORY_DEAUTHORIZED] = "deauthorized",
	[HISTORY_AUTHORIZATION_FAILED] = "authorization_failed",
};
DEFINE_STRING_TABLE_LOOKUP(history_event, enum history_event, HISTORY_EVENT_MAX)
