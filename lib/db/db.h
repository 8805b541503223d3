/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db-names.h"
#include "device.h"

struct db;

#define DB_SCHEMA_VERSION 8

enum db_flags {
	/*
	 * Short-lived writer (the helper): no checkpoint on close, so udev does
	 * not wait for fsyncs that statd does later.
	 */
	DB_NO_CLOSE_CHECKPOINT = 1u << 0,
	/*
	 * Writes a power cut may take without harm, as long as a crash cannot
	 * (WAL with synchronous=NORMAL: no fsync per commit, a killed process
	 * loses nothing). statd's outcomes: the intent stays pending and is
	 * redone. The helper's events: after a power cut udev replays every
	 * device at boot, and the VMs they were for start afresh. What a person
	 * decided (vhotplugctl: choices, marks) is written without it, FULL.
	 */
	DB_RELAXED = 1u << 1,
	/*
	 * BUSY_MS is one budget for all lock waits of the connection together,
	 * not a bound per wait: the helper's promise to udev. Only the waits
	 * count: a start slowed by a busy CPU does not spend it. Its WAL checkpoints never wait at all (readers may hold them off
	 * for ever).
	 */
	DB_BUSY_BUDGET = 1u << 2,
	/*
	 * Create a new database, but leave an older schema as it is and fail
	 * with -EPROTO: a migration rebuilds tables and may take seconds, not
	 * for udev's clock. statd (and vhotplugctl) migrate.
	 */
	DB_NO_MIGRATE = 1u << 3,
};

/*
 * Open (creating if needed) the database at PATH in WAL mode and bring its
 * schema up to DB_SCHEMA_VERSION. BUSY_MS bounds every wait for a lock
 * (all of them together with DB_BUSY_BUDGET).
 * Returns 0 or -errno (-EBUSY locked, -EACCES/-EROFS unwritable, -ENOSPC full,
 * -EPROTO a schema newer than this build, or older with DB_NO_MIGRATE);
 * errors are logged.
 */
int db_open(const char *path, int busy_ms, unsigned flags, struct db **out);
void db_close(struct db *db);
/*
 * For a process that opens the database once and exits (the helper): SQLite
 * without the memory a long-lived connection wants (db-brief.c). Before any
 * other SQLite call.
 */
int db_setup_brief(void);
/* 0 when the database can be written; -EROFS (or the error met) when not. */
int db_check_writable(struct db *db);

/*
 * BEGIN IMMEDIATE: take the write lock up front, so later steps cannot
 * deadlock. Writers first queue on DB.lock (an OFD lock the kernel hands to
 * the next waiter on release), waiting at most the budget (DB_BUSY_BUDGET)
 * or db_set_lock_wait()'s bound (BUSY_MS unless set): -EBUSY past it.
 * db_commit() and db_rollback() leave the queue.
 */
int db_begin(struct db *db);
/* Bound each wait in the writers' queue to MS (a loop's connection: a few ms). */
void db_set_lock_wait(struct db *db, int ms);
/*
 * db_begin() waiting at most BUSY_MS for the lock (not the connection's
 * bound): for writes that may as well be made next time, so that the one
 * loop of statd never waits long for them. -EBUSY when the lock is held.
 */
int db_begin_brief(struct db *db, int busy_ms);
int db_commit(struct db *db);
void db_rollback(struct db *db);

/* Record DEV, of identity IDENT (lib/device/ident.h), as present; *ID gets its row id. */
int db_device_upsert(struct db *db, const struct device *dev, const char *ident, const char *label,
		     int64_t *id);
/* Mark the device last seen at DEVPATH absent. -ENOENT when never seen. LABEL: caller frees. */
int db_device_gone(struct db *db, const char *devpath, int64_t *id, char **label);

struct db_intent {
	int64_t device_id;
	enum intent_action action;
	const char *vm;
	const char *allowed_vms;	/* JSON array text, for INTENT_SELECT */
	const char *rule;
	const char *tag;		/* the deciding rule set's tag, or NULL */
	enum intent_state state;	/* INTENT_PENDING unless given */
	int busnum, devnum;		/* -1: unknown */
	int64_t parent;			/* the reconcile that queued it, or 0 */
	const char *requested_by;	/* "ctl uid=N", "api ...": NULL for udev and statd */
};
int db_intent_add(struct db *db, const struct db_intent *in, int64_t *id);

