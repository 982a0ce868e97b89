-- The centre a regulator assigned an organ received from abroad to, when
-- the registry of origin named no centre here (docs/vigilance.md, "Which
-- centre holds it"): until then no coordinator may record its outcome or
-- report on it. A projection of transplant.import_assigned; organs received
-- before have no assignment.
ALTER TABLE organ_imports ADD COLUMN assigned_centre TEXT REFERENCES authorities(id);
ALTER TABLE organ_imports ADD COLUMN assigned_at TEXT;
ALTER TABLE organ_imports ADD COLUMN assigned_by TEXT;
