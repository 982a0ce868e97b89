-- Finding a person without opening the sealed data (docs/transplant.md,
-- "Finding a person"). The national identifier's keyed pseudonym is already
-- on each donor and recipient (person_pseudonym, indexed). A name is found by
-- a keyed blind index of the normalized name with the date of birth, which
-- lives here, beside the sealed data and never in the log: it goes with its
-- subject when the subject is erased (ON DELETE CASCADE), and the log
-- cannot bring it back. Rows are written by the registering command, not by
-- a projector, as the sealed data is.
-- record_id is the donor or recipient whose subject it is, so that a match
-- reads the record by its primary key.
CREATE TABLE person_names (
	subject_ref TEXT PRIMARY KEY REFERENCES subjects(ref) ON DELETE CASCADE,
	record_id TEXT NOT NULL,
	name_dob TEXT NOT NULL
);
CREATE INDEX person_names_name_dob ON person_names (name_dob);
-- SQL cannot compute a keyed hash: the indexes of the subjects registered
-- before this migration are filled in by the first custos that opens the
-- registry with its key (transplant.FillPersonNames), which deletes this row.
CREATE TABLE transplant_pending (step TEXT PRIMARY KEY);
INSERT INTO transplant_pending (step) VALUES ('person_names');
-- Whoever registers a record that looks like one already registered says
-- either that it is the same person (duplicate_of) or why it is not
-- (not_duplicate_reason); both are in the log.
ALTER TABLE donors ADD COLUMN duplicate_of TEXT;
ALTER TABLE donors ADD COLUMN not_duplicate_reason TEXT;
ALTER TABLE recipients ADD COLUMN duplicate_of TEXT;
ALTER TABLE recipients ADD COLUMN not_duplicate_reason TEXT;
