-- An authority's notification contact (auth.SetContact, an
-- authority.contact_set entry): the functional e-mail address the registry
-- writes to when a module notifies the authority (vigilance@centre, not a
-- person's), and the language of those e-mails ('' for the registry's).
-- Empty: the authority is notified in the web UI only.
ALTER TABLE authorities ADD COLUMN notify_email TEXT NOT NULL DEFAULT '';
ALTER TABLE authorities ADD COLUMN notify_language TEXT NOT NULL DEFAULT '';
