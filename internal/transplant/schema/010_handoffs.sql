-- Hand-offs of organs (docs/vigilance.md, "Labels and hand-offs"): each scan
-- of an organ's label at a step of its journey (procurement theatre,
-- transport, arrival, transplant theatre), by a coordinator of the centre
-- that has it in hand, with where and when. The chain of custody of an organ
-- is its rows in the order of the log. Every row is a projection of the log.
CREATE TABLE organ_handoffs (
	id TEXT PRIMARY KEY,
	organ_id TEXT NOT NULL REFERENCES organs(id),
	step TEXT NOT NULL,
	centre_id TEXT NOT NULL REFERENCES authorities(id),
	place TEXT NOT NULL,
	handed_at TEXT NOT NULL,
	recorded_at TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX organ_handoffs_organ ON organ_handoffs (organ_id, log_index);
