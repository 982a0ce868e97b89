-- Beneficial ownership: the erasure of a person's personal data
-- (docs/personal-data.md, "Erasure"). Erasing a person statement deletes
-- its wrapped key and sealed bytes (crypto-shredding) and keeps here the
-- commitment its import's chunk digest was made over
-- (ledger.SealCommitment of the two), so that log verify still checks the
-- chunk; the erasure itself is a privacy.subject_erased entry (subject
-- bods:RECORD_ID) naming the statements' keys in its erased references.
ALTER TABLE assets_bods_statements ADD COLUMN erased_commitment TEXT NOT NULL DEFAULT '';
