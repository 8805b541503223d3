-- vhotplug schema migration from version 4 to 5; sql/schema.sql is the result.
-- Run by db-schema.c inside the transaction that opened the database, with
-- foreign key checks off while tables are rebuilt (SQLite's way of changing
-- a table's constraints) and checked before the commit.
-- devices: keyed by a stable identity instead of the port (devpath). The
-- identity of an existing row is worked out as device_ident() would; rows
-- that would share one (two devices of one model and serial) keep theirs
-- apart by their id.
-- intents: action 'reconcile' (no device), state 'waiting' renamed 'held'
-- (history's 'waiting' is another thing), state 'claimed' with its owner and
-- VMM-side key, and a parent.
-- attachments: one row per device in a VM, with the states around a VMM call.

DROP VIEW current_attachments;
DROP VIEW pending_intents;
DROP VIEW device_history;

ALTER TABLE devices RENAME TO devices_v4;
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
INSERT INTO devices (id, kind, ident, devpath, sysname, label, vendor_id, product_id,
		     vendor_name, product_name, serial, busnum, devnum, devnode, present, last_seen)
	SELECT id, kind, CASE WHEN n = 1 THEN ident ELSE ident || '#' || id END, devpath,
	       sysname, label, vendor_id, product_id, vendor_name, product_name, serial,
	       busnum, devnum, devnode, present, last_seen
	FROM (SELECT *, row_number() OVER (PARTITION BY ident ORDER BY present DESC, id DESC) AS n
	      FROM (SELECT *, CASE kind
			WHEN 'usb' THEN 'usb:' || printf('%04x:%04x', coalesce(vendor_id, 0),
							   coalesce(product_id, 0)) ||
				CASE WHEN coalesce(serial, '') != '' THEN ':' || serial
				     ELSE '@' || sysname END
			WHEN 'pci' THEN 'pci:' || sysname
			ELSE 'evdev:' || devpath END AS ident
		    FROM devices_v4));

ALTER TABLE intents RENAME TO intents_v4;
CREATE TABLE intents (
	id INTEGER PRIMARY KEY,
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
	result TEXT
);
INSERT INTO intents (id, created, device_id, action, vm, allowed_vms, rule, tag, busnum, devnum,
		     state, attempts, finished, result)
	SELECT id, created, device_id, action, vm, allowed_vms, rule, tag, busnum, devnum,
	       CASE state WHEN 'waiting' THEN 'held' ELSE state END, attempts, finished, result
	FROM intents_v4;
DROP INDEX intents_pending;
DROP INDEX intents_device;
DROP TABLE intents_v4;
CREATE INDEX intents_open ON intents (id) WHERE state IN ('pending', 'claimed');
CREATE INDEX intents_device ON intents (device_id);
CREATE INDEX intents_parent ON intents (parent) WHERE parent IS NOT NULL;

ALTER TABLE attachments RENAME TO attachments_v4;
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
INSERT INTO attachments (device_id, vm, qdev_id, since, state)
	SELECT device_id, vm, qdev_id, since, state FROM attachments_v4;
DROP TABLE attachments_v4;
CREATE INDEX attachments_device ON attachments (device_id);

DROP TABLE devices_v4;

-- Spool files statd imported, kept a day: a statd killed after the import
-- committed and before the file was removed does not import it twice.
CREATE TABLE spool_imported (
	name TEXT PRIMARY KEY,
	time TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
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

PRAGMA user_version = 5;
