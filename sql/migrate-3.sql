-- vhotplug schema migration from version 2 to 3; sql/schema.sql is the result.
-- Run by db-schema.c inside the transaction that opened the database.
-- intents gains "tag", the tag of the rule set that decided, next to "rule":
-- the table is rebuilt so that the stored schema reads as a new one's.

DROP VIEW pending_intents;
DROP INDEX intents_pending;
DROP INDEX intents_device;
ALTER TABLE intents RENAME TO intents_v2;
CREATE TABLE intents (
	id INTEGER PRIMARY KEY,
	created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	device_id INTEGER NOT NULL REFERENCES devices(id),
	action TEXT NOT NULL CHECK (action IN ('attach', 'detach', 'select', 'ignore', 'decide')),
	vm TEXT,			-- attach: the target VM
	allowed_vms TEXT,		-- select: JSON array of the VMs to choose from
	rule TEXT,			-- the rule that decided
	tag TEXT,			-- the "tag" of its rule set, for tools that select by tag
	-- Device identity at the time of the event: statd acts on this, not on
	-- the devices row, which a later plug in the same port rewrites.
	busnum INTEGER,
	devnum INTEGER,
	state TEXT NOT NULL DEFAULT 'pending'
		CHECK (state IN ('pending', 'waiting', 'done', 'failed', 'cancelled')),
	attempts INTEGER NOT NULL DEFAULT 0,
	finished TEXT,
	result TEXT
);
INSERT INTO intents (id, created, device_id, action, vm, allowed_vms, rule, busnum, devnum, state, attempts, finished, result)
	SELECT id, created, device_id, action, vm, allowed_vms, rule, busnum, devnum, state, attempts, finished, result FROM intents_v2;
DROP TABLE intents_v2;
CREATE INDEX intents_pending ON intents (id) WHERE state = 'pending';
CREATE INDEX intents_device ON intents (device_id);

CREATE VIEW pending_intents AS
	SELECT i.id, i.created, d.label AS device, i.action,
	       coalesce(i.vm, i.allowed_vms) AS vm, i.state, i.attempts, i.rule
	FROM intents i JOIN devices d ON d.id = i.device_id
	WHERE i.state IN ('pending', 'waiting')
	ORDER BY i.id;

PRAGMA user_version = 3;
