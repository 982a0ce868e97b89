package pdq

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"testing"
)

// byteOrder is what both binary.LittleEndian and binary.BigEndian offer.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// exifSegment returns an APP1 Exif segment whose IFD0 holds the given
// entries (tag, type, value), in the given byte order.
func exifSegment(bo byteOrder, entries ...[3]uint32) []byte {
	var tiff bytes.Buffer
	if bo == byteOrder(binary.LittleEndian) {
		tiff.WriteString("II")
	} else {
		tiff.WriteString("MM")
	}
	tiff.Write(bo.AppendUint16(nil, 42))
	tiff.Write(bo.AppendUint32(nil, 8))
	tiff.Write(bo.AppendUint16(nil, uint16(len(entries))))
	for _, e := range entries {
		tiff.Write(bo.AppendUint16(nil, uint16(e[0])))
		tiff.Write(bo.AppendUint16(nil, uint16(e[1])))
		tiff.Write(bo.AppendUint32(nil, 1))
		if e[1] == 3 { // SHORT, left-justified
			tiff.Write(bo.AppendUint16(nil, uint16(e[2])))
			tiff.Write([]byte{0, 0})
		} else {
			tiff.Write(bo.AppendUint32(nil, e[2]))
		}
	}
	tiff.Write([]byte{0, 0, 0, 0}) // no next IFD
	body := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	seg := []byte{0xff, 0xe1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(body)+2))
	return append(seg, body...)
}

// withSegments inserts marker segments right after a JPEG's SOI marker.
func withSegments(jpg []byte, segs ...[]byte) []byte {
	out := append([]byte(nil), jpg[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, jpg[2:]...)
}

func TestJPEGOrientation(t *testing.T) {
	jpg := encode(t, "jpeg", testImage(40, 30))
	le, be := byteOrder(binary.LittleEndian), byteOrder(binary.BigEndian)
	app0 := []byte{0xff, 0xe0, 0, 4, 'x', 'y'}
	tests := []struct {
		name string
		data []byte
		want Orientation
	}{
		{"none", jpg, OrientationNormal},
		{"II short 6", withSegments(jpg, exifSegment(le, [3]uint32{0x0112, 3, 6})), OrientationRotate90},
		{"MM short 8", withSegments(jpg, exifSegment(be, [3]uint32{0x0112, 3, 8})), OrientationRotate270},
		{"MM long 3", withSegments(jpg, exifSegment(be, [3]uint32{0x0112, 4, 3})), OrientationRotate180},
		{"after other tags and APP0", withSegments(jpg, app0, exifSegment(le, [3]uint32{0x010f, 3, 1}, [3]uint32{0x0112, 3, 5})), OrientationTranspose},
		{"fill bytes", withSegments(jpg, []byte{0xff, 0xff}, exifSegment(le, [3]uint32{0x0112, 3, 2})), OrientationFlipH},
		{"value 0", withSegments(jpg, exifSegment(le, [3]uint32{0x0112, 3, 0})), OrientationNormal},
		{"value 9", withSegments(jpg, exifSegment(le, [3]uint32{0x0112, 3, 9})), OrientationNormal},
		{"huge LONG", withSegments(jpg, exifSegment(le, [3]uint32{0x0112, 4, 1<<32 - 2})), OrientationNormal},
		{"wrong type", withSegments(jpg, exifSegment(le, [3]uint32{0x0112, 2, 6})), OrientationNormal},
		{"not a JPEG", []byte("GIF89a......"), OrientationNormal},
		{"empty", nil, OrientationNormal},
	}
	// Truncations of a valid EXIF segment must never be misread or panic.
	seg6 := exifSegment(le, [3]uint32{0x0112, 3, 6})
	valid := withSegments(jpg, seg6)
	for n := range 2 + len(seg6) {
		tests = append(tests, struct {
			name string
			data []byte
			want Orientation
		}{"truncated", valid[:n], OrientationNormal})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jpegOrientation(tt.data); got != tt.want {
				t.Errorf("jpegOrientation = %v, want %v", got, tt.want)
			}
		})
	}
	// A lying entry count must be clamped to the data.
	seg := exifSegment(le, [3]uint32{0x0112, 3, 6})
	binary.LittleEndian.PutUint16(seg[4+6+8:], 0xffff)
	if got := jpegOrientation(withSegments(jpg, seg)); got != OrientationRotate90 {
		t.Errorf("lying count: got %v, want %v", got, OrientationRotate90)
	}
}

// TestHashAppliesOrientation checks the default file path end to end: a
// JPEG tagged with each orientation hashes exactly like the physically
// transformed copy of its pixels with Orient set, while the default hashes
// the stored pixels.
func TestHashAppliesOrientation(t *testing.T) {
	jpg := encode(t, "jpeg", testImage(600, 450))
	img, _, err := Decode(bytes.NewReader(jpg), 0)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := HashImage(img)
	if err != nil {
		t.Fatal(err)
	}
	fetch := pixelFetcher(img)
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	for o := OrientationNormal; o <= OrientationRotate270; o++ {
		t.Run(o.String(), func(t *testing.T) {
			// The displayed image, built from the definitions of the EXIF
			// orientations rather than from toStored.
			dw, dh := w, h
			if o >= 5 {
				dw, dh = h, w
			}
			shown := image.NewNRGBA(image.Rect(0, 0, dw, dh))
			for y := range h {
				for x := range w {
					var dx, dy int
					switch o {
					case 1:
						dx, dy = x, y
					case 2:
						dx, dy = w-1-x, y
					case 3:
						dx, dy = w-1-x, h-1-y
					case 4:
						dx, dy = x, h-1-y
					case 5:
						dx, dy = y, x
					case 6: // clockwise: the left column becomes the top row
						dx, dy = h-1-y, x
					case 7:
						dx, dy = h-1-y, w-1-x
					case 8: // counter-clockwise: the top row becomes the left column
						dx, dy = y, w-1-x
					}
					r, g, b := fetch(x, y)
					shown.SetNRGBA(dx, dy, color.NRGBA{r, g, b, 0xff})
				}
			}
			want, err := HashImage(shown)
			if err != nil {
				t.Fatal(err)
			}
			tagged := withSegments(jpg, exifSegment(binary.BigEndian, [3]uint32{0x0112, 3, uint32(o)}))
			got, err := Options{Orient: true}.HashReader(bytes.NewReader(tagged))
			if err != nil {
				t.Fatal(err)
			}
			if got.Orientation != o || got.Hash != want.Hash || got.Width != dw || got.Height != dh {
				t.Errorf("got %v %v %dx%d, want %v %v %dx%d", got.Orientation, got.Hash, got.Width, got.Height, o, want.Hash, dw, dh)
			}
			ignored, err := Options{}.HashReader(bytes.NewReader(tagged))
			if err != nil {
				t.Fatal(err)
			}
			if ignored.Hash != stored.Hash || ignored.Orientation != o {
				t.Errorf("stored pixels: got %v (orientation %v), want the stored hash %v", ignored.Hash, ignored.Orientation, stored.Hash)
			}
		})
	}
}
