package pdq

import (
	"fmt"
	"math"
	"strconv"
	"testing"
)

// synthLuma builds the synthetic luma buffers of the reference's
// cpp-luma-*.csv files, following the generator spec in the reference
// README: integer arithmetic throughout, float32 only at the end, and a
// xorshift32 generator advanced in row-major order.
func synthLuma(tb testing.TB, width, height int, generator string, seed uint32) []float32 {
	tb.Helper()
	s := seed
	xs := func() uint32 {
		s ^= s << 13
		s ^= s >> 17
		s ^= s << 5
		return s
	}
	bh := func(x, y int) uint32 {
		t := seed ^ uint32(x/16)*73856093 ^ uint32(y/16)*19349663
		if t == 0 {
			t = 1
		}
		for range 2 {
			t ^= t << 13
			t ^= t >> 17
			t ^= t << 5
		}
		return t % 256
	}
	rgb := func(r, g, b int) float32 {
		return float32(float32(lumaR*float32(r))+float32(lumaG*float32(g))) + float32(lumaB*float32(b))
	}
	v := make([]float32, width*height)
	for y := range height {
		for x := range width {
			var f float32
			switch generator {
			case "noise":
				f = float32(xs() % 256)
			case "noise16frac":
				f = float32(xs()%65536) / 256.0
			case "hgrad":
				f = float32((x * 256) / width)
			case "vgrad":
				f = float32((y * 256) / height)
			case "diag":
				f = float32((x + 2*y) % 256)
			case "checker8":
				f = float32(((x/8 + y/8) % 2) * 255)
			case "rings":
				dx, dy := x-width/2, y-height/2
				f = float32(((dx*dx + dy*dy) / (width + height)) % 256)
			case "blocks16":
				f = float32(bh(x, y))
			case "mix":
				r := xs()
				f = float32(((x*128)/width + ((x/32+y/24)%2)*64 + int(r%64)) % 256)
			case "rgbnoise":
				r := int(xs() % 256)
				g := int(xs() % 256)
				b := int(xs() % 256)
				f = rgb(r, g, b)
			case "rgbblocks":
				f = rgb((x*256)/width, (y*256)/height, int(bh(x, y)))
			case "const":
				f = float32(seed % 256)
			default:
				tb.Fatalf("unknown generator %q", generator)
			}
			v[y*width+x] = f
		}
	}
	return v
}

// lumaRow reads the buffer description shared by the cpp-luma-*.csv files.
func lumaRow(tb testing.TB, row map[string]string) (luma []float32, width, height int) {
	tb.Helper()
	width, height = mustAtoi(tb, row["width"]), mustAtoi(tb, row["height"])
	seed, err := strconv.ParseUint(row["seed"], 10, 32)
	if err != nil {
		tb.Fatal(err)
	}
	return synthLuma(tb, width, height, row["generator"], uint32(seed)), width, height
}

// TestLumaVectors checks bit-exactness with the C++ reference: every one of
// the reference's synthetic buffers must give exactly its hash and quality.
func TestLumaVectors(t *testing.T) {
	rows := readCSV(t, "cpp-luma-vectors.csv")
	if len(rows) != 44 {
		t.Errorf("cpp-luma-vectors.csv has %d rows, want 44", len(rows))
	}
	exact := 0
	var h Hasher
	for _, row := range rows {
		t.Run(row["id"]+"-"+row["generator"], func(t *testing.T) {
			luma, w, ht := lumaRow(t, row)
			want := mustParseHex(t, row["pdq_hex"])
			wantQ := mustAtoi(t, row["quality"])
			got, q, err := h.FromLuma(luma, w, ht)
			if err != nil {
				t.Fatal(err)
			}
			if got != want || q != wantQ {
				t.Errorf("%dx%d %s seed %s (fma_sensitive=%s):\n got  %v quality %d\n want %v quality %d\n distance %d",
					w, ht, row["generator"], row["seed"], row["fma_sensitive"], got, q, want, wantQ, Distance(got, want))
				return
			}
			exact++
		})
	}
	t.Logf("%d/%d luma vectors bit-exact (hash and quality)", exact, len(rows))
}

// TestLumaDihedral checks the eight dihedral hashes bit-exactly.
func TestLumaDihedral(t *testing.T) {
	names := [8]string{"orig", "rot90", "rot180", "rot270", "flipx", "flipy", "flipplus1", "flipminus1"}
	var h Hasher
	for _, row := range readCSV(t, "cpp-luma-dihedral.csv") {
		t.Run(row["id"], func(t *testing.T) {
			luma, w, ht := lumaRow(t, row)
			got, q, err := h.DihedralFromLuma(luma, w, ht)
			if err != nil {
				t.Fatal(err)
			}
			if want := mustAtoi(t, row["quality"]); q != want {
				t.Errorf("quality = %d, want %d", q, want)
			}
			for i, name := range names {
				if want := mustParseHex(t, row[name]); got[i] != want {
					t.Errorf("%s:\n got  %v\n want %v (distance %d)", name, got[i], want, Distance(got[i], want))
				}
			}
		})
	}
}

