-- Placeholder: core version 10 is another branch's (sessions). Versions run
-- without gaps, so this branch holds the place; the merge replaces this file
-- with that branch's 010.
SELECT 1;
