package pdq

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// photoTolerance is the upstream conformance bound for image files: at most
// 10 differing bits from the C++ output when quality >= 80.
const photoTolerance = 10

// webpTolerance is the distance measured on the reference's five WebP files
// (0 on four, 2 on PA.webp, which has alpha), written down in
// docs/hashmatch.md: Go's WebP decoder and libwebp differ, and a change that
// moved them further apart should be seen.
const webpTolerance = 2

// decodable reports whether this package decodes the file's format.
func decodable(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff":
		return true
	}
	return false
}

// TestPhotoHasher compares the image path with the C++ pdq-photo-hasher on
// every reference file. Hashing the stored pixels (EXIF ignored, like the
// reference), the hash must be within photoTolerance bits when the
// reference's quality is >= 80; the dimensions must match, and the quality
// must be close.
func TestPhotoHasher(t *testing.T) {
	rows := readCSV(t, "cpp-pdq-photo-hasher.csv")
	var opts Options
	var dists []int
	exact, checked := 0, 0
	for _, row := range rows {
		rel := row["path_relative_to_pdq_data"]
		if !decodable(rel) {
			continue
		}
		t.Run(rel, func(t *testing.T) {
			want := mustParseHex(t, row["pdq_hex"])
			wantQ := mustAtoi(t, row["quality"])
			res, err := opts.HashFile(refPath(t, "data", filepath.FromSlash(rel)))
			if err != nil {
				t.Fatal(err)
			}
			d := Distance(res.Hash, want)
			t.Logf("distance %3d  quality %3d (C++ %3d)", d, res.Quality, wantQ)
			if w, h := mustAtoi(t, row["width"]), mustAtoi(t, row["height"]); res.Width != w || res.Height != h {
				t.Errorf("size %dx%d, C++ decoded %dx%d", res.Width, res.Height, w, h)
			}
			if abs := absInt(res.Quality - wantQ); abs > 10 {
				t.Errorf("quality %d, C++ %d", res.Quality, wantQ)
			}
			if wantQ < 80 {
				return // upstream makes no promise for low-quality hashes
			}
			checked++
			dists = append(dists, d)
			if d == 0 {
				exact++
			}
			if d > photoTolerance {
				t.Errorf("distance %d from C++ %v (got %v), want <= %d", d, want, res.Hash, photoTolerance)
			}
			if strings.HasSuffix(rel, ".webp") && d > webpTolerance {
				t.Errorf("WebP: distance %d from C++, want <= %d as measured (docs/hashmatch.md)", d, webpTolerance)
			}
		})
	}
	if checked == 0 {
		t.Fatal("no reference photo checked")
	}
	sum := 0
	for _, d := range dists {
		sum += d
	}
	t.Logf("%d photos with quality >= 80: %d exact, max distance %d, mean %.2f",
		checked, exact, slices.Max(dists), float64(sum)/float64(len(dists)))
}
