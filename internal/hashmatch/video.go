package hashmatch

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/custos-project/custos/internal/hashmatch/vpdq"
)

// videoExts are the file names an offline scan hashes as video (vPDQ).
var videoExts = map[string]bool{".mp4": true, ".m4v": true, ".mov": true, ".mkv": true, ".webm": true, ".avi": true,
	".mpg": true, ".mpeg": true, ".wmv": true, ".flv": true, ".3gp": true, ".ts": true}

// IsVideo tells whether a file is scanned as a video, by its name.
func IsVideo(path string) bool { return videoExts[strings.ToLower(filepath.Ext(path))] }

// VideoSecondsPerHash is how often a scan samples a video: one frame a second.
const VideoSecondsPerHash = 1

// scanVideo hashes one frame a second of a video with vPDQ and matches it
// against the banks as the registry matches a video (MatchVideoLocal): with
// video entries by vPDQ's percentages and by the file's MD5, and frame by
// frame with image entries, so a known image that appears in a video is
// found. The result carries the best match's first matching frame and its
// time. A video whose frames cannot be hashed (no ffmpeg, say, or a
// decoder needing more than maxMemory bytes) is still matched by its MD5,
// and the error says why its frames were not.
func scanVideo(ctx context.Context, path string, banks []*LocalBank, minQuality int, maxMemory int64) ScanResult {
	r := ScanResult{Path: path, Video: true}
	var err error
	if r.MD5, r.SHA256, err = fileDigests(path); err != nil {
		r.Status, r.Error = "error", err.Error()
		return r
	}
	frames, err := vpdq.HashVideo(ctx, path, vpdq.Options{SecondsPerHash: VideoSecondsPerHash, MaxMemory: maxMemory})
	r.Frames = len(frames)
	ms, status, merr := MatchVideoLocal(banks, frames, r.MD5, minQuality)
	if merr != nil {
		r.Status, r.Error = "error", merr.Error()
		return r
	}
	if err != nil && len(frames) == 0 && status != StatusMatch {
		r.Status, r.Error = "error", err.Error()
		return r
	}
	r.Status = status
	if status == StatusMatch {
		r.Matches, r.AtSeconds = ms, ms[0].AtSeconds
		for _, f := range frames {
			if r.AtSeconds != nil && f.Seconds == *r.AtSeconds && f.Quality >= minQuality {
				r.PDQ, r.Quality = f.Hash.String(), f.Quality
				break
			}
		}
	}
	if err != nil {
		// Part of the file (or none of its frames) could not be decoded:
		// say so, with what was matched.
		r.Error = err.Error()
	}
	return r
}

// fileDigests are a file's MD5 and SHA-256, in lower-case hex.
func fileDigests(path string) (string, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	m, h := md5.New(), sha256.New()
	if _, err := io.Copy(io.MultiWriter(m, h), f); err != nil {
		return "", "", err
	}
	return hex.EncodeToString(m.Sum(nil)), hex.EncodeToString(h.Sum(nil)), nil
}
