-- The refusals this registry keeps (exchange_refusals, core migration 15)
-- are committed to the log by digest (internal/exchange, refusals.go): a
-- refusal is not a leaf of its own, since whoever holds a suspended or
-- expired key of a peer could then grow the log without bound; instead the
-- registry writes, at most once a period and only when there are new ones,
-- an exchange.refusals_committed entry carrying how many refusals it
-- commits and their SHA-256, and marks them with that entry's index
-- (commit_index, 0 until committed). The commitments are projected
-- (exchange_refusal_commits), and log verify checks the rows of each
-- against its entry, so that a refusal deleted or changed behind custos's
-- back (which would let the same envelope, posted again, be received once
-- the cause is gone) is found. Rows from before are committed by the first
-- such entry.
ALTER TABLE exchange_refusals ADD COLUMN commit_index BIGINT NOT NULL DEFAULT 0;
CREATE INDEX exchange_refusals_commit ON exchange_refusals (commit_index);
CREATE TABLE exchange_refusal_commits (
	id TEXT PRIMARY KEY,            -- the entry's index, zero-padded to 20 digits
	log_index BIGINT NOT NULL,
	refusals BIGINT NOT NULL,
	sha256 TEXT NOT NULL,
	committed_at TEXT NOT NULL
);
