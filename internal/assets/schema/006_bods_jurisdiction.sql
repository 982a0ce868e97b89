-- Beneficial ownership is a state's register (docs/assets.md, "Whose
-- register"): each import, and so each of its statements, belongs to the
-- jurisdiction of the importing principal's authority, which its entry
-- names; lookups and exports read only their own state's, and each
-- lookup's entry names the state whose register it read. Imports and
-- lookups logged before this belong to the registry's jurisdiction (the
-- setting of its first entry), as their replay gives them.
ALTER TABLE assets_bods_imports ADD COLUMN jurisdiction TEXT NOT NULL DEFAULT '';
UPDATE assets_bods_imports SET jurisdiction = COALESCE((SELECT value FROM settings WHERE name = 'jurisdiction'), '');
CREATE INDEX assets_bods_imports_jurisdiction ON assets_bods_imports (jurisdiction, log_index);
ALTER TABLE assets_bods_lookups ADD COLUMN jurisdiction TEXT NOT NULL DEFAULT '';
UPDATE assets_bods_lookups SET jurisdiction = COALESCE((SELECT value FROM settings WHERE name = 'jurisdiction'), '');
