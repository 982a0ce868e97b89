-- Fewer indexes for each recorded transplantation to keep (BENCHMARKS.md,
-- "PostgreSQL: the CPU of a recorded transplant"): every index of
-- transplants is written by every transplantation.
--
-- transplants_recipient (recipient_id) is the head of
-- transplants_recipient_time (recipient_id, performed_at), which answers
-- every look-up by recipient as well.
DROP INDEX transplants_recipient;

-- Only a transplantation of a multi-organ or domino procedure names a
-- procedure: one recorded alone (most) has none to index.
DROP INDEX transplants_procedure;
CREATE INDEX transplants_procedure ON transplants (procedure_id) WHERE procedure_id IS NOT NULL;
