package pdq

import (
	"encoding/binary"
	"fmt"
)

// Orientation is an EXIF Orientation value (TIFF tag 0x0112): how the stored
// pixels must be transformed for display. Values outside 1..8 are invalid.
type Orientation uint8

// The eight EXIF orientations, named by what turns the stored image into
// the displayed one.
const (
	OrientationNormal     Orientation = 1 // as stored
	OrientationFlipH      Orientation = 2 // mirror left-right
	OrientationRotate180  Orientation = 3 // rotate 180°
	OrientationFlipV      Orientation = 4 // mirror top-bottom
	OrientationTranspose  Orientation = 5 // mirror about the main diagonal
	OrientationRotate90   Orientation = 6 // rotate 90° clockwise
	OrientationTransverse Orientation = 7 // mirror about the anti-diagonal
	OrientationRotate270  Orientation = 8 // rotate 90° counter-clockwise
)

// Valid reports whether o is one of the eight EXIF orientations.
func (o Orientation) Valid() bool { return o >= 1 && o <= 8 }

// String names the orientation for logs.
func (o Orientation) String() string {
	names := [...]string{"", "normal", "flip-h", "rotate-180", "flip-v", "transpose", "rotate-90", "transverse", "rotate-270"}
	if !o.Valid() {
		return fmt.Sprintf("Orientation(%d)", uint8(o))
	}
	return names[o]
}

// swapsAxes reports whether the displayed image is the stored one's
// transpose in size.
func (o Orientation) swapsAxes() bool { return o >= 5 }

// toStored returns the affine map from display coordinates (x, y) to stored
// coordinates (x0 + x*xx + y*xy, y0 + x*yx + y*yy) for a stored image of
// w x h pixels.
func (o Orientation) toStored(w, h int) (x0, xx, xy, y0, yx, yy int) {
	switch o {
	case OrientationFlipH:
		return w - 1, -1, 0, 0, 0, 1
	case OrientationRotate180:
		return w - 1, -1, 0, h - 1, 0, -1
	case OrientationFlipV:
		return 0, 1, 0, h - 1, 0, -1
	case OrientationTranspose:
		return 0, 0, 1, 0, 1, 0
	case OrientationRotate90:
		// The stored left column is the displayed top row, read bottom-up.
		return 0, 0, 1, h - 1, -1, 0
	case OrientationTransverse:
		return w - 1, 0, -1, h - 1, -1, 0
	case OrientationRotate270:
		return w - 1, 0, -1, 0, 1, 0
	}
	return 0, 1, 0, 0, 0, 1
}

// jpegOrientation returns the EXIF orientation of a JPEG file, or
// OrientationNormal when it has none or its metadata is malformed. It reads
// only the marker segments before the first scan, checks every offset
// against the data, and does a bounded amount of work, so it is safe on
// hostile input.
func jpegOrientation(data []byte) Orientation {
	if len(data) < 4 || data[0] != 0xff || data[1] != 0xd8 {
		return OrientationNormal
	}
	pos := 2
	for pos+4 <= len(data) {
		if data[pos] != 0xff {
			return OrientationNormal
		}
		marker := data[pos+1]
		switch {
		case marker == 0xff: // fill byte before a marker
			pos++
			continue
		case marker == 0xda || marker == 0xd9: // start of scan, end of image
			return OrientationNormal
		case marker == 0x01 || marker >= 0xd0 && marker <= 0xd8: // no length
			pos += 2
			continue
		}
		segLen := int(binary.BigEndian.Uint16(data[pos+2:]))
		if segLen < 2 || pos+2+segLen > len(data) {
			return OrientationNormal
		}
		seg := data[pos+4 : pos+2+segLen]
		if marker == 0xe1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			if o, ok := tiffOrientation(seg[6:]); ok {
				return o
			}
		}
		pos += 2 + segLen
	}
	return OrientationNormal
}

// tiffOrientation finds the Orientation tag in IFD0 of a TIFF structure (the
// body of an EXIF APP1 segment).
func tiffOrientation(b []byte) (Orientation, bool) {
	if len(b) < 8 {
		return 0, false
	}
	var bo binary.ByteOrder
	switch string(b[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0, false
	}
	if bo.Uint16(b[2:]) != 42 {
		return 0, false
	}
	ifd := bo.Uint32(b[4:])
	if ifd < 8 || uint64(ifd)+2 > uint64(len(b)) {
		return 0, false
	}
	off := int(ifd)
	n := int(bo.Uint16(b[off:]))
	entries := b[off+2:]
	n = min(n, len(entries)/12) // a count past the end is truncated, not trusted
	const (
		tagOrientation = 0x0112
		typeShort      = 3
		typeLong       = 4
	)
	for i := range n {
		e := entries[12*i : 12*i+12]
		if bo.Uint16(e) != tagOrientation {
			continue
		}
		if bo.Uint32(e[4:]) < 1 {
			return 0, false
		}
		var v uint32
		switch bo.Uint16(e[2:]) {
		case typeShort: // left-justified in the 4-byte value field
			v = uint32(bo.Uint16(e[8:]))
		case typeLong:
			v = bo.Uint32(e[8:])
		default:
			return 0, false
		}
		if o := Orientation(v); v <= 8 && o.Valid() {
			return o, true
		}
		return 0, false
	}
	return 0, false
}
