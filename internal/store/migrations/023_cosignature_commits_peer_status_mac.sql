-- The witnesses' cosignatures (log_cosignatures, core migration 13) are
-- outside the log: logging each would move the head the witness just
-- signed, and the next cosignature would log again, for ever. A row
-- deleted (or changed) behind custos's back went unnoticed. So the
-- registry commits them by digest (internal/witness, commit.go): at most
-- once a period, when some are not yet committed and the log has grown by
-- another entry since the last commitment, a log.cosignatures_committed
-- entry carries how many it commits, their sizes and SHA-256 (and names
-- them when they are few), and marks them with its index (commit_index, 0
-- until committed). The commitments are projected
-- (log_cosignature_commits), and log verify checks the rows of each
-- against its entry. Rows from before are committed by the first such
-- entry.
ALTER TABLE log_cosignatures ADD COLUMN commit_index BIGINT NOT NULL DEFAULT 0;
CREATE INDEX log_cosignatures_commit ON log_cosignatures (commit_index);
CREATE TABLE log_cosignature_commits (
	id TEXT PRIMARY KEY,            -- the entry's index, zero-padded to 20 digits
	log_index BIGINT NOT NULL,
	cosignatures BIGINT NOT NULL,
	first_size BIGINT NOT NULL,
	last_size BIGINT NOT NULL,
	sha256 TEXT NOT NULL,
	named TEXT NOT NULL,            -- witness and size of each, a line each, when the entry names them
	committed_at TEXT NOT NULL
);
-- What the exchange's deliverer last saw of each peer (exchange_peer_status,
-- core migration 5: the peers page's "Reachable") is outside the log, and a
-- row changed behind custos's back would show an unreachable peer as
-- reachable. Each row now carries an HMAC-SHA-256 of its columns under a
-- key derived from the master key (internal/exchange, status.go); a row
-- without a valid one is shown as tampered, not as fact, and the server log
-- says so. The rows from before carry none: they are deleted, and each
-- peer's status is unknown until the deliverer's next attempt.
DELETE FROM exchange_peer_status;
ALTER TABLE exchange_peer_status ADD COLUMN mac TEXT NOT NULL DEFAULT '';
