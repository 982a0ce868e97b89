-- Suspected-trafficking reports (resolution VI, paras 12 and 15 b) and the
-- automatic screening of registry data on the same indicators
-- (internal/transplant/trafficking.go, docs/trafficking.md).
--
-- A report's row names no one: reporter_pseudonym is the leaf's by, a keyed
-- hash of the reporter's principal id and the report's id, which links no two
-- reports of one reporter; the reporter's identity and the report's free
-- text and linked records are sealed in subjects under identity_ref and
-- content_ref. Indicators are the codes observed, separated by spaces.
CREATE TABLE trafficking_reports (
	id TEXT PRIMARY KEY,
	reporter_pseudonym TEXT NOT NULL,
	indicators TEXT NOT NULL,
	content_ref TEXT NOT NULL,
	identity_ref TEXT NOT NULL,
	status TEXT NOT NULL,
	filed_at TEXT NOT NULL,
	status_at TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX trafficking_reports_queue ON trafficking_reports (log_index DESC, id);

-- Every change of a report's status, by a principal of the designated
-- authority.
CREATE TABLE trafficking_report_events (
	id TEXT PRIMARY KEY,
	report_id TEXT NOT NULL REFERENCES trafficking_reports(id),
	status TEXT NOT NULL,
	at TEXT NOT NULL,
	principal_id TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX trafficking_report_events_report ON trafficking_report_events (report_id, log_index);

-- The alerts the screening raised, one per rule and transplantation; each is
-- also a row of the core's alerts.
CREATE TABLE trafficking_screenings (
	alert_id TEXT PRIMARY KEY,
	rule TEXT NOT NULL,
	category TEXT NOT NULL,
	transplant_id TEXT NOT NULL REFERENCES transplants(id),
	donor_id TEXT NOT NULL,
	recipient_id TEXT NOT NULL,
	centre_id TEXT NOT NULL,
	message TEXT NOT NULL,
	raised_at TEXT NOT NULL,
	log_index BIGINT NOT NULL,
	UNIQUE (rule, transplant_id)
);
CREATE INDEX trafficking_screenings_list ON trafficking_screenings (log_index DESC, alert_id);
