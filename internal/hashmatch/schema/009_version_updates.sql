-- How many entries a version updated (the updates of its document), shown
-- beside its adds and deletes. Versions published before are counted from
-- their documents: every "entry_id": in a version's document is an add's or
-- an update's (deletes are bare ids, and JSON escapes a quote inside a
-- string), so the updates are the occurrences beyond the adds.
ALTER TABLE hm_versions ADD COLUMN updates INTEGER NOT NULL DEFAULT 0;
UPDATE hm_versions SET updates = (LENGTH(doc) - LENGTH(REPLACE(doc, '"entry_id":', ''))) / LENGTH('"entry_id":') - adds;
