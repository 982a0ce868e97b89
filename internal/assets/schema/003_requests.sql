-- Requests between states (issue 15, items 4 and 5): mutual legal
-- assistance, extradition, asset recovery and spontaneous disclosures, made
-- by a state of this registry (outgoing) or received from another custos
-- registry over the core exchange (incoming), their steps, the requests for
-- more information and their answers, and the uses made of what a request
-- brought. Every row is projected from the log.
CREATE TABLE assets_requests (
	id TEXT PRIMARY KEY,                 -- RQ-...
	direction TEXT NOT NULL,             -- outgoing, incoming
	type TEXT NOT NULL,                  -- mla, extradition, asset_recovery, spontaneous
	status TEXT NOT NULL,                -- draft, sent, acknowledged, under_execution, executed, partially_executed, refused, withdrawn
	requesting_state TEXT NOT NULL,
	requested_state TEXT NOT NULL,
	requesting_authority_name TEXT NOT NULL,
	requested_authority TEXT NOT NULL,   -- the directory entry (outgoing), or ''
	requested_authority_name TEXT NOT NULL,
	authority_id TEXT NOT NULL,          -- the authority that drafted it here ('' for one received)
	peer_id TEXT NOT NULL,               -- the other registry, or '' (sent by another channel)
	remote_id TEXT NOT NULL,             -- the requesting registry's id of a request received
	legal_basis TEXT NOT NULL,
	treaty TEXT NOT NULL,
	assistance TEXT NOT NULL,            -- space-separated
	offences TEXT NOT NULL,              -- space-separated ICCS codes
	facts TEXT NOT NULL,
	purpose TEXT NOT NULL,
	nexus TEXT NOT NULL,
	urgent INTEGER NOT NULL,
	urgency_reasons TEXT NOT NULL,
	deadline TEXT NOT NULL,              -- YYYY-MM-DD or ''
	confidentiality TEXT NOT NULL,
	dual_criminality TEXT NOT NULL,
	language TEXT NOT NULL,
	use_purposes TEXT NOT NULL,          -- space-separated
	onward_sharing INTEGER NOT NULL,     -- the requesting state's consent
	peer_onward_sharing INTEGER NOT NULL, -- the requested state's consent, with its answer
	follows TEXT NOT NULL,               -- the spontaneous disclosure it follows, or ''
	case_ids TEXT NOT NULL,              -- space-separated
	grounds TEXT NOT NULL,
	grounds_text TEXT NOT NULL,
	drafted_at TEXT NOT NULL,
	drafted_by TEXT NOT NULL,
	sent_at TEXT NOT NULL,
	status_at TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX assets_requests_requesting ON assets_requests (requesting_state, status);
CREATE INDEX assets_requests_requested ON assets_requests (requested_state, status);
CREATE INDEX assets_requests_remote ON assets_requests (peer_id, remote_id);

-- The timeline of a request: one row per entry on it.
CREATE TABLE assets_request_events (
	id TEXT PRIMARY KEY,                 -- request id "/" log index, zero-padded
	request_id TEXT NOT NULL,
	kind TEXT NOT NULL,                  -- drafted, received, status, question, answer, use
	status TEXT NOT NULL,
	text TEXT NOT NULL,
	inbox_id TEXT NOT NULL,              -- the exchange message it came with, or ''
	at TEXT NOT NULL,
	by_actor TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX assets_request_events_request ON assets_request_events (request_id, log_index);
CREATE INDEX assets_request_events_inbox ON assets_request_events (inbox_id);

CREATE TABLE assets_request_questions (
	id TEXT PRIMARY KEY,                 -- RI-...
	request_id TEXT NOT NULL,
	side TEXT NOT NULL,                  -- the side that asked: requesting, requested
	question TEXT NOT NULL,
	asked_on TEXT NOT NULL,
	answer TEXT NOT NULL,
	answered_on TEXT NOT NULL,
	remote_id TEXT NOT NULL,             -- the asking registry's id of a question received
	log_index BIGINT NOT NULL
);
CREATE INDEX assets_request_questions_request ON assets_request_questions (request_id);

CREATE TABLE assets_request_uses (
	id TEXT PRIMARY KEY,                 -- request id "/" log index, zero-padded
	request_id TEXT NOT NULL,
	side TEXT NOT NULL,
	purpose TEXT NOT NULL,
	share_with TEXT NOT NULL,
	note TEXT NOT NULL,
	used_at TEXT NOT NULL,
	used_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX assets_request_uses_request ON assets_request_uses (request_id);
