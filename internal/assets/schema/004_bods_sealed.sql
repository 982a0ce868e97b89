-- Beneficial ownership: the personal data of person statements sealed
-- (docs/personal-data.md). A person statement's body is stored without its
-- personal data (bods.PersonPublic: names, identifiers, nationalities,
-- dates and places of birth, addresses... left out); the statement as given
-- is sealed under a key of its own (privacy.Vault.SealRow, bound to the
-- statement's id), that key wrapped by the master key. Entities and
-- relationships, what the ownership graph needs, stay in clear.
ALTER TABLE assets_bods_statements ADD COLUMN wrapped_key BLOB;
ALTER TABLE assets_bods_statements ADD COLUMN sealed BLOB;
-- How the import's chunk digests were made: '' (before 005: each
-- statement's position, length and body) or 'sealed' (the same over the
-- public body, then ':' and ledger.SealCommitment of a sealed statement).
ALTER TABLE assets_bods_imports ADD COLUMN digests TEXT NOT NULL DEFAULT '';
-- Whether the answer gave personal data opened from sealed statements.
ALTER TABLE assets_bods_lookups ADD COLUMN personal BIGINT NOT NULL DEFAULT 0;
