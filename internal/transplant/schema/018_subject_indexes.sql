-- The donors and recipients of a subject: a look-up by name and date of
-- birth finds the subject in person_names, then its records by subject,
-- so that a domino donor (the recipient whose explanted liver was given on,
-- recorded as a donor with the recipient's subject) is found by name as it
-- is by national identifier (internal/transplant/personal.go, byNameSQL).
CREATE INDEX donors_subject ON donors (subject_ref);
CREATE INDEX recipients_subject ON recipients (subject_ref);
