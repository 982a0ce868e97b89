-- The exports made (internal/export, list.go): a projection of the
-- export.made entries, one row each, with what the export's
-- export.completed entry says was sent (NULL while it has none: an export
-- cut short). GET /api/v1/log/exports and custos export list read it, a
-- page at a time by the index below, instead of reading every leaf of the
-- log whose text names export.made. log verify compares it with its replay.
-- Filled from the log by this migration's step (export.FillTable).
CREATE TABLE exports (
	id TEXT PRIMARY KEY,
	log_index BIGINT NOT NULL,
	made_at TEXT NOT NULL,
	made_by TEXT NOT NULL,
	authority TEXT NOT NULL,
	registry TEXT NOT NULL,
	list TEXT NOT NULL,
	filter TEXT NOT NULL,
	format TEXT NOT NULL,
	checkpoint_size BIGINT NOT NULL,
	checkpoint_root TEXT NOT NULL,
	personal INTEGER NOT NULL,
	completed_index BIGINT,
	sent_rows BIGINT,
	sent_bytes BIGINT,
	sha256 TEXT
);
-- The list is paged by keyset on (log_index DESC, id) (internal/page), as
-- the other lists are; filtered by registry, by registry and list, or by
-- list, newest first.
CREATE INDEX exports_log ON exports (log_index DESC, id);
CREATE INDEX exports_registry ON exports (registry, log_index DESC);
CREATE INDEX exports_list ON exports (registry, list, log_index DESC);
CREATE INDEX exports_list_only ON exports (list, log_index DESC);

-- The principals list (GET /api/v1/principals, auth.PrincipalPage) is
-- paged by keyset on (log_index DESC, id): without this index every page
-- sorted the whole table.
CREATE INDEX principals_log ON principals (log_index DESC, id);
