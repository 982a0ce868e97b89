package jpegdec

import "encoding/binary"

// The inverse DCT must give exactly what image/jpeg's gives, so it does
// the same fixed-point arithmetic, in int32 like image/jpeg, so that the
// results agree bit for bit even where hostile coefficients overflow. That
// arithmetic is the one of the toolchain this is built with: Go 1.26's
// image/jpeg runs its FDCT backward (the Loeffler-Ligtenberg-Moschytz
// factorisation: butterflies and three-multiply rotations), rows first,
// with the constants below, each its value times 2^bits rounded; older
// releases used the MPEG-2 reference decoder's integer IDCT instead. The
// package's tests compare with image/jpeg, so a toolchain that changes it
// again fails them.
//
// The shortcuts below only drop terms that are zero, which leaves every
// 32-bit result unchanged.
const (
	kS2iCos6R = 70936  // cos(6π/16)/√2 · 2^18 (row pass)
	kS2iSin6R = 171254 // sin(6π/16)/√2 · 2^18 (row pass)
	kS2iR     = 181    // 1/√2 · 2^8 (row pass)
	kS2iCos6C = 1108   // cos(6π/16)/√2 · 2^12 (column pass)
	kS2iSin6C = 2676   // sin(6π/16)/√2 · 2^12 (column pass)
	kS2iC     = 11585  // 1/√2 · 2^14 (column pass)
	kCos1     = 4017   // cos(π/16) · 2^12
	kSin1     = 799    // sin(π/16) · 2^12
	kCos3     = 3406   // cos(3π/16) · 2^12
	kSin3     = 2276   // sin(3π/16) · 2^12
)

// rotate returns (u·kc + v·ks, v·kc − u·ks) computed with three
// multiplications, the way image/jpeg computes it.
func rotate(u, v, kc, ks int32) (int32, int32) {
	t := kc * (u + v)
	return t + (ks-kc)*v, t - (kc+ks)*u
}

// useAVX2 selects idctAVX2 for the general case; tests turn it off to
// check the portable code on machines that have AVX2.
var useAVX2 = haveAVX2

// pixel level-shifts one output sample by 128 and clamps it to a byte.
func pixel(v int32) uint64 {
	return uint64(min(max(v+128, 0), 255))
}

