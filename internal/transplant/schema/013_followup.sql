-- Oversight of residents treated abroad (resolution VI, para 6 i), long-term
-- follow-up (6 k) and equitable access to the waiting list (6 c): see
-- docs/oversight.md. Every row is a projection of the log; the follow-up
-- schedule is computed from the transplants, the living donations and these
-- rows, never stored.

-- A transplant or a living donation of a resident performed in another
-- jurisdiction, with the items the Declaration of Istanbul Custodian Group
-- (2018) asks registries to hold on patients who travel for
-- transplantation. The person's name and national identifier are sealed
-- (subjects), as a recipient's are.
CREATE TABLE abroad_procedures (
	id TEXT PRIMARY KEY,
	kind TEXT NOT NULL,
	subject_ref TEXT NOT NULL,
	person_pseudonym TEXT NOT NULL,
	centre_id TEXT NOT NULL REFERENCES authorities(id),
	recipient_id TEXT,
	sex TEXT NOT NULL,
	date_of_birth TEXT NOT NULL,
	country TEXT NOT NULL,
	foreign_centre TEXT NOT NULL,
	organ TEXT NOT NULL,
	performed_on TEXT NOT NULL,
	returned_on TEXT,
	known_through TEXT NOT NULL,
	donor_type TEXT NOT NULL,
	donor_relation TEXT NOT NULL,
	donor_nationality TEXT NOT NULL,
	payment_reported TEXT NOT NULL,
	medical_records TEXT NOT NULL,
	recorded_at TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX abroad_procedures_country ON abroad_procedures (country, performed_on);
CREATE INDEX abroad_procedures_centre ON abroad_procedures (centre_id, performed_on);
CREATE INDEX abroad_procedures_recipient ON abroad_procedures (recipient_id);
CREATE INDEX abroad_procedures_person ON abroad_procedures (person_pseudonym);

-- One follow-up of a recipient, a living donor or a resident treated
-- abroad, at one occasion of the schedule (due_month months after the
-- transplantation or donation).
CREATE TABLE followups (
	id TEXT PRIMARY KEY,
	subject_id TEXT NOT NULL,
	subject TEXT NOT NULL,
	centre_id TEXT NOT NULL REFERENCES authorities(id),
	due_month INTEGER NOT NULL,
	followed_up_on TEXT NOT NULL,
	vital_status TEXT NOT NULL,
	graft_status TEXT NOT NULL,
	complications TEXT NOT NULL,
	psychosocial_care TEXT NOT NULL,
	recorded_at TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	log_index BIGINT NOT NULL,
	UNIQUE (subject_id, due_month)
);
CREATE INDEX followups_centre ON followups (centre_id, subject_id);

-- The waiting list: a registration is a recipient (listed_on); its status
-- changes (active, suspended) and outcomes (died waiting, removed) are
-- waitlist_events, and waitlist_status holds the last of them. Transplanted
-- is read from transplants and abroad_procedures, never stored.
CREATE TABLE waitlist_events (
	id TEXT PRIMARY KEY,
	recipient_id TEXT NOT NULL REFERENCES recipients(id),
	status TEXT NOT NULL,
	reason TEXT NOT NULL,
	changed_on TEXT NOT NULL,
	recorded_at TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	log_index BIGINT NOT NULL
);
CREATE INDEX waitlist_events_recipient ON waitlist_events (recipient_id, log_index);

CREATE TABLE waitlist_status (
	recipient_id TEXT PRIMARY KEY REFERENCES recipients(id),
	status TEXT NOT NULL,
	changed_on TEXT NOT NULL,
	log_index BIGINT NOT NULL
);

-- The region of residence the equity report counts registrations by
-- (ISO 3166-2 subdivision code, or a code the deployment chooses); empty
-- for the registrations recorded before it was asked.
ALTER TABLE recipients ADD COLUMN region TEXT NOT NULL DEFAULT '';

-- The equity report reads each registration's first transplantation:
-- covering, so that it never reads the transplants' rows.
CREATE INDEX transplants_recipient_time ON transplants (recipient_id, performed_at);
