-- Every opening of sealed personal data: who, whose, why (never the data).
-- The privacy package keeps this log for every registry. Registries made
-- before it moved to the core have it from transplant's first migration,
-- hence IF NOT EXISTS.
CREATE TABLE IF NOT EXISTS personal_data_reads (
	id TEXT PRIMARY KEY,
	subject_id TEXT NOT NULL,
	purpose TEXT NOT NULL,
	read_at TEXT NOT NULL,
	principal_id TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS personal_data_reads_subject ON personal_data_reads (subject_id);
