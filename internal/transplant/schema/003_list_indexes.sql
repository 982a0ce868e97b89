-- The list pages show the newest records first, 100 at a time (ORDER BY
-- log_index DESC): without these indexes each page was a scan and a sort of
-- its whole table, 1.4 to 5.3 s at a million organs (BENCHMARKS.md). Each
-- index grows at one edge, so recording pays little for it. Ties of log_index
-- (the organs of one procurement) are listed by id.
CREATE INDEX donors_log ON donors (log_index);
CREATE INDEX recipients_log ON recipients (log_index);
CREATE INDEX organs_log ON organs (log_index DESC, id);
CREATE INDEX transplant_authorizations_log ON transplant_authorizations (log_index DESC, id);
