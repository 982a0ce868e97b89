-- Alerts are worked, not only raised: a regulator acknowledges an alert,
-- assigns it, comments on it and closes it with an outcome. A refusal
-- retried within the writer's window is counted on the open alert it
-- repeats (repeats) rather than raised again.
ALTER TABLE alerts ADD COLUMN state TEXT NOT NULL DEFAULT 'open';
ALTER TABLE alerts ADD COLUMN acknowledged_at TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN acknowledged_by TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN assignee_id TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN closed_at TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN closed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN close_note TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN repeats BIGINT NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN last_repeated_at TEXT NOT NULL DEFAULT '';
CREATE INDEX alerts_repeat ON alerts (principal_id, rule, raised_at);
CREATE INDEX alerts_state ON alerts (state, log_index);

CREATE TABLE alert_comments (
	id TEXT PRIMARY KEY,
	alert_id TEXT NOT NULL,
	at TEXT NOT NULL,
	principal_id TEXT NOT NULL,
	text TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX alert_comments_alert ON alert_comments (alert_id, log_index);
