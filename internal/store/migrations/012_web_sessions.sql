-- Web sessions (internal/web, internal/auth sessions.go): who is signed in
-- to the pages, server-side. The browser holds a random session secret;
-- only its hash is kept here, so a copy of the database signs nobody in
-- (a plain SHA-256 when this table was added; now an HMAC-SHA-256 under a
-- key derived from the master key, and since core migration 19 each row
-- carries a MAC of all its columns). ref is the session's public name (My
-- account lists it, the server log names it), never the secret. Not a
-- projection of the log: a session changes no record, and sign-ins go to
-- the server log only; a sign-out is a session.ended entry too (core
-- migration 22, web_sessions_ended), so that a signed-out session's row
-- put back resumes nothing (docs/operations.md, Sessions).
-- network is coarse (an IPv4 /24 or IPv6 /48), agent the browser's family
-- and system, for the principal to recognise their own sessions.
CREATE TABLE web_sessions (
	secret_hash TEXT PRIMARY KEY,
	ref TEXT NOT NULL UNIQUE,
	principal_id TEXT NOT NULL,
	method TEXT NOT NULL,
	created_at TEXT NOT NULL,
	last_seen_at TEXT NOT NULL,
	expires_at TEXT NOT NULL,
	network TEXT NOT NULL DEFAULT '',
	agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX web_sessions_principal ON web_sessions (principal_id, created_at);
-- A principal signed in through OpenID Connect is the identity provider's
-- subject (issuer and sub claim); '' for principals who sign in with tokens.
ALTER TABLE principals ADD COLUMN oidc_issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE principals ADD COLUMN oidc_subject TEXT NOT NULL DEFAULT '';
CREATE INDEX principals_oidc ON principals (oidc_issuer, oidc_subject);
