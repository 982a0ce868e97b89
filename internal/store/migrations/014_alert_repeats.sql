-- The repeats of open alerts not yet in the log (internal/ledger, alerts.go):
-- a refusal retried within the writer's window counts on the open alert it
-- repeats, and the log records those counts at most once a period per
-- alert (an alert.repeated leaf carrying how many it counts) and when the
-- alert is closed, so that traffic nobody authenticated (a forged exchange
-- envelope) cannot grow the log by a leaf a request. Until then the count
-- is here. Not a projection of the log: log verify does not compare it, and
-- a copy restored from the leaves lacks what was not logged yet (at most a
-- period's repeats of each open alert).
CREATE TABLE alert_repeats (
	alert_id TEXT PRIMARY KEY,
	count BIGINT NOT NULL,
	last_at TEXT NOT NULL
);
