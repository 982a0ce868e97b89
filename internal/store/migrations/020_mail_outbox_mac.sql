-- Each e-mail of the outbox carries an HMAC-SHA-256 of all its columns
-- under a key derived from the master key (internal/mail, mail.go:
-- KeyLabel). The deliverer sends only e-mails whose MAC matches, marking
-- the others failed unsent and saying so in the server log, and the outbox
-- lists marks them tampered: whoever can write the database but lacks the
-- key file can neither send a text of their choosing from the registry's
-- address nor make an unsent notification look sent. E-mails queued
-- before carry none and cannot be told from changed ones: those still
-- pending are marked failed here, not sent (their notifications must reach
-- their recipients another way); the others stay as they were, listed as
-- tampered.
ALTER TABLE mail_outbox ADD COLUMN mac TEXT NOT NULL DEFAULT '';
UPDATE mail_outbox SET state = 'failed',
	last_error = 'not sent: queued before core migration 20, which authenticates the outbox'
	WHERE state = 'pending';
