-- Imports whose chunks are being written (issue 19), and the chunks'
-- storage on PostgreSQL.
--
-- An import writes its chunks (stats_columns) before its entry, in short
-- transactions, and beats its row here with each. The entry's projector
-- removes the row. Chunks of an import with no entry whose row has not
-- beaten for a while (the process died, or the entry was refused and its
-- chunks could not be deleted) are swept by the next import; chunks from
-- before this table are swept when no entry holds them. Not projected.
CREATE TABLE stats_writing (
	import_id TEXT PRIMARY KEY,
	started_at TEXT NOT NULL,       -- RFC 3339 UTC
	beat_at TEXT NOT NULL           -- the last transaction of chunks, RFC 3339 UTC
);

-- PostgreSQL compresses large values (pglz) by default; a chunk's columns
-- are codes a byte or two wide that compress little and are read whole by
-- every count, so they are stored out of line uncompressed. Chunks written
-- before keep their compression. SQLite stores a BLOB as given.
-- postgres: ALTER TABLE stats_columns ALTER COLUMN data SET STORAGE EXTERNAL;
