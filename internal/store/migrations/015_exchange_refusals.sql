-- The messages this registry refused after their signature verified
-- (internal/exchange, Receive): the peer, the sender's message id, the
-- message's SHA-256 and the signed refusal answered. A refusal is final (the
-- sender records it and sends a new message once the cause is fixed), so
-- the same envelope posted again is answered with this same refusal, not
-- admitted later (after the peer is resumed, its purpose agreed). Not a
-- projection of the log: a refusal records nothing in the log but its
-- alert, and the signed refusal is the sender's proof, kept in its log.
CREATE TABLE exchange_refusals (
	id TEXT PRIMARY KEY,
	peer_id TEXT NOT NULL,
	message_sha256 TEXT NOT NULL,
	code TEXT NOT NULL,
	rule TEXT NOT NULL,
	field TEXT NOT NULL,
	reason TEXT NOT NULL,
	receipt TEXT NOT NULL,
	receipt_key TEXT NOT NULL,
	receipt_signature TEXT NOT NULL,
	refused_at TEXT NOT NULL
);
