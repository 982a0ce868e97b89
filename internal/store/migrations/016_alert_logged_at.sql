-- When the last leaf of an open alert was written: its raising or its last
-- alert.repeated (internal/ledger, alerts.go). The writer logs repeats at
-- most once a period after it, and the registry logs the repeats counted
-- outside the log once it is a period old (Writer.LogRepeats); the time of
-- the last repeat (last_repeated_at) is not it, since a leaf that logs
-- counted repeats comes after them. Empty for a closed alert. Before this
-- migration an open alert's last leaf was its raising or an alert.repeated
-- whose time is last_repeated_at, which is what a replay of the leaves sets.
ALTER TABLE alerts ADD COLUMN logged_at TEXT NOT NULL DEFAULT '';
UPDATE alerts SET logged_at = CASE WHEN state = 'closed' THEN ''
	WHEN last_repeated_at > raised_at THEN last_repeated_at ELSE raised_at END;
