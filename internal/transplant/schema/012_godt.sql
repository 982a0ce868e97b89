-- A placeholder on branch followup: transplant migration 12 is the GODT
-- branch's (multi-organ procedures). The lead merges that branch's file
-- over this one; this file adds nothing.
SELECT 1;
