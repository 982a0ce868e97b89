-- What a payer asked, beside the answer (docs/oversight.md, "The payer
-- check"): the recipient's pseudonym and the day when the question named
-- them, and the day the transplantation found was performed, so that the
-- regulator's list of questions shows each question, not only its answer.
-- Questions asked before are filled from their log entries, as the
-- projector of transplant.payer_checked would have written them.
ALTER TABLE payer_checks ADD COLUMN recipient_pseudonym TEXT NOT NULL DEFAULT '';
ALTER TABLE payer_checks ADD COLUMN asked_date TEXT NOT NULL DEFAULT '';
ALTER TABLE payer_checks ADD COLUMN performed_on TEXT NOT NULL DEFAULT '';
-- sqlite: UPDATE payer_checks SET
-- sqlite: 	recipient_pseudonym = COALESCE((SELECT json_extract(l.data, '$.data.recipient_pseudonym') FROM log_leaves l WHERE l.idx = payer_checks.log_index), ''),
-- sqlite: 	asked_date = COALESCE((SELECT json_extract(l.data, '$.data.date') FROM log_leaves l WHERE l.idx = payer_checks.log_index), ''),
-- sqlite: 	performed_on = COALESCE((SELECT json_extract(l.data, '$.data.performed_on') FROM log_leaves l WHERE l.idx = payer_checks.log_index), '');
-- postgres: UPDATE payer_checks SET
-- postgres: 	recipient_pseudonym = COALESCE(l.data::jsonb #>> '{data,recipient_pseudonym}', ''),
-- postgres: 	asked_date = COALESCE(l.data::jsonb #>> '{data,date}', ''),
-- postgres: 	performed_on = COALESCE(l.data::jsonb #>> '{data,performed_on}', '')
-- postgres: 	FROM log_leaves l WHERE l.idx = payer_checks.log_index;
