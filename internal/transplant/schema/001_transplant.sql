-- The organ traceability registry (resolution VI, para 6 e, g, h).
CREATE TABLE centre_authorizations (
	id TEXT PRIMARY KEY,
	centre_id TEXT NOT NULL REFERENCES authorities(id),
	activity TEXT NOT NULL,
	organ TEXT NOT NULL,
	valid_from TEXT NOT NULL,
	valid_to TEXT,
	granted_at TEXT NOT NULL,
	granted_by TEXT NOT NULL,
	revoked_at TEXT,
	revoked_by TEXT,
	revoke_reason TEXT,
	log_index BIGINT NOT NULL
);
CREATE INDEX centre_authorizations_lookup ON centre_authorizations (centre_id, activity, organ);

CREATE TABLE donors (
	id TEXT PRIMARY KEY,
	kind TEXT NOT NULL,
	subject_ref TEXT NOT NULL,
	person_pseudonym TEXT NOT NULL,
	centre_id TEXT NOT NULL REFERENCES authorities(id),
	sex TEXT NOT NULL,
	blood_group TEXT NOT NULL,
	date_of_birth TEXT,
	estimated_age INTEGER,
	weight_kg INTEGER,
	height_cm INTEGER,
	cause_of_death TEXT,
	date_of_death TEXT,
	iv_drug_use TEXT NOT NULL,
	malignancy TEXT NOT NULL,
	transmissible_disease TEXT NOT NULL,
	hiv TEXT NOT NULL,
	hcv TEXT NOT NULL,
	hbv TEXT NOT NULL,
	organ_function TEXT NOT NULL,
	recorded_at TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX donors_person ON donors (person_pseudonym);

CREATE TABLE consents (
	id TEXT PRIMARY KEY,
	donor_id TEXT NOT NULL REFERENCES donors(id),
	kind TEXT NOT NULL,
	given_on TEXT NOT NULL,
	assessed_by TEXT NOT NULL,
	assessor_independent INTEGER NOT NULL,
	voluntary INTEGER NOT NULL,
	informed INTEGER NOT NULL,
	recorded_at TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX consents_donor ON consents (donor_id);

CREATE TABLE recipients (
	id TEXT PRIMARY KEY,
	subject_ref TEXT NOT NULL,
	person_pseudonym TEXT NOT NULL,
	centre_id TEXT NOT NULL REFERENCES authorities(id),
	sex TEXT NOT NULL,
	blood_group TEXT NOT NULL,
	date_of_birth TEXT NOT NULL,
	residence TEXT NOT NULL,
	organ_needed TEXT NOT NULL,
	listed_on TEXT NOT NULL,
	status TEXT NOT NULL,
	recorded_at TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX recipients_person ON recipients (person_pseudonym);

CREATE TABLE procurements (
	id TEXT PRIMARY KEY,
	donor_id TEXT NOT NULL REFERENCES donors(id),
	centre_id TEXT NOT NULL REFERENCES authorities(id),
	procured_at TEXT NOT NULL,
	donation_year INTEGER NOT NULL,
	donation_seq INTEGER NOT NULL,
	recorded_at TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	log_index BIGINT NOT NULL,
	UNIQUE (donation_year, donation_seq)
);
CREATE INDEX procurements_donor ON procurements (donor_id);

CREATE TABLE organs (
	id TEXT PRIMARY KEY,
	procurement_id TEXT NOT NULL REFERENCES procurements(id),
	donor_id TEXT NOT NULL REFERENCES donors(id),
	organ TEXT NOT NULL,
	status TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX organs_donor ON organs (donor_id);

CREATE TABLE transplant_authorizations (
	id TEXT PRIMARY KEY,
	organ_id TEXT NOT NULL REFERENCES organs(id),
	recipient_id TEXT NOT NULL REFERENCES recipients(id),
	centre_id TEXT NOT NULL REFERENCES authorities(id),
	authorized_at TEXT NOT NULL,
	authorized_by TEXT NOT NULL,
	compatibility_documented INTEGER NOT NULL,
	consent_verified INTEGER NOT NULL,
	no_payment_declared INTEGER NOT NULL,
	on_waiting_list INTEGER NOT NULL,
	recorded_at TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX transplant_authorizations_pair ON transplant_authorizations (organ_id, recipient_id);

CREATE TABLE transplants (
	id TEXT PRIMARY KEY,
	organ_id TEXT NOT NULL UNIQUE REFERENCES organs(id),
	recipient_id TEXT NOT NULL REFERENCES recipients(id),
	centre_id TEXT NOT NULL REFERENCES authorities(id),
	authorization_id TEXT NOT NULL REFERENCES transplant_authorizations(id),
	performed_at TEXT NOT NULL,
	recorded_at TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX transplants_recipient ON transplants (recipient_id);

-- The log of openings of sealed personal data (personal_data_reads) was
-- created here until it moved to the core (core migration 002): registries
-- made before then have it from this file, new ones from the core.
