-- Vigilance (docs/vigilance.md): the final disposition of every procured
-- organ, and serious adverse events and reactions (Directive 2010/53/EU,
-- Commission Implementing Directive 2012/25/EU, Annexes I and II) with the
-- notifications they send to every centre that received an organ of the
-- donor. Every row is a projection of the log.

-- An organ not transplanted ends discarded or used for research: one row at
-- most per organ. Its transplantation is the other end (transplants).
CREATE TABLE organ_dispositions (
	id TEXT PRIMARY KEY,
	organ_id TEXT NOT NULL UNIQUE REFERENCES organs(id),
	outcome TEXT NOT NULL,
	reason TEXT NOT NULL,
	note TEXT NOT NULL,
	centre_id TEXT NOT NULL REFERENCES authorities(id),
	disposed_at TEXT NOT NULL,
	recorded_at TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);

-- A serious adverse event or reaction: its initial report, and its final
-- report once made (final_reported_at set). report_id is the national
-- report identification: the registry's country code and a number.
CREATE TABLE sae_reports (
	id TEXT PRIMARY KEY,
	report_id TEXT NOT NULL UNIQUE,
	kind TEXT NOT NULL,
	reporting_authority_id TEXT NOT NULL REFERENCES authorities(id),
	contact TEXT NOT NULL,
	origin_country TEXT NOT NULL,
	donor_id TEXT NOT NULL REFERENCES donors(id),
	organ_id TEXT,
	recipient_ids TEXT NOT NULL, -- a JSON array
	started_at TEXT NOT NULL,
	detected_at TEXT NOT NULL,
	description TEXT NOT NULL,
	immediate_measures TEXT NOT NULL,
	destinations TEXT NOT NULL, -- a JSON array: each organ of the donor and where it went
	reported_at TEXT NOT NULL,
	reported_by TEXT NOT NULL,
	final_due_at TEXT NOT NULL,
	final_reported_at TEXT,
	final_reported_by TEXT,
	conclusion TEXT,
	outcome TEXT,
	corrective_actions TEXT,
	overdue_alert_id TEXT,
	log_index BIGINT NOT NULL
);
CREATE INDEX sae_reports_log ON sae_reports (log_index DESC, id);
CREATE INDEX sae_reports_donor ON sae_reports (donor_id);
CREATE INDEX sae_reports_due ON sae_reports (final_due_at);

-- One notification of an SAE to a centre that must acknowledge it: the
-- records an e-mail sender picks up (recipient centre, SAE, created_at,
-- acknowledged_at). peer_id is for the notifications of foreign registries
-- that the cross-border exchange will add; it is NULL until then.
CREATE TABLE notifications (
	id TEXT PRIMARY KEY,
	sae_id TEXT NOT NULL REFERENCES sae_reports(id),
	centre_id TEXT REFERENCES authorities(id),
	peer_id TEXT,
	created_at TEXT NOT NULL,
	acknowledged_at TEXT,
	acknowledged_by TEXT,
	escalated_at TEXT,
	escalation_alert_id TEXT,
	log_index BIGINT NOT NULL
);
CREATE INDEX notifications_log ON notifications (log_index DESC, id);
CREATE INDEX notifications_sae ON notifications (sae_id);
CREATE INDEX notifications_centre ON notifications (centre_id, acknowledged_at);
