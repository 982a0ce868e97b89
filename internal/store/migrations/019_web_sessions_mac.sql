-- A web session's row carries an HMAC-SHA-256 of every one of its columns
-- (the secret's keyed hash, ref, principal, method, times, network, agent)
-- under the sessions' key, derived from the master key (internal/auth,
-- sessions.go): a row changed by whoever can write the database but lacks
-- the key file (another principal, a later expiry) resumes no session, and
-- the server log says so. Sessions opened before carry none: they end
-- here, and their people sign in again.
DELETE FROM web_sessions;
ALTER TABLE web_sessions ADD COLUMN mac TEXT NOT NULL DEFAULT '';
