-- The idempotency keys of commands (internal/ledger, idempotency.go): a
-- JSON API request's Idempotency-Key header, or a web form's "once" value,
-- scoped to the principal that sent it. The writer inserts the row in the
-- transaction and savepoint of the command it keys, after the command's
-- projection, so that a crash leaves either the command's writes with their
-- key or neither: a retry never records the command twice. The answer
-- (status, body) is kept once the first request is answered; a retry with the
-- same request (method, path, query and body digest) gets it back, another
-- request with the key is refused. Rows older than the retention window are
-- deleted. Not a projection of the log: log verify does not compare it, and a
-- copy restored from the leaves has no keys (a retry after a restore is
-- recorded again).
CREATE TABLE idempotency_keys (
	principal_id TEXT NOT NULL,
	idem_key TEXT NOT NULL,
	request_digest TEXT NOT NULL,
	log_index BIGINT NOT NULL,
	status INTEGER NOT NULL DEFAULT 0,
	answer TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	PRIMARY KEY (principal_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
