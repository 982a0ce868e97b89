-- The multiset digest of an import's records (stats.records_imported's
-- records_digest): the same records give the same digest whatever the
-- file's line endings, quoting, column order or row order, so that a copy of
-- a file imported and still counted is refused like the file itself
-- (imported_before). Empty for the imports made before. Projected.
ALTER TABLE stats_imports ADD COLUMN records_digest TEXT NOT NULL DEFAULT '';
