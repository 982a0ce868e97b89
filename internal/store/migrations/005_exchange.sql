-- The exchange between custos deployments (internal/exchange): the peer
-- registries this one talks to and their keys, this registry's own exchange
-- keys, and the messages sent (outbox) and received (inbox), with the signed
-- receipts that settle what the other side acknowledged. All are projections
-- of the log except exchange_delivery, the deliverer's retry schedule.
CREATE TABLE exchange_peers (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	jurisdiction TEXT NOT NULL,
	url TEXT NOT NULL,
	tls_ca TEXT NOT NULL,
	send_purposes TEXT NOT NULL,
	receive_purposes TEXT NOT NULL,
	state TEXT NOT NULL,
	state_note TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	log_index BIGINT NOT NULL
);

CREATE TABLE exchange_peer_keys (
	fingerprint TEXT PRIMARY KEY,
	peer_id TEXT NOT NULL,
	public_key TEXT NOT NULL,
	added_at TEXT NOT NULL,
	valid_until TEXT NOT NULL DEFAULT '',
	log_index BIGINT NOT NULL
);
CREATE INDEX exchange_peer_keys_peer ON exchange_peer_keys (peer_id);

CREATE TABLE exchange_own_keys (
	fingerprint TEXT PRIMARY KEY,
	generation BIGINT NOT NULL UNIQUE,
	public_key TEXT NOT NULL,
	created_at TEXT NOT NULL,
	log_index BIGINT NOT NULL
);

CREATE TABLE exchange_outbox (
	id TEXT PRIMARY KEY,
	peer_id TEXT NOT NULL,
	module TEXT NOT NULL,
	type TEXT NOT NULL,
	purpose TEXT NOT NULL,
	state TEXT NOT NULL,
	sent_at TEXT NOT NULL,
	message TEXT NOT NULL,
	signed_by TEXT NOT NULL,
	signature TEXT NOT NULL,
	receipt TEXT NOT NULL DEFAULT '',
	receipt_key TEXT NOT NULL DEFAULT '',
	receipt_signature TEXT NOT NULL DEFAULT '',
	answered_at TEXT NOT NULL DEFAULT '',
	refusal_rule TEXT NOT NULL DEFAULT '',
	refusal_field TEXT NOT NULL DEFAULT '',
	refusal_reason TEXT NOT NULL DEFAULT '',
	log_index BIGINT NOT NULL,
	answer_index BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX exchange_outbox_state ON exchange_outbox (state, log_index);

CREATE TABLE exchange_inbox (
	id TEXT PRIMARY KEY,
	peer_id TEXT NOT NULL,
	module TEXT NOT NULL,
	type TEXT NOT NULL,
	purpose TEXT NOT NULL,
	onward_sharing INTEGER NOT NULL,
	readers TEXT NOT NULL,
	received_at TEXT NOT NULL,
	message TEXT NOT NULL,
	signed_by TEXT NOT NULL,
	signature TEXT NOT NULL,
	receipt TEXT NOT NULL,
	receipt_key TEXT NOT NULL,
	receipt_signature TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX exchange_inbox_log ON exchange_inbox (log_index);

CREATE TABLE exchange_uses (
	id TEXT PRIMARY KEY,
	inbox_id TEXT NOT NULL,
	kind TEXT NOT NULL,
	purpose TEXT NOT NULL,
	peer_id TEXT NOT NULL DEFAULT '',
	forwarded_as TEXT NOT NULL DEFAULT '',
	at TEXT NOT NULL,
	principal_id TEXT NOT NULL,
	log_index BIGINT NOT NULL
);

-- Not a projection: when the deliverer last tried each message and when it
-- tries next. Losing it only makes the deliverer try at once.
CREATE TABLE exchange_delivery (
	message_id TEXT PRIMARY KEY,
	peer_id TEXT NOT NULL,
	attempts BIGINT NOT NULL,
	last_attempt_at TEXT NOT NULL,
	next_attempt_at TEXT NOT NULL,
	last_error TEXT NOT NULL
);

-- Not a projection: what the deliverer last saw of each peer.
CREATE TABLE exchange_peer_status (
	peer_id TEXT PRIMARY KEY,
	last_attempt_at TEXT NOT NULL,
	last_ok_at TEXT NOT NULL,
	last_error TEXT NOT NULL
);
