package pdq

import (
	"bytes"
	"image"
	"image/png"
	"testing"
)

// png16Tolerance is the distance allowed between the hash of a 16-bit PNG
// and the C++ hash of the same picture in 8 bits. No reference hash exists
// for a 16-bit file (ImageMagick would hand the C++ hasher a 16-bit PNM), so
// TestPNG16 measures against the 8-bit reference files: each 8-bit level v
// is widened to 16 bits as v*257 plus a deterministic offset in -128..127,
// which ImageMagick's 16-to-8-bit scaling (round(v16/257)) maps back to v.
const png16Tolerance = 0

// TestPNG16 hashes 16-bit copies of the reference PNGs and compares them
// with the C++ hashes of the 8-bit originals.
func TestPNG16(t *testing.T) {
	cpp := map[string]Hash{}
	for _, row := range readCSV(t, "cpp-pdq-photo-hasher.csv") {
		cpp[row["path_relative_to_pdq_data"]] = mustParseHex(t, row["pdq_hex"])
	}
	for _, rel := range []string{"reg-test-input/pen-and-coaster.png", "misc-images/modes/P.png"} {
		data, err := Options{}.ReadFile(refPath(t, "data", rel))
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := Options{}.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		fetch := pixelFetcher(img)
		b := img.Bounds()
		wide := image.NewNRGBA64(image.Rect(0, 0, b.Dx(), b.Dy()))
		for y := range b.Dy() {
			for x := range b.Dx() {
				r, g, bl := fetch(b.Min.X+x, b.Min.Y+y)
				p := wide.Pix[wide.PixOffset(x, y):]
				for i, v := range [3]uint8{r, g, bl} {
					w := int(v)*257 + (x*7+y*13+i*29)%256 - 128
					w = max(0, min(w, 65535))
					p[2*i], p[2*i+1] = uint8(w>>8), uint8(w)
				}
				p[6], p[7] = 0xff, 0xff
			}
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, wide); err != nil {
			t.Fatal(err)
		}
		res, err := Options{}.HashReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		d := Distance(res.Hash, cpp[rel])
		t.Logf("%s as 16-bit PNG: %d bits from the C++ hash of the 8-bit file", rel, d)
		if d > png16Tolerance {
			t.Errorf("%s as 16-bit PNG: %d bits from the C++ hash, want <= %d", rel, d, png16Tolerance)
		}
	}
}

// TestTo8 checks the 16-to-8-bit scaling against round(v/257) on every
// 16-bit value.
func TestTo8(t *testing.T) {
	for v := range 65536 {
		want := uint8((2*v + 257) / 514) // round half up of v/257
		if got := to8(uint8(v>>8), uint8(v)); got != want {
			t.Fatalf("to8(%d) = %d, want %d", v, got, want)
		}
	}
}