int db_history_add(struct db *db, int64_t device_id, const char *device, enum history_event event,
		   const char *vm, const char *detail);

/* ---- retention (db-prune.c) ---- */

#define DB_HISTORY_DAYS_DEFAULT 90
#define DB_PRUNE_BATCH 500
#define DB_PRUNE_INTERVAL_MS (60 * 60 * 1000)

struct db_prune_counts {
	int intents, history, devices;	/* rows removed, added to by db_prune() */
	int spool;			/* spool_imported names older than a day */
};
/*
 * Remove finished intents (done, failed, cancelled) and history rows older
 * than DAYS (at least 1), then unplugged devices nothing refers to any more,
 * BATCH rows per transaction. Stops between batches once CLOCK_MONOTONIC
 * passes DEADLINE_MS (-1: no deadline). Returns 0 when nothing old is left,
 * 1 when the deadline stopped it first, or -errno.
 */
int db_prune(struct db *db, int days, int batch, int64_t deadline_ms, struct db_prune_counts *c);
/*
 * statd's retention, called from its loop: db_prune() at the first call,
 * then at most once per DB_PRUNE_INTERVAL_MS of NOW_MS (CLOCK_MONOTONIC),
 * sooner when a run left work over. DAYS 0: DB_HISTORY_DAYS_DEFAULT.
 * Logs what it removed. Returns 0 or -errno.
 */
int db_retention(struct db *db, int days, int64_t now_ms);

/* Map an SQLite result code to -errno. */
int db_errno(int sqlite_rc);

/* A pending intent with what statd needs of its device. Strings are owned by the callee's caller: copy them. */
struct db_pending {
	int64_t intent_id;
	int64_t device_id;
	enum intent_action action;
	const char *vm;
	const char *kind;
	const char *label;
	const char *sysname;
	const char *result;	/* set when the intent was put off before */
	int busnum, devnum;	/* of the event, -1 when unknown */
	int vendor_id, product_id;
	const char *devpath;	/* udev DEVPATH: where its sysfs directory is, while present */
	const char *devnode;	/* may be NULL */
	const char *ident;	/* the device's identity; NULL for a reconcile */
	bool claimed;		/* a statd claimed it and may have asked the VMM already */
};
typedef int (*db_pending_fn)(void *userdata, const struct db_pending *p);
/*
 * Call FN for each intent in state 'pending' or 'claimed' with an id above
 * AFTER_ID (0: all), oldest first; stops on FN's error. Uses index
 * intents_open.
 */
int db_intents_pending(struct db *db, int64_t after_id, db_pending_fn fn, void *userdata);
/* Close an intent: STATE is INTENT_DONE, INTENT_FAILED or INTENT_CANCELLED. */
int db_intent_finish(struct db *db, int64_t id, enum intent_state state, const char *result);
/* Keep it pending with a note; *FIRST tells whether it had none, so history gets it once. */
int db_intent_defer(struct db *db, int64_t id, const char *note, bool *first);
/*
 * The device was unplugged: cancel its older open attach/select intents,
 * except EXCEPT_ID (one already in flight). *N gets how many.
 */
int db_intents_cancel(struct db *db, int64_t device_id, int64_t before_id, int64_t except_id,
		      int *n);

/* An intent 'decide' (a plug recorded without a valid config), with its device. Strings borrowed. */
struct db_undecided {
	int64_t intent_id;
	int64_t device_id;
	int busnum, devnum;		/* of the plug, -1 when unknown */
	const char *config_error;	/* why it was not decided then */
	const char *devpath;
	const char *label;
	bool present;
};
typedef int (*db_undecided_fn)(void *userdata, const struct db_undecided *u);
/* Call FN for each waiting 'decide' intent after AFTER_ID, oldest first. */
int db_intents_undecided(struct db *db, int64_t after_id, db_undecided_fn fn, void *userdata);
/* The newest intent's id, 0 when there is none. */
int db_intent_last_id(struct db *db, int64_t *id);
/* ---- attachments and claims (db-attach.c) ---- */

