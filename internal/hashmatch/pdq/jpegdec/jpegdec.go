// Package jpegdec decodes the common kind of JPEG faster than image/jpeg,
// sample for sample the same as image/jpeg: baseline and extended
// sequential Huffman files (SOF0, SOF1), 8-bit, grey or YCbCr with the
// sampling factors image/jpeg supports, in one interleaved scan, with or
// without restart intervals, 8- or 16-bit quantisation tables.
//
// Anything else (progressive or arithmetic-coded files, CMYK, RGB, several
// scans, and any file that is malformed or merely unusual) is refused with
// an error wrapping [ErrNotHandled], and the caller decodes it with
// image/jpeg, which then reports its own errors. The decoder never panics
// and does a bounded amount of work for any input; the package's fuzz
// target checks both and that whatever it decodes, image/jpeg decodes to
// the same samples.
//
// The speed comes from a 64-bit bit buffer, Huffman lookup tables that
// give the symbol and, for short codes, the coefficient's value in one
// step, dequantisation folded into the coefficient decode, and an inverse
// DCT in AVX2 on amd64 (portable code with shortcuts for blocks that are
// mostly zero elsewhere). The inverse DCT does the fixed-point arithmetic of
// the image/jpeg it is built with (Go 1.26's), in the same 32-bit integers,
// so that its results are identical even where they overflow (idct.go).
package jpegdec

import (
	"errors"
	"fmt"
	"image"
	"sync"
)

// ErrNotHandled means the input is not a JPEG this package decodes; decode
// it with image/jpeg instead. The wrapped message says why, for tests and
// debugging.
var ErrNotHandled = errors.New("jpegdec: not handled")

func notHandled(why string) error { return fmt.Errorf("%w: %s", ErrNotHandled, why) }

// Markers (table B.1 of the standard).
const (
	mSOF0 = 0xc0
	mSOF1 = 0xc1
	mDHT  = 0xc4
	mRST0 = 0xd0
	mSOI  = 0xd8
	mEOI  = 0xd9
	mSOS  = 0xda
	mDQT  = 0xdb
	mDRI  = 0xdd
	mAPP0 = 0xe0
	mAPPE = 0xee // Adobe
	mAPPF = 0xef
	mCOM  = 0xfe
)

// zigzag maps a coefficient's position in the coded order to its index in
// the natural (row-major) 8x8 order.
var zigzag = [64]uint8{
	0, 1, 8, 16, 9, 2, 3, 10,
	17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34,
	27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36,
	29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46,
	53, 60, 61, 54, 47, 55, 62, 63,
}

// zflag[k] is what storing coefficient k (coded order) adds to a block's
// flags: the bit of its row (bits 0-7) and, when it is not in the first
// column, the same bit shifted into the AC rows (bits 8-15), and when it is
// in columns 4-7, into bits 16-23.
var zflag = func() (f [64]uint32) {
	for k, n := range zigzag {
		row := uint32(1) << (n >> 3)
		f[k] = row
		if n&7 != 0 {
			f[k] |= row << 8
		}
		if n&7 >= 4 {
			f[k] |= row << 16
		}
	}
	return f
}()

type component struct {
	id     byte
	h, v   int
	tq     int
	dc, ac *huffTable
	q      [64]int32 // quantisation, coded order
	pred   int32     // DC predictor
	plane  []byte
	stride int
}

type decoder struct {
	data  []byte
	pos   int
	acc   uint64 // bits, most significant first
	nbits uint   // valid bits in acc
	pad   uint   // zero bits fed past the end of the segment's data

	width, height int
	ncomp         int
	comp          [3]component
	sof, baseline bool
	ri            int
	quant         [4][64]int32
	qdef          [4]bool
	jfif, adobe   bool
	adobeXform    byte
	huff          *[2][4]huffTable // [DC, AC][table], kept with the pooled decoder
	blk           [64]int32
	img           image.Image
}

var pool = sync.Pool{New: func() any { return new(decoder) }}

// Decode decodes a JPEG held in data, refusing (with ErrNotHandled) what
// it does not handle and images of more than maxPixels pixels. The result
// is what image/jpeg's Decode returns for the same data: an *image.Gray or
// an *image.YCbCr, a sub-image of the same full-MCU planes.
func Decode(data []byte, maxPixels int64) (img image.Image, err error) {
	d := pool.Get().(*decoder)
	defer pool.Put(d)
	huff := d.huff
	if huff == nil {
		huff = new([2][4]huffTable)
	}
	for i := range huff {
		for j := range huff[i] {
			huff[i][j].defined = false
		}
	}
	*d = decoder{data: data, huff: huff}
	img, err = d.decode(maxPixels)
	d.data, d.img, d.comp = nil, nil, [3]component{}
	return img, err
}

