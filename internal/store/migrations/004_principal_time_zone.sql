-- A principal's own time zone (an IANA name), set by a
-- principal.preferences_set entry: the pages show times in it and read
-- the times typed in forms in it. Empty: the registry's zone.
ALTER TABLE principals ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
