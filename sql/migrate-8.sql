-- vhotplug schema migration from version 7 to 8; sql/schema.sql is the result.
-- usbAuthorization: the authorized_default values statd found before it set
-- them to 0, so that turning the feature off gives the host its USB back.

CREATE TABLE usb_auth_saved (
	path TEXT PRIMARY KEY,		-- under sysfs: "module/usbcore/parameters/authorized_default"
	value TEXT NOT NULL,		-- what it held before statd wrote 0
	since TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

PRAGMA user_version = 8;
