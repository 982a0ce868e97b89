package index

import (
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/quick"
)

// TestHashLayout pins the documented bit layout: Hash[0] is the first 16
// hex digits, and the byte form is big-endian.
func TestHashLayout(t *testing.T) {
	const s = "f162eb9daab170c0567fe3632d9a5548c5612982dd5e374a7424ebbc8a835c95"
	h, err := ParseHex(s)
	if err != nil {
		t.Fatal(err)
	}
	want := Hash{0xf162eb9daab170c0, 0x567fe3632d9a5548, 0xc5612982dd5e374a, 0x7424ebbc8a835c95}
	if h != want {
		t.Fatalf("ParseHex = %x, want %x", h, want)
	}
	if b := h.Bytes(); b[0] != 0xf1 || b[31] != 0x95 {
		t.Fatalf("Bytes = %x, want f1...95", b)
	}
	if h.String() != s {
		t.Fatalf("String = %s, want %s", h, s)
	}
	if u, err := ParseHex(strings.ToUpper(s)); err != nil || u != h {
		t.Fatalf("upper-case ParseHex = %x, %v", u, err)
	}
}

// TestParseHexErrors checks that malformed hex is rejected.
func TestParseHexErrors(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"short", strings.Repeat("a", 63)},
		{"long", strings.Repeat("a", 65)},
		{"non-hex", strings.Repeat("g", 64)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseHex(tc.in); err == nil {
				t.Fatalf("ParseHex(%q) succeeded", tc.in)
			}
		})
	}
}

// TestHashRoundTrips checks Bytes/HashFromBytes and String/ParseHex are
// inverses, and Distance against a bit-by-bit count.
func TestHashRoundTrips(t *testing.T) {
	t.Run("bytes", func(t *testing.T) {
		f := func(h Hash) bool { return HashFromBytes(h.Bytes()) == h }
		if err := quick.Check(f, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("hex", func(t *testing.T) {
		f := func(h Hash) bool { p, err := ParseHex(h.String()); return err == nil && p == h }
		if err := quick.Check(f, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("distance", func(t *testing.T) {
		f := func(a, b Hash) bool {
			ab, bb := a.Bytes(), b.Bytes()
			n := 0
			for i := range ab {
				for x := ab[i] ^ bb[i]; x != 0; x &= x - 1 {
					n++
				}
			}
			return Distance(a, b) == n && Distance(b, a) == n
		}
		if err := quick.Check(f, nil); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSlotKeys checks that the 16 slots tile the 256 bits exactly once,
// in the documented order, and that partners share a 32-bit super-slot.
func TestSlotKeys(t *testing.T) {
	seen := map[int]bool{}
	for s := range numSlots {
		for b := range slotBits {
			bit := 16*s + b // slot s is bits [16s, 16s+16) counting up from Hash[0] bit 0
			var h Hash
			h[bit>>6] = 1 << (bit & 63)
			for u := range numSlots {
				want := uint16(0)
				if u == s {
					want = 1 << b
				}
				if got := slotKey(&h, u); got != want {
					t.Fatalf("bit %d: slot %d = %#x, want %#x", bit, u, got, want)
				}
			}
			seen[bit] = true
		}
	}
	if len(seen) != 256 {
		t.Fatalf("slots cover %d bits", len(seen))
	}
	for k := 0; k <= maxSlotRadius; k++ {
		for i, m := range probeMasks[:probeCount[k]] {
			if bits.OnesCount16(m) > k {
				t.Fatalf("probe mask %d (%b) outside radius %d", i, m, k)
			}
		}
	}
	if len(probeMasks) != probeCount[maxSlotRadius] || maxSpans != numSlots*len(probeMasks) {
		t.Fatalf("%d probe masks, counts %v, maxSpans %d", len(probeMasks), probeCount, maxSpans)
	}
}

// TestRadiiCoverEveryMatch checks the pigeonhole argument itself: for
// every r the index serves and many splits of a distance <= r over the 16
// slots (random, evenly spread, and concentrated), some slot admits the
// match, i.e. its own distance is within its probe radius and its
// partner's within the super-slot bound minus that.
func TestRadiiCoverEveryMatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for r := 0; r <= maxMIHRadius; r++ {
		var rad, super [numSlots]int
		radii(r, &rad, &super)
		splits := [][numSlots]int{}
		for range 4000 {
			var d [numSlots]int
			total := rng.IntN(r + 1)
			for range total {
				d[rng.IntN(numSlots)]++
			}
			splits = append(splits, d)
		}
		// Adversarial: spread r as evenly as possible, rotated.
		for rot := range numSlots {
			var d [numSlots]int
			for i := range r {
				d[(i+rot)%numSlots]++
			}
			splits = append(splits, d)
		}
		for _, d := range splits {
			ok := false
			for s := range numSlots {
				if rad[s] >= 0 && d[s] <= rad[s] && d[s^1] <= super[s]-d[s] {
					ok = true
					break
				}
			}
			if !ok {
				t.Fatalf("r=%d: split %v admitted by no slot (rad %v, super %v)", r, d, rad, super)
			}
		}
	}
}
