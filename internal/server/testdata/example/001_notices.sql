-- The example module's one table: notices posted by clerks of an office.
CREATE TABLE ex_notices (
	id TEXT PRIMARY KEY,
	office_id TEXT NOT NULL REFERENCES authorities(id),
	urgency TEXT NOT NULL,
	body TEXT NOT NULL,
	posted_at TEXT NOT NULL,
	posted_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
