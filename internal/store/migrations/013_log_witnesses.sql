-- The log's witnesses (internal/witness, docs/operations.md "Witnesses"):
-- the outside parties (an auditor, another state's registry) whose
-- cosignatures of the log's checkpoints the registry accepts. Registering
-- one is a log entry (log.witness_registered), so this table is a
-- projection that log verify compares.
CREATE TABLE log_witnesses (
	name TEXT PRIMARY KEY,
	public_key TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	registered_at TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
-- The cosignatures the witnesses sent: one per witness and tree size, the
-- C2SP cosignature/v1 signature line and the checkpoint it signs (the
-- log's own signed note of that size). Not a projection of the log: a
-- cosignature is about the log, and logging it would move the head the
-- witness just signed. Anyone can check a row with the witness's key.
CREATE TABLE log_cosignatures (
	witness TEXT NOT NULL,
	size BIGINT NOT NULL,
	root BLOB NOT NULL,
	checkpoint TEXT NOT NULL,
	signature TEXT NOT NULL,
	signed_at TEXT NOT NULL,
	received_at TEXT NOT NULL,
	PRIMARY KEY (witness, size)
);
CREATE INDEX log_cosignatures_size ON log_cosignatures (size DESC);
