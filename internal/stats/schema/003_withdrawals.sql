-- An import may be withdrawn (stats.import_withdrawn): by a statistician,
-- with a reason, after which its records are no longer counted. The row
-- stays, shown as withdrawn, and so do its chunks, so that log verify still
-- checks them against the digest the import's entry carries. Projected.
ALTER TABLE stats_imports ADD COLUMN withdrawn_at TEXT NOT NULL DEFAULT '';
ALTER TABLE stats_imports ADD COLUMN withdrawn_by TEXT NOT NULL DEFAULT '';
ALTER TABLE stats_imports ADD COLUMN withdrawal_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE stats_imports ADD COLUMN withdrawal_index BIGINT NOT NULL DEFAULT 0;
CREATE INDEX stats_imports_file ON stats_imports (file_sha256);
