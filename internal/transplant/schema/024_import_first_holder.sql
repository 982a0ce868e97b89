-- The history of who held an organ received from abroad starts with the
-- centre the registry of origin named as its destination, resolved when
-- its characterization was recorded (docs/vigilance.md, "Who held it
-- before"): a row of its own in organ_import_assignments, by_origin 1, at
-- that entry's time and index, by the entry's actor (the registry itself:
-- no principal), before any regulator's assignment. The projector of
-- transplant.exchange_message_applied writes it; the organs received
-- before get theirs from this migration's step (fillImportFirstHolders,
-- crossborder_project.go), which reads the log as the projector would.
ALTER TABLE organ_import_assignments ADD COLUMN by_origin INTEGER NOT NULL DEFAULT 0;

-- The donor's blood group, from the origin's characterization (NULL until
-- it is recorded): the list of organs awaiting a disposition filters the
-- organs from abroad on it exactly, as it filters the organs procured here
-- on donors.blood_group. The same step fills it for the organs received
-- before, from the characterization kept.
ALTER TABLE organ_imports ADD COLUMN blood_group TEXT;