// TestLumaFloat256 compares the 16x16 DCT output itself, float32 bit pattern
// by bit pattern. It pinpoints an operation-order mistake before the
// median threshold hides it.
func TestLumaFloat256(t *testing.T) {
	var h Hasher
	for _, row := range readCSV(t, "cpp-luma-float256.csv") {
		id := row["id"]
		t.Run(id, func(t *testing.T) {
			want := mustAtoi(t, row["quality"])
			var spec map[string]string
			for _, r := range readCSV(t, "cpp-luma-vectors.csv") {
				if r["id"] == id {
					spec = r
				}
			}
			if spec == nil {
				t.Fatalf("%s not in cpp-luma-vectors.csv", id)
			}
			luma, w, ht := lumaRow(t, spec)
			q, ok, err := h.float256(luma, w, ht, false)
			if err != nil || !ok {
				t.Fatalf("float256: ok=%v err=%v", ok, err)
			}
			if q != want {
				t.Errorf("quality = %d, want %d", q, want)
			}
			bad := 0
			for k := range h.b16 {
				wantBits, err := strconv.ParseUint(row[fmt.Sprintf("f%d", k)], 16, 32)
				if err != nil {
					t.Fatal(err)
				}
				if got := math.Float32bits(h.b16[k]); got != uint32(wantBits) {
					if bad < 5 {
						t.Errorf("f%d = %08x (%g), want %08x (%g)", k, got, h.b16[k], wantBits, math.Float32frombits(uint32(wantBits)))
					}
					bad++
				}
			}
			if bad > 0 {
				t.Errorf("%d/256 coefficients differ", bad)
			}
		})
	}
}

func TestFromLumaErrors(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name          string
		luma          []float32
		width, height int
	}{
		{"short buffer", make([]float32, 99), 10, 10},
		{"long buffer", make([]float32, 101), 10, 10},
		{"zero width", nil, 0, 10},
		{"negative height", make([]float32, 10), 10, -1},
		{"NaN", append(make([]float32, 99), nan), 10, 10},
		{"Inf", append(make([]float32, 99), float32(math.Inf(1))), 10, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := FromLuma(tt.luma, tt.width, tt.height); err == nil {
				t.Error("FromLuma: no error")
			}
			if _, _, err := DihedralFromLuma(tt.luma, tt.width, tt.height); err == nil {
				t.Error("DihedralFromLuma: no error")
			}
		})
	}
}

func TestFromLumaTooSmall(t *testing.T) {
	h, q, err := FromLuma(make([]float32, 4*100), 4, 100)
	if err != nil || !h.IsZero() || q != 0 {
		t.Errorf("4x100: got %v, %d, %v; want zero hash, 0, nil", h, q, err)
	}
}

func TestFromLumaDoesNotModifyInput(t *testing.T) {
	luma := synthLuma(t, 100, 80, "noise", 3)
	orig := append([]float32(nil), luma...)
	if _, _, err := FromLuma(luma, 100, 80); err != nil {
		t.Fatal(err)
	}
	for i := range luma {
		if math.Float32bits(luma[i]) != math.Float32bits(orig[i]) {
			t.Fatalf("luma[%d] changed", i)
		}
	}
}

func TestFromLumaAllocs(t *testing.T) {
	luma := synthLuma(t, 512, 512, "noise", 8)
	var h Hasher
	if _, _, err := h.FromLuma(luma, 512, 512); err != nil { // warm the buffers
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(3, func() {
		if _, _, err := h.FromLuma(luma, 512, 512); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Hasher.FromLuma allocates %v times per call, want 0", allocs)
	}
}

// TestConcurrentFromLuma runs the pooled entry points from several
// goroutines (meaningful under -race) and checks every result.
func TestConcurrentFromLuma(t *testing.T) {
	type vec struct {
		luma []float32
		w, h int
		want Hash
	}
	var vecs []vec
	for _, row := range readCSV(t, "cpp-luma-vectors.csv")[5:12] {
		luma, w, h := lumaRow(t, row)
		vecs = append(vecs, vec{luma, w, h, mustParseHex(t, row["pdq_hex"])})
	}
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			for i := range 2 * len(vecs) {
				v := vecs[(g+i)%len(vecs)]
				got, _, err := FromLuma(v.luma, v.w, v.h)
				if err == nil && got != v.want {
					err = fmt.Errorf("%dx%d: got %v, want %v", v.w, v.h, got, v.want)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
