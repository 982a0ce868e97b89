-- A pending outgoing message an operator abandoned (exchange.message_abandoned,
-- internal/exchange): when, by whom, why, and the entry's index. The
-- deliverer never sends it again, and the peer's later messages go on.
-- Projected from the log like the rest of exchange_outbox; empty (0) for a
-- message not abandoned, which every message before this migration is.
ALTER TABLE exchange_outbox ADD COLUMN abandoned_at TEXT NOT NULL DEFAULT '';
ALTER TABLE exchange_outbox ADD COLUMN abandoned_by TEXT NOT NULL DEFAULT '';
ALTER TABLE exchange_outbox ADD COLUMN abandon_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE exchange_outbox ADD COLUMN abandon_index BIGINT NOT NULL DEFAULT 0;
