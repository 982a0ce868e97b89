-- A case's match records the version of the bank that was searched (the
-- version the matching server held), so that a service can say afterwards
-- which list made it act. It is projected from the case_opened leaf's
-- match (bank_version); NULL for a match recorded before custos kept it.
ALTER TABLE hm_case_matches ADD COLUMN bank_version INTEGER;
