-- vhotplug database, schema version 8: what a new database gets.
-- Applied by whichever program opens the database first (helper, statd or
-- vhotplugctl), inside one transaction; PRAGMA user_version records it. An
-- older database is brought here by sql/migrate-N.sql instead, one version at
-- a time, by statd or vhotplugctl only (never on udev's clock): change both
-- together.
-- Times are ISO-8601 UTC text so the sqlite3 shell shows them as they are.

-- Devices seen by udev, one row per device, keyed by a stable identity
-- (lib/device/device.c device_ident()): the same device keeps its row, its history
-- and its attachments wherever it is plugged; another device plugged into the
-- same port gets its own. devpath is where it was last seen: the same on add
-- and remove, when sysfs is already gone.
CREATE TABLE devices (
	id INTEGER PRIMARY KEY,
	kind TEXT NOT NULL CHECK (kind IN ('usb', 'pci', 'evdev')),
	ident TEXT NOT NULL UNIQUE,	-- "usb:046d:c077:SERIAL", "usb:046d:c077@1-3", "pci:0000:06:00.0"
	devpath TEXT NOT NULL,
	sysname TEXT NOT NULL,
	label TEXT NOT NULL,		-- readable identity, control bytes escaped
	vendor_id INTEGER,
	product_id INTEGER,
	vendor_name TEXT,		-- as the device reports it, untouched
	product_name TEXT,
	serial TEXT,
	busnum INTEGER,
	devnum INTEGER,
	devnode TEXT,
	present INTEGER NOT NULL DEFAULT 1,
	last_seen TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX devices_devpath ON devices (devpath);

-- Work for statd, written by the helper (and by vhotplugctl and statd's
-- reconcile). Rows are kept once finished, so a user can see what was asked
-- and what came of it.
-- 'decide': the helper could not load the config; statd decides with the
-- last good config it holds and queues the outcome as a new intent.
-- 'reconcile': make VM have what it should (no device); the attaches and
-- detaches that takes are intents of their own, with it as their parent.
-- States: 'pending' (to do), 'held' (waits for a decision: a user's choice or
-- a config), 'claimed' (statd CLAIMED_BY is asking the VMM: VMM_KEY names the
-- device there; a claim not from the running statd is redone, and every step
-- is idempotent), then one of 'done', 'failed', 'cancelled'.
-- AUTOINCREMENT: an id is never handed out twice, even after retention
-- removed the newest row; statd reads only ids above the last it saw.
CREATE TABLE intents (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	device_id INTEGER REFERENCES devices(id),	-- NULL for 'reconcile'
	action TEXT NOT NULL
		CHECK (action IN ('attach', 'detach', 'select', 'ignore', 'decide', 'reconcile')),
	vm TEXT,			-- attach: the target VM
	allowed_vms TEXT,		-- select: JSON array of the VMs to choose from
	rule TEXT,			-- the rule that decided
	tag TEXT,			-- the "tag" of its rule set, for tools that select by tag
	-- Device identity at the time of the event: statd acts on this, not on
	-- the devices row, which a later plug rewrites.
	busnum INTEGER,
	devnum INTEGER,
	parent INTEGER REFERENCES intents(id),
	state TEXT NOT NULL DEFAULT 'pending'
		CHECK (state IN ('pending', 'held', 'claimed', 'done', 'failed', 'cancelled')),
	claimed_by TEXT,
	vmm_key TEXT,
	attempts INTEGER NOT NULL DEFAULT 0,
	finished TEXT,
	result TEXT,
	requested_by TEXT		-- who asked: "ctl uid=N", "api ..."; NULL: udev or statd
);
-- statd's hot query is "state IN ('pending', 'claimed') ORDER BY id": the
-- index's WHERE must be that term exactly for SQLite to use it.
CREATE INDEX intents_open ON intents (id) WHERE state IN ('pending', 'claimed');
CREATE INDEX intents_device ON intents (device_id);
CREATE INDEX intents_parent ON intents (parent) WHERE parent IS NOT NULL;

-- What statd put into VMs, one row per device in a VM, by the id the VMM
-- knows it by (QEMU qdev id, crosvm port). Written before the VMM is asked
-- ('attaching', 'detaching'), so a device is never in a VM without a row;
-- settled when it answers. 'detach_timeout': the VM was asked to let go and
-- did not say it had. 'vm_stopped': the VM stopped or restarted; its next
-- reconcile puts the device back or forgets the row.
CREATE TABLE attachments (
	id INTEGER PRIMARY KEY,
	device_id INTEGER NOT NULL REFERENCES devices(id),
	vm TEXT NOT NULL,
	qdev_id TEXT NOT NULL,
	bus TEXT,			-- the hot-plug port it is on (QEMU pcie-root-port)
	intent_id INTEGER,		-- the intent that wrote the state
	since TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	state TEXT NOT NULL DEFAULT 'attached' CHECK (state IN
		('attaching', 'attached', 'detaching', 'detach_timeout', 'vm_stopped')),
	UNIQUE (vm, qdev_id)
);
CREATE INDEX attachments_device ON attachments (device_id);

-- The host driver each PCI function had before statd gave it to vfio-pci
-- (written before the first sysfs write), to give it back after the detach.
-- driver '' : it had none.
CREATE TABLE host_drivers (
	address TEXT PRIMARY KEY,	-- "0000:06:00.0"
	driver TEXT NOT NULL,
	vm TEXT,			-- the VM it was taken for
	since TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Spool files statd imported, kept a day: a statd killed after the import
-- committed and before the file was removed does not import it twice.
CREATE TABLE spool_imported (
	name TEXT PRIMARY KEY,
	time TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Append-only: every plug, decision and outcome. The device label is copied
-- in, so history keeps saying what the device was when the event happened.
CREATE TABLE history (
	id INTEGER PRIMARY KEY,
	time TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	device_id INTEGER REFERENCES devices(id),
	device TEXT NOT NULL,
	event TEXT NOT NULL,
	vm TEXT,
	detail TEXT
);
CREATE TRIGGER history_no_update BEFORE UPDATE ON history
BEGIN
	SELECT RAISE(ABORT, 'history is append-only');
END;
-- Retention prunes old rows; anything from the last day stays untouchable.
CREATE TRIGGER history_no_delete BEFORE DELETE ON history
	WHEN old.time > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day')
BEGIN
	SELECT RAISE(ABORT, 'history is append-only');
END;

-- The VM a user chose for a device (vhotplugctl select, attach DEVICE VM),
-- by its stable identity (devices.ident), used at its next plug and by every
-- reconcile while the rules allow it. IGNORED: when a config first made it
-- invalid (a warning in history then, once).
CREATE TABLE choices (
	ident TEXT PRIMARY KEY,
	vm TEXT NOT NULL,
	requested_by TEXT,
	since TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	ignored TEXT
);

-- Detached by a user (the kill switch): a device (IDENT) or every device of
-- a rule set's TAG, seen or not, stays out of every VM until attached again.
-- KEEP_OUT 0 on a device: attached by hand though its tag is kept out.
CREATE TABLE user_marks (
	ident TEXT UNIQUE,
	tag TEXT UNIQUE,
	keep_out INTEGER NOT NULL DEFAULT 1,
	requested_by TEXT,
	since TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	CHECK ((ident IS NULL) != (tag IS NULL))
);

-- What vhotplugctl suspend took out of which VM, for resume to put back.
CREATE TABLE suspended (
	ident TEXT PRIMARY KEY,
	vm TEXT NOT NULL,
	bus TEXT NOT NULL CHECK (bus IN ('usb', 'pci')),
	requested_by TEXT,
	since TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- usbAuthorization: what each authorized_default (usbcore's, every root
-- hub's) held before statd wrote 0, kept while the feature is on; turning it
-- off writes these back and deletes them.
CREATE TABLE usb_auth_saved (
	path TEXT PRIMARY KEY,		-- under sysfs: "module/usbcore/parameters/authorized_default"
	value TEXT NOT NULL,		-- what it held before statd wrote 0
	since TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE VIEW device_history AS
	SELECT time, device, event, vm, detail FROM history ORDER BY id;

CREATE VIEW current_attachments AS
	SELECT d.label AS device, a.vm, a.since, a.state, a.qdev_id
	FROM attachments a JOIN devices d ON d.id = a.device_id
	ORDER BY a.since;

CREATE VIEW pending_intents AS
	SELECT i.id, i.created, coalesce(d.label, '') AS device, i.action,
	       coalesce(i.vm, i.allowed_vms) AS vm, i.state, i.attempts, i.rule
	FROM intents i LEFT JOIN devices d ON d.id = i.device_id
	WHERE i.state IN ('pending', 'held', 'claimed')
	ORDER BY i.id;

PRAGMA user_version = 8;
