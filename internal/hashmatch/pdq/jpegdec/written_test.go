package jpegdec

import (
	"bytes"
	"errors"
	"fmt"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"testing"
)

// bothIDCTs runs test with the AVX2 IDCT, where this machine has it, and
// with the portable one.
func bothIDCTs(t *testing.T, test func(*testing.T)) {
	if haveAVX2 {
		t.Run("avx2", test)
	}
	defer func(u bool) { useAVX2 = u }(useAVX2)
	useAVX2 = false
	t.Run("portable", test)
}

// layouts are the component layouts the random files use: grey, and each
// subsampling ratio image/jpeg supports, some with chroma factors above 1.
var layouts = []struct {
	name  string
	comps []specComp
}{
	{"grey", []specComp{{id: 1, h: 1, v: 1}}},
	{"grey-2x2", []specComp{{id: 1, h: 2, v: 2}}},
	{"444", []specComp{{id: 1, h: 1, v: 1}, {id: 2, h: 1, v: 1, tq: 1, td: 1, ta: 1}, {id: 3, h: 1, v: 1, tq: 1, td: 1, ta: 1}}},
	{"444-1x2", []specComp{{id: 1, h: 1, v: 2}, {id: 2, h: 1, v: 2, tq: 1, td: 1, ta: 1}, {id: 3, h: 1, v: 2, tq: 1, td: 1, ta: 1}}},
	{"440", []specComp{{id: 1, h: 1, v: 2}, {id: 2, h: 1, v: 1, tq: 1, td: 1, ta: 1}, {id: 3, h: 1, v: 1, tq: 1, td: 1, ta: 1}}},
	{"422", []specComp{{id: 1, h: 2, v: 1}, {id: 2, h: 1, v: 1, tq: 1, td: 1, ta: 1}, {id: 3, h: 1, v: 1, tq: 1, td: 1, ta: 1}}},
	{"420", []specComp{{id: 1, h: 2, v: 2}, {id: 2, h: 1, v: 1, tq: 1, td: 1, ta: 1}, {id: 3, h: 1, v: 1, tq: 1, td: 1, ta: 1}}},
	{"411", []specComp{{id: 1, h: 4, v: 1}, {id: 2, h: 1, v: 1, tq: 1, td: 1, ta: 1}, {id: 3, h: 1, v: 1, tq: 1, td: 1, ta: 1}}},
	{"410", []specComp{{id: 1, h: 4, v: 2}, {id: 2, h: 1, v: 1, tq: 1, td: 1, ta: 1}, {id: 3, h: 1, v: 1, tq: 1, td: 1, ta: 1}}},
	{"422-2x2", []specComp{{id: 1, h: 2, v: 2}, {id: 2, h: 1, v: 2}, {id: 3, h: 1, v: 2}}},
}

// randomBlock returns quantised coefficients (coded order) of one of the
// shapes the IDCT treats differently, with values up to limit.
func randomBlock(rng *rand.Rand, limit int32) [64]int32 {
	var b [64]int32
	val := func() int32 {
		v := rng.Int32N(2*limit+1) - limit
		if rng.IntN(4) == 0 {
			v = rng.Int32N(7) - 3
		}
		return v
	}
	// Natural-order regions: rows up to maxRow, columns up to maxCol.
	maxRow, maxCol := rng.IntN(8), rng.IntN(8)
	density := rng.IntN(4)
	switch rng.IntN(6) {
	case 0: // DC only
		maxRow, maxCol = 0, 0
	case 1: // first row only
		maxRow = 0
	case 2: // first column only
		maxCol = 0
	}
	b[0] = val()
	for k := 1; k < 64; k++ {
		n := zigzag[k]
		if int(n>>3) > maxRow || int(n&7) > maxCol || rng.IntN(4) < density {
			continue
		}
		b[k] = val()
	}
	return b
}

// TestWritten decodes files the test writes itself: every layout, odd
// sizes, restart intervals, 8- and 16-bit tables, SOF0 and SOF1, shuffled
// Huffman codes, and coefficients of every shape, up to the largest a
// sequential file can code (where the 32-bit IDCT overflows, as in
// image/jpeg).
func TestWritten(t *testing.T) { bothIDCTs(t, testWritten) }

