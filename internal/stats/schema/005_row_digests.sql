-- The digest of each stored column of an import (stats.records_imported's
-- row_sha256: by chunk and column, the first 16 bytes of the SHA-256 of the
-- row's chunk, column, length and bytes), so that log verify names the row
-- of stats_columns that differs rather than only its import: the entry's
-- columns_sha256 is one digest for all the chunks. JSON; empty for the
-- imports made before. Projected.
ALTER TABLE stats_imports ADD COLUMN row_sha256 TEXT NOT NULL DEFAULT '';
