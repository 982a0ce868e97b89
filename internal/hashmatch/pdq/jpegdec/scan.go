package jpegdec

import (
	"bytes"
	"encoding/binary"
	"image"
)

// decodeScan decodes the entropy-coded data from d.pos, block by block
// straight into the planes, then checks that the image ends there.
func (d *decoder) decodeScan() (image.Image, error) {
	h0, v0 := d.comp[0].h, d.comp[0].v
	mxx := (d.width + 8*h0 - 1) / (8 * h0)
	myy := (d.height + 8*v0 - 1) / (8 * v0)
	nmcu := mxx * myy
	mcu, rst := 0, 0
	for my := range myy {
		for mx := range mxx {
			for i := range d.ncomp {
				c := &d.comp[i]
				for j := range c.h * c.v {
					bx := c.h*mx + j%c.h
					by := c.v*my + j/c.h
					off := 8 * (by*c.stride + bx)
					if !d.block(c, c.plane[off:off+7*c.stride+8], c.stride) {
						return nil, notHandled("entropy-coded data")
					}
				}
			}
			if d.pad > d.nbits {
				// A code or value ran past the segment's data.
				return nil, notHandled("scan data ends early")
			}
			mcu++
			if d.ri > 0 && mcu%d.ri == 0 && mcu < nmcu {
				m := d.nextMarker()
				if m < 0 || d.data[m+1] != byte(mRST0+rst) {
					return nil, notHandled("restart marker")
				}
				rst = (rst + 1) & 7
				d.pos, d.acc, d.nbits, d.pad = m+2, 0, 0, 0
				for i := range d.ncomp {
					d.comp[i].pred = 0
				}
			}
		}
	}
	// image/jpeg skips what is left of the segment and reads markers
	// until EOI; anything but EOI right away is left to it.
	if m := d.nextMarker(); m < 0 || d.data[m+1] != mEOI {
		return nil, notHandled("no EOI after the scan")
	}
	return d.img, nil
}

// nextMarker returns the position of the first marker at or after d.pos
// (0xff followed by neither 0x00 nor the end of the data), or -1.
func (d *decoder) nextMarker() int {
	for i := d.pos; ; {
		j := bytes.IndexByte(d.data[i:], 0xff)
		if j < 0 || i+j+1 >= len(d.data) {
			return -1
		}
		i += j
		if d.data[i+1] != 0 {
			return i
		}
		i += 2
	}
}

// refill tops the bit buffer up to at least 56 bits. Where the next eight
// bytes hold no 0xff it takes them in one load; otherwise byte by byte,
// unstuffing 0xff00 and feeding zero bits (counted in pad) once it reaches
// a marker or the end of the data.
func (d *decoder) refill() {
	if d.pos+8 <= len(d.data) {
		w := binary.BigEndian.Uint64(d.data[d.pos:])
		x := ^w
		if (x-0x0101010101010101)&^x&0x8080808080808080 == 0 {
			// Bits past the whole bytes taken are the next byte's
			// leading bits: the next load ORs the same bits in.
			d.acc |= w >> d.nbits
			n := (63 - d.nbits) >> 3
			d.pos += int(n)
			d.nbits += n * 8
			return
		}
	}
	for d.nbits <= 56 {
		var b byte
		if d.pos < len(d.data) {
			b = d.data[d.pos]
			if b != 0xff {
				d.pos++
			} else if d.pos+1 < len(d.data) && d.data[d.pos+1] == 0 {
				d.pos += 2
			} else {
				b = 0
				d.pad += 8
			}
		} else {
			d.pad += 8
		}
		d.acc |= uint64(b) << (56 - d.nbits)
		d.nbits += 8
	}
}

// slow decodes a code longer than lookBits from the top 16 bits of acc,
// returning its symbol and length, or length 0 when no code matches.
func (t *huffTable) slow(acc uint64) (sym uint, length uint) {
	code := int32(acc >> 48)
	for l := lookBits + 1; l <= 16; l++ {
		c := code >> (16 - l)
		if c <= t.maxCode[l] {
			return uint(t.vals[uint8(t.valIdx[l]+c-t.minCode[l])]), uint(l)
		}
	}
	return 0, 0
}

// block decodes one block's coefficients, dequantising them as they come,
// and writes its pixels to dst. It reports false for data image/jpeg would
// refuse or decode in a way this decoder does not follow.
func (d *decoder) block(c *component, dst []byte, stride int) bool {
	acc, nbits := d.acc, d.nbits
	if nbits < 32 {
		d.refill()
		acc, nbits = d.acc, d.nbits
	}
	// DC: the size of the difference, then its bits.
	dc := c.dc
	e := dc.fast[acc>>(64-lookBits)]
	var diff int32
	if tot := uint(e>>entTotalShift) & 31; tot != 0 {
		diff = int32(e) >> entValueShift
		acc <<= tot
		nbits -= tot
	} else {
		var s, l uint
		if l = uint(e>>entCodeShift) & 31; l != 0 {
			s = uint(e & 0xff)
		} else if s, l = dc.slow(acc); l == 0 {
			return false
		}
		acc <<= l
		nbits -= l
		if s > 16 {
			return false
		}
		if s > 0 {
			diff = extend(int32(acc>>(64-s)), s)
			acc <<= s
			nbits -= s
		}
	}
	c.pred += diff
	blk := &d.blk
	q := &c.q
	blk[0] = c.pred * q[0]
	flags := uint32(1)

	// AC: run of zeros and size, then the value's bits.
	ac := c.ac
	for k := 1; k < 64; {
		if nbits < 32 {
			d.acc, d.nbits = acc, nbits
			d.refill()
			acc, nbits = d.acc, d.nbits
		}
		e := ac.fast[acc>>(64-lookBits)]
		if tot := uint(e>>entTotalShift) & 31; tot != 0 {
			if z := k + int(e>>4&15); z < 64 {
				acc <<= tot
				nbits -= tot
				blk[zigzag[z]] = int32(e) >> entValueShift * q[z]
				flags |= zflag[z]
				k = z + 1
				continue
			}
		}
		var rs, l uint
		if l = uint(e>>entCodeShift) & 31; l != 0 {
			rs = uint(e & 0xff)
		} else if rs, l = ac.slow(acc); l == 0 {
			return false
		}
		acc <<= l
		nbits -= l
		r, s := int(rs>>4), rs&15
		if s == 0 {
			if r == 15 { // sixteen zeros
				k += 16
				continue
			}
			if r == 0 { // end of block
				break
			}
			return false // an end-of-band run: progressive only
		}
		k += r
		if k > 63 {
			// image/jpeg ends the block here, the value's bits unread.
			break
		}
		z := k & 63
		blk[zigzag[z]] = extend(int32(acc>>(64-s)), s) * q[z]
		flags |= zflag[z]
		acc <<= s
		nbits -= s
		k++
	}
	d.acc, d.nbits = acc, nbits
	idct(blk, flags, dst, stride)
	return true
}
