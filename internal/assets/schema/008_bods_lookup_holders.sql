-- A lookup's entry counts the parties its answer listed besides the ultimate
-- owners (holders: the direct and intermediate holders of the chains,
-- docs/assets.md, "Circular holdings"), so that the log tells how many
-- parties an answer disclosed, not only how many ultimate owners. Lookups
-- logged before this listed none (their answers had no holders).
ALTER TABLE assets_bods_lookups ADD COLUMN holders BIGINT NOT NULL DEFAULT 0;
