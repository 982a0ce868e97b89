package pdq

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/reftest"
)

// fuzzOptions keeps each fuzz input cheap: a 1 MiB file and 1 MP image cap.
var fuzzOptions = Options{MaxBytes: 1 << 20, MaxPixels: 1 << 20}

// fuzzAllocLimit bounds what one input may allocate through the whole
// decode and hash path under fuzzOptions: a 1 MP image is at most 8 MB as
// RGBA64, decoders keep a few such buffers, and hashing adds ~3 MB.
const fuzzAllocLimit = 96 << 20

// FuzzDecode feeds arbitrary bytes through decoding, orientation parsing
// and hashing. Nothing may panic, every refusal must be one of the
// package's errors, and no input may allocate more than fuzzAllocLimit.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"png", "jpeg", "gif", "bmp", "tiff"} {
		f.Add(encode(f, name, testImage(16, 12)))
		f.Add(encode(f, name, testImage(5, 5)))
	}
	jpg := encode(f, "jpeg", testImage(24, 16))
	f.Add(withSegments(jpg, exifSegment(binary.LittleEndian, [3]uint32{0x0112, 3, 6})))
	f.Add(withSegments(jpg, exifSegment(binary.BigEndian, [3]uint32{0x0112, 4, 8})))
	f.Add([]byte("RIFF\x1a\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x10\x00\x00\x00\x0f\x00\x00\x0f\x00\x00"))
	f.Add([]byte{})
	// The first bytes of each reference file: real headers, metadata and
	// the start of real entropy-coded data, cut short.
	if dir, err := reftest.Lookup("pdq"); err == nil {
		_ = filepath.WalkDir(filepath.Join(dir, "data"), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !decodable(path) {
				return nil
			}
			fh, err := os.Open(path)
			if err != nil {
				return nil
			}
			defer fh.Close()
			head := make([]byte, 2048)
			n, _ := io.ReadFull(fh, head)
			f.Add(head[:n])
			return nil
		})
	}
	sentinels := []error{ErrEmpty, ErrTooLarge, ErrUnknownFormat, ErrUnsupported, ErrTruncated, ErrCorrupt, ErrTooManyPixels, ErrTooSmall}
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := jpegOrientation(data); !o.Valid() {
			t.Fatalf("jpegOrientation returned %d", o)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		res, err := fuzzOptions.HashReader(bytes.NewReader(data))
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > fuzzAllocLimit {
			t.Errorf("allocated %d MB for a %d-byte input", n>>20, len(data))
		}
		if err != nil {
			known := false
			for _, s := range sentinels {
				known = known || errors.Is(err, s)
			}
			if !known {
				t.Errorf("unclassified error: %v", err)
			}
			return
		}
		if res.Quality < 0 || res.Quality > 100 || res.Width < MinDimension || res.Height < MinDimension || !res.Orientation.Valid() {
			t.Errorf("implausible result %+v", res)
		}
		// What decoded must have passed the header check with at least
		// the decoded size (a GIF's frame may be smaller than its screen).
		h, err := fuzzOptions.Inspect(data)
		if err != nil {
			t.Fatalf("decoded as %dx%d, but Inspect refused it: %v", res.Width, res.Height, err)
		}
		if h.Pixels() < int64(res.Width)*int64(res.Height) {
			t.Errorf("Inspect says %dx%d, decoded %dx%d", h.Width, h.Height, res.Width, res.Height)
		}
		// The upload path (header parsed once, then every variant) agrees
		// with the single hash.
		e, err := fuzzOptions.Open(data)
		if err != nil {
			t.Fatalf("Inspect accepted it, Open refused it: %v", err)
		}
		img, o, err := e.Decode()
		if err != nil {
			t.Fatalf("HashReader decoded it, Encoded.Decode refused it: %v", err)
		}
		var hs Hasher
		v, err := hs.Variants(img, o)
		if err != nil || v.Hash != res.Hash || v.Quality != res.Quality || v.Dihedral[0] != res.Hash || v.Dihedral[o-1] != v.Displayed {
			t.Errorf("Variants %+v, %v; HashReader %v quality %d", v, err, res.Hash, res.Quality)
		}
	})
}

// FuzzParseHex checks that ParseHex accepts exactly the 64-digit hex
// strings, and that String inverts it.
func FuzzParseHex(f *testing.F) {
	f.Add("d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22")
	f.Add("D8F8F0CEE0F4A84F0637022A078F67F0B36E2ED596621E1D33E6339C4E9C9B22")
	f.Add(strings.Repeat("0", 64))
	f.Add(strings.Repeat("g", 64))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHex(s)
		isHex := len(s) == 64 && strings.Trim(strings.ToLower(s), "0123456789abcdef") == ""
		if isHex != (err == nil) {
			t.Fatalf("ParseHex(%q): err = %v, but valid = %v", s, err, isHex)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidHex) {
				t.Fatalf("ParseHex(%q): err = %v, want ErrInvalidHex", s, err)
			}
			return
		}
		if got := h.String(); got != strings.ToLower(s) {
			t.Fatalf("String() = %q, want %q", got, strings.ToLower(s))
		}
		if h2, err := ParseHex(h.String()); err != nil || h2 != h {
			t.Fatalf("round trip: %v, %v", h2, err)
		}
	})
}
