-- An import's statements read in order (log verify's check of its chunk
-- digests, the sealed persons' check, the sweep of an import that never got
-- its entry: WHERE import_id = ? ORDER BY id) went through the whole table
-- by its primary key, once an import: a registry of K imports read K times
-- every statement (BENCHMARKS.md, "the BODS check on every core").
CREATE INDEX assets_bods_import ON assets_bods_statements (import_id, id);