/* One row of attachments; strings owned by the struct (db_attachment_clear()). */
struct db_attachment {
	int64_t id, device_id;
	char *vm, *qdev_id, *label;
	enum attachment_state state;
	char *bus;		/* the hot-plug port it went on, or NULL */
};
void db_attachment_clear(struct db_attachment *a);
/* DEVICE_ID's oldest attachment (in VM, unless NULL) into *A; -ENOENT when none. */
int db_attachment_find(struct db *db, int64_t device_id, const char *vm, struct db_attachment *a);
/* Is there an attachment row, in any state, for QDEV_ID in VM? */
int db_attachment_exists(struct db *db, const char *vm, const char *qdev_id, bool *exists);
/*
 * Claim intent ID for OWNER (the running statd) before the VMM is asked,
 * with what the VMM will know the device by: KEY in VM, on hot-plug port BUS
 * (NULL: none); the same statement counts the attempt. An attach writes
 * the attachment 'attaching' (an 'attached' one stays so), a detach marks
 * it 'detaching'; VM NULL claims the intent alone. Caller holds a
 * transaction. -ESTALE: the intent is no longer open, or another statd
 * that still runs claimed it (OWNER is "PID:START"; a claim of a pid that
 * is gone, is ours, or runs another program is taken over).
 */
int db_claim(struct db *db, int64_t id, const char *owner, bool detach, int64_t device_id,
	     const char *vm, const char *key, const char *bus);
/* Settle the attachment KEY in VM to STATE; NEW_KEY (not NULL) is what the VMM named it. */
int db_attachment_settle(struct db *db, const char *vm, const char *key,
			 enum attachment_state state, const char *new_key);
/* DEVICE_ID is in VM as KEY, 'attached': the row is written if there was none. */
int db_attachment_put(struct db *db, int64_t device_id, const char *vm, const char *key);
int db_attachment_drop(struct db *db, const char *vm, const char *key);
typedef int (*db_attachment_fn)(void *userdata, const struct db_attachment *a);
/* Call FN for each attachment in VM, oldest first. */
int db_attachments_in(struct db *db, const char *vm, db_attachment_fn fn, void *userdata);
/*
 * VM stopped (WHY): its attachments that were in it are 'vm_stopped', each
 * with a history row. *N gets how many. Caller holds a transaction.
 */
int db_attachments_stopped(struct db *db, const char *vm, const char *why, int *n);
/* The device of identity IDENT, recorded present: *ID, 0 when unknown or unplugged. */
int db_device_find(struct db *db, const char *ident, int64_t *id, char **label);
/* FN for the devpath of every device recorded present, oldest first; FN must not write. */
typedef int (*db_present_fn)(void *userdata, const char *devpath);
int db_devices_present(struct db *db, db_present_fn fn, void *userdata);
/* A device recorded present that a new plug says is gone; strings borrowed. */
struct db_displaced {
	int64_t id;
	const char *devpath, *label;
};
typedef int (*db_displaced_fn)(void *userdata, const struct db_displaced *d);
/*
 * Call FN for each device recorded present that a plug of IDENT at DEVPATH
 * (BUSNUM, DEVNUM: -1 unknown) contradicts: another identity at DEVPATH, or
 * the same identity elsewhere or with other bus numbers. Either its remove
 * event was lost, or two devices share an identity.
 */
int db_devices_displaced(struct db *db, const char *devpath, const char *ident, int busnum,
			 int devnum, db_displaced_fn fn, void *userdata);
/* Mark device ID absent. */
int db_device_absent(struct db *db, int64_t id);
/* Is an intent ACTION for VM (and DEVICE_ID, unless 0) still open? */
int db_intent_open(struct db *db, enum intent_action action, const char *vm, int64_t device_id,
		   bool *open);

/* ---- waiting on statd's work (db-status.c) ---- */

/* Intent ID's state and result (caller frees); -ENOENT when there is none. */
int db_intent_status(struct db *db, int64_t id, enum intent_state *state, char **result);
typedef int (*db_child_fn)(void *userdata, enum intent_action action, const char *device,
			   enum intent_state state, const char *result);
/* Call FN for each intent PARENT queued (a reconcile's attaches and detaches), oldest first. */
int db_intent_children(struct db *db, int64_t parent, db_child_fn fn, void *userdata);

