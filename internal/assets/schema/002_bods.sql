-- Beneficial ownership (BODS 0.4). An import is one log entry
-- (assets.bods_imported, projected into assets_bods_imports); the statements
-- themselves, up to millions, are not leaves: they are stored in
-- assets_bods_statements before their import's entry, in chunks of 65,536
-- whose SHA-256 the entry names, and counted only once that entry is in the
-- log (as the statistics registry stores its records). Every lookup of the
-- ownership graph is an entry too (assets.bods_looked_up).
CREATE TABLE assets_bods_imports (
	id TEXT PRIMARY KEY,
	source TEXT NOT NULL,           -- the file's name as given, no path
	file_sha256 TEXT NOT NULL,
	statements BIGINT NOT NULL,
	entities BIGINT NOT NULL,
	persons BIGINT NOT NULL,
	relationships BIGINT NOT NULL,
	chunks TEXT NOT NULL,           -- JSON: the SHA-256 of each stored chunk, in order
	imported_at TEXT NOT NULL,
	imported_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);

-- Not a projection: written by the import before its entry; the entry's
-- chunk digests prove it unchanged. id is the import id "/" position, zero-padded.
CREATE TABLE assets_bods_statements (
	id TEXT PRIMARY KEY,
	import_id TEXT NOT NULL,
	pos BIGINT NOT NULL,
	statement_id TEXT NOT NULL,
	record_id TEXT NOT NULL,
	record_type TEXT NOT NULL,
	record_status TEXT NOT NULL,
	statement_date TEXT NOT NULL,
	name TEXT NOT NULL,
	kind TEXT NOT NULL,
	subject TEXT NOT NULL,          -- relationships: the subject's recordId ('' otherwise)
	party TEXT NOT NULL,            -- relationships: the interested party's recordId
	interests TEXT NOT NULL,        -- relationships: JSON, the interests as custos reads them
	body TEXT NOT NULL              -- the statement as given, compact JSON
);
CREATE UNIQUE INDEX assets_bods_statement_id ON assets_bods_statements (statement_id);
CREATE INDEX assets_bods_record ON assets_bods_statements (record_id);
CREATE INDEX assets_bods_subject ON assets_bods_statements (subject);

CREATE TABLE assets_bods_lookups (
	id TEXT PRIMARY KEY,
	question TEXT NOT NULL,         -- owners, controls, export
	record_id TEXT NOT NULL,
	via TEXT NOT NULL,              -- api, web, cli
	source TEXT NOT NULL,           -- the imports the answer was read from: the latest import's id
	imports BIGINT NOT NULL,        -- how many imports were in the log then
	retrieved_at TEXT NOT NULL,
	holdings BIGINT NOT NULL,
	looked_up_at TEXT NOT NULL,
	looked_up_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX assets_bods_lookups_record ON assets_bods_lookups (record_id);
