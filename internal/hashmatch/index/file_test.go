package index

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestFileRoundTrip writes indexes of each shape (dense and sparse ids,
// with and without tables, empty) with WriteFile and BuildFile, opens them
// and checks every search against the oracle, then updates the opened
// index (which moves it off the mapping) and searches again.
func TestFileRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	dir := t.TempDir()
	hs := clusteredHaystack(rng, 20000, 5, 30)
	dense := make([]uint64, len(hs))
	for i := range dense {
		dense[i] = uint64(i)
	}
	var qs []Hash
	for range 30 {
		qs = append(qs, flipBits(rng, hs[rng.IntN(len(hs))], rng.IntN(32)))
	}
	qs = append(qs, randHash(rng), Hash{})
	cases := []struct {
		name string
		ids  []uint64
		cfg  config
	}{
		{"dense-tables", dense, config{minIndexed: 1}},
		{"sparse-tables", seqIDs(rng, len(hs)), config{minIndexed: 1}},
		{"dense-no-tables", dense, config{minIndexed: 1 << 30}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := buildWith(t, c.cfg, c.ids, hs)
			path := filepath.Join(dir, c.name+".idx")
			if err := x.WriteFile(path, testKey); err != nil {
				t.Fatal(err)
			}
			y, err := Open(path, testKey)
			if err != nil {
				t.Fatal(err)
			}
			if y.main.mapped == nil || y.main.indexed != x.main.indexed || y.Len() != len(hs) {
				t.Fatalf("opened index: mapped %v, indexed %v (want %v), len %d", y.main.mapped != nil, y.main.indexed, x.main.indexed, y.Len())
			}
			if got := y.HoldsExactly(hs); got != (c.ids[0] == 0 && c.ids[1] == 1) {
				t.Fatalf("HoldsExactly = %v", got)
			}
			for _, r := range []int{0, 16, 31} {
				for _, q := range qs {
					checkSearch(t, y, q, r, bruteForce(c.ids, hs, q, r))
				}
			}
			// Updates work on a mapped index; the merge copies it out.
			y.Add(1<<40, qs[0])
			y.Remove(c.ids[3])
			y.Compact()
			if y.main.mapped != nil {
				t.Fatal("merged segment still on the mapping")
			}
			got, _ := y.Search(qs[0], 0)
			if !containsID(got, 1<<40) {
				t.Fatalf("added hash not found after merge: %v", got)
			}
		})
	}
	t.Run("BuildFile", func(t *testing.T) {
		path := filepath.Join(dir, "built.idx")
		if err := BuildFile(path, hs, testKey); err != nil {
			t.Fatal(err)
		}
		y, err := Open(path, testKey)
		if err != nil {
			t.Fatal(err)
		}
		if !y.HoldsExactly(hs) || y.HoldsExactly(hs[1:]) || !y.main.indexed {
			t.Fatal("BuildFile's index does not hold exactly its hashes, or has no tables")
		}
		// The file equals WriteFile's of the same index, byte for byte.
		x := buildWith(t, config{}, dense, hs)
		other := filepath.Join(dir, "written.idx")
		if err := x.WriteFile(other, testKey); err != nil {
			t.Fatal(err)
		}
		a, _ := os.ReadFile(path)
		b, _ := os.ReadFile(other)
		if string(a) != string(b) {
			t.Fatal("BuildFile and WriteFile disagree")
		}
		for _, q := range qs {
			checkSearch(t, y, q, 31, bruteForce(dense, hs, q, 31))
		}
	})
	t.Run("empty", func(t *testing.T) {
		path := filepath.Join(dir, "empty.idx")
		if err := New().WriteFile(path, testKey); err != nil {
			t.Fatal(err)
		}
		y, err := Open(path, testKey)
		if err != nil || y.Len() != 0 || !y.HoldsExactly(nil) {
			t.Fatalf("empty file: %v, len %d", err, y.Len())
		}
	})
}

func containsID(ms []Match, id uint64) bool {
	for _, m := range ms {
		if m.ID == id {
			return true
		}
	}
	return false
}

// TestOpenRefusesBadFiles damages a valid file in each way Open checks and
// expects ErrFile every time, never a panic or a wrong index.
func TestOpenRefusesBadFiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	dir := t.TempDir()
	hs := randomHaystack(rng, 17000)
	good := filepath.Join(dir, "good.idx")
	if err := BuildFile(good, hs, testKey); err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	// reheader reseals the file after a header change (its checksum and
	// MAC, as one holding the key could), so that the check under test is
	// the one that refuses.
	reheader := func(b []byte) { reseal(b, testKey) }
	damage := map[string]func(b []byte) []byte{
		"magic":           func(b []byte) []byte { b[0] = 'X'; return b },
		"header-checksum": func(b []byte) []byte { b[33]++; return b },
		"old-version":     func(b []byte) []byte { le.PutUint32(b[8:], 1); reheader(b); return b },
		"crc-version":     func(b []byte) []byte { le.PutUint32(b[8:], 2); reheader(b); return b },
		"next-version":    func(b []byte) []byte { le.PutUint32(b[8:], 4); reheader(b); return b },
		"byte-order":      func(b []byte) []byte { le.PutUint32(b[12:], 0x04030201); reheader(b); return b },
		"slot-layout":     func(b []byte) []byte { le.PutUint16(b[22:], 8); reheader(b); return b },
		"count":           func(b []byte) []byte { le.PutUint64(b[32:], 16999); reheader(b); return b },
		"truncated":       func(b []byte) []byte { return b[:len(b)-64] },
		"short":           func(b []byte) []byte { return b[:40] },
		"hash-bit":        func(b []byte) []byte { b[headerSize+100] ^= 1; return b },
		"table-bit":       func(b []byte) []byte { b[len(b)-1000] ^= 0x10; return b },
		"mac":             func(b []byte) []byte { b[macAt+7] ^= 1; return b },
		// A changed table whose header checksum is recomputed, as anyone
		// can, but not its MAC: the MAC refuses it.
		"table-unkeyed": func(b []byte) []byte { b[len(b)-1000] ^= 0x10; le.PutUint32(b[60:], crc32c(b[:60])); return b },
		// Resealed under another key: not this registry's file.
		"other-key": func(b []byte) []byte { b[len(b)-1000] ^= 0x10; reseal(b, []byte("another registry's key")); return b },
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			b := f(append([]byte(nil), orig...))
			path := filepath.Join(dir, name+".idx")
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if x, err := Open(path, testKey); !errors.Is(err, ErrFile) {
				t.Fatalf("Open = %v, %v; want ErrFile", x, err)
			}
		})
	}
	// A table that lies but carries a valid checksum is refused too: a
	// position out of range would send the search out of bounds.
	t.Run("position-out-of-range", func(t *testing.T) {
		b := append([]byte(nil), orig...)
		l := layoutFor(int64(len(hs)), true, true, 0, 0)
		le.PutUint32(b[l.pos[3]+8:], uint32(len(hs)))
		reheader(b)
		path := filepath.Join(dir, "lying.idx")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(path, testKey); !errors.Is(err, ErrFile) {
			t.Fatalf("Open = %v; want ErrFile", err)
		}
	})
	if _, err := Open(filepath.Join(dir, "absent.idx"), testKey); err == nil || errors.Is(err, ErrFile) {
		t.Fatalf("Open of a missing file = %v; want a not-exist error", err)
	}
}
