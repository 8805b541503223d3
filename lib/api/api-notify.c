/* SPDX-License-Identifier: Apache-2.0 */
/*
 * History rows as the original's notifications (its apiserver.py notify_*,
 * sent from vhotplug.py and device.py):
 *
 *   plugged             usb_connected / pci_connected    {event, usb_device}
 *   awaiting_selection  usb_select_vm                    {event, usb_device, allowed_vms}
 *   attached            usb_attached / pci_attached      {event, usb_device, vm}
 *   detached            usb_detached / pci_detached      {event, usb_device, vm}
 *   unplugged           usb_disconnected / pci_disconnected {event, usb_device}
 *
 * usb_detached and usb_disconnected carry only {"device_node"} (PCI
 * disconnected only {"address"}), as in the original. The original sends
 * usb_detached before usb_disconnected: it detaches on the remove event,
 * then says the device left. Here the helper records the unplug before statd
 * records the detach, so a device's disconnected note is held until its
 * detach is recorded (or it turns out there is none), HOLD_MS at most.
 */
#include <errno.h>
#include <libudev.h>
#include <string.h>

#include "api-private.h"
#include "clock.h"
#include "log.h"
#include "macro.h"

/* Long enough for a device_del that waits for the guest; a VM that does not answer is not waited for. */
#define HOLD_MS 20000
#define HOLD_MAX 64

struct held {
	int64_t device_id, row_id, since_ms;
	json_object *note;
};

/*
 * One statd, one reader of history (statd/api's): the notes held between
 * two collects live here. api_notify_start() begins afresh.
 */
static struct held held[HOLD_MAX];
static size_t n_held;

struct collect {
	struct api_ctx *ctx;
	struct udev *udev;	/* made for the first device object: most collects read no row */
	void (*emit)(json_object *note, void *userdata);
	void *userdata;
};

/* The device object of ROW's device, from sysfs while it is there. */
static json_object *device_object(struct collect *c, const struct db_api_row *row)
{
	if (!c->udev)
		c->udev = udev_new();
	return api_device_object(c->udev, &row->dev);
}

static void send_note(struct collect *c, json_object *note)
{
	if (!note) {
		log_err("notification lost: out of memory");
		return;
	}
	c->emit(note, c->userdata);
	json_object_put(note);
}

/* Held note I goes out now (C NULL: dropped). */
static void release(struct collect *c, size_t i)
{
	json_object *note = held[i].note;

	memmove(&held[i], &held[i + 1], (n_held - i - 1) * sizeof(held[0]));
	n_held--;
	if (c)
		send_note(c, note);
	else
		json_object_put(note);
}

static void release_device(struct collect *c, int64_t device_id)
{
	for (size_t i = 0; i < n_held;)
		if (held[i].device_id == device_id)
			release(c, i);
		else
			i++;
}

static int release_settled_device(struct collect *c, const struct db_api_row *row)
{
	bool awaited = false;
	int r = 0;

	for (size_t i = 0; i < n_held; i++)
		if (held[i].device_id == row->device_id) {
			r = db_api_detach_awaited(c->ctx->db, row->device_id, row->id, &awaited);
			break;
		}
	if (r == 0 && !awaited)
		release_device(c, row->device_id);
	return r;
}

static void hold(struct collect *c, int64_t device_id, int64_t row_id, json_object *note)
{
	if (!note) {
		send_note(c, note);
		return;
	}
	/* Bounded: the oldest goes out first, out of order rather than never. */
	if (n_held == HOLD_MAX)
		release(c, 0);
	held[n_held++] = (struct held){ .device_id = device_id, .row_id = row_id,
					.since_ms = clock_now_ms(), .note = note };
}

static json_object *note_new(const char *kind, const char *event)
{
	char name[64];
	json_object *o = json_object_new_object();

	snprintf(name, sizeof(name), "%s_%s", kind, event);
	if (o)
		json_object_object_add(o, "event", json_object_new_string(name));
	return o;
}

/* {"event": KIND_EVENT, "KIND_device": DEVICE}; takes DEVICE. */
static json_object *note_device(const char *kind, const char *event, json_object *device)
{
	json_object *o = device ? note_new(kind, event) : NULL;
	char key[32];

	if (!o) {
		json_object_put(device);
		return NULL;
	}
	snprintf(key, sizeof(key), "%s_device", kind);
	json_object_object_add(o, key, device);
	return o;
}

/* An attached or detached note: "vm" last, there even when unknown (null), as in the original. */
static json_object *note_vm(const char *kind, const char *event, json_object *device, const char *vm)
{
	json_object *o = note_device(kind, event, device);

	if (o)
		json_object_object_add(o, "vm", vm ? json_object_new_string(vm) : NULL);
	return o;
}

/* The device's one identifying field: what the original sends once it is gone. */
static json_object *device_key(const struct db_api_device *d, bool pci)
{
	json_object *o = json_object_new_object();
	const char *v = pci ? d->sysname : d->devnode;

	if (o)
		json_object_object_add(o, pci ? "address" : "device_node",
				       v ? json_object_new_string(v) : NULL);
	return o;
}

