-- Placeholder: transplant version 9 is another branch's (crossborder).
-- Versions run without gaps, so this branch holds the place; the merge
-- replaces this file with that branch's 009.
SELECT 1;
