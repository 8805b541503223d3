-- vhotplug schema migration from version 3 to 4; sql/schema.sql is the result.
-- Run by db-schema.c inside the transaction that opened the database.
-- attachments gains "state" (a detach that timed out is kept, marked so),
-- rebuilt so that the stored schema reads as a new one's; host_drivers is new.

DROP VIEW current_attachments;
ALTER TABLE attachments RENAME TO attachments_v3;
CREATE TABLE attachments (
	device_id INTEGER PRIMARY KEY REFERENCES devices(id),
	vm TEXT NOT NULL,
	qdev_id TEXT NOT NULL,
	since TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	state TEXT NOT NULL DEFAULT 'attached' CHECK (state IN ('attached', 'detach_timeout'))
);
INSERT INTO attachments (device_id, vm, qdev_id, since)
	SELECT device_id, vm, qdev_id, since FROM attachments_v3;
DROP TABLE attachments_v3;

CREATE TABLE host_drivers (
	address TEXT PRIMARY KEY,	-- "0000:06:00.0"
	driver TEXT NOT NULL,
	vm TEXT,			-- the VM it was taken for
	since TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE VIEW current_attachments AS
	SELECT d.label AS device, a.vm, a.since, a.state
	FROM attachments a JOIN devices d ON d.id = a.device_id
	ORDER BY a.since;

PRAGMA user_version = 4;