/* The VMs of "RULE; allowed VMs: [...]", the detail lib/intake writes with the row. */
static json_object *allowed_vms(const char *detail)
{
	static const char mark[] = "; allowed VMs: ";
	const char *p = NULL;
	json_object *a;

	for (const char *s = detail; s && (s = strstr(s, mark)); s++)
		p = s + strlen(mark);
	a = p ? json_tokener_parse(p) : NULL;
	if (a && !json_object_is_type(a, json_type_array))
		a = (json_object_put(a), NULL);
	return a;
}

static json_object *select_note(struct collect *c, const struct db_api_row *row)
{
	json_object *o = note_device("usb", "select_vm", device_object(c, row));

	if (o)
		json_object_object_add(o, "allowed_vms", allowed_vms(row->detail));
	return o;
}

static int unplugged(struct collect *c, const struct db_api_row *row, const char *kind, bool pci)
{
	json_object *note = note_device(kind, "disconnected", device_key(&row->dev, pci));
	bool awaited = false;
	int r = db_api_detach_awaited(c->ctx->db, row->device_id, row->id, &awaited);

	if (r < 0) {
		json_object_put(note);
		return r;
	}
	if (awaited)
		hold(c, row->device_id, row->id, note);
	else
		send_note(c, note);
	return 0;
}

static int connected(struct collect *c, const struct db_api_row *row, const char *kind)
{
	json_object *dev = device_object(c, row);

	/* The original authorizes a hub it sees plugged, and says nothing of it. */
	if (dev && !strcmp(kind, "usb") && c->ctx->cfg && c->ctx->cfg->usb_auth.enabled &&
	    api_device_usb_hub(dev)) {
		json_object_put(dev);
		return 0;
	}
	send_note(c, note_device(kind, "connected", dev));
	return 0;
}

static int row_one(void *userdata, const struct db_api_row *row)
{
	struct collect *c = userdata;
	enum dev_kind k = dev_kind_from_string(row->dev.kind);
	const char *kind = k == DEV_USB ? "usb" : "pci";
	bool pci = k == DEV_PCI;

	if (!row->device_id || (k != DEV_USB && k != DEV_PCI))
		return 0;
	switch (history_event_from_string(row->event)) {
	case HISTORY_PLUGGED:
		/* Plugged again before its detach was recorded: it did leave first. */
		release_device(c, row->device_id);
		return connected(c, row, kind);
	case HISTORY_AWAITING_SELECTION:
		if (!pci)
			send_note(c, select_note(c, row));
		return 0;
	case HISTORY_ATTACHED:
		send_note(c, note_vm(kind, "attached", device_object(c, row), row->vm));
		return 0;
	case HISTORY_DETACHED:
		send_note(c, note_vm(kind, "detached",
				     pci ? device_object(c, row) : device_key(&row->dev, false),
				     row->vm));
		release_device(c, row->device_id);
		return 0;
	case HISTORY_DETACH_FAILED:
	case HISTORY_DETACH_TIMEOUT:
		/* The detach ended without a detached note: the device is gone all the same. */
		release_device(c, row->device_id);
		return 0;
	case HISTORY_ATTACH_FAILED:
	case HISTORY_ATTACH_CANCELLED:
	case HISTORY_FORGOTTEN:
		/* Maybe the end: unless it is still in a VM, its detach to come. */
		return release_settled_device(c, row);
	case HISTORY_UNPLUGGED:
		return unplugged(c, row, kind, pci);
	default:
		return 0;
	}
}

struct advance {
	struct collect *c;
	int64_t *last_id;
};

static int advance_one(void *userdata, const struct db_api_row *row)
{
	struct advance *a = userdata;
	int r = row_one(a->c, row);

	/* The database failed: this row is read again next time; its note was not sent. */
	if (r == 0)
		*a->last_id = row->id;
	return r;
}

/* Held notes whose detach is recorded elsewhere or will not be, or that waited long enough. */
static int release_settled(struct collect *c)
{
	int64_t now = clock_now_ms();

	for (size_t i = 0; i < n_held;) {
		bool awaited = false;
		int r = now - held[i].since_ms >= HOLD_MS ? 0 :
			db_api_detach_awaited(c->ctx->db, held[i].device_id, held[i].row_id,
					      &awaited);

		if (r < 0)
			return r;
		if (awaited) {
			i++;
			continue;
		}
		release(c, i);
	}
	return 0;
}

int api_notify_start(struct api_ctx *ctx, int64_t *last_id)
{
	while (n_held)
		release(NULL, 0);
	return db_api_history_last(ctx->db, last_id);
}

int api_notify_collect(struct api_ctx *ctx, int64_t *last_id,
		       void (*emit)(json_object *note, void *userdata), void *userdata)
{
	struct collect c = { .ctx = ctx, .emit = emit, .userdata = userdata };
	struct advance a = { .c = &c, .last_id = last_id };
	int r = db_api_history(ctx->db, *last_id, advance_one, &a);

	if (r == 0)
		r = release_settled(&c);
	udev_unref(c.udev);
	return r;
}
