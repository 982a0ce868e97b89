-- The designated authority's assessment of a suspected-trafficking report
-- (internal/transplant/trafficking_unodc.go, docs/trafficking.md): whether
-- trafficking for organ removal is confirmed, and what the UNODC return
-- counts of the case (resolution VI, para 18): the year of the removal, the
-- organ, and the donor's and the recipient's nationality, sex and age band.
-- No direct identifier: no name, no date of birth, no record id. One row per
-- report, replaced when the assessment is recorded again.
CREATE TABLE trafficking_assessments (
	report_id TEXT PRIMARY KEY REFERENCES trafficking_reports(id),
	conclusion TEXT NOT NULL,
	year INTEGER NOT NULL,
	organ TEXT NOT NULL,
	donor_nationality TEXT NOT NULL,
	donor_sex TEXT NOT NULL,
	donor_age_band TEXT NOT NULL,
	recipient_nationality TEXT NOT NULL,
	recipient_sex TEXT NOT NULL,
	recipient_age_band TEXT NOT NULL,
	assessed_at TEXT NOT NULL,
	assessed_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
