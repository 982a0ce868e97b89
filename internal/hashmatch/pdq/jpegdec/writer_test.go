package jpegdec

import (
	"bytes"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// This file writes JPEG files from given quantised coefficients, so that
// tests can put any coefficients (and quantisers, sampling factors, table
// shapes, restart intervals) in front of both decoders.

// spec describes a file for writeJPEG.
type spec struct {
	w, h  int
	comps []specComp
	quant [4][]int // coded order; nil when the table is not written
	q16   bool     // 16-bit quantisation tables
	sof1  bool     // SOF1 (extended sequential) instead of SOF0
	ri    int      // restart interval in MCUs, 0 for none
	// coef returns the quantised coefficients (coded order) of block
	// (bx, by) of component c.
	coef func(c, bx, by int) [64]int32
	rng  *rand.Rand // shuffles which symbols get the short codes; nil: fixed
}

type specComp struct {
	id, h, v, tq, td, ta int
}

// code is a Huffman code: per symbol its bits and length.
type code struct {
	counts [17]int
	syms   []byte
	bits   [256]uint32
	length [256]int
}

// makeCode gives syms code lengths from counts (lengths 1..16), canonically.
func makeCode(counts [17]int, syms []byte) *code {
	c := &code{counts: counts, syms: syms}
	v, i := 0, 0
	for l := 1; l <= 16; l++ {
		for range counts[l] {
			c.bits[syms[i]] = uint32(v)
			c.length[syms[i]] = l
			v++
			i++
		}
		v <<= 1
	}
	return c
}

// testCodes returns a DC code for sizes 0..16 and an AC code for every
// run/size symbol, with lengths from 2 to 15 bits so that the decoder's
// full, symbol-only and long-code paths all get used.
func testCodes(rng *rand.Rand) (dc, ac *code) {
	dcSyms := make([]byte, 17)
	for i := range dcSyms {
		dcSyms[i] = byte(i)
	}
	acSyms := []byte{0x00, 0xf0}
	for s := 1; s <= 15; s++ {
		for r := 0; r <= 15; r++ {
			acSyms = append(acSyms, byte(r<<4|s))
		}
	}
	// Cheap symbols first: small sizes and short runs.
	cost := func(b byte) int { return int(b&15)*2 + int(b>>4) }
	for i := 2; i < len(acSyms); i++ {
		for j := i; j > 2 && cost(acSyms[j]) < cost(acSyms[j-1]); j-- {
			acSyms[j], acSyms[j-1] = acSyms[j-1], acSyms[j]
		}
	}
	if rng != nil {
		rng.Shuffle(len(dcSyms), func(i, j int) { dcSyms[i], dcSyms[j] = dcSyms[j], dcSyms[i] })
		rng.Shuffle(len(acSyms), func(i, j int) { acSyms[i], acSyms[j] = acSyms[j], acSyms[i] })
	}
	dc = makeCode([17]int{2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4}, dcSyms)
	ac = makeCode([17]int{2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 4, 8: 8, 9: 8, 10: 16, 11: 16, 12: 32, 13: 32, 14: 64, 15: 52}, acSyms)
	return dc, ac
}

type bitWriter struct {
	out   []byte
	acc   uint64
	nbits uint
}

func (w *bitWriter) put(v uint32, n int) {
	w.acc = w.acc<<uint(n) | uint64(v)&(1<<uint(n)-1)
	w.nbits += uint(n)
	for w.nbits >= 8 {
		b := byte(w.acc >> (w.nbits - 8))
		w.out = append(w.out, b)
		if b == 0xff {
			w.out = append(w.out, 0)
		}
		w.nbits -= 8
	}
}

// flush pads the last byte with one bits.
func (w *bitWriter) flush() {
	if w.nbits > 0 {
		w.put(1<<(8-w.nbits)-1, int(8-w.nbits))
	}
}

func sizeOf(v int32) int {
	if v < 0 {
		v = -v
	}
	return bits.Len32(uint32(v))
}

func (w *bitWriter) value(v int32, s int) {
	if v < 0 {
		v += 1<<s - 1
	}
	w.put(uint32(v), s)
}

// writeJPEG encodes s.
func writeJPEG(tb testing.TB, s spec) []byte {
	tb.Helper()
	var b bytes.Buffer
	seg := func(m byte, p []byte) {
		b.Write([]byte{0xff, m, byte((len(p) + 2) >> 8), byte(len(p) + 2)})
		b.Write(p)
	}
	b.Write([]byte{0xff, 0xd8})
	seg(0xe0, []byte("JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"))
	for t, q := range s.quant {
		if q == nil {
			continue
		}
		p := []byte{byte(t)}
		if s.q16 {
			p[0] |= 0x10
		}
		for _, v := range q {
			if s.q16 {
				p = append(p, byte(v>>8))
			}
			p = append(p, byte(v))
		}
		seg(0xdb, p)
	}
	sof := []byte{8, byte(s.h >> 8), byte(s.h), byte(s.w >> 8), byte(s.w), byte(len(s.comps))}
	for _, c := range s.comps {
		sof = append(sof, byte(c.id), byte(c.h<<4|c.v), byte(c.tq))
	}
	m := byte(0xc0)
	if s.sof1 {
		m = 0xc1
	}
	seg(m, sof)
	dc, ac := testCodes(s.rng)
	for _, t := range []struct {
		class byte
		c     *code
	}{{0x00, dc}, {0x01, dc}, {0x10, ac}, {0x11, ac}} {
		p := []byte{t.class}
		for l := 1; l <= 16; l++ {
			p = append(p, byte(t.c.counts[l]))
		}
		seg(0xc4, append(p, t.c.syms...))
	}
	if s.ri > 0 {
		seg(0xdd, []byte{byte(s.ri >> 8), byte(s.ri)})
	}
	sos := []byte{byte(len(s.comps))}
	for _, c := range s.comps {
		sos = append(sos, byte(c.id), byte(c.td<<4|c.ta))
	}
	seg(0xda, append(sos, 0, 63, 0))

	h0, v0 := s.comps[0].h, s.comps[0].v
	if len(s.comps) == 1 {
		h0, v0 = 1, 1
	}
	mxx, myy := (s.w+8*h0-1)/(8*h0), (s.h+8*v0-1)/(8*v0)
	w := &bitWriter{out: b.Bytes()}
	pred := make([]int32, len(s.comps))
	block := func(ci int, blk [64]int32) {
		d := blk[0] - pred[ci]
		pred[ci] = blk[0]
		n := sizeOf(d)
		w.put(dc.bits[n], dc.length[n])
		w.value(d, n)
		run := 0
		for k := 1; k < 64; k++ {
			if blk[k] == 0 {
				run++
				continue
			}
			for ; run > 15; run -= 16 {
				w.put(ac.bits[0xf0], ac.length[0xf0])
			}
			n := sizeOf(blk[k])
			sym := byte(run<<4 | n)
			w.put(ac.bits[sym], ac.length[sym])
			w.value(blk[k], n)
			run = 0
		}
		if run > 0 {
			w.put(ac.bits[0], ac.length[0])
		}
	}
	mcu, rst := 0, 0
	for my := range myy {
		for mx := range mxx {
			for ci, c := range s.comps {
				if len(s.comps) == 1 {
					block(0, s.coef(0, mx, my))
					continue
				}
				for j := range c.h * c.v {
					block(ci, s.coef(ci, c.h*mx+j%c.h, c.v*my+j/c.h))
				}
			}
			mcu++
			if s.ri > 0 && mcu%s.ri == 0 && mcu < mxx*myy {
				w.flush()
				w.out = append(w.out, 0xff, byte(0xd0+rst))
				rst = (rst + 1) & 7
				clear(pred)
			}
		}
	}
	w.flush()
	return append(w.out, 0xff, 0xd9)
}
