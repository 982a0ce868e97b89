-- A repeat count kept outside the log (alert_repeats) is logged by the
-- registry itself (alert.repeated, alert.closed): each row carries an
-- HMAC-SHA-256 of its alert, count and last time under a key derived from
-- the master key (internal/ledger, alerts.go: Writer.UnloggedRepeats), so
-- that a count written behind custos's back, by whoever can write the
-- database but lacks the key file, is discarded (and said in the server's
-- log) rather than signed into the log. Rows from before carry none and
-- are discarded at their next use.
ALTER TABLE alert_repeats ADD COLUMN mac TEXT NOT NULL DEFAULT '';
