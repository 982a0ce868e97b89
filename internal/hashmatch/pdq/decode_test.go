package pdq

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pngWithSize returns a valid PNG whose IHDR is then rewritten to claim
// w x h pixels; only the header is consistent, which is all DecodeConfig
// reads.
func pngWithSize(t testing.TB, w, h uint32) []byte {
	t.Helper()
	b := encode(t, "png", testImage(8, 8))
	// IHDR data starts after the signature (8), length (4) and type (4);
	// its CRC covers type and data and follows them.
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// flipByte returns a copy of b with byte i inverted.
func flipByte(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0xff
	return c
}

func TestDecodeErrors(t *testing.T) {
	jpg := encode(t, "jpeg", testImage(64, 48))
	png := encode(t, "png", testImage(64, 48))
	tests := []struct {
		name     string
		data     []byte
		maxBytes int64
		want     error
	}{
		{"empty", nil, 0, ErrEmpty},
		{"unknown format", []byte("%PDF-1.7 not an image"), 0, ErrUnknownFormat},
		{"text", []byte("hello"), 0, ErrUnknownFormat},
		{"over maxBytes", png, int64(len(png)) - 1, ErrTooLarge},
		{"exactly maxBytes", png, int64(len(png)), nil},
		{"JPEG signature only", jpg[:2], 0, ErrTruncated},
		{"JPEG truncated header", jpg[:40], 0, ErrTruncated},
		{"JPEG truncated scan", jpg[:len(jpg)/2], 0, ErrTruncated},
		{"PNG truncated header", png[:20], 0, ErrTruncated},
		{"PNG truncated data", png[:len(png)-30], 0, ErrTruncated},
		{"PNG corrupt", flipByte(png, len(png)/2), 0, ErrCorrupt},
		{"JPEG corrupt", append(append([]byte(nil), jpg[:len(jpg)/2]...), 0xff, 0xd9), 0, ErrCorrupt},
		{"GIF truncated", encode(t, "gif", testImage(64, 48))[:30], 0, ErrTruncated},
		{"BMP truncated", encode(t, "bmp", testImage(64, 48))[:100], 0, ErrTruncated},
		{"TIFF truncated", encode(t, "tiff", testImage(64, 48))[:12], 0, ErrTruncated},
		{"TIFF truncated data", encode(t, "tiff", testImage(64, 48))[:300], 0, ErrTruncated},
		{"WebP header only", []byte("RIFF\x10\x00\x00\x00WEBPVP8 "), 0, ErrTruncated},
		{"WebP no chunks", []byte("RIFF\x04\x00\x00\x00WEBP"), 0, ErrCorrupt},
		{"too small", encode(t, "png", testImage(4, 48)), 0, ErrTooSmall},
		{"huge dimensions", pngWithSize(t, 100_000, 100_000), 0, ErrTooManyPixels},
		{"just over 100 MP", pngWithSize(t, 10_001, 10_000), 0, ErrTooManyPixels},
		{"2^31-1 x 1", pngWithSize(t, 1<<31-1, 1), 0, ErrTooSmall},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, _, err := Decode(bytes.NewReader(tt.data), tt.maxBytes)
			switch {
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("err = %v, want %v", err, tt.want)
			case tt.want == nil && strings.HasPrefix(tt.name, "exactly") && err != nil:
				t.Errorf("err = %v, want success", err)
			case tt.want == nil && !strings.HasPrefix(tt.name, "exactly") && err == nil:
				t.Errorf("decoded %v, want an error", img.Bounds())
			}
			if err != nil && img != nil {
				t.Error("image returned with an error")
			}
			// The format is named once: "png: png: invalid format" read
			// as a stutter in every refusal of a bad upload.
			for _, f := range []string{"jpeg", "png", "gif", "bmp", "tiff", "webp"} {
				if err != nil && strings.Contains(err.Error(), f+": "+f+":") {
					t.Errorf("err = %q names the format twice", err)
				}
			}
		})
	}
}

// TestDecodeChecksHeaderFirst makes sure a huge declared size is refused
// without allocating the pixels.
func TestDecodeChecksHeaderFirst(t *testing.T) {
	data := pngWithSize(t, 20_000, 20_000) // 400 MP: 1.6 GB as NRGBA
	allocs := testing.AllocsPerRun(1, func() {
		if _, _, err := Decode(bytes.NewReader(data), 0); !errors.Is(err, ErrTooManyPixels) {
			t.Fatalf("err = %v, want ErrTooManyPixels", err)
		}
	})
	if allocs > 50 {
		t.Errorf("%v allocations to refuse a huge header", allocs)
	}
}

