-- Reserved: transplant migration 7 is the vigilance work's (SAE/SAR), built on
-- another branch at the same time as 008. This placeholder only keeps the
-- versions running 1, 2, 3... on the trafficking branch; it is deleted when
-- the two branches are merged (the merge keeps the real 007).
SELECT 1;
