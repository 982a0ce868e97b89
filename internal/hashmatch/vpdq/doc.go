// Package vpdq computes and matches vPDQ video hashes, compatible with Meta's
// reference implementation in facebook/ThreatExchange (vpdq/).
//
// # Hashing
//
// A vPDQ hash is simply the list of PDQ hashes of a video's frames: each
// frame is decoded, converted to 8-bit RGB, optionally resized, turned into
// float32 luma (0.299 R + 0.587 G + 0.114 B) and hashed with PDQ, keeping
// the frame number, the PDQ quality (0..100) and the timestamp in seconds.
// [HashVideo] does this the way the C++ reference (vpdq-hash-video) does:
//
//   - frames come from the first video stream, in decoding order, numbered
//     from 0; with SecondsPerHash > 0 only every k-th decoded frame is kept,
//     k = int(SecondsPerHash * fps) (at least 1), fps being the stream's
//     average frame rate (its r_frame_rate when that is unknown);
//   - the timestamp of frame n is n / fps;
//   - frames are converted to RGB24 by libswscale, ignoring rotation
//     metadata and assuming BT.601 colours, optionally resized to
//     Downsample x Downsample (aspect ratio not kept) with the Lanczos
//     filter, which is what the reference's -d option and its *-128x128
//     sample hashes do;
//   - each RGB frame is hashed at its full size by [pdq.Hasher.FromLuma],
//     which is bit-exact with the C++ PDQ.
//
// Decoding is delegated to the ffmpeg and ffprobe programs (the reference
// links libav* directly), run with a timeout; frames are streamed from
// ffmpeg's standard output one at a time and hashed by a few goroutines, so
// memory use is a handful of frame buffers whatever the length of the
// video. Only the single-file containers of [Formats] are read, with the
// file protocol alone: playlists, concatenation lists and image sequences,
// which would have FFmpeg open other files, are refused with [ErrFormat]
// before anything is decoded. The exact hashes depend on the FFmpeg version, as they do for the
// reference: upstream's regression rule, kept by this package's tests, is
// that frames of quality >= 50 are within Hamming distance 31 of the
// reference hashes.
//
// # Text format
//
// [WriteHashes] and [ParseHashes] use the reference's hash file format, one
// line per frame: frameNumber,quality,pdqHex,timestampSeconds, the timestamp
// with three decimals, as in vpdq/sample-hashes.
//
// # Matching
//
// [Match] implements the vPDQ comparison: both lists lose their frames of
// quality below a threshold and their exact duplicate hashes; the query
// match percentage is the share of the remaining query frames within a
// Hamming distance of some remaining target frame, the target match
// percentage the converse. Defaults follow python-threatexchange's vPDQ
// signal type: distance 31 (inclusive), quality 50, the query must be 80%
// matched and the target 0%. [Prune] drops consecutive near-duplicate frames
// from a hash, as the vPDQ description suggests for storage.
package vpdq