/* ---- spool files imported (db-spool.c) ---- */

/* Was the spool file NAME imported (committed) already? */
int db_spool_imported(struct db *db, const char *name, bool *seen);
/* NAME is imported: in the importing transaction. */
int db_spool_mark(struct db *db, const char *name);
/*
 * The helper's event NAME (its copy in RUNDIR/committed, lib/spool.h) is in:
 * in the event's transaction. Retention removes these after a day.
 */
int db_spool_note(struct db *db, const char *name);

/* ---- host drivers of PCI functions (db-host.c) ---- */

/*
 * Record that ADDRESS had DRIVER ("" none) before statd takes it for VM.
 * A record that exists is kept: it holds the driver from before the first take.
 */
int db_host_driver_save(struct db *db, const char *address, const char *driver, const char *vm);
struct vfio_group;
/* The same for every member of G but bridges, in one transaction: before the first sysfs write. */
int db_host_drivers_save_group(struct db *db, const struct vfio_group *g, const char *vm);
/* The recorded driver of ADDRESS into *DRIVER (caller frees); -ENOENT when none. */
int db_host_driver_get(struct db *db, const char *address, char **driver);
int db_host_driver_del(struct db *db, const char *address);
/* How many PCI devices with a sysname in ADDRESSES (N of them) other than DEVICE_ID are attached. */
int db_pci_attached_count(struct db *db, const char *const *addresses, size_t n, int64_t device_id,
			  int *count);

/* ---- usbAuthorization (db-usbauth.c) ---- */

/*
 * Keep VALUE, what the authorized_default at PATH (relative to sysfs) held
 * before statd wrote 0. A record that exists is kept: it holds the value
 * from before the first write, not statd's own 0.
 */
int db_usbauth_save(struct db *db, const char *path, const char *value);
typedef int (*db_usbauth_saved_fn)(void *userdata, const char *path, const char *value);
/* FN for each saved value; stops at FN's error. */
int db_usbauth_saved_each(struct db *db, db_usbauth_saved_fn fn, void *userdata);
int db_usbauth_forget(struct db *db, const char *path);
/* Does a VM have (or is it being given) the plugged USB device at DEVPATH? */
int db_usbauth_in_vm(struct db *db, const char *devpath, bool *in_vm);

/* ---- what people and front ends are shown (db-view.c); strings borrowed ---- */

/* A device and its newest decision (NULL members: none kept). */
struct db_device_row {
	int64_t id;
	const char *kind, *ident, *label, *sysname, *devnode, *last_seen;
	bool present;
	const char *action;		/* "attach", "select", "ignore" */
	const char *rule, *tag;
	const char *vm;			/* attach: its VM */
	const char *allowed_vms;	/* select: JSON array text */
};
typedef int (*db_device_row_fn)(void *userdata, const struct db_device_row *d);
/* Every device the database knows, by id. */
int db_devices_each(struct db *db, db_device_row_fn fn, void *userdata);

struct db_attachment_row {
	const char *vm, *state, *qdev_id, *since;
};
typedef int (*db_attachment_row_fn)(void *userdata, const struct db_attachment_row *a);
int db_device_attachments(struct db *db, int64_t device_id, db_attachment_row_fn fn,
			  void *userdata);

struct db_history_row {
	int64_t id, device_id;	/* device_id 0: none */
	const char *time, *device, *event, *vm, *detail;
};
typedef int (*db_history_row_fn)(void *userdata, const struct db_history_row *h);
/*
 * History of DEVICE_ID (0: every device) from SINCE on (ISO-8601 UTC text,
 * NULL: all), the newest LIMIT rows (<= 0: all), oldest first.
 */
int db_history_each(struct db *db, int64_t device_id, const char *since, int limit,
		    db_history_row_fn fn, void *userdata);
/* The newest "reconciled" or "reconcile_failed" row of VM (time, event, detail only), if any. */
int db_last_reconcile(struct db *db, const char *vm, db_history_row_fn fn, void *userdata);

/* A row of the pending_intents view. */
struct db_open_intent {
	int64_t id;
	const char *created, *device, *action, *vm, *state, *rule;
	int attempts;
};
typedef int (*db_open_intent_fn)(void *userdata, const struct db_open_intent *i);
int db_open_intents_each(struct db *db, db_open_intent_fn fn, void *userdata);

