-- A bank's vPDQ match percentages, named as python-threatexchange's
-- vpdq_index.py names them: the share of a query video's frames that must
-- match an entry's (query_match_threshold_pct, default 80) and of the
-- entry's frames that must match the query's (index_match_threshold_pct,
-- default 0). Set by the bank's owner (hashmatch.video_thresholds_set);
-- banks created before keep the defaults.
ALTER TABLE hm_banks ADD COLUMN query_match_threshold_pct DOUBLE PRECISION NOT NULL DEFAULT 80;
ALTER TABLE hm_banks ADD COLUMN index_match_threshold_pct DOUBLE PRECISION NOT NULL DEFAULT 0;
