-- An organ's status (procured, transplanted) and a recipient's (waiting,
-- transplanted) follow from the transplants table, so they are read from it
-- rather than stored: recording a transplantation writes one row instead of
-- one row and two updates, which was a quarter of the writer's work at a
-- million organs (BENCHMARKS.md). On SQLite, dropping a column rewrites the
-- table: 9 s for a million organs and 1.2 million recipients (BENCHMARKS.md).
ALTER TABLE organs DROP COLUMN status;
ALTER TABLE recipients DROP COLUMN status;
