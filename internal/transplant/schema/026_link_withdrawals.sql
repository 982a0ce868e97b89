-- A trafficking case's link to a transplantation withdrawn in error
-- (transplant.trafficking_case_link_withdrawn) left the tables of the
-- links in force (trafficking_case_transplants, trafficking_case_imports)
-- and was kept in the log alone: the assessor reading the report saw the
-- link vanish. A row here keeps the link withdrawn (its transplantation,
-- who made it and when) and its withdrawal (who, when, why), for the
-- report's page (docs/trafficking.md). A projection of the withdrawal's
-- entry, which takes the link's row from the table it leaves; the links
-- withdrawn before this migration are filled from the log by its step
-- (fillLinkWithdrawals, payer.go).
CREATE TABLE trafficking_case_withdrawals (
	id TEXT PRIMARY KEY,
	link_id TEXT NOT NULL,
	report_id TEXT NOT NULL REFERENCES trafficking_reports(id),
	transplant_id TEXT NOT NULL,
	linked_at TEXT NOT NULL,
	linked_by TEXT NOT NULL,
	link_log_index BIGINT NOT NULL,
	reason TEXT NOT NULL,
	withdrawn_at TEXT NOT NULL,
	withdrawn_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX trafficking_case_withdrawals_report ON trafficking_case_withdrawals (report_id, log_index);
