-- Procedures that transplant several organs into one recipient (double
-- kidney, en-bloc kidneys, double lung, kidney-pancreas, heart-lung,
-- liver-kidney, liver-intestine) and the domino liver, whose explant becomes
-- a donated organ (internal/transplant/procedures.go, docs/transplant.md).
-- A procedure is one entry, transplant.procedure_recorded, that writes a row
-- here and one row in transplants per organ, which names the procedure. A
-- transplantation recorded alone (transplant.transplant_recorded, one organ)
-- has no procedure row and a NULL procedure_id: it is its own procedure.
CREATE TABLE transplant_procedures (
	id TEXT PRIMARY KEY,
	kind TEXT NOT NULL,
	recipient_id TEXT NOT NULL REFERENCES recipients(id),
	centre_id TEXT NOT NULL REFERENCES authorities(id),
	donor_id TEXT NOT NULL REFERENCES donors(id),
	performed_at TEXT NOT NULL,
	domino_donor_id TEXT,
	domino_organ_id TEXT,
	recorded_at TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX transplant_procedures_recipient ON transplant_procedures (recipient_id);

ALTER TABLE transplants ADD COLUMN procedure_id TEXT;
CREATE INDEX transplants_procedure ON transplants (procedure_id);

-- A domino donor is a recipient whose explanted liver was donated in the
-- procedure named here.
ALTER TABLE donors ADD COLUMN domino_procedure_id TEXT;
