-- The dashboards count activity per month, centre and organ over a period of
-- months (internal/transplant/figures.go). Each count reads a range of one of
-- these indexes, which hold every column it groups by, so it never reads the
-- tables themselves nor scans them whole: at a million organs a period of 12
-- months is read in the time of that period's rows. A transplantation's organ
-- is looked up by its key, in the rows of the period only.
CREATE INDEX procurements_time ON procurements (procured_at, centre_id, id);
CREATE INDEX organs_procurement ON organs (procurement_id, organ);
CREATE INDEX transplants_time ON transplants (performed_at, centre_id, organ_id);
