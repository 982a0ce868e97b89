-- The lists are paged by keyset on (log_index DESC, id) (internal/page),
-- each within its owner: a provider's cases, the reports an authority
-- received or a provider sent, a bank's entries and versions. These indexes
-- let a page read its rows in that order, and a page after the first start
-- at its cursor, without sorting the table.
CREATE INDEX hm_cases_log ON hm_cases (provider_id, log_index DESC, id);
CREATE INDEX hm_reports_received_log ON hm_reports (authority_id, log_index DESC, id);
CREATE INDEX hm_reports_sent_log ON hm_reports (provider_id, log_index DESC, id);
CREATE INDEX hm_entries_log ON hm_entries (bank_id, log_index DESC, entry_id);
CREATE INDEX hm_versions_log ON hm_versions (bank_id, log_index DESC, id);