func testWritten(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 8))
	files := 400
	if testing.Short() {
		files = 60
	}
	for i := range files {
		l := layouts[i%len(layouts)]
		s := spec{
			w: 1 + rng.IntN(80), h: 1 + rng.IntN(60),
			comps: l.comps,
			ri:    []int{0, 0, 1, 2, 3, 7, 64}[rng.IntN(7)],
			sof1:  rng.IntN(2) == 0,
			q16:   rng.IntN(3) == 0,
		}
		if rng.IntN(2) == 0 {
			s.rng = rng
		}
		limit := int32(1023) // 8-bit data: AC sizes up to 10
		if rng.IntN(8) == 0 {
			limit = 32767 // the largest AC value the code holds
		}
		for tq := range 2 {
			q := make([]int, 64)
			for k := range q {
				switch {
				case s.q16 && rng.IntN(4) == 0:
					q[k] = 1 + rng.IntN(65535)
				case rng.IntN(3) == 0:
					q[k] = 1 + rng.IntN(255)
				default:
					q[k] = 1 + rng.IntN(16) + k/2
				}
			}
			s.quant[tq] = q
		}
		preds := make([]int32, 3)
		s.coef = func(c, bx, by int) [64]int32 {
			b := randomBlock(rng, limit)
			// Keep the DC difference codable (size <= 16) and usually
			// small, as in a real file.
			b[0] = preds[c] + max(-2047, min(2047, b[0]))
			b[0] = max(-32767, min(32767, b[0]))
			preds[c] = b[0]
			return b
		}
		name := fmt.Sprintf("file %d: %s %dx%d ri %d sof1 %v q16 %v limit %d", i, l.name, s.w, s.h, s.ri, s.sof1, s.q16, limit)
		data := writeJPEG(t, s)
		if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
			t.Fatalf("%s: image/jpeg refuses the test file: %v", name, err)
		}
		if !same(t, name, data) {
			_, err := Decode(data, testMaxPixels)
			t.Fatalf("%s: not decoded by the fast path: %v", name, err)
		}
	}
}

// TestDCOnly checks the DC-only shortcut exhaustively against image/jpeg:
// for every 8-bit quantiser, a grey file whose blocks hold every DC value
// from -2048 to 2047 (twice the range 8-bit samples quantise into) and no
// AC coefficient; then 16-bit quantisers with DC values to +-32767 in steps
// of 13, where the products overflow the IDCT's 32 bits.
func TestDCOnly(t *testing.T) { bothIDCTs(t, testDCOnly) }

func testDCOnly(t *testing.T) {
	run := func(q int, q16 bool, dcs []int32) {
		t.Helper()
		qt := make([]int, 64)
		for k := range qt {
			qt[k] = q
		}
		side := 1
		for side*side < len(dcs) {
			side++
		}
		s := spec{
			w: 8 * side, h: 8 * side,
			comps: []specComp{{id: 1, h: 1, v: 1}},
			quant: [4][]int{qt}, q16: q16, sof1: q16,
			coef: func(_, bx, by int) (b [64]int32) {
				if i := by*side + bx; i < len(dcs) {
					b[0] = dcs[i]
				}
				return b
			},
		}
		name := fmt.Sprintf("DC quantiser %d", q)
		if !same(t, name, writeJPEG(t, s)) {
			t.Fatalf("%s: not decoded by the fast path", name)
		}
	}
	var dcs []int32
	for v := int32(-2048); v <= 2047; v++ {
		dcs = append(dcs, v)
	}
	for q := 1; q <= 255; q++ {
		run(q, false, dcs)
	}
	dcs = dcs[:0]
	for v := int32(-32767); v <= 32767; v += 13 {
		dcs = append(dcs, v)
	}
	for _, q := range []int{256, 1000, 4097, 16384, 32767, 65535} {
		run(q, true, dcs)
	}
}

