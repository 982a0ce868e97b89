-- The centre here that holds an organ received from abroad is resolved once,
-- when the registry of origin's characterization names its destination
-- (destination_centre, a centre's identifier here or the name of one centre
-- and no other), with the centres registered then, and kept: a centre
-- registered later with the same name, or a new one, does not change who
-- holds it (docs/vigilance.md, "Which centre holds it"). received_at is when
-- the organ was recorded received here (the entry of its first message), the
-- start of its disposition deadline (docs/oversight.md). Both are written by
-- the projector of transplant.exchange_message_applied.
ALTER TABLE organ_imports ADD COLUMN destination_centre_id TEXT REFERENCES authorities(id);
ALTER TABLE organ_imports ADD COLUMN received_at TEXT;

-- The organs received before: the entry that inserted the row is the one
-- exchange_applied records at the row's log index.
UPDATE organ_imports SET received_at = (SELECT a.applied_at FROM exchange_applied a WHERE a.log_index = organ_imports.log_index);

-- Their destination by the rule the projector applies, with the centres
-- registered before the characterization was recorded: before the row's
-- entry, or at an earlier time (a characterization that came after the
-- traceability message).
UPDATE organ_imports SET destination_centre_id = COALESCE(
	(SELECT a.id FROM authorities a WHERE a.kind = 'transplant_centre' AND a.id = organ_imports.destination_centre
		AND (a.log_index < organ_imports.log_index OR a.created_at < organ_imports.characterized_at)),
	(SELECT CASE WHEN COUNT(*) = 1 THEN MIN(a.id) END FROM authorities a WHERE a.kind = 'transplant_centre' AND a.name = organ_imports.destination_centre
		AND (a.log_index < organ_imports.log_index OR a.created_at < organ_imports.characterized_at)))
WHERE destination_centre <> '';

-- A centre's standing counts the organs from abroad it holds with no outcome
-- past the deadline, and the regulator's lists those no centre holds
-- (standing.go): the few with no outcome, by when they were received.
CREATE INDEX organ_imports_open ON organ_imports (received_at) WHERE outcome IS NULL;
