-- Video entries in hash banks (vPDQ) and the percentages of video matches.
-- A video entry keeps its frames as the canonical JSON of its "video" field
-- ({"frames":[{"pdq","quality","seconds"},...]}) and their count; its pdq is
-- empty. An image entry has video '' and video_frames 0. Both are projected
-- from the version_published leaf, so log verify compares them.
ALTER TABLE hm_entries ADD COLUMN video TEXT NOT NULL DEFAULT '';
ALTER TABLE hm_entries ADD COLUMN video_frames INTEGER NOT NULL DEFAULT 0;

-- A case's match with a video entry records the share of the query's frames
-- and of the entry's frames that matched (vPDQ percentages, 0..100); a match
-- found in a query video records the time of its first matching frame. All
-- are NULL for an image matched against an image entry.
ALTER TABLE hm_case_matches ADD COLUMN query_match_pct DOUBLE PRECISION;
ALTER TABLE hm_case_matches ADD COLUMN target_match_pct DOUBLE PRECISION;
ALTER TABLE hm_case_matches ADD COLUMN at_seconds DOUBLE PRECISION;
