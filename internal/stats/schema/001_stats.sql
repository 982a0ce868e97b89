-- The statistics registry (issue 19): crime and criminal-justice statistics
-- by the ICCS. Mappings of national offence codes and the imports of national
-- records are log entries projected here (stats_mappings, stats_mapping_rows,
-- stats_imports). The records themselves are statistics, millions a year: they
-- are stored column by column in chunks (stats_columns), written before their
-- import's entry and counted only once that entry is in the log; the entry
-- holds their SHA-256, so they are checked against the log, not replayed.
CREATE TABLE stats_mappings (
	id TEXT PRIMARY KEY,            -- mapping id "/" version, zero-padded
	mapping_id TEXT NOT NULL,
	version INTEGER NOT NULL,
	name TEXT NOT NULL,
	classification TEXT NOT NULL,   -- ICCS version the targets belong to
	codes INTEGER NOT NULL,
	sha256 TEXT NOT NULL,
	published_at TEXT NOT NULL,
	published_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX stats_mappings_mapping ON stats_mappings (mapping_id, version);

CREATE TABLE stats_mapping_rows (
	id TEXT PRIMARY KEY,            -- mapping id "/" version "/" row number, zero-padded
	mapping_id TEXT NOT NULL,
	version INTEGER NOT NULL,
	national_code TEXT NOT NULL,
	national_label TEXT NOT NULL,
	iccs TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX stats_mapping_rows_code ON stats_mapping_rows (mapping_id, version, national_code);

CREATE TABLE stats_imports (
	id TEXT PRIMARY KEY,
	mapping_id TEXT NOT NULL,
	mapping_version INTEGER NOT NULL,
	source TEXT NOT NULL,           -- the file's name as given, no path
	file_sha256 TEXT NOT NULL,
	columns_sha256 TEXT NOT NULL,   -- SHA-256 of the stored chunks, in order
	records INTEGER NOT NULL,       -- rows of the file
	total BIGINT NOT NULL,          -- what they count (sum of count)
	chunks INTEGER NOT NULL,
	first_date TEXT NOT NULL,
	last_date TEXT NOT NULL,
	dictionary TEXT NOT NULL,       -- JSON: the import's regions and national codes, by index
	imported_at TEXT NOT NULL,
	imported_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);

-- Not projected: an import's records, column by column, in chunks of at most
-- 65,536 records. data holds one value per record (little-endian, width by
-- column). The key orders them by import, chunk and column, so a query
-- reads an import's chunks in order by a range of keys. Chunks of an import
-- whose entry is not in the log are never counted, and deleted.
CREATE TABLE stats_columns (
	id TEXT PRIMARY KEY,            -- import id "/" chunk, zero-padded "/" column
	import_id TEXT NOT NULL,
	chunk INTEGER NOT NULL,
	col TEXT NOT NULL,
	n INTEGER NOT NULL,
	data BLOB NOT NULL
);
CREATE INDEX stats_columns_import ON stats_columns (import_id);