// TestNotHandled checks that files outside the fast path's scope, and
// broken ones, are refused with ErrNotHandled rather than decoded.
func TestNotHandled(t *testing.T) {
	base := encodeGo(t, photo(40, 24, 3), 80)
	sof := bytes.Index(base, []byte{0xff, 0xc0})
	sos := bytes.Index(base, []byte{0xff, 0xda})
	if sof < 0 || sos < 0 {
		t.Fatal("no SOF0 or SOS in Go's output")
	}
	edit := func(f func(b []byte) []byte) []byte {
		return f(bytes.Clone(base))
	}
	cases := map[string][]byte{
		"progressive (SOF2)":       edit(func(b []byte) []byte { b[sof+1] = 0xc2; return b }),
		"arithmetic (SOF9)":        edit(func(b []byte) []byte { b[sof+1] = 0xc9; return b }),
		"lossless (SOF3)":          edit(func(b []byte) []byte { b[sof+1] = 0xc3; return b }),
		"12-bit":                   edit(func(b []byte) []byte { b[sof+4] = 12; return b }),
		"Adobe RGB":                append(append([]byte{0xff, 0xd8, 0xff, 0xee, 0, 14}, "Adobe\x00\x64\x00\x00\x00\x00\x00"...), base[2:]...),
		"RGB component ids":        edit(func(b []byte) []byte { b[sof+10], b[sof+13], b[sof+16] = 'R', 'G', 'B'; return b }),
		"truncated":                base[:len(base)*2/3],
		"no EOI":                   base[:len(base)-2],
		"segment past the end":     base[:sof+6],
		"junk before a marker":     append(append(bytes.Clone(base[:sof]), 0x00), base[sof:]...),
		"second SOF":               append(append(bytes.Clone(base[:sos]), base[sof:sof+2+int(base[sof+3])+2]...), base[sos:]...),
		"restart marker in no-DRI": append(bytes.Clone(base[:len(base)-2]), 0xff, 0xd0, 0xff, 0xd9),
	}
	// Thin out everything after the scan header: the data stops early.
	cases["scan data cut short"] = append(bytes.Clone(base[:sos+200]), 0xff, 0xd9)
	for name, data := range cases {
		img, err := Decode(data, testMaxPixels)
		if err == nil || !errors.Is(err, ErrNotHandled) || img != nil {
			t.Errorf("%s: got %T, %v; want ErrNotHandled", name, img, err)
		}
	}
	if _, err := Decode(base, 40*24-1); !errors.Is(err, ErrNotHandled) {
		t.Errorf("pixel limit: %v", err)
	}
}

// TestIDCTConstants checks each IDCT constant against its definition, its
// value times 2^bits rounded to the nearest integer.
func TestIDCTConstants(t *testing.T) {
	p := math.Pi / 16
	for _, c := range []struct {
		name string
		got  int32
		v    float64
		bits int
	}{
		{"kS2iCos6R", kS2iCos6R, math.Cos(6*p) / math.Sqrt2, 18},
		{"kS2iSin6R", kS2iSin6R, math.Sin(6*p) / math.Sqrt2, 18},
		{"kS2iR", kS2iR, 1 / math.Sqrt2, 8},
		{"kS2iCos6C", kS2iCos6C, math.Cos(6*p) / math.Sqrt2, 12},
		{"kS2iSin6C", kS2iSin6C, math.Sin(6*p) / math.Sqrt2, 12},
		{"kS2iC", kS2iC, 1 / math.Sqrt2, 14},
		{"kCos1", kCos1, math.Cos(p), 12},
		{"kSin1", kSin1, math.Sin(p), 12},
		{"kCos3", kCos3, math.Cos(3 * p), 12},
		{"kSin3", kSin3, math.Sin(3 * p), 12},
	} {
		x := c.v * math.Ldexp(1, c.bits)
		if want := int32(math.Round(x)); c.got != want || math.Abs(x-math.Round(x)) > 0.49 {
			t.Errorf("%s = %d, want %d (%.6f)", c.name, c.got, want, x)
		}
	}
}
