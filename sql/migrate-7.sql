-- vhotplug schema migration from version 6 to 7; sql/schema.sql is the result.
-- People decide (lib/ops/): who asked for an intent, the VM a user chose for
-- a device, the devices and tags a user detached, and what a suspend took out.

-- intents gets requested_by, rebuilt as migrate-6.sql did (an ALTER TABLE
-- would leave its text unlike a new database's).
DROP VIEW pending_intents;

ALTER TABLE intents RENAME TO intents_v6;
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
INSERT INTO intents (id, created, device_id, action, vm, allowed_vms, rule, tag, busnum, devnum,
		     parent, state, claimed_by, vmm_key, attempts, finished, result)
	SELECT id, created, device_id, action, vm, allowed_vms, rule, tag, busnum, devnum,
	       parent, state, claimed_by, vmm_key, attempts, finished, result
	FROM intents_v6;
DROP INDEX intents_open;
DROP INDEX intents_device;
DROP INDEX intents_parent;
DROP TABLE intents_v6;
CREATE INDEX intents_open ON intents (id) WHERE state IN ('pending', 'claimed');
CREATE INDEX intents_device ON intents (device_id);
CREATE INDEX intents_parent ON intents (parent) WHERE parent IS NOT NULL;

CREATE VIEW pending_intents AS
	SELECT i.id, i.created, coalesce(d.label, '') AS device, i.action,
	       coalesce(i.vm, i.allowed_vms) AS vm, i.state, i.attempts, i.rule
	FROM intents i LEFT JOIN devices d ON d.id = i.device_id
	WHERE i.state IN ('pending', 'held', 'claimed')
	ORDER BY i.id;

CREATE TABLE choices (
	ident TEXT PRIMARY KEY,
	vm TEXT NOT NULL,
	requested_by TEXT,
	since TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	ignored TEXT
);

CREATE TABLE user_marks (
	ident TEXT UNIQUE,
	tag TEXT UNIQUE,
	keep_out INTEGER NOT NULL DEFAULT 1,
	requested_by TEXT,
	since TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	CHECK ((ident IS NULL) != (tag IS NULL))
);

CREATE TABLE suspended (
	ident TEXT PRIMARY KEY,
	vm TEXT NOT NULL,
	bus TEXT NOT NULL CHECK (bus IN ('usb', 'pci')),
	requested_by TEXT,
	since TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

PRAGMA user_version = 7;
