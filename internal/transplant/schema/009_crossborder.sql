-- Across borders (docs/vigilance.md, "Across borders"): organs sent to and
-- received from the registries of other countries over the core exchange,
-- and serious adverse events and reactions that concern them. Every row is
-- a projection of the log.

-- An organ of this registry allocated to a foreign registry (a registered
-- exchange peer). The outcome is what the destination answered: the
-- organ transplanted (its national recipient id there, the date and centre)
-- or its final disposition.
CREATE TABLE organ_exports (
	organ_id TEXT PRIMARY KEY REFERENCES organs(id),
	id TEXT NOT NULL UNIQUE,
	peer_id TEXT NOT NULL,
	destination_country TEXT NOT NULL,
	destination_centre TEXT NOT NULL,
	exported_at TEXT NOT NULL,
	exported_by TEXT NOT NULL,
	outcome TEXT,
	outcome_on TEXT,
	recipient_ref TEXT,
	outcome_centre TEXT,
	outcome_reason TEXT,
	outcome_at TEXT,
	log_index BIGINT NOT NULL
);
CREATE INDEX organ_exports_peer ON organ_exports (peer_id);

-- An organ received from a foreign registry: keyed by its own identifier
-- (which names its country), with the origin's national donor id, its
-- characterization as the origin sent it, the traceability data, and what
-- happened to it here.
CREATE TABLE organ_imports (
	organ_id TEXT PRIMARY KEY,
	peer_id TEXT NOT NULL,
	origin_country TEXT NOT NULL,
	donor_ref TEXT NOT NULL,
	organ TEXT NOT NULL,
	characterization TEXT,
	characterized_at TEXT,
	procured_at TEXT,
	procurement_centre TEXT,
	shipped_at TEXT,
	destination_centre TEXT NOT NULL,
	outcome TEXT,
	outcome_on TEXT,
	recipient_id TEXT REFERENCES recipients(id),
	centre_id TEXT REFERENCES authorities(id),
	outcome_reason TEXT,
	outcome_at TEXT,
	outcome_by TEXT,
	log_index BIGINT NOT NULL
);
CREATE INDEX organ_imports_donor ON organ_imports (peer_id, donor_ref);
CREATE INDEX organ_imports_log ON organ_imports (log_index DESC, organ_id);

-- A report of a serious adverse event or reaction that a foreign registry
-- sent (origin_report_id, its national report id), or that a centre here
-- raised on an imported organ and sent to the origin (raised_report_id).
CREATE TABLE foreign_sae_reports (
	id TEXT PRIMARY KEY,
	peer_id TEXT NOT NULL,
	origin_report_id TEXT,
	raised_report_id TEXT UNIQUE,
	raised_by TEXT REFERENCES authorities(id),
	donor_ref TEXT NOT NULL,
	kind TEXT NOT NULL,
	report TEXT NOT NULL, -- the Annex I data as received or sent (JSON)
	received_at TEXT NOT NULL,
	acknowledged_at TEXT,
	final_reported_at TEXT,
	conclusion TEXT,
	outcome TEXT,
	corrective_actions TEXT,
	log_index BIGINT NOT NULL
);
CREATE INDEX foreign_sae_reports_log ON foreign_sae_reports (log_index DESC, id);
CREATE INDEX foreign_sae_reports_origin ON foreign_sae_reports (peer_id, origin_report_id);

-- A report of a foreign registry passed on to a centre here that received
-- one of the donor's organs; the centre acknowledges it, or it escalates as
-- a local notification does.
CREATE TABLE foreign_notifications (
	id TEXT PRIMARY KEY,
	foreign_sae_id TEXT NOT NULL REFERENCES foreign_sae_reports(id),
	centre_id TEXT NOT NULL REFERENCES authorities(id),
	created_at TEXT NOT NULL,
	acknowledged_at TEXT,
	acknowledged_by TEXT,
	escalated_at TEXT,
	escalation_alert_id TEXT,
	log_index BIGINT NOT NULL
);
CREATE INDEX foreign_notifications_sae ON foreign_notifications (foreign_sae_id);
CREATE INDEX foreign_notifications_centre ON foreign_notifications (centre_id, acknowledged_at);

-- A report made here from one a destination registry raised: that registry
-- and its report id.
ALTER TABLE sae_reports ADD COLUMN raised_by_peer TEXT;
ALTER TABLE sae_reports ADD COLUMN raised_report_id TEXT;

-- The exchange messages of this registry's types it has acted on, by inbox
-- id: a message recorded and not acted on (the server stopped between) is
-- acted on by the background work.
CREATE TABLE exchange_applied (
	inbox_id TEXT PRIMARY KEY,
	type TEXT NOT NULL,
	applied_at TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
