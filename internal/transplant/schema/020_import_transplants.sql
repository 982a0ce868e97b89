-- An organ received from abroad and transplanted here (its outcome
-- transplanted, with the recipient) is a transplantation here, whatever the
-- organ's origin (docs/transplant.md, docs/oversight.md): it ends the
-- recipient's registration, the GODT report and the equity report count it,
-- and the recipient is followed up from its day. The projector of
-- transplant.import_outcome_recorded now writes it into the reports' narrow
-- rows (internal/transplant/reportrows.go); the outcomes already recorded
-- are written here as it would have written them, so that log verify's
-- replay finds the same rows.

-- The follow-up schedule reads a recipient's organs from abroad beside their
-- transplantations (internal/transplant/followup.go).
CREATE INDEX organ_imports_recipient ON organ_imports (recipient_id);

-- A GODT transplant, keyed by the organ's identifier, single, with the
-- donor's kind the registry of origin characterized (unknown without one).
-- sqlite: INSERT INTO godt_transplants (id, performed_at, year, organ, donor_kind, procedure_kind)
-- sqlite: 	SELECT i.organ_id, i.outcome_on, CAST(substr(i.outcome_on, 1, 4) AS INTEGER), i.organ,
-- sqlite: 		COALESCE(NULLIF(json_extract(i.characterization, '$.donor.kind'), ''), 'unknown'), 'single'
-- sqlite: 	FROM organ_imports i WHERE i.outcome = 'transplanted';
-- postgres: INSERT INTO godt_transplants (id, performed_at, year, organ, donor_kind, procedure_kind)
-- postgres: 	SELECT i.organ_id, i.outcome_on, CAST(substr(i.outcome_on, 1, 4) AS INTEGER), i.organ,
-- postgres: 		COALESCE(NULLIF(i.characterization::jsonb #>> '{donor,kind}', ''), 'unknown'), 'single'
-- postgres: 	FROM organ_imports i WHERE i.outcome = 'transplanted';

-- The registration's first transplantation here, and the wait to it.
UPDATE equity_registrations SET first_at = (SELECT MIN(i.outcome_on) FROM organ_imports i
		WHERE i.recipient_id = equity_registrations.recipient_id AND i.outcome = 'transplanted')
	WHERE EXISTS (SELECT 1 FROM organ_imports i WHERE i.recipient_id = equity_registrations.recipient_id AND i.outcome = 'transplanted'
		AND (equity_registrations.first_at IS NULL OR i.outcome_on < equity_registrations.first_at));
UPDATE equity_registrations SET
	wait_months = (CAST(substr(first_at, 1, 4) AS INTEGER) * 12 + CAST(substr(first_at, 6, 2) AS INTEGER))
		- (CAST(substr(listed_on, 1, 4) AS INTEGER) * 12 + CAST(substr(listed_on, 6, 2) AS INTEGER))
	WHERE EXISTS (SELECT 1 FROM organ_imports i WHERE i.recipient_id = equity_registrations.recipient_id AND i.outcome = 'transplanted');
