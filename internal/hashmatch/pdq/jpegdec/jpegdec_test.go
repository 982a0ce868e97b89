package jpegdec

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/reftest"
)

const testMaxPixels = 1 << 26

// same decodes data with this package and with image/jpeg. It fails t
// when this package decodes what image/jpeg refuses, or decodes it to
// different samples, and reports whether this package decoded it.
func same(t testing.TB, name string, data []byte) bool {
	t.Helper()
	got, err := Decode(data, testMaxPixels)
	if err != nil {
		if !errors.Is(err, ErrNotHandled) {
			t.Fatalf("%s: error %v does not wrap ErrNotHandled", name, err)
		}
		return false
	}
	want, werr := jpeg.Decode(bytes.NewReader(data))
	if werr != nil {
		t.Fatalf("%s: decoded here, image/jpeg says %v", name, werr)
	}
	if msg := diff(got, want); msg != "" {
		t.Fatalf("%s: %s", name, msg)
	}
	return true
}

// diff compares two decoded images, their padding planes included.
func diff(got, want image.Image) string {
	switch w := want.(type) {
	case *image.YCbCr:
		g, ok := got.(*image.YCbCr)
		switch {
		case !ok:
			return fmt.Sprintf("got %T, want %T", got, want)
		case g.Rect != w.Rect || g.SubsampleRatio != w.SubsampleRatio || g.YStride != w.YStride || g.CStride != w.CStride:
			return fmt.Sprintf("got %v %v strides %d %d, want %v %v strides %d %d", g.Rect, g.SubsampleRatio, g.YStride, g.CStride, w.Rect, w.SubsampleRatio, w.YStride, w.CStride)
		}
		for _, p := range []struct {
			name string
			g, w []byte
		}{{"Y", g.Y, w.Y}, {"Cb", g.Cb, w.Cb}, {"Cr", g.Cr, w.Cr}} {
			if i := firstDiff(p.g, p.w); i >= 0 {
				return fmt.Sprintf("plane %s differs at %d (of %d): %d, want %d", p.name, i, len(p.w), p.g[i], p.w[i])
			}
		}
	case *image.Gray:
		g, ok := got.(*image.Gray)
		switch {
		case !ok:
			return fmt.Sprintf("got %T, want %T", got, want)
		case g.Rect != w.Rect || g.Stride != w.Stride:
			return fmt.Sprintf("got %v stride %d, want %v stride %d", g.Rect, g.Stride, w.Rect, w.Stride)
		}
		if i := firstDiff(g.Pix, w.Pix); i >= 0 {
			return fmt.Sprintf("grey differs at %d (of %d): %d, want %d", i, len(w.Pix), g.Pix[i], w.Pix[i])
		}
	default:
		return fmt.Sprintf("image/jpeg gave %T, this package %T", want, got)
	}
	return ""
}

func firstDiff(a, b []byte) int {
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// photo is a smooth colour image with some texture, like a photo.
func photo(w, h int, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 1))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			n := uint8(rng.IntN(24))
			m.SetRGBA(x, y, color.RGBA{uint8(x*255/max(w, 1)) + n, uint8(y*255/max(h, 1)) ^ n, uint8((x+y)*3) + n, 255})
		}
	}
	return m
}

func encodeGo(tb testing.TB, m image.Image, q int) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: q}); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func grey(m *image.RGBA) *image.Gray {
	g := image.NewGray(m.Rect)
	for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
		for x := m.Rect.Min.X; x < m.Rect.Max.X; x++ {
			g.Set(x, y, m.At(x, y))
		}
	}
	return g
}

// TestGoEncoder decodes what image/jpeg's encoder writes: every quality,
// colour (4:2:0) and grey, and sizes that are not whole blocks.
func TestGoEncoder(t *testing.T) { bothIDCTs(t, testGoEncoder) }

func testGoEncoder(t *testing.T) {
	m := photo(67, 45, 1)
	g := grey(m)
	for q := 1; q <= 100; q++ {
		for _, img := range []image.Image{m, g} {
			name := fmt.Sprintf("quality %d %T", q, img)
			if !same(t, name, encodeGo(t, img, q)) {
				t.Fatalf("%s: not decoded by the fast path", name)
			}
		}
	}
	for _, sz := range []image.Point{{1, 1}, {17, 9}, {8, 8}, {16, 16}, {9, 17}, {1601, 1003}} {
		m := photo(sz.X, sz.Y, 2)
		for _, img := range []image.Image{m, grey(m)} {
			name := fmt.Sprintf("%v %T", sz, img)
			if !same(t, name, encodeGo(t, img, 90)) {
				t.Fatalf("%s: not decoded by the fast path", name)
			}
		}
	}
}

// TestTestdata decodes the files under testdata, written by ffmpeg with
// sampling factors Go's encoder does not use (see testdata/README.md).
func TestTestdata(t *testing.T) {
	paths, err := filepath.Glob("testdata/*.jpg")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !same(t, p, data) {
			_, err := Decode(data, testMaxPixels)
			t.Errorf("%s: not decoded by the fast path: %v", p, err)
		}
	}
}

// TestReference decodes every JPEG of the reference data: the sequential
// ones by the fast path, except CMYK, which falls back like the
// progressive ones.
func TestReference(t *testing.T) { bothIDCTs(t, testReference) }

func testReference(t *testing.T) {
	dir := reftest.Path(t, "pdq", "data")
	n := 0
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(strings.ToLower(path), ".jpg") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		fast := same(t, rel, data)
		want := !progressive(data) && !strings.Contains(rel, "CMYK")
		if fast != want {
			_, err := Decode(data, testMaxPixels)
			t.Errorf("%s: fast path %v, want %v (%v)", rel, fast, want, err)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no reference JPEGs found")
	}
}

// progressive reports whether data has a SOF2 segment before its scan.
func progressive(data []byte) bool {
	for i := 2; i+4 <= len(data) && data[i] == 0xff; {
		switch data[i+1] {
		case 0xc2:
			return true
		case 0xda:
			return false
		}
		i += 2 + (int(data[i+2])<<8 | int(data[i+3]))
	}
	return false
}
