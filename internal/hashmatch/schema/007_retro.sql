-- Retroactive matching, opt-in per service provider. hm_retro_settings is
-- projected from the log (hashmatch.retro_set): who opted in, with which
-- retention, since when. hm_retro_uploads is NOT projected and not in the
-- log, so that its rows can expire: the hashes of the provider's recent
-- uploads that matched nothing, kept for its retention (counted from
-- seen_at, when custos received the upload) and deleted after it, or at
-- once when the provider opts out. It holds hashes, the user pseudonym (as
-- cases do), the service's content reference and upload time: never an
-- image or a raw user id.
CREATE TABLE hm_retro_settings (
	provider_id TEXT PRIMARY KEY REFERENCES authorities(id),
	retention_days INTEGER NOT NULL,
	set_at TEXT NOT NULL,
	set_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);

CREATE TABLE hm_retro_uploads (
	id TEXT PRIMARY KEY,
	provider_id TEXT NOT NULL REFERENCES authorities(id),
	pdq TEXT NOT NULL,
	variants TEXT NOT NULL,
	quality INTEGER NOT NULL,
	md5 TEXT NOT NULL,
	sha256 TEXT NOT NULL,
	source TEXT NOT NULL,
	content_ref TEXT NOT NULL,
	user_pseudonym TEXT NOT NULL,
	uploaded_at TEXT NOT NULL,
	seen_at TEXT NOT NULL
);
CREATE INDEX hm_retro_uploads_provider ON hm_retro_uploads (provider_id, seen_at);
CREATE INDEX hm_retro_uploads_seen ON hm_retro_uploads (seen_at);