typedef int (*db_named_fn)(void *userdata, int64_t id, const char *label);
/* The devices whose identity or label is NAME, or whose id is NUMBER (0: none). */
int db_devices_named(struct db *db, const char *name, int64_t number, db_named_fn fn,
		     void *userdata);

/* ---- what people decided (db-ops.c; lib/ops/ is its user) ---- */

/* The VM a user chose for the device of identity IDENT into *VM (caller frees; NULL: none). */
int db_choice_get(struct db *db, const char *ident, char **vm);
int db_choice_set(struct db *db, const char *ident, const char *vm, const char *who);
/* The rules no longer allow IDENT's choice: *FIRST is true the first time it is said. */
int db_choice_ignored(struct db *db, const char *ident, bool *first);
/*
 * The marks of IDENT and of TAG (NULL: none): *DEV is -1 (no mark of its
 * own), 1 (kept out) or 0 (let in though its tag is kept out); *TAG_OUT.
 */
int db_marks_get(struct db *db, const char *ident, const char *tag, int *dev, bool *tag_out);
/* IDENT's own mark: KEEP_OUT 1 kept out, 0 let in, -1 none. */
int db_mark_device(struct db *db, const char *ident, int keep_out, const char *who);
/* Every device of TAG kept out (OUT), or not. */
int db_mark_tag(struct db *db, const char *tag, bool out, const char *who);

/* A row of devices; strings borrowed. */
struct db_device_name_row {
	int64_t id;
	const char *ident, *kind, *sysname, *devpath, *devnode, *label;
	int vendor_id, product_id;	/* -1: unknown */
	bool present;
};
/* FN > 0 stops early without error. */
typedef int (*db_device_name_fn)(void *userdata, const struct db_device_name_row *d);
/* Call FN for every device, those plugged in first. */
int db_devices_each_named(struct db *db, db_device_name_fn fn, void *userdata);
/* DEVICE_ID's held select intents are answered: done, with RESULT. */
int db_selects_close(struct db *db, int64_t device_id, const char *result);

/* What a suspend took out: IDENT from VM, BUS "usb" or "pci". */
int db_suspended_add(struct db *db, const char *ident, const char *vm, const char *bus,
		     const char *who);
int db_suspended_del(struct db *db, const char *ident);
/* The VM a suspend took IDENT from into *VM (caller frees), NULL when none did. */
int db_suspended_get(struct db *db, const char *ident, char **vm);
typedef int (*db_suspended_fn)(void *userdata, const char *ident, const char *vm);
/* Call FN for each device a suspend of BUS took (from VM, unless NULL), oldest first. */
int db_suspended_each(struct db *db, const char *bus, const char *vm, db_suspended_fn fn,
		      void *userdata);

/* ---- the original's JSON API (db-api.c; lib/api is its user); strings borrowed ---- */

/* What the devices table holds of a device. */
struct db_api_device {
	const char *kind, *devpath, *sysname, *devnode;	/* kind NULL: no device */
	const char *vendor_name, *product_name, *serial;
	int vendor_id, product_id, busnum, devnum;	/* -1: unknown */
	bool present;
};
/* A history row with its device as the devices table has it now. */
struct db_api_row {
	int64_t id, device_id;		/* device_id 0: none */
	const char *event, *vm, *detail;
	struct db_api_device dev;
};
typedef int (*db_api_row_fn)(void *userdata, const struct db_api_row *row);
/* FN for each history row after AFTER_ID, oldest first, all in one snapshot. */
int db_api_history(struct db *db, int64_t after_id, db_api_row_fn fn, void *userdata);
/* The newest history row's id into *ID, 0 when there is none. */
int db_api_history_last(struct db *db, int64_t *id);
/*
 * Does a detach of DEVICE_ID remain to be recorded after history row
 * AFTER_ID: it has an attachment row, or such an outcome is recorded after it?
 */
int db_api_detach_awaited(struct db *db, int64_t device_id, int64_t after_id, bool *awaited);
/*
 * The device recorded plugged in at DEVPATH: its identity and the VM it is
 * in, each NULL when none (caller frees).
 */
int db_api_device_at(struct db *db, const char *devpath, char **ident, char **vm);