// idct transforms the dequantised coefficients in b (natural order) and
// writes the 8x8 pixels to dst, rows stride bytes apart; it leaves b all
// zero. flags has bit r set when row r may hold a non-zero coefficient,
// bit 8+r when it may hold one outside column 0 and bit 16+r when it may
// hold one in columns 4-7.
func idct(b *[64]int32, flags uint32, dst []byte, stride int) {
	rows, acRows, hiRows := uint8(flags), uint8(flags>>8), uint8(flags>>16)
	if rows == 1 && acRows == 0 {
		// DC only: row 0 becomes DC<<17 throughout, every column its
		// first input, rounded and scaled down.
		p := pixel((b[0]<<17 + 1<<19) >> 20)
		b[0] = 0
		fill := p * 0x0101010101010101
		for y := range 8 {
			binary.LittleEndian.PutUint64(dst[y*stride:], fill)
		}
		return
	}

	if useAVX2 && rows != 1 {
		_ = dst[7*stride+7] // the eight rows idctAVX2 stores to
		idctAVX2(b, &dst[0], stride)
		return
	}

	// Row pass, in place; its outputs carry 20 fractional bits.
	for y := range 8 {
		bit := uint8(1) << y
		if rows&bit == 0 {
			continue
		}
		s := (*[8]int32)(b[8*y:])
		if acRows&bit == 0 {
			v := s[0] << 17
			*s = [8]int32{v, v, v, v, v, v, v, v}
			continue
		}
		if hiRows&bit == 0 {
			// Columns 4-7 are zero: their terms dropped.
			a := s[0] << 17
			r2 := kS2iCos6R * s[2]
			r6 := r2 - (kS2iCos6R-kS2iSin6R)*s[2]
			f1, f2 := a+r2, a-r2
			f0, f3 := a+r6, a-r6
			p := s[1] << 7
			m3 := s[3] * kS2iR
			o1, o3 := p+m3, p-m3
			g7, g1 := rotate(p>>2, o1>>2, kCos3, -kSin3)
			g3, g5 := rotate(o3>>2, p>>2, kCos1, -kSin1)
			s[0], s[7] = f0+g1, f0-g1
			s[1], s[6] = f1+g5, f1-g5
			s[2], s[5] = f2+g3, f2-g3
			s[3], s[4] = f3+g7, f3-g7
			continue
		}
		// Even part: coefficients 0, 4, 2, 6.
		a, c := s[0]<<17, s[4]<<17
		e0, e1 := a+c, a-c
		r2, r6 := rotate(s[2], s[6], kS2iCos6R, -kS2iSin6R)
		f1, f2 := e1+r2, e1-r2
		f0, f3 := e0+r6, e0-r6
		// Odd part: coefficients 1, 7, 3, 5.
		p, q := s[1]<<7, s[7]<<7
		o1, o7 := p+q, p-q
		m5, m3 := s[5]*kS2iR, s[3]*kS2iR
		o1, o3 := o1+m3, o1-m3
		o7, o5 := o7+m5, o7-m5
		g7, g1 := rotate(o7>>2, o1>>2, kCos3, -kSin3)
		g3, g5 := rotate(o3>>2, o5>>2, kCos1, -kSin1)
		s[0], s[7] = f0+g1, f0-g1
		s[1], s[6] = f1+g5, f1-g5
		s[2], s[5] = f2+g3, f2-g3
		s[3], s[4] = f3+g7, f3-g7
	}

	// Column pass, in place: integer samples before the level shift.
	switch {
	case rows == 1:
		// Only row 0 is non-zero: each column is constant.
		var out uint64
		for x := range 8 {
			out |= pixel((b[x]+1<<19)>>20) << (8 * x)
			b[x] = 0
		}
		for y := range 8 {
			binary.LittleEndian.PutUint64(dst[y*stride:], out)
		}
		return
	case rows&0xfc == 0:
		// Only rows 0 and 1 are non-zero.
		for x := range 8 {
			s := b[x : x+57 : x+57]
			f := (s[0] + 1<<19) >> 2
			o := s[8] >> 14
			g7, g1 := rotate(o, o, kCos3, -kSin3)
			g3, g5 := rotate(o, o, kCos1, -kSin1)
			s[0], s[56] = (f+g1)>>18, (f-g1)>>18
			s[8], s[48] = (f+g5)>>18, (f-g5)>>18
			s[16], s[40] = (f+g3)>>18, (f-g3)>>18
			s[24], s[32] = (f+g7)>>18, (f-g7)>>18
		}
	case rows&0xf0 == 0:
		// Rows 4-7 are zero: their terms dropped.
		for x := range 8 {
			s := b[x : x+57 : x+57]
			f0 := (s[0] + 1<<19) >> 2
			u := s[16] >> 13
			r2 := kS2iCos6C * u
			r6 := r2 - (kS2iCos6C-kS2iSin6C)*u
			f1, f2 := f0+r2, f0-r2
			f0, f3 := f0+r6, f0-r6
			m3 := (s[24] >> 13) * kS2iC
			o1, o3 := s[8]+m3, s[8]-m3
			g7, g1 := rotate(s[8]>>14, o1>>14, kCos3, -kSin3)
			g3, g5 := rotate(o3>>14, s[8]>>14, kCos1, -kSin1)
			s[0], s[56] = (f0+g1)>>18, (f0-g1)>>18
			s[8], s[48] = (f1+g5)>>18, (f1-g5)>>18
			s[16], s[40] = (f2+g3)>>18, (f2-g3)>>18
			s[24], s[32] = (f3+g7)>>18, (f3-g7)>>18
		}
	default:
		for x := range 8 {
			s := b[x : x+57 : x+57]
			a := s[0] + 1<<19 // rounds the final shift
			f0, f1 := (a+s[32])>>2, (a-s[32])>>2
			r2, r6 := rotate(s[16]>>13, s[48]>>13, kS2iCos6C, -kS2iSin6C)
			f1, f2 := f1+r2, f1-r2
			f0, f3 := f0+r6, f0-r6
			o1, o7 := s[8]+s[56], s[8]-s[56]
			m3, m5 := (s[24]>>13)*kS2iC, (s[40]>>13)*kS2iC
			o1, o3 := o1+m3, o1-m3
			o7, o5 := o7+m5, o7-m5
			g7, g1 := rotate(o7>>14, o1>>14, kCos3, -kSin3)
			g3, g5 := rotate(o3>>14, o5>>14, kCos1, -kSin1)
			s[0], s[56] = (f0+g1)>>18, (f0-g1)>>18
			s[8], s[48] = (f1+g5)>>18, (f1-g5)>>18
			s[16], s[40] = (f2+g3)>>18, (f2-g3)>>18
			s[24], s[32] = (f3+g7)>>18, (f3-g7)>>18
		}
	}

	// Level shift, clamp, store a row at a time.
	for y := range 8 {
		s := (*[8]int32)(b[8*y:])
		v0, v1, v2, v3 := s[0]+128, s[1]+128, s[2]+128, s[3]+128
		v4, v5, v6, v7 := s[4]+128, s[5]+128, s[6]+128, s[7]+128
		var out uint64
		if uint32(v0|v1|v2|v3|v4|v5|v6|v7) <= 255 {
			// All in range, the common case.
			out = uint64(v0) | uint64(v1)<<8 | uint64(v2)<<16 | uint64(v3)<<24 |
				uint64(v4)<<32 | uint64(v5)<<40 | uint64(v6)<<48 | uint64(v7)<<56
		} else {
			out = pixel(s[0]) | pixel(s[1])<<8 | pixel(s[2])<<16 | pixel(s[3])<<24 |
				pixel(s[4])<<32 | pixel(s[5])<<40 | pixel(s[6])<<48 | pixel(s[7])<<56
		}
		binary.LittleEndian.PutUint64(dst[y*stride:], out)
		*s = [8]int32{}
	}
}
