package index

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// randHash returns a uniformly random hash.
func randHash(rng *rand.Rand) Hash {
	return Hash{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
}

// flipBits returns h with exactly k distinct random bits flipped, so that
// Distance(h, result) == k.
func flipBits(rng *rand.Rand, h Hash, k int) Hash {
	for _, b := range rng.Perm(256)[:k] {
		h[b>>6] ^= 1 << (b & 63)
	}
	return h
}

// randomHaystack returns n uniformly random hashes.
func randomHaystack(rng *rand.Rand, n int) []Hash {
	hs := make([]Hash, n)
	for i := range hs {
		hs[i] = randHash(rng)
	}
	return hs
}

// clusteredHaystack returns n hashes of which 90% lie within maxFlip bits
// of one of a few centres, so that some buckets hold a large share of the
// haystack; the rest are uniform.
func clusteredHaystack(rng *rand.Rand, n, centres, maxFlip int) []Hash {
	cs := randomHaystack(rng, centres)
	hs := make([]Hash, n)
	for i := range hs {
		if rng.IntN(10) == 0 {
			hs[i] = randHash(rng)
			continue
		}
		hs[i] = flipBits(rng, cs[rng.IntN(centres)], rng.IntN(maxFlip+1))
	}
	return hs
}

// seqIDs returns ids for n hashes: distinct, not starting at zero, and in
// scrambled order so Build has to sort them.
func seqIDs(rng *rand.Rand, n int) []uint64 {
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = uint64(i)*7 + 1000
	}
	rng.Shuffle(n, func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	return ids
}

// bytePop[b] is the number of set bits in b, counted bit by bit so that
// the oracle shares no code with the index.
var bytePop = func() (t [256]int) {
	for b := range t {
		for i := range 8 {
			t[b] += b >> i & 1
		}
	}
	return t
}()

// bruteForce is the test oracle: a plain double loop.
func bruteForce(ids []uint64, hs []Hash, q Hash, r int) []Match {
	var out []Match
	for i, h := range hs {
		d := 0
		for w := range h {
			for x := h[w] ^ q[w]; x != 0; x >>= 8 {
				d += bytePop[x&0xff]
			}
		}
		if d <= r {
			out = append(out, Match{ID: ids[i], Distance: d})
		}
	}
	return sortMatches(out)
}

// sortMatches orders matches by id so result sets can be compared.
func sortMatches(ms []Match) []Match {
	slices.SortFunc(ms, func(a, b Match) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return a.Distance - b.Distance
	})
	return ms
}

// buildWith builds an index with the given tuning knobs.
func buildWith(t testing.TB, cfg config, ids []uint64, hs []Hash) *Index {
	t.Helper()
	x := &Index{cfg: cfg}
	if err := x.load(ids, hs); err != nil {
		t.Fatalf("load: %v", err)
	}
	return x
}

// checkSearch compares x.Search(q, r) with want, failing with a summary of
// the first difference.
func checkSearch(t *testing.T, x *Index, q Hash, r int, want []Match) {
	t.Helper()
	got, err := x.Search(q, r)
	if err != nil {
		t.Fatalf("Search(r=%d): %v", r, err)
	}
	compareMatches(t, "Search", r, sortMatches(got), want)
}

// compareMatches fails when got and want, both sorted, differ.
func compareMatches(t *testing.T, what string, r int, got, want []Match) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	gs := map[Match]bool{}
	for _, m := range got {
		if gs[m] {
			t.Errorf("%s(r=%d): duplicate result %+v", what, r, m)
		}
		gs[m] = true
	}
	ws := map[Match]bool{}
	for _, m := range want {
		ws[m] = true
		if !gs[m] {
			t.Errorf("%s(r=%d): missing %+v", what, r, m)
			break
		}
	}
	for _, m := range got {
		if !ws[m] {
			t.Errorf("%s(r=%d): unexpected %+v", what, r, m)
			break
		}
	}
	t.Fatalf("%s(r=%d): got %d matches, want %d", what, r, len(got), len(want))
}

// testKey seals the index files the tests write.
var testKey = []byte("custos index test key, 32 bytes!")