func TestOptionsMaxPixels(t *testing.T) {
	data := encode(t, "png", testImage(100, 100))
	if _, _, err := (Options{MaxPixels: 9_999}).Decode(bytes.NewReader(data)); !errors.Is(err, ErrTooManyPixels) {
		t.Errorf("MaxPixels 9999: err = %v, want ErrTooManyPixels", err)
	}
	if _, _, err := (Options{MaxPixels: 10_000}).Decode(bytes.NewReader(data)); err != nil {
		t.Errorf("MaxPixels 10000: err = %v", err)
	}
}

// TestInspect checks that the header-only check reports what the header
// declares and refuses what Decode would refuse before decoding.
func TestInspect(t *testing.T) {
	for _, name := range []string{"png", "jpeg", "gif", "bmp", "tiff"} {
		h, err := Options{}.Inspect(encode(t, name, testImage(37, 21)))
		if err != nil || h.Format != name || h.Width != 37 || h.Height != 21 || h.Pixels() != 37*21 || h.DecodeBytes < 37*21 {
			t.Errorf("%s: %+v, %v", name, h, err)
		}
	}
	huge := pngWithSize(t, 20_000, 20_000)
	if _, err := (Options{}).Inspect(huge); !errors.Is(err, ErrTooManyPixels) {
		t.Errorf("400 MP: err = %v, want ErrTooManyPixels", err)
	}
	if h, err := (Options{MaxPixels: 400_000_000, MaxDecodeBytes: 1 << 40}).Inspect(huge); err != nil || h.Pixels() != 400_000_000 {
		t.Errorf("400 MP under a 400 MP limit: %+v, %v", h, err)
	}
	for _, c := range []struct {
		data []byte
		want error
	}{{nil, ErrEmpty}, {[]byte("not an image"), ErrUnknownFormat}, {encode(t, "png", testImage(5, 5))[:30], ErrTruncated},
		{encode(t, "png", testImage(2, 2)), ErrTooSmall}} {
		if _, err := (Options{}).Inspect(c.data); !errors.Is(err, c.want) {
			t.Errorf("%q...: err = %v, want %v", c.data[:min(len(c.data), 8)], err, c.want)
		}
	}
	if _, err := (Options{MaxBytes: 10}).Inspect(encode(t, "png", testImage(16, 16))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxBytes 10: err = %v, want ErrTooLarge", err)
	}
}

func TestHashFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := HashFile(filepath.Join(dir, "missing.jpg")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v, want os.ErrNotExist", err)
	}
	if _, err := HashFile(write("empty.jpg", nil)); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty file: err = %v, want ErrEmpty", err)
	}
	png := encode(t, "png", testImage(64, 48))
	big := write("big.png", png)
	if _, err := (Options{MaxBytes: 100}).HashFile(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over MaxBytes: err = %v, want ErrTooLarge", err)
	}
	if _, err := HashFile(write("trunc.png", png[:len(png)/2])); !errors.Is(err, ErrTruncated) {
		t.Errorf("truncated file: err = %v, want ErrTruncated", err)
	}
	res, err := HashFile(big)
	if err != nil {
		t.Fatal(err)
	}
	if res.MD5 != "" && len(res.MD5) != 32 || len(res.SHA256) != 64 {
		t.Errorf("digests %q %q", res.MD5, res.SHA256)
	}
}

// TestHashFileDigests checks the exact-match signals against values
// computed independently (md5sum and sha256sum of the reference file) and
// that HashReader agrees with HashFile.
func TestHashFileDigests(t *testing.T) {
	const (
		wantMD5    = "8bbbaa9540800e378beadc8bbef7bb32"
		wantSHA256 = "05636c50d0c2ffe3a820f964eaba35b404deadd10538fe452ad9fb16fdd823d7"
	)
	path := refPath(t, "data", "misc-images", "wee.jpg")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := HashFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := Options{}.HashReader(io.MultiReader(bytes.NewReader(data[:100]), bytes.NewReader(data[100:])))
	if err != nil {
		t.Fatal(err)
	}
	if res != r2 {
		t.Errorf("HashFile %+v != HashReader %+v", res, r2)
	}
	if res.Width != 34 || res.Height != 42 {
		t.Errorf("size %dx%d, want 34x42", res.Width, res.Height)
	}
	if res.MD5 != wantMD5 || res.SHA256 != wantSHA256 {
		t.Errorf("digests %s %s, want %s %s", res.MD5, res.SHA256, wantMD5, wantSHA256)
	}
}

// TestDecodeGuard checks that a decoder panic becomes ErrCorrupt.
func TestDecodeGuard(t *testing.T) {
	err := guard(func() error { panic("boom") })
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("err = %v, want ErrCorrupt", err)
	}
	if formats[0].decodeError(nil, err) != err {
		t.Error("decodeError rewrapped a classified error")
	}
}
