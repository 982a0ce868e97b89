-- Narrow rows the two yearly reports of resolution VI count from
-- (internal/transplant/reportrows.go, docs/oversight.md): the projectors of
-- procurements, transplantations, procedures, registrations, waiting-list
-- changes and transplants abroad keep them, so that the GODT report and the
-- equity report are each a GROUP BY over narrow rows, read from a covering
-- index, instead of joins over the registry at every report. The rows
-- already in a registry are filled here from its tables, as the projectors
-- would have written them.

-- A procurement of the GODT's donor counts: the donor's kind, when, and
-- whether an organ of it was transplanted (the donor is then utilized).
-- The year (of procured_at) leads the index: a year's rows are read in the
-- order the report groups them, with no sort.
CREATE TABLE godt_donations (
	id TEXT PRIMARY KEY,
	donor_id TEXT NOT NULL,
	donor_kind TEXT NOT NULL,
	procured_at TEXT NOT NULL,
	year INTEGER NOT NULL,
	utilized INTEGER NOT NULL
);
CREATE INDEX godt_donations_year ON godt_donations (year, donor_kind, donor_id, utilized);
INSERT INTO godt_donations (id, donor_id, donor_kind, procured_at, year, utilized)
	SELECT p.id, p.donor_id, d.kind, p.procured_at, CAST(substr(p.procured_at, 1, 4) AS INTEGER),
		CASE WHEN EXISTS (SELECT 1 FROM organs o JOIN transplants t ON t.organ_id = o.id WHERE o.procurement_id = p.id) THEN 1 ELSE 0 END
	FROM procurements p JOIN donors d ON d.id = p.donor_id;

-- A transplant as the GODT counts it: one per procedure and organ type (a
-- double kidney is one), keyed by the transplantation's id when it was
-- recorded alone and by procedure id ':' organ type in a procedure.
CREATE TABLE godt_transplants (
	id TEXT PRIMARY KEY,
	performed_at TEXT NOT NULL,
	year INTEGER NOT NULL,
	organ TEXT NOT NULL,
	donor_kind TEXT NOT NULL,
	procedure_kind TEXT NOT NULL
);
CREATE INDEX godt_transplants_year ON godt_transplants (year, organ, donor_kind, procedure_kind);
INSERT INTO godt_transplants (id, performed_at, year, organ, donor_kind, procedure_kind)
	SELECT CASE WHEN t.procedure_id IS NULL THEN t.id ELSE t.procedure_id || ':' || o.organ END,
		MIN(t.performed_at), CAST(substr(MIN(t.performed_at), 1, 4) AS INTEGER), MIN(o.organ), MIN(d.kind), MIN(COALESCE(tp.kind, 'single'))
	FROM transplants t JOIN organs o ON o.id = t.organ_id JOIN donors d ON d.id = o.donor_id
	LEFT JOIN transplant_procedures tp ON tp.id = t.procedure_id
	GROUP BY CASE WHEN t.procedure_id IS NULL THEN t.id ELSE t.procedure_id || ':' || o.organ END;

-- A waiting-list registration as the equity report counts it: what it is
-- broken down by (sex, age band at listing, region, residence), its last
-- status, whether a transplant abroad ended it, and its first
-- transplantation here with the wait in whole calendar months (NULL when
-- none).
CREATE TABLE equity_registrations (
	recipient_id TEXT PRIMARY KEY,
	listed_on TEXT NOT NULL,
	organ TEXT NOT NULL,
	sex TEXT NOT NULL,
	age_band TEXT NOT NULL,
	region TEXT NOT NULL,
	residence TEXT NOT NULL,
	status TEXT NOT NULL,
	abroad INTEGER NOT NULL,
	first_at TEXT,
	wait_months BIGINT
);
CREATE INDEX equity_registrations_groups ON equity_registrations (sex, age_band, region, residence, status, abroad, wait_months, listed_on, organ);
INSERT INTO equity_registrations (recipient_id, listed_on, organ, sex, age_band, region, residence, status, abroad, first_at, wait_months)
	SELECT x.id, x.listed_on, x.organ_needed, x.sex,
		CASE WHEN x.age < 18 THEN '0-17' WHEN x.age < 25 THEN '18-24' WHEN x.age < 35 THEN '25-34' WHEN x.age < 45 THEN '35-44'
			WHEN x.age < 55 THEN '45-54' WHEN x.age < 65 THEN '55-64' ELSE '65+' END,
		x.region, x.residence, x.status, x.abroad, x.first,
		CASE WHEN x.first IS NULL THEN NULL ELSE (CAST(substr(x.first, 1, 4) AS INTEGER) * 12 + CAST(substr(x.first, 6, 2) AS INTEGER))
			- (CAST(substr(x.listed_on, 1, 4) AS INTEGER) * 12 + CAST(substr(x.listed_on, 6, 2) AS INTEGER)) END
	FROM (SELECT r.id, r.listed_on, r.organ_needed, r.sex, r.region, r.residence, COALESCE(ws.status, 'active') AS status,
			CASE WHEN EXISTS (SELECT 1 FROM abroad_procedures a WHERE a.recipient_id = r.id) THEN 1 ELSE 0 END AS abroad,
			(SELECT MIN(t.performed_at) FROM transplants t WHERE t.recipient_id = r.id) AS first,
			CAST(substr(r.listed_on, 1, 4) AS INTEGER) - CAST(substr(r.date_of_birth, 1, 4) AS INTEGER)
				- CASE WHEN substr(r.listed_on, 6, 5) < substr(r.date_of_birth, 6, 5) THEN 1 ELSE 0 END AS age
		FROM recipients r LEFT JOIN waitlist_status ws ON ws.recipient_id = r.id) x;
