-- The web sessions signed out (internal/auth, sessions.go): a projection of
-- the session.ended entries, one row per session reference. Signing out
-- deletes the session's row from web_sessions, which is outside the log; a
-- copy of that row, with the MAC it had, put back by whoever can write the
-- database would otherwise resume the session for whoever kept its cookie.
-- Sessions.Resume reads this table: a session whose reference is here never
-- resumes, and the attempt is reported as tampering. log verify compares it
-- with its replay. Sessions that ended by time (idle or absolute timeout)
-- are not here: the row's MAC holds its absolute expiry and its last
-- request, and no copy custos wrote has a later one. Sessions signed out
-- before this migration left no trace; they are not recorded.
CREATE TABLE web_sessions_ended (
	ref TEXT PRIMARY KEY,
	ended_at TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
