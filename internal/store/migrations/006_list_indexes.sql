-- The alerts and authorities lists are paged by keyset on (log_index DESC,
-- id) (internal/page): these indexes let a page read its rows in that order,
-- and a page after the first start at its cursor, without sorting the table.
CREATE INDEX alerts_log ON alerts (log_index DESC, id);
CREATE INDEX authorities_log ON authorities (log_index DESC, id);
