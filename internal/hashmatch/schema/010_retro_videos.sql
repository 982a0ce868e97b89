-- Retroactive matching of videos. A video upload of a provider that opted
-- in, that matched nothing, is kept in the same window as its images
-- (hm_retro_uploads, outside the log, same retention and expiry). Its video
-- column holds what matching it again needs, as the canonical JSON of a
-- bank entry's "video" field: the distinct frames of sufficient quality
-- ({"frames":[{"pdq","quality","seconds"},...]}, "{}" for a video with
-- none); its md5 and sha256 are the file's. An image row has video '' (and
-- a video row an empty pdq and variants).
ALTER TABLE hm_retro_uploads ADD COLUMN video TEXT NOT NULL DEFAULT '';
