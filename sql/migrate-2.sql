-- vhotplug schema migration from version 1 to 2; sql/schema.sql is the result.
-- Run by db-schema.c inside the transaction that opened the database.
-- intents gains the 'decide' action (a CHECK needs the table rebuilt); the
-- open-intent index becomes one that statd's "state = 'pending'" query uses;
-- history rows older than a day may be pruned.

DROP VIEW pending_intents;
DROP INDEX intents_open;
ALTER TABLE intents RENAME TO intents_v1;
CREATE TABLE intents (
	id INTEGER PRIMARY KEY,
	created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	device_id INTEGER NOT NULL REFERENCES devices(id),
	action TEXT NOT NULL CHECK (action IN ('attach', 'detach', 'select', 'ignore', 'decide')),
	vm TEXT,			-- attach: the target VM
	allowed_vms TEXT,		-- select: JSON array of the VMs to choose from
	rule TEXT,			-- the rule that decided
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
INSERT INTO intents SELECT * FROM intents_v1;
DROP TABLE intents_v1;
CREATE INDEX intents_pending ON intents (id) WHERE state = 'pending';
CREATE INDEX intents_device ON intents (device_id);

DROP TRIGGER history_no_delete;
CREATE TRIGGER history_no_delete BEFORE DELETE ON history
	WHEN old.time > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day')
BEGIN
	SELECT RAISE(ABORT, 'history is append-only');
END;

CREATE VIEW pending_intents AS
	SELECT i.id, i.created, d.label AS device, i.action,
	       coalesce(i.vm, i.allowed_vms) AS vm, i.state, i.attempts, i.rule
	FROM intents i JOIN devices d ON d.id = i.device_id
	WHERE i.state IN ('pending', 'waiting')
	ORDER BY i.id;

PRAGMA user_version = 2;
