-- The alerts list is paged by keyset on (log_index DESC, id) (internal/page):
-- this index lets a page read its alerts in that order, and a page after the
-- first start at its cursor, without sorting the table.
CREATE INDEX alerts_log ON alerts (log_index DESC, id);
