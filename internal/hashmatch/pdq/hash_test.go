package pdq

import (
	"encoding/json"
	"errors"
	"math"
	"math/bits"
	"strings"
	"testing"
)

func TestHashBitOrder(t *testing.T) {
	// The reference stores bit k in 16-bit word k/16 at position k%16 and
	// prints words 15 down to 0, four hex digits each.
	tests := []struct {
		bit  int
		want string
	}{
		{0, strings.Repeat("0", 63) + "1"},
		{3, strings.Repeat("0", 63) + "8"},
		{16, strings.Repeat("0", 59) + "10000"},
		{64, strings.Repeat("0", 47) + "1" + strings.Repeat("0", 16)},
		{255, "8" + strings.Repeat("0", 63)},
	}
	for _, tt := range tests {
		var h Hash
		h.setBit(tt.bit)
		if got := h.String(); got != tt.want {
			t.Errorf("bit %d: %s, want %s", tt.bit, got, tt.want)
		}
		for k := range HashBits {
			if h.Bit(k) != (k == tt.bit) {
				t.Errorf("bit %d set: Bit(%d) = %v", tt.bit, k, h.Bit(k))
			}
		}
	}
}

func TestParseHex(t *testing.T) {
	const s = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"
	h, err := ParseHex(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.String(); got != s {
		t.Errorf("round trip: %s, want %s", got, s)
	}
	if up, err := ParseHex(strings.ToUpper(s)); err != nil || up != h {
		t.Errorf("upper case: %v, %v", up, err)
	}
	for _, bad := range []string{
		"",
		s[:63],
		s + "0",
		"0x" + s[2:],
		" " + s[1:],
		s[:63] + "g",
		strings.Repeat("é", 32),
	} {
		if _, err := ParseHex(bad); !errors.Is(err, ErrInvalidHex) {
			t.Errorf("ParseHex(%q): err = %v, want ErrInvalidHex", bad, err)
		}
	}
}

func TestHashJSON(t *testing.T) {
	h := Hash{1, 2, 3, 0xffffffffffffffff}
	b, err := json.Marshal(Result{Hash: h, Quality: 90})
	if err != nil {
		t.Fatal(err)
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.Hash != h || !strings.Contains(string(b), `"hash":"`+h.String()+`"`) {
		t.Errorf("JSON round trip: %s -> %v", b, r.Hash)
	}
	if err := json.Unmarshal([]byte(`{"hash":"zz"}`), &r); !errors.Is(err, ErrInvalidHex) {
		t.Errorf("bad JSON hash: err = %v", err)
	}
}

func TestDistance(t *testing.T) {
	var zero, ones Hash
	for i := range ones {
		ones[i] = ^uint64(0)
	}
	a := Hash{0x0123456789abcdef, 0, 1 << 63, 7}
	tests := []struct {
		a, b Hash
		want int
	}{
		{zero, zero, 0},
		{zero, ones, 256},
		{a, a, 0},
		{a, zero, bits.OnesCount64(0x0123456789abcdef) + 1 + 3},
		{a, ones, 256 - (bits.OnesCount64(0x0123456789abcdef) + 1 + 3)},
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%v, %v) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Distance(tt.b, tt.a); got != tt.want {
			t.Errorf("Distance not symmetric for %v, %v", tt.a, tt.b)
		}
	}
	// The reference photo hashes of bridge (Java test) and its rotation.
	x := mustParseHex(t, "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22")
	y := mustParseHex(t, "30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af")
	if d := Distance(x, y); d != 120 {
		t.Errorf("Java bridge original vs rotate-90: %d, want 120 (PDQHasherTest)", d)
	}
}

// TestBoxColsDecimate checks the fused last pass against boxCols then
// decimate, bit for bit, on random buffers of sizes below, at and above the
// 64x64 grid, with the windows the blur uses for them.
func TestBoxColsDecimate(t *testing.T) {
	s := uint32(88172645)
	for _, sz := range [][2]int{{5, 7}, {64, 64}, {63, 130}, {200, 77}, {512, 512}, {513, 384}} {
		rows, cols := sz[0], sz[1]
		in := make([]float32, rows*cols)
		for i := range in {
			s ^= s << 13
			s ^= s >> 17
			s ^= s << 5
			in[i] = float32(s%65536) / 256
		}
		tmp := make([]float32, rows*cols)
		var want, got [dctSize * dctSize]float32
		window := jaroszWindow(rows, dctSize)
		boxCols(in, tmp, rows, cols, window, make([]float32, cols))
		decimate(tmp, rows, cols, &want)
		boxColsDecimate(in, rows, cols, window, &got)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%dx%d: [%d] = %v, want %v", rows, cols, i, got[i], want[i])
			}
		}
	}
}

// decimate, the plain form boxColsDecimate is checked against, samples the blurred rows x cols buffer at the centres of a 64x64
// grid. The reference computes int(((i+0.5)*n)/64) in float64; every step of
// that is exact (n < 2^31, division by a power of two), so the integer form
// ((2i+1)*n)/128 gives the same index.
func decimate(in []float32, rows, cols int, out *[dctSize * dctSize]float32) {
	var colIdx [dctSize]int
	for j := range colIdx {
		colIdx[j] = (2*j + 1) * cols / (2 * dctSize)
	}
	for i := range dctSize {
		src := in[(2*i+1)*rows/(2*dctSize)*cols:]
		dst := out[i*dctSize : (i+1)*dctSize]
		for j, c := range colIdx {
			dst[j] = src[c]
		}
	}
}