func (d *decoder) decode(maxPixels int64) (image.Image, error) {
	data := d.data
	if len(data) < 2 || data[0] != 0xff || data[1] != mSOI {
		return nil, notHandled("no SOI marker")
	}
	pos := 2
	for {
		if pos+4 > len(data) {
			return nil, notHandled("no scan")
		}
		if data[pos] != 0xff {
			return nil, notHandled("data between segments")
		}
		m := data[pos+1]
		if m == 0 || m == 0xff || m == mEOI || m&0xf8 == mRST0 {
			return nil, notHandled(fmt.Sprintf("marker %#x before the scan", m))
		}
		n := int(data[pos+2])<<8 | int(data[pos+3])
		if n < 2 || pos+2+n > len(data) {
			return nil, notHandled("bad segment length")
		}
		seg := data[pos+4 : pos+2+n]
		pos += 2 + n
		var err error
		switch {
		case m == mSOF0 || m == mSOF1:
			err = d.parseSOF(seg, m == mSOF0)
		case m == mDHT:
			err = d.parseDHT(seg)
		case m == mDQT:
			err = d.parseDQT(seg)
		case m == mDRI:
			if len(seg) != 2 {
				return nil, notHandled("DRI length")
			}
			d.ri = int(seg[0])<<8 | int(seg[1])
		case m == mAPP0:
			if len(seg) >= 5 {
				d.jfif = string(seg[:5]) == "JFIF\x00"
			}
		case m == mAPPE:
			if len(seg) >= 12 && string(seg[:5]) == "Adobe" {
				d.adobe, d.adobeXform = true, seg[11]
			}
		case m >= mAPP0 && m <= mAPPF || m == mCOM:
			// Skipped: the EXIF orientation is read elsewhere.
		case m == mSOS:
			if err := d.parseSOS(seg, maxPixels); err != nil {
				return nil, err
			}
			d.pos = pos
			return d.decodeScan()
		default:
			return nil, notHandled(fmt.Sprintf("marker %#x", m))
		}
		if err != nil {
			return nil, err
		}
	}
}

func (d *decoder) parseSOF(seg []byte, baseline bool) error {
	if d.sof {
		return notHandled("several frames")
	}
	d.sof, d.baseline = true, baseline
	if len(seg) != 6+3*1 && len(seg) != 6+3*3 {
		return notHandled("number of components")
	}
	nc := (len(seg) - 6) / 3
	if seg[0] != 8 || int(seg[5]) != nc {
		return notHandled("precision or component count")
	}
	d.height = int(seg[1])<<8 | int(seg[2])
	d.width = int(seg[3])<<8 | int(seg[4])
	if d.width == 0 || d.height == 0 {
		return notHandled("empty image")
	}
	d.ncomp = nc
	for i := range nc {
		c := &d.comp[i]
		p := seg[6+3*i:]
		c.id, c.h, c.v, c.tq = p[0], int(p[1]>>4), int(p[1]&15), int(p[2])
		for j := range i {
			if d.comp[j].id == c.id {
				return notHandled("repeated component")
			}
		}
		if c.tq > 3 || !validFactor(c.h) || !validFactor(c.v) {
			return notHandled("sampling factors or table")
		}
		switch {
		case nc == 1:
			c.h, c.v = 1, 1
		case i == 0 && c.v == 4:
			return notHandled("sampling factors")
		case i == 1 && (d.comp[0].h%c.h != 0 || d.comp[0].v%c.v != 0):
			return notHandled("sampling factors")
		case i == 2 && (c.h != d.comp[1].h || c.v != d.comp[1].v):
			return notHandled("sampling factors")
		}
	}
	return nil
}

func validFactor(f int) bool { return f == 1 || f == 2 || f == 4 }

func (d *decoder) parseDHT(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return notHandled("DHT length")
		}
		tc, th := seg[0]>>4, int(seg[0]&15)
		if tc > 1 || th > 3 || d.baseline && th > 1 {
			return notHandled("DHT table")
		}
		var counts [17]int
		n := 0
		for l := 1; l <= 16; l++ {
			counts[l] = int(seg[l])
			n += counts[l]
		}
		if len(seg) < 17+n {
			return notHandled("DHT length")
		}
		if !d.huff[tc][th].build(&counts, seg[17:17+n], tc == 0) {
			return notHandled("Huffman table")
		}
		seg = seg[17+n:]
	}
	return nil
}

