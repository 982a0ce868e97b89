-- The tamper-evident log: leaves in order, every completed subtree hash above
-- them (for proofs), and the head with its latest signed checkpoint.
CREATE TABLE log_leaves (
	idx BIGINT PRIMARY KEY,
	hash BLOB NOT NULL,
	data TEXT NOT NULL
);
CREATE TABLE log_nodes (
	level INTEGER NOT NULL,
	idx BIGINT NOT NULL,
	hash BLOB NOT NULL,
	PRIMARY KEY (level, idx)
);
CREATE TABLE log_state (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	size BIGINT NOT NULL,
	root BLOB NOT NULL,
	checkpoint TEXT NOT NULL
);

-- Registry-wide settings, written by the registry.initialized leaf.
CREATE TABLE settings (
	name TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

-- Personal data, apart from the log: encrypted per subject, erasable.
CREATE TABLE subjects (
	ref TEXT PRIMARY KEY,
	wrapped_key BLOB NOT NULL,
	sealed BLOB NOT NULL,
	created_at TEXT NOT NULL
);

CREATE TABLE authorities (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	kind TEXT NOT NULL,
	jurisdiction TEXT NOT NULL,
	city TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	log_index BIGINT NOT NULL
);

CREATE TABLE principals (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	role TEXT NOT NULL,
	authority_id TEXT NOT NULL REFERENCES authorities(id),
	token_hash TEXT NOT NULL UNIQUE,
	created_at TEXT NOT NULL,
	revoked_at TEXT,
	log_index BIGINT NOT NULL
);

CREATE TABLE alerts (
	id TEXT PRIMARY KEY,
	raised_at TEXT NOT NULL,
	rule TEXT NOT NULL,
	field TEXT NOT NULL,
	message TEXT NOT NULL,
	command TEXT NOT NULL,
	authority_id TEXT NOT NULL,
	principal_id TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX alerts_raised ON alerts (raised_at);
