package pdq

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// TestVariants checks Hasher.Variants against hashing each orientation
// through the pixel path (FromImage), bit for bit, for images smaller and
// larger than the 512x512 resize. The stored hash is HashImage's and the
// displayed one Options.Orient's.
func TestVariants(t *testing.T) {
	for _, sz := range [][2]int{{300, 200}, {512, 341}, {1600, 1004}} {
		img := testImage(sz[0], sz[1])
		var h Hasher
		for o := OrientationNormal; o <= OrientationRotate270; o++ {
			v, err := h.Variants(img, o)
			if err != nil {
				t.Fatal(err)
			}
			stored, err := HashImage(img)
			if err != nil {
				t.Fatal(err)
			}
			if v.Hash != stored.Hash || v.Quality != stored.Quality || v.Dihedral[0] != v.Hash {
				t.Errorf("%v, %v: stored %v/%d, HashImage %v/%d", sz, o, v.Hash, v.Quality, stored.Hash, stored.Quality)
			}
			shown, q, err := h.FromImage(img, o)
			if err != nil {
				t.Fatal(err)
			}
			if v.Displayed != shown || v.DisplayedQuality != q {
				t.Errorf("%v, %v: displayed %v, pixel path %v", sz, o, v.Displayed, shown)
			}
			if d := Distance(v.Dihedral[o-1], shown); d != 0 {
				t.Errorf("%v, %v: dihedral variant %d bits from the pixel path, want 0", sz, o, d)
			}
			if o == OrientationNormal {
				continue
			}
			if d := Distance(v.Dihedral[o-1], v.Hash); d < 32 {
				t.Errorf("%v, %v: variant only %d bits from the stored hash", sz, o, d)
			}
		}
	}
	// The variants of a tagged JPEG are those of its pixels.
	jpg := withSegments(encode(t, "jpeg", testImage(600, 450)), exifSegment(binary.BigEndian, [3]uint32{0x0112, 3, 6}))
	e, err := Options{}.Open(jpg)
	if err != nil {
		t.Fatal(err)
	}
	img, o, err := e.Decode()
	if err != nil || o != OrientationRotate90 {
		t.Fatalf("decode: %v, orientation %v", err, o)
	}
	var h Hasher
	v, err := h.Variants(img, o)
	if err != nil {
		t.Fatal(err)
	}
	shown, err := Options{Orient: true}.HashReader(bytes.NewReader(jpg))
	if err != nil {
		t.Fatal(err)
	}
	if v.Displayed != shown.Hash {
		t.Errorf("displayed %v, Options.Orient %v", v.Displayed, shown.Hash)
	}
}
