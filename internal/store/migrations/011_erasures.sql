-- Data-subject rights (GDPR art. 16 and 17, docs/personal-data.md): the
-- erasures of subjects' personal data and the corrections of it, as the log
-- records them. Neither holds personal data: who, when, on what ground or
-- for what reason, which references and pseudonym.
CREATE TABLE erasures (
	id TEXT PRIMARY KEY,
	subject_id TEXT NOT NULL,
	pseudonym TEXT NOT NULL,
	ground TEXT NOT NULL,
	reference TEXT NOT NULL,
	retained_until TEXT,
	erased_at TEXT NOT NULL,
	principal_id TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX erasures_subject ON erasures (subject_id);

CREATE TABLE personal_data_corrections (
	id TEXT PRIMARY KEY,
	subject_id TEXT NOT NULL,
	old_ref TEXT NOT NULL,
	new_ref TEXT NOT NULL,
	fields TEXT NOT NULL,
	reason TEXT NOT NULL,
	corrected_at TEXT NOT NULL,
	principal_id TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX personal_data_corrections_subject ON personal_data_corrections (subject_id);
