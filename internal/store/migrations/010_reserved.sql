-- Placeholder for core migration 10, which another branch of this session
-- adds (migration numbers are assigned per branch); the merge replaces this
-- file with that branch's.
SELECT 1;
