-- A new case's reference was compared with every case reference of its
-- state (read and folded one by one in Go), once a case opened. Each case
-- now keeps its reference's key (referenceKey, cases.go: compatibility
-- form, case folded, punctuation one "-", the Cyrillic and Greek letters
-- that look like Latin ones read as those), which its projector writes, so
-- that the check is one indexed look-up. The keys of the cases opened before
-- this are filled in by this migration's Go step (fillReferenceKeys), in
-- its transaction: SQL has no Unicode folding alike on both engines.
-- The index is not UNIQUE: the cases of an existing registry may hold two
-- references with one key (written in look-alike letters of two scripts,
-- which the check did not fold before this), and the migration keeps them;
-- the refusal of a third is the check's, in code (docs/assets.md, "Case
-- references").
ALTER TABLE assets_cases ADD COLUMN reference_key TEXT NOT NULL DEFAULT '';
CREATE INDEX assets_cases_reference_key ON assets_cases (state, reference_key);
