-- The asset-recovery registry (issue 15): the directory of central
-- authorities and contact points, cases with their offences (ICCS), persons
-- and links, the assets of a case and the ledger of measures on each asset
-- (identified, frozen or seized, confiscated, returned or disposed), and the
-- exchange rates the statistics convert amounts at. Every row is projected
-- from the log. Amounts are exact decimals kept as text ("1250000.50"),
-- never floats; sums are made in Go with github.com/shopspring/decimal.
CREATE TABLE assets_directory (
	id TEXT PRIMARY KEY,            -- DI-...
	state TEXT NOT NULL,            -- ISO 3166-1 alpha-2
	kind TEXT NOT NULL,             -- central_authority, contact_point, asset_recovery_focal_point
	name TEXT NOT NULL,
	legal_bases TEXT NOT NULL,      -- space-separated: uncac_46 untoc_18 bilateral_treaty reciprocity
	treaty TEXT NOT NULL,           -- the bilateral treaty's name, when one is a basis
	languages TEXT NOT NULL,        -- space-separated ISO 639-1 codes
	channels TEXT NOT NULL,         -- space-separated: email phone post secure_platform ...
	email TEXT NOT NULL,
	phone TEXT NOT NULL,
	address TEXT NOT NULL,
	available_247 INTEGER NOT NULL, -- 1: reachable 24/7
	contact_247 TEXT NOT NULL,      -- the 24/7 line or address
	notes TEXT NOT NULL,
	source TEXT NOT NULL,           -- "form" or the imported file's name
	recorded_at TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX assets_directory_state ON assets_directory (state, kind);

CREATE TABLE assets_cases (
	id TEXT PRIMARY KEY,            -- RV-...
	state TEXT NOT NULL,            -- the state whose case it is: who may see it
	authority_id TEXT NOT NULL,     -- the authority that opened it
	reference TEXT NOT NULL,        -- the national case number
	title TEXT NOT NULL,
	kind TEXT NOT NULL,             -- domestic, incoming, outgoing
	offences TEXT NOT NULL,         -- space-separated ICCS codes
	opened_on TEXT NOT NULL,        -- YYYY-MM-DD
	opened_at TEXT NOT NULL,
	opened_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX assets_cases_state ON assets_cases (state, opened_on);

CREATE TABLE assets_case_links (
	id TEXT PRIMARY KEY,            -- case id "/" other case id (both ways)
	case_id TEXT NOT NULL,
	other_id TEXT NOT NULL,
	reason TEXT NOT NULL,
	linked_at TEXT NOT NULL,
	linked_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX assets_case_links_case ON assets_case_links (case_id);

CREATE TABLE assets_persons (
	id TEXT PRIMARY KEY,            -- RP-...
	case_id TEXT NOT NULL,
	kind TEXT NOT NULL,             -- natural, legal
	role TEXT NOT NULL,             -- suspect, accused, convicted, owner, third_party, victim
	country TEXT NOT NULL,          -- nationality or place of incorporation
	name TEXT NOT NULL,             -- a legal person's name; "" for a natural person (sealed)
	registration TEXT NOT NULL,     -- a legal person's registration number; "" for a natural person
	subject_ref TEXT NOT NULL,      -- the sealed personal data of a natural person; "" for a legal one
	added_at TEXT NOT NULL,
	added_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX assets_persons_case ON assets_persons (case_id);

CREATE TABLE assets_assets (
	id TEXT PRIMARY KEY,            -- RA-...
	case_id TEXT NOT NULL,
	type TEXT NOT NULL,             -- bank_account, real_estate, vehicle, ...
	jurisdiction TEXT NOT NULL,     -- where the asset is: ISO 3166-1 alpha-2
	description TEXT NOT NULL,
	value TEXT NOT NULL,            -- estimated value, exact decimal
	currency TEXT NOT NULL,         -- ISO 4217
	holder_id TEXT NOT NULL,        -- a person of the case, or ""
	status TEXT NOT NULL,           -- the last step: identified, frozen, seized, confiscated, returned, disposed, released
	status_on TEXT NOT NULL,        -- the date of the last step
	identified_on TEXT NOT NULL,
	identified_at TEXT NOT NULL,
	identified_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX assets_assets_case ON assets_assets (case_id);

CREATE TABLE assets_measures (
	id TEXT PRIMARY KEY,            -- RM-...
	asset_id TEXT NOT NULL,
	case_id TEXT NOT NULL,
	seq INTEGER NOT NULL,           -- 0 for identification, then 1, 2, ...
	step TEXT NOT NULL,
	confiscation TEXT NOT NULL,     -- criminal, non_conviction_based, civil (confiscated only)
	decided_on TEXT NOT NULL,       -- YYYY-MM-DD
	instrument TEXT NOT NULL,       -- the legal instrument: order, judgment, agreement
	amount TEXT NOT NULL,           -- exact decimal
	currency TEXT NOT NULL,
	authority TEXT NOT NULL,        -- the deciding authority
	returned_to TEXT NOT NULL,      -- the state returned to (returned only)
	notes TEXT NOT NULL,
	recorded_at TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX assets_measures_asset ON assets_measures (asset_id, seq);
CREATE INDEX assets_measures_case ON assets_measures (case_id, decided_on);

CREATE TABLE assets_rates (
	id TEXT PRIMARY KEY,            -- currency "/" to "/" year
	currency TEXT NOT NULL,
	to_currency TEXT NOT NULL,
	year INTEGER NOT NULL,
	rate TEXT NOT NULL,             -- units of to_currency per unit of currency, exact decimal
	source TEXT NOT NULL,           -- where the rate comes from (central bank, IMF, ...)
	recorded_at TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
