-- Oversight (resolution VI, para 6 b and f, para 13; docs/oversight.md):
-- reimbursements of donors' expenses, the regulator's audits with their
-- findings and corrective actions, the designated authority's links from a
-- trafficking case to the transplantations it concerns, and the log of the
-- payers' questions (internal/transplant/oversight*.go).

-- A reimbursement of a reasonable, verifiable expense to a living donor or a
-- donor's family. The amount is exact decimal text, never a float.
CREATE TABLE donor_reimbursements (
	id TEXT PRIMARY KEY,
	donor_id TEXT NOT NULL REFERENCES donors(id),
	centre_id TEXT NOT NULL REFERENCES authorities(id),
	payee TEXT NOT NULL,
	category TEXT NOT NULL,
	amount TEXT NOT NULL,
	currency TEXT NOT NULL,
	incurred_on TEXT NOT NULL,
	evidence_ref TEXT NOT NULL,
	recorded_at TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX donor_reimbursements_centre ON donor_reimbursements (centre_id, recorded_at);
CREATE INDEX donor_reimbursements_donor ON donor_reimbursements (donor_id);

-- An audit the regulator plans of a centre, or of a professional of it.
CREATE TABLE audits (
	id TEXT PRIMARY KEY,
	centre_id TEXT NOT NULL REFERENCES authorities(id),
	professional_ref TEXT NOT NULL,
	planned_on TEXT NOT NULL,
	scope TEXT NOT NULL,
	planned_at TEXT NOT NULL,
	planned_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX audits_centre ON audits (centre_id, planned_on);

CREATE TABLE audit_findings (
	id TEXT PRIMARY KEY,
	audit_id TEXT NOT NULL REFERENCES audits(id),
	severity TEXT NOT NULL,
	description TEXT NOT NULL,
	recorded_at TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX audit_findings_audit ON audit_findings (audit_id);

-- A corrective action a finding asks for, due by due_on; done_on is set
-- when the regulator records it done.
CREATE TABLE corrective_actions (
	id TEXT PRIMARY KEY,
	finding_id TEXT NOT NULL REFERENCES audit_findings(id),
	centre_id TEXT NOT NULL REFERENCES authorities(id),
	action TEXT NOT NULL,
	due_on TEXT NOT NULL,
	done_on TEXT,
	done_note TEXT,
	recorded_at TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX corrective_actions_due ON corrective_actions (centre_id, due_on);

-- The transplantations the designated authority found a trafficking case
-- concerns; a confirmed case makes their procedure not reimbursable.
CREATE TABLE trafficking_case_transplants (
	id TEXT PRIMARY KEY,
	report_id TEXT NOT NULL REFERENCES trafficking_reports(id),
	transplant_id TEXT NOT NULL REFERENCES transplants(id),
	linked_at TEXT NOT NULL,
	linked_by TEXT NOT NULL,
	log_index BIGINT NOT NULL,
	UNIQUE (report_id, transplant_id)
);
CREATE INDEX trafficking_case_transplants_transplant ON trafficking_case_transplants (transplant_id);

-- Every question a payer asked, with the answer given.
CREATE TABLE payer_checks (
	id TEXT PRIMARY KEY,
	transplant_id TEXT NOT NULL,
	asked_by TEXT NOT NULL,
	authority_id TEXT NOT NULL,
	procedure_payable INTEGER NOT NULL,
	reason TEXT NOT NULL,
	asked_at TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX payer_checks_asked ON payer_checks (asked_at);
