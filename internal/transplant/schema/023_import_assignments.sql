-- Who held an organ received from abroad, and since when (docs/vigilance.md,
-- "Which centre holds it"): one row per assignment of the organ to a centre
-- here (transplant.import_assigned), by a regulator: an assignment of an
-- organ no centre held, or a reassignment, which names the centre that held
-- it before (from_centre) and the reason. organ_imports keeps the last
-- (assigned_centre, assigned_at, assigned_by); this table keeps them all,
-- for the import's history (GET /api/v1/transplant/imports/{id}, the
-- organ's trace). The projector of transplant.import_assigned writes it;
-- the entries written before are filled in by this migration's step
-- (fillImportAssignments, crossborder_project.go), which reads them from
-- the log as the projector would.
--
-- id is the entry's, "IA-" and its log index: one assignment per entry, and
-- the single text key log verify compares the table by.
CREATE TABLE organ_import_assignments (
	id TEXT PRIMARY KEY,
	organ_id TEXT NOT NULL REFERENCES organ_imports(organ_id),
	centre_id TEXT NOT NULL REFERENCES authorities(id),
	from_centre TEXT REFERENCES authorities(id),
	reason TEXT NOT NULL,
	assigned_at TEXT NOT NULL,
	assigned_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
-- An import's history, oldest first.
CREATE INDEX organ_import_assignments_organ ON organ_import_assignments (organ_id, log_index);
