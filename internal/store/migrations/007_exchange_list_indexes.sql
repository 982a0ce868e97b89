-- The exchange's outbox and inbox are paged by keyset on (log_index DESC,
-- id) (internal/page), like the other lists: these indexes let a page read
-- its rows in that order, and a page after the first start at its cursor,
-- without sorting the table.
CREATE INDEX exchange_outbox_log ON exchange_outbox (log_index DESC, id);
CREATE INDEX exchange_inbox_log_id ON exchange_inbox (log_index DESC, id);
