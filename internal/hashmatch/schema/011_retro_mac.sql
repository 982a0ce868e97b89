-- hm_retro_uploads is outside the log (its rows expire), and a row in it can
-- open a case when a bank publishes: each row now carries an HMAC-SHA-256
-- of its columns under a key derived from the registry's master key, and a
-- row without the right one (written behind custos's back, or kept before
-- this migration) is not matched and is reported in the server's log.
ALTER TABLE hm_retro_uploads ADD COLUMN mac TEXT NOT NULL DEFAULT '';
