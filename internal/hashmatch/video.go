package hashmatch

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/custos-project/custos/internal/hashmatch/pdq"
	"github.com/custos-project/custos/internal/hashmatch/vpdq"
)

// videoExts are the file names an offline scan hashes as video (vPDQ).
var videoExts = map[string]bool{".mp4": true, ".m4v": true, ".mov": true, ".mkv": true, ".webm": true, ".avi": true,
	".mpg": true, ".mpeg": true, ".wmv": true, ".flv": true, ".3gp": true, ".ts": true}

// IsVideo tells whether a file is scanned as a video, by its name.
func IsVideo(path string) bool { return videoExts[strings.ToLower(filepath.Ext(path))] }

// VideoSecondsPerHash is how often a scan samples a video: one frame a second.
const VideoSecondsPerHash = 1

// scanVideo hashes one frame a second of a video with vPDQ and matches every
// frame of sufficient quality against the banks: a known image that appears
// in a video is found. The result carries the first matching frame's time.
func scanVideo(ctx context.Context, path string, banks []*LocalBank, minQuality int) ScanResult {
	r := ScanResult{Path: path, Video: true}
	frames, err := vpdq.HashVideo(ctx, path, vpdq.Options{SecondsPerHash: VideoSecondsPerHash})
	if err != nil && len(frames) == 0 {
		r.Status, r.Error = "error", err.Error()
		return r
	}
	r.Frames = len(frames)
	usable, suppressed := 0, false
	for _, f := range frames {
		if f.Quality < minQuality {
			continue
		}
		usable++
		ms, sup, err := MatchLocal(banks, []pdq.Hash{f.Hash})
		if err != nil {
			r.Status, r.Error = "error", err.Error()
			return r
		}
		if len(ms) == 0 {
			continue
		}
		if sup {
			suppressed = true
			continue
		}
		r.Status, r.Matches, r.PDQ, r.Quality = StatusMatch, ms, f.Hash.String(), f.Quality
		at := f.Seconds
		r.AtSeconds = &at
		return r
	}
	switch {
	case suppressed:
		r.Status = StatusSuppressed
	case usable == 0:
		r.Status = StatusLowQuality
	default:
		r.Status = StatusNoMatch
	}
	if err != nil {
		// Part of the file could not be decoded: say so, with what was hashed.
		r.Error = err.Error()
	}
	return r
}
