-- The language a principal reads the pages in (internal/i18n): a code of
-- the languages the deployment speaks, or '' for their browser's.
ALTER TABLE principals ADD COLUMN language TEXT NOT NULL DEFAULT '';
