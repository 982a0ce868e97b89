-- A video case keeps the distinct frames of the query video that matched a
-- matched entry (their PDQ hashes, lower-case hex, space-separated, in the
-- video's order), so that a reviewer's rejection with suppress adds every
-- one of them to the service's suppression list, not only the closest
-- pair's. Empty for image cases and for video cases opened before it.
-- Projected from the case_opened leaf's matched_frames.
ALTER TABLE hm_cases ADD COLUMN matched_frames TEXT NOT NULL DEFAULT '';
