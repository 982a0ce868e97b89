-- The e-mails of the outbox (mail_outbox, outside the log) as the log
-- commits to them (internal/mail, committed.go): a projected table, rebuilt
-- by a replay. queued is 1 for an e-mail the entry of the command that
-- queued it names (the entry's data is a mail.Queuer, whose ids
-- mail.Project's projector of every entry commits); sent_index is
-- the index of the mail.sent entry the deliverer writes when the SMTP
-- server accepts it (0 until then). log verify checks the outbox against
-- it: an e-mail the log says was queued must be in the outbox (one deleted
-- behind custos's back, an SAE's notice to a centre, would otherwise never
-- be sent and nothing would say so), and one it says was sent must be sent
-- there; the deliverer sends no e-mail the log says was sent (a row put
-- back to an earlier pending state, with that state's MAC). The e-mails
-- queued before this migration were named by their entries too: they are
-- committed here as queued, and none as sent (their sends were not logged).
CREATE TABLE mail_committed (
	id TEXT PRIMARY KEY,
	queued BIGINT NOT NULL DEFAULT 0,
	sent_index BIGINT NOT NULL DEFAULT 0
);
INSERT INTO mail_committed (id, queued, sent_index) SELECT id, 1, 0 FROM mail_outbox;
