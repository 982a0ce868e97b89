-- E-mail (internal/mail): the durable outbox. A command that notifies
-- someone queues its e-mails in its own write transaction (mail.Enqueue),
-- so the e-mails and the entry that caused them are committed together; the
-- deliverer sends them, retrying with a doubling wait until the SMTP server
-- accepts or refuses for good. Not a projection of the log: the entry of the
-- command that queued them says what was notified, and this table is how
-- the e-mails got out. Messages hold message IDs and arguments (references,
-- links), never personal data of patients or donors; each is written in
-- the recipient's language when it is sent.
CREATE TABLE mail_outbox (
	id TEXT PRIMARY KEY,
	seq BIGINT NOT NULL,
	created_at TEXT NOT NULL,
	address TEXT NOT NULL,
	principal_id TEXT NOT NULL DEFAULT '',
	language TEXT NOT NULL DEFAULT '',
	subject TEXT NOT NULL,
	body TEXT NOT NULL,
	args TEXT NOT NULL,
	reference TEXT NOT NULL DEFAULT '',
	link TEXT NOT NULL DEFAULT '',
	state TEXT NOT NULL,
	attempts BIGINT NOT NULL DEFAULT 0,
	next_attempt_at TEXT NOT NULL,
	last_attempt_at TEXT NOT NULL DEFAULT '',
	last_error TEXT NOT NULL DEFAULT '',
	sent_at TEXT NOT NULL DEFAULT ''
);
-- The deliverer's question: what is pending and due.
CREATE INDEX mail_outbox_due ON mail_outbox (state, next_attempt_at);
-- The outbox's list, newest first, keyset-paged (internal/page), all or by state.
CREATE INDEX mail_outbox_list ON mail_outbox (seq DESC, id);
CREATE INDEX mail_outbox_state_list ON mail_outbox (state, seq DESC, id);
