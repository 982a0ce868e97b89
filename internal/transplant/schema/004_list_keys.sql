-- The lists are paged by keyset on (log_index DESC, id) (internal/page): the
-- donors' and recipients' indexes of migration 3 gain the id, so that a page
-- reads its rows in that order from the index, and a page after the first
-- starts at its cursor, without a sort.
DROP INDEX donors_log;
DROP INDEX recipients_log;
CREATE INDEX donors_log ON donors (log_index DESC, id);
CREATE INDEX recipients_log ON recipients (log_index DESC, id);
