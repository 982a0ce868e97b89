-- An import's beat (as stats_writing for the statistics registry): an
-- import stores its statements before its entry, and beats its row here
-- with each transaction of them, so that the statements of an import that
-- stopped before its entry (the process killed, the database gone) can be
-- told from those of one under way: the next import removes those with no
-- entry and no recent beat (Orphaned), so that a file whose import died can
-- be imported again. Not a projection; the import's entry removes its row.
CREATE TABLE assets_bods_writing (
	import_id TEXT PRIMARY KEY,
	started_at TEXT NOT NULL,
	beat_at TEXT NOT NULL
);
-- The statements stored before this by imports that never made it into the
-- log: swept by the next import.
INSERT INTO assets_bods_writing (import_id, started_at, beat_at)
	SELECT DISTINCT s.import_id, '', '' FROM assets_bods_statements s
	WHERE NOT EXISTS (SELECT 1 FROM assets_bods_imports i WHERE i.id = s.import_id);