func (d *decoder) parseDQT(seg []byte) error {
	for len(seg) > 0 {
		pq, tq := seg[0]>>4, seg[0]&15
		seg = seg[1:]
		if tq > 3 || pq > 1 || len(seg) < 64<<pq {
			return notHandled("DQT")
		}
		q := &d.quant[tq]
		for k := range q {
			if pq == 0 {
				q[k] = int32(seg[k])
			} else {
				q[k] = int32(seg[2*k])<<8 | int32(seg[2*k+1])
			}
			if q[k] == 0 {
				// image/jpeg accepts it, but then a row whose AC
				// coefficients dequantise to zero would take the other
				// branch of its IDCT; real files never have one.
				return notHandled("zero quantiser")
			}
		}
		d.qdef[tq] = true
		seg = seg[64<<pq:]
	}
	return nil
}

// parseSOS checks the scan header against what the decoder handles and
// allocates the image.
func (d *decoder) parseSOS(seg []byte, maxPixels int64) error {
	if !d.sof {
		return notHandled("no frame")
	}
	if len(seg) < 6 || len(seg) != 4+2*int(seg[0]) || int(seg[0]) != d.ncomp {
		return notHandled("not one scan of every component")
	}
	if d.ncomp == 3 && !d.jfif && (d.adobe && d.adobeXform == 0 || d.comp[0].id == 'R' && d.comp[1].id == 'G' && d.comp[2].id == 'B') {
		return notHandled("RGB")
	}
	if d.ncomp == 3 && d.adobe && d.adobeXform != 1 {
		return notHandled("Adobe colour transform")
	}
	total := 0
	for i := range d.ncomp {
		// Components in frame order; image/jpeg takes them in scan order,
		// and that is the same only when the orders agree.
		c := &d.comp[i]
		if seg[1+2*i] != c.id {
			return notHandled("scan order differs from frame order")
		}
		td, ta := int(seg[2+2*i]>>4), int(seg[2+2*i]&15)
		if td > 3 || ta > 3 || d.baseline && (td > 1 || ta > 1) {
			return notHandled("scan table")
		}
		c.dc, c.ac = &d.huff[0][td], &d.huff[1][ta]
		if !c.dc.defined || !c.ac.defined || !d.qdef[c.tq] {
			return notHandled("missing table")
		}
		c.q = d.quant[c.tq]
		total += c.h * c.v
	}
	if d.ncomp > 1 && total > 10 {
		return notHandled("sampling factors")
	}
	if int64(d.width)*int64(d.height) > maxPixels {
		return notHandled("too many pixels")
	}
	// The same planes image/jpeg allocates: whole MCUs.
	h0, v0 := d.comp[0].h, d.comp[0].v
	mxx := (d.width + 8*h0 - 1) / (8 * h0)
	myy := (d.height + 8*v0 - 1) / (8 * v0)
	full := image.Rect(0, 0, 8*h0*mxx, 8*v0*myy)
	if d.ncomp == 1 {
		m := image.NewGray(full)
		d.comp[0].plane, d.comp[0].stride = m.Pix, m.Stride
		d.img = m.SubImage(image.Rect(0, 0, d.width, d.height))
		return nil
	}
	var ratio image.YCbCrSubsampleRatio
	switch h0/d.comp[1].h<<4 | v0/d.comp[1].v {
	case 0x11:
		ratio = image.YCbCrSubsampleRatio444
	case 0x12:
		ratio = image.YCbCrSubsampleRatio440
	case 0x21:
		ratio = image.YCbCrSubsampleRatio422
	case 0x22:
		ratio = image.YCbCrSubsampleRatio420
	case 0x41:
		ratio = image.YCbCrSubsampleRatio411
	case 0x42:
		ratio = image.YCbCrSubsampleRatio410
	default:
		return notHandled("subsampling ratio")
	}
	m := image.NewYCbCr(full, ratio)
	d.comp[0].plane, d.comp[0].stride = m.Y, m.YStride
	d.comp[1].plane, d.comp[1].stride = m.Cb, m.CStride
	d.comp[2].plane, d.comp[2].stride = m.Cr, m.CStride
	d.img = m.SubImage(image.Rect(0, 0, d.width, d.height))
	return nil
}
