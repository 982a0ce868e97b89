-- The hash-matching registry (resolution III): banks of known child sexual
-- abuse material hashes held by competent authorities, their signed versions,
-- the services that hold them, and the review, report and removal workflow.
-- No table ever holds images: only hashes, and pseudonyms instead of user ids.
-- Every table is keyed by one TEXT id so that log verify compares it in order.
CREATE TABLE hm_banks (
	id TEXT PRIMARY KEY,
	owner_id TEXT NOT NULL REFERENCES authorities(id),
	name TEXT NOT NULL,
	kind TEXT NOT NULL,
	threshold INTEGER NOT NULL,
	version INTEGER NOT NULL,
	head_sha256 TEXT NOT NULL,
	generation INTEGER NOT NULL,
	created_at TEXT NOT NULL,
	created_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);

CREATE TABLE hm_entries (
	id TEXT PRIMARY KEY,
	bank_id TEXT NOT NULL REFERENCES hm_banks(id),
	entry_id TEXT NOT NULL,
	pdq TEXT NOT NULL,
	md5 TEXT NOT NULL,
	sha256 TEXT NOT NULL,
	classification TEXT NOT NULL,
	added_version INTEGER NOT NULL,
	deleted_version INTEGER,
	quarantined_at TEXT,
	quarantine_alert TEXT,
	log_index BIGINT NOT NULL
);
CREATE INDEX hm_entries_bank ON hm_entries (bank_id, deleted_version);

CREATE TABLE hm_versions (
	id TEXT PRIMARY KEY,
	bank_id TEXT NOT NULL REFERENCES hm_banks(id),
	version INTEGER NOT NULL,
	previous_sha256 TEXT NOT NULL,
	doc_sha256 TEXT NOT NULL,
	doc TEXT NOT NULL,
	signature TEXT NOT NULL,
	adds INTEGER NOT NULL,
	deletes INTEGER NOT NULL,
	published_at TEXT NOT NULL,
	published_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX hm_versions_bank ON hm_versions (bank_id, version);

CREATE TABLE hm_subscriptions (
	id TEXT PRIMARY KEY,
	bank_id TEXT NOT NULL REFERENCES hm_banks(id),
	provider_id TEXT NOT NULL REFERENCES authorities(id),
	cursor INTEGER NOT NULL,
	pulled_at TEXT,
	created_at TEXT NOT NULL,
	created_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE UNIQUE INDEX hm_subscriptions_unique ON hm_subscriptions (bank_id, provider_id);

CREATE TABLE hm_pulls (
	id TEXT PRIMARY KEY,
	subscription_id TEXT NOT NULL REFERENCES hm_subscriptions(id),
	bank_id TEXT NOT NULL,
	provider_id TEXT NOT NULL,
	kind TEXT NOT NULL,
	from_version INTEGER NOT NULL,
	to_version INTEGER NOT NULL,
	doc_sha256 TEXT NOT NULL,
	pulled_at TEXT NOT NULL,
	pulled_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX hm_pulls_bank ON hm_pulls (bank_id, provider_id);

CREATE TABLE hm_cases (
	id TEXT PRIMARY KEY,
	provider_id TEXT NOT NULL REFERENCES authorities(id),
	pdq TEXT NOT NULL,
	quality INTEGER NOT NULL,
	md5 TEXT NOT NULL,
	sha256 TEXT NOT NULL,
	source TEXT NOT NULL,
	content_ref TEXT NOT NULL,
	user_pseudonym TEXT NOT NULL,
	uploaded_at TEXT NOT NULL,
	best_bank_id TEXT NOT NULL,
	best_entry_id TEXT NOT NULL,
	best_distance INTEGER NOT NULL,
	status TEXT NOT NULL,
	opened_at TEXT NOT NULL,
	opened_by TEXT NOT NULL,
	reviewed_at TEXT,
	reviewed_by TEXT,
	review_note TEXT,
	log_index BIGINT NOT NULL
);
CREATE INDEX hm_cases_provider ON hm_cases (provider_id, status);

CREATE TABLE hm_case_matches (
	id TEXT PRIMARY KEY,
	case_id TEXT NOT NULL REFERENCES hm_cases(id),
	bank_id TEXT NOT NULL,
	entry_id TEXT NOT NULL,
	distance INTEGER NOT NULL,
	matched_at TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX hm_case_matches_entry ON hm_case_matches (bank_id, entry_id, matched_at);

CREATE TABLE hm_suppressions (
	id TEXT PRIMARY KEY,
	provider_id TEXT NOT NULL REFERENCES authorities(id),
	pdq TEXT NOT NULL,
	case_id TEXT NOT NULL,
	created_at TEXT NOT NULL,
	created_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX hm_suppressions_provider ON hm_suppressions (provider_id);

CREATE TABLE hm_reports (
	id TEXT PRIMARY KEY,
	case_id TEXT NOT NULL REFERENCES hm_cases(id),
	provider_id TEXT NOT NULL,
	authority_id TEXT NOT NULL REFERENCES authorities(id),
	incident_type TEXT NOT NULL,
	incident_at TEXT NOT NULL,
	uploaded_at TEXT NOT NULL,
	pdq TEXT NOT NULL,
	md5 TEXT NOT NULL,
	sha256 TEXT NOT NULL,
	classification TEXT NOT NULL,
	user_pseudonym TEXT NOT NULL,
	content_ref TEXT NOT NULL,
	notes TEXT NOT NULL,
	sent_at TEXT NOT NULL,
	sent_by TEXT NOT NULL,
	acknowledged_at TEXT,
	acknowledged_by TEXT,
	authority_reference TEXT,
	log_index BIGINT NOT NULL
);
CREATE INDEX hm_reports_authority ON hm_reports (authority_id, sent_at);

CREATE TABLE hm_removals (
	id TEXT PRIMARY KEY,
	case_id TEXT NOT NULL REFERENCES hm_cases(id),
	provider_id TEXT NOT NULL,
	content_ref TEXT NOT NULL,
	action TEXT NOT NULL,
	removed_at TEXT NOT NULL,
	recorded_at TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
