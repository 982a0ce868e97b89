-- Feedback to a bank's owner: a service that rejected a match as a false
-- positive disputes the matched entry (hashmatch.entry_disputed), with a
-- note and never the content: no image, no user pseudonym, no content
-- reference. The owner reviews a disputed entry (hashmatch.dispute_reviewed):
-- keep it, or withdraw it, and a withdrawn entry is deleted by the next
-- version the owner publishes. Both tables are projected from the log.
CREATE TABLE hm_disputes (
	id TEXT PRIMARY KEY,
	case_id TEXT NOT NULL REFERENCES hm_cases(id),
	provider_id TEXT NOT NULL REFERENCES authorities(id),
	bank_id TEXT NOT NULL REFERENCES hm_banks(id),
	entry_id TEXT NOT NULL,
	distance INTEGER NOT NULL,
	note TEXT NOT NULL,
	status TEXT NOT NULL,
	review_id TEXT,
	disputed_at TEXT NOT NULL,
	disputed_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE UNIQUE INDEX hm_disputes_case ON hm_disputes (case_id);
CREATE INDEX hm_disputes_entry ON hm_disputes (bank_id, entry_id, status);
CREATE INDEX hm_disputes_provider ON hm_disputes (provider_id, log_index DESC, id);

CREATE TABLE hm_dispute_reviews (
	id TEXT PRIMARY KEY,
	bank_id TEXT NOT NULL REFERENCES hm_banks(id),
	entry_id TEXT NOT NULL,
	decision TEXT NOT NULL,
	reason TEXT NOT NULL,
	disputes INTEGER NOT NULL,
	reviewed_at TEXT NOT NULL,
	reviewed_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX hm_dispute_reviews_entry ON hm_dispute_reviews (bank_id, entry_id, log_index);
