-- An organ received from abroad and transplanted here is a transplantation
-- here (migration 20): the designated authority may find that a trafficking
-- case concerns it, as it may a transplantation of an organ of the registry,
-- and a payer asking about it is then told it is not reimbursable
-- (docs/trafficking.md). Its link names the organ's identifier, which no
-- row of transplants holds: a table of its own, beside
-- trafficking_case_transplants. A projection of
-- transplant.trafficking_case_linked; no link named an organ from abroad
-- before (they were refused).
CREATE TABLE trafficking_case_imports (
	id TEXT PRIMARY KEY,
	report_id TEXT NOT NULL REFERENCES trafficking_reports(id),
	organ_id TEXT NOT NULL REFERENCES organ_imports(organ_id),
	linked_at TEXT NOT NULL,
	linked_by TEXT NOT NULL,
	log_index BIGINT NOT NULL,
	UNIQUE (report_id, organ_id)
);
CREATE INDEX trafficking_case_imports_organ ON trafficking_case_imports (organ_id);

-- The dashboards count the organs from abroad transplanted here by their
-- outcome's month, centre and organ type (figures.go): a range of this
-- index, covering, as the transplantations' own (migration 6).
CREATE INDEX organ_imports_transplanted ON organ_imports (outcome_on, centre_id, organ) WHERE outcome = 'transplanted';

-- A centre's standing reads the outcomes it recorded since a day
-- (standing.go), as it reads its transplantations.
CREATE INDEX organ_imports_centre ON organ_imports (centre_id, outcome_on);
