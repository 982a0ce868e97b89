-- The dashboards count cases, reports and removals per month over a period
-- of months, and the time from a match to its report and to its removal
-- (internal/hashmatch/figures.go). Each reads a range of one of these
-- indexes, and finds a case's report and removal by the case.
CREATE INDEX hm_cases_opened ON hm_cases (opened_at, status);
CREATE INDEX hm_reports_sent ON hm_reports (sent_at);
CREATE INDEX hm_reports_case ON hm_reports (case_id, sent_at);
CREATE INDEX hm_removals_time ON hm_removals (removed_at);
CREATE INDEX hm_removals_case ON hm_removals (case_id, removed_at);
