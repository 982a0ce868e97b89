package index

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

var allPaths = []struct {
	name string
	p    path
}{{"auto", pathAuto}, {"mih", pathMIH}, {"scan", pathScan}}

// plantedSet is a haystack with near-duplicates planted around anchor
// queries: for every anchor q and every d in plantDists there is a stored
// hash at distance exactly d from q.
type plantedSet struct {
	ids     []uint64
	hashes  []Hash
	anchors []Hash
	plants  map[Hash]map[int]uint64 // anchor -> distance -> id of the plant
}

var plantDists = []int{0, 1, 2, 3, 14, 15, 16, 17, 30, 31, 32, 33, 46, 47, 48, 49, 91}

func newPlantedSet(rng *rand.Rand, base []Hash, anchors int) *plantedSet {
	ps := &plantedSet{plants: map[Hash]map[int]uint64{}}
	ps.hashes = slices.Clone(base)
	for a := range anchors {
		// Anchor half the queries inside the data, where clustered
		// haystacks are dense, and half at random; the first two at the
		// extreme slot values 0x0000 and 0xffff, where bucket arithmetic
		// can overflow.
		q := randHash(rng)
		switch {
		case a == 0:
			q = Hash{}
		case a == 1:
			q = Hash{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
		case rng.IntN(2) == 0:
			q = flipBits(rng, base[rng.IntN(len(base))], rng.IntN(8))
		}
		ps.plant(rng, q, plantDists)
	}
	ps.ids = denseIDs(len(ps.hashes))
	return ps
}

// plant makes q an anchor and adds a hash at each distance in dists from
// it; an anchor already planted is skipped.
func (ps *plantedSet) plant(rng *rand.Rand, q Hash, dists []int) {
	if ps.plants[q] != nil {
		return
	}
	ps.anchors = append(ps.anchors, q)
	ps.plants[q] = map[int]uint64{}
	for _, d := range dists {
		ps.plants[q][d] = uint64(len(ps.hashes))
		ps.hashes = append(ps.hashes, flipBits(rng, q, d))
	}
}

// upTo returns 0..k.
func upTo(k int) []int {
	ds := make([]int, k+1)
	for i := range ds {
		ds[i] = i
	}
	return ds
}

// TestSearchMatchesBruteForce checks every search path and several slot
// layouts against the brute-force oracle on random and clustered
// haystacks with planted near-duplicates at distances 0..r+1.
func TestSearchMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	haystacks := []struct {
		name string
		hs   []Hash
	}{
		{"random", randomHaystack(rng, 3000)},
		{"clustered", clusteredHaystack(rng, 3000, 4, 40)},
	}
	radii := []int{0, 1, 15, 16, 31, 32, 47, 48, 90}
	// minIndexed 1 builds tables even for these small haystacks; the
	// default leaves them unindexed, which must also be exact.
	configs := []struct {
		name string
		cfg  config
	}{{"indexed", config{minIndexed: 1}}, {"small-default", config{}}}
	for _, hc := range haystacks {
		ps := newPlantedSet(rng, hc.hs, 10)
		queries := append(slices.Clone(ps.anchors), randHash(rng), randHash(rng))
		// The oracle is slow; compute it once per haystack.
		want := map[int][][]Match{}
		for _, r := range radii {
			for _, q := range queries {
				want[r] = append(want[r], bruteForce(ps.ids, ps.hashes, q, r))
			}
		}
		for _, cc := range configs {
			x := buildWith(t, cc.cfg, ps.ids, ps.hashes)
			for _, pc := range allPaths {
				x.cfg.path = pc.p
				t.Run(fmt.Sprintf("%s/%s/%s", hc.name, cc.name, pc.name), func(t *testing.T) {
					for _, r := range radii {
						for qi, q := range queries {
							checkSearch(t, x, q, r, want[r][qi])
						}
						checkPlants(t, x, ps, r)
						checkPathTaken(t, x, queries, r)
					}
				})
			}
		}
	}
}

// checkPathTaken asserts that a forced path really runs, so the oracle
// comparisons above test what they claim to: multi-index hashing must
// answer every query it supports (r <= maxMIHRadius on an indexed
// segment), and the scan path must never use it.
func checkPathTaken(t *testing.T, x *Index, queries []Hash, r int) {
	t.Helper()
	sc := new(scratch)
	for _, q := range queries {
		_, mih := x.main.search(nil, sc, &q, r, x.dead, x.cfg.path, float64(len(x.main.hashes)))
		want := mih
		switch x.cfg.path {
		case pathMIH:
			want = x.main.indexed && r <= maxMIHRadius
		case pathScan:
			want = false
		}
		if mih != want {
			t.Fatalf("path %d, r=%d, indexed=%v: multi-index hashing used = %v, want %v", x.cfg.path, r, x.main.indexed, mih, want)
		}
	}
}

// checkPlants asserts directly, independently of the oracle, that every
// plant within r of its anchor is found and the one at r+1 is not.
func checkPlants(t *testing.T, x *Index, ps *plantedSet, r int) {
	t.Helper()
	for _, q := range ps.anchors {
		got, err := x.Search(q, r)
		if err != nil {
			t.Fatal(err)
		}
		found := map[uint64]int{}
		for _, m := range got {
			found[m.ID] = m.Distance
		}
		for d, id := range ps.plants[q] {
			dist, ok := found[id]
			switch {
			case d <= r && !ok:
				t.Fatalf("r=%d: plant at distance %d not found", r, d)
			case d <= r && dist != d:
				t.Fatalf("r=%d: plant at distance %d reported at %d", r, d, dist)
			case d > r && ok:
				t.Fatalf("r=%d: plant at distance %d returned", r, d)
			}
		}
	}
}

// model is the reference state for update tests: id -> hash.
type model map[uint64]Hash

func (m model) slices() ([]uint64, []Hash) {
	ids := make([]uint64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	hs := make([]Hash, len(ids))
	for i, id := range ids {
		hs[i] = m[id]
	}
	return ids, hs
}

// TestUpdates interleaves Add (new and replacing), Remove (present and
// absent), merges and Compact, checking Len and every search path against
// the oracle over a model of the expected contents.
func TestUpdates(t *testing.T) {
	cases := []struct {
		name    string
		cfg     config
		initial int
	}{
		{"frequent-merges", config{minIndexed: 1, deltaMax: 50}, 2000},
		{"tombstones-only", config{minIndexed: 1, deltaMax: 1 << 20}, 2000},
		{"grow-from-empty", config{minIndexed: 400, deltaMax: 100}, 0},
		{"unindexed", config{deltaMax: 300}, 1500},
	}
	for ci, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(ci), 99))
			base := clusteredHaystack(rng, tc.initial+1, 3, 30)[:tc.initial]
			m := model{}
			ids := make([]uint64, tc.initial)
			for i := range ids {
				ids[i] = rng.Uint64N(1 << 40)
				m[ids[i]] = base[i]
			}
			ids, base = m.slices()
			x := buildWith(t, tc.cfg, ids, base)
			merges := 0
			for op := range 1200 {
				live, _ := m.slices()
				switch k := rng.IntN(10); {
				case k < 4 || len(live) == 0: // add a new id, often near an existing hash
					id := rng.Uint64N(1 << 40)
					h := randHash(rng)
					if len(live) > 0 && rng.IntN(2) == 0 {
						h = flipBits(rng, m[live[rng.IntN(len(live))]], rng.IntN(20))
					}
					x.Add(id, h)
					m[id] = h
				case k < 6: // replace the hash of an existing id
					id := live[rng.IntN(len(live))]
					h := flipBits(rng, m[id], rng.IntN(40))
					x.Add(id, h)
					m[id] = h
				case k < 9: // remove a present id
					id := live[rng.IntN(len(live))]
					if !x.Remove(id) {
						t.Fatalf("op %d: Remove(%d) = false for a stored id", op, id)
					}
					delete(m, id)
				default: // remove an absent id
					if x.Remove(uint64(1)<<41 + rng.Uint64N(1000)) {
						t.Fatalf("op %d: Remove of an absent id = true", op)
					}
				}
				if st := x.Stats(); st.Delta == 0 && st.Tombstones == 0 {
					merges++
				}
				if op%150 == 149 {
					if rng.IntN(3) == 0 {
						x.Compact()
					}
					checkAgainstModel(t, x, m, rng)
				}
			}
			x.Compact()
			checkAgainstModel(t, x, m, rng)
			if st := x.Stats(); st.Delta != 0 || st.Tombstones != 0 || st.Len != len(m) {
				t.Fatalf("after Compact: %+v, want empty delta and %d hashes", st, len(m))
			}
			t.Logf("%d ops, %d hashes, %d observed merges", 1200, len(m), merges)
		})
	}
}

// checkAgainstModel compares Len, Search on every path and SearchBatch
// with the oracle over m, for queries planted near stored hashes.
func checkAgainstModel(t *testing.T, x *Index, m model, rng *rand.Rand) {
	t.Helper()
	if got := x.Len(); got != len(m) {
		t.Fatalf("Len = %d, want %d", got, len(m))
	}
	ids, hs := m.slices()
	var qs []Hash
	for range 6 {
		if len(hs) > 0 {
			qs = append(qs, flipBits(rng, hs[rng.IntN(len(hs))], rng.IntN(33)))
		}
	}
	qs = append(qs, randHash(rng))
	saved := x.cfg.path
	defer func() { x.cfg.path = saved }()
	for _, r := range []int{0, 1, 15, 16, 31} {
		want := make([][]Match, len(qs))
		for i, q := range qs {
			want[i] = bruteForce(ids, hs, q, r)
		}
		for _, pc := range allPaths {
			x.cfg.path = pc.p
			for i, q := range qs {
				checkSearch(t, x, q, r, want[i])
			}
			got, err := x.SearchBatch(qs, r)
			if err != nil {
				t.Fatal(err)
			}
			for i := range qs {
				compareMatches(t, "SearchBatch/"+pc.name, r, sortMatches(got[i]), want[i])
			}
		}
	}
}

// TestSearchBatch checks SearchBatch against the oracle with many queries
// on a clustered haystack, so that the automatic path sends some queries to
// the blocked scan and others to multi-index hashing.
func TestSearchBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	hs := clusteredHaystack(rng, 8000, 3, 24)
	ids := seqIDs(rng, len(hs))
	var qs []Hash
	for range 60 {
		qs = append(qs, flipBits(rng, hs[rng.IntN(len(hs))], rng.IntN(32)))
	}
	for range 20 {
		qs = append(qs, randHash(rng))
	}
	x := buildWith(t, config{minIndexed: 1}, ids, hs)
	for _, r := range []int{0, 16, 31} {
		want := make([][]Match, len(qs))
		for i, q := range qs {
			want[i] = bruteForce(ids, hs, q, r)
		}
		for _, pc := range allPaths {
			t.Run(fmt.Sprintf("r=%d/%s", r, pc.name), func(t *testing.T) {
				x.cfg.path = pc.p
				got, err := x.SearchBatch(qs, r)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(qs) {
					t.Fatalf("got %d result lists for %d queries", len(got), len(qs))
				}
				for i := range qs {
					compareMatches(t, "SearchBatch", r, sortMatches(got[i]), want[i])
				}
			})
		}
	}
	if out, err := x.SearchBatch(nil, 31); err != nil || len(out) != 0 {
		t.Fatalf("SearchBatch(nil) = %v, %v; want empty, nil", out, err)
	}
}

// TestErrors checks argument validation.
func TestErrors(t *testing.T) {
	if _, err := Build([]uint64{1}, nil); err == nil {
		t.Error("Build with mismatched lengths succeeded")
	}
	if _, err := Build([]uint64{3, 1, 3}, make([]Hash, 3)); err == nil {
		t.Error("Build with a duplicate id succeeded")
	}
	x, err := Build([]uint64{1}, []Hash{{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []int{-1, MaxRadius + 1} {
		if _, err := x.Search(Hash{}, r); err == nil {
			t.Errorf("Search(r=%d) succeeded", r)
		}
		if _, err := x.SearchBatch([]Hash{{}}, r); err == nil {
			t.Errorf("SearchBatch(r=%d) succeeded", r)
		}
	}
	got, err := x.Search(Hash{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}, MaxRadius)
	if err != nil || len(got) != 1 || got[0] != (Match{ID: 1, Distance: 256}) {
		t.Errorf("Search at MaxRadius = %v, %v; want the one hash at 256", got, err)
	}
}

// TestZeroValue checks that an Index needs no constructor.
func TestZeroValue(t *testing.T) {
	var x Index
	if got, err := x.Search(Hash{}, 31); err != nil || len(got) != 0 {
		t.Fatalf("empty Search = %v, %v", got, err)
	}
	x.Add(7, Hash{1})
	got, err := x.Search(Hash{}, 1)
	if err != nil || len(got) != 1 || got[0] != (Match{ID: 7, Distance: 1}) {
		t.Fatalf("Search after Add = %v, %v", got, err)
	}
	x.Compact()
	if x.Len() != 1 || !x.Remove(7) || x.Len() != 0 {
		t.Fatal("Compact/Remove/Len misbehave on a zero-value Index")
	}
}

// TestMemoryBytes checks the per-hash footprint of a segment with tables:
// 32 B hash + 8 B id + 6 B per slot entry, plus the fixed offset tables.
func TestMemoryBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 20000
	hs := randomHaystack(rng, n)
	x := buildWith(t, config{minIndexed: 1}, seqIDs(rng, n), hs)
	want := int64(n*(32+8+16*(4+2)) + 16*4*(1<<16+1) + 16*2*partPad)
	if got := x.MemoryBytes(); got != want {
		t.Fatalf("MemoryBytes = %d, want %d", got, want)
	}
	// Ids 0..n-1 are not stored: position i is id i.
	dense := make([]uint64, n)
	for i := range dense {
		dense[i] = uint64(i)
	}
	x = buildWith(t, config{minIndexed: 1}, dense, hs)
	if got, want := x.MemoryBytes(), want-n*8; got != want || x.main.ids != nil {
		t.Fatalf("dense ids: MemoryBytes = %d, want %d", got, want)
	}
}

// TestConcurrentReadersAndWriter runs searches while a writer adds,
// removes and merges; run it with -race. Each reader checks a hash that is
// never touched by the writer.
func TestConcurrentReadersAndWriter(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	hs := randomHaystack(rng, 5000)
	ids := seqIDs(rng, len(hs))
	x := buildWith(t, config{minIndexed: 1, deltaMax: 64}, ids, hs)
	stable := Hash{0x0123456789abcdef, 42, 43, 44}
	x.Add(1, stable)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 3 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var got []Match
				var err error
				if g == 0 {
					var out [][]Match
					out, err = x.SearchBatch([]Hash{flipBits(rand.New(rand.NewPCG(uint64(i), 0)), stable, 5)}, 5)
					if err == nil {
						got = out[0]
					}
				} else {
					got, err = x.Search(stable, 0)
				}
				if err != nil || !slices.ContainsFunc(got, func(m Match) bool { return m.ID == 1 }) {
					t.Errorf("reader %d: stable hash not found: %v %v", g, got, err)
					return
				}
			}
		})
	}
	wrng := rand.New(rand.NewPCG(9, 10))
	for i := range 600 {
		id := uint64(1_000_000 + i)
		x.Add(id, randHash(wrng))
		if i%3 == 0 {
			x.Remove(id - 1)
		}
	}
	x.Compact()
	close(stop)
	wg.Wait()
}

// TestMIHGivesUpWhenVerificationExplodes checks the mid-query fallback: on
// a tightly clustered haystack the partner filter passes most entries, and
// once verification outgrows the budget runMIH must stop, leave dst as it
// was, and let search answer exactly by scanning.
func TestMIHGivesUpWhenVerificationExplodes(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	hs := clusteredHaystack(rng, 6000, 2, 8)
	ids := seqIDs(rng, len(hs))
	x := buildWith(t, config{minIndexed: 1}, ids, hs)
	q := flipBits(rng, hs[0], 3)
	const r = 31
	sc := new(scratch)
	if !x.main.plan(sc, &q, r, maxBudget) {
		t.Fatal("plan failed without a budget")
	}
	budget := sc.cost + 5*verifyCost
	prefix := []Match{{ID: 1, Distance: 2}}
	if out, ok := x.main.runMIH(prefix, sc, &q, r, nil, budget); ok || len(out) != 1 || out[0] != prefix[0] {
		t.Fatalf("runMIH over budget = %v, %v; want the untouched prefix and false", out, ok)
	}
	got, mih := x.main.search(nil, sc, &q, r, nil, pathAuto, budget)
	if mih {
		t.Fatal("search kept multi-index hashing over budget")
	}
	compareMatches(t, "search", r, sortMatches(got), bruteForce(ids, hs, q, r))
}

// TestCountingSortPaths checks that the two-pass radix scatter used for
// large slots produces exactly the direct scatter's table, on skewed keys.
func TestCountingSortPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	const n = 50000
	keys := make([]uint16, n)
	partners := make([]uint16, n)
	for i := range keys {
		keys[i] = uint16(rng.IntN(300)) // skewed: few buckets, many entries
		if rng.IntN(4) == 0 {
			keys[i] = uint16(rng.Uint32())
		}
		partners[i] = uint16(rng.Uint32())
	}
	saved := radixMin
	defer func() { radixMin = saved }()
	var tmp sortBuffers
	radixMin = n + 1
	off1, pos1, part1 := countingSort(keys, partners, &tmp)
	radixMin = 0
	off2, pos2, part2 := countingSort(keys, partners, &tmp)
	if !slices.Equal(off1, off2) || !slices.Equal(pos1, pos2) || !slices.Equal(part1, part2) {
		t.Fatal("radix and direct scatter disagree")
	}
	for v := range slotValues {
		for j := off1[v]; j < off1[v+1]; j++ {
			i := pos1[j]
			if keys[i] != uint16(v) || part1[j] != partners[i] || (j > off1[v] && pos1[j-1] >= i) {
				t.Fatalf("bucket %d entry %d: key %d, position order or partner wrong", v, j, keys[i])
			}
		}
	}
	if cap(part1)-len(part1) < partPad || cap(part2)-len(part2) < partPad {
		t.Fatal("part array lacks its padding")
	}
}

// TestEveryDistanceUpTo31 plants, around each anchor, a stored hash at
// every distance 0..32 and checks at r = 31 and r = 30 on every path, on a
// random haystack and on adversarial ones: a tight cluster (every slot
// value shared by thousands of hashes, so the partner filter passes
// almost everything and multi-index hashing must hand over to the scan),
// hashes differing from one centre only inside one super-slot (one bucket
// per slot holds nearly the whole haystack), and exact duplicates.
func TestEveryDistanceUpTo31(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	centre := randHash(rng)
	superOnly := make([]Hash, 6000)
	for i := range superOnly {
		h := centre
		h[1] ^= rng.Uint64() & 0xffffffff // super-slot 2 only: slots 4 and 5
		superOnly[i] = h
	}
	dups := make([]Hash, 6000)
	for i := range dups {
		dups[i] = flipBits(rng, centre, 40+i%3)
	}
	haystacks := []struct {
		name string
		hs   []Hash
	}{
		{"random", randomHaystack(rng, 6000)},
		{"slot-boundaries", append(randomHaystack(rng, 3000), boundaryPlants(rng, centre)...)},
		{"tight-cluster", clusteredHaystack(rng, 6000, 2, 6)},
		{"one-super-slot", superOnly},
		{"duplicates", dups},
	}
	for _, hc := range haystacks {
		ps := &plantedSet{plants: map[Hash]map[int]uint64{}}
		ps.hashes = slices.Clone(hc.hs)
		anchors := []Hash{centre, flipBits(rng, hc.hs[0], 3), randHash(rng)}
		for _, q := range anchors {
			ps.plant(rng, q, upTo(32))
		}
		ps.ids = denseIDs(len(ps.hashes))
		x := buildWith(t, config{minIndexed: 1}, ps.ids, ps.hashes)
		for _, pc := range allPaths {
			for _, fk := range filterKernels() {
				x.cfg.path = pc.p
				haveFilter = fk.on
				t.Run(hc.name+"/"+pc.name+"/"+fk.name, func(t *testing.T) {
					if hc.name != "random" && pc.p == pathAuto {
						// The candidates would explode around the centre:
						// the automatic path must either prune the cluster
						// (groups) within the cost of a scan, or notice and
						// scan. Anchor 1 lies 3 bits from a hash of the
						// haystack.
						q := ps.anchors[1]
						sc := new(scratch)
						budget := float64(len(ps.hashes))
						_, mih := x.main.search(nil, sc, &q, 31, nil, pathAuto, budget)
						st := x.Stats()
						t.Logf("groups %d holding %d of %d hashes; indexed path %v, cost %.0f of %.0f", st.Groups, st.Grouped, st.Len, mih, sc.spent, budget)
						if mih && sc.spent > budget {
							t.Fatalf("automatic path kept multi-index hashing at cost %.0f over the scan's %.0f", sc.spent, budget)
						}
					}
					for _, r := range []int{30, 31} {
						checkPlants(t, x, ps, r)
						for _, q := range ps.anchors {
							checkSearch(t, x, q, r, bruteForce(ps.ids, ps.hashes, q, r))
						}
						got, err := x.SearchBatch(ps.anchors, r)
						if err != nil {
							t.Fatal(err)
						}
						for i, q := range ps.anchors {
							compareMatches(t, "SearchBatch", r, sortMatches(got[i]), bruteForce(ps.ids, ps.hashes, q, r))
						}
					}
				})
			}
		}
	}
}

// filterKernels lists the partner filters runMIH can use on this CPU: the
// portable one always, and the AVX-512 kernel where the CPU has it. It
// restores the default when the test ends.
func filterKernels() []struct {
	name string
	on   bool
} {
	ks := []struct {
		name string
		on   bool
	}{{"go-filter", false}}
	if haveFilter {
		ks = append(ks, struct {
			name string
			on   bool
		}{"avx512-filter", true})
	}
	return ks
}

// boundaryPlants returns hashes around q placed on the edges of the
// pigeonhole argument (layout.go): in each super-slot p in turn, 3 bits
// split between its two slots in every way (3+0, 2+1, 1+2, 0+3, so the
// match is admitted by the even slot, by the odd one, or by the partner
// filter at its exact bound), and 4 bits in every other super-slot, split
// at random: distance 31, reachable through super-slot p only. Beside
// each, the same hash one bit further inside p (distance 32, reachable
// through no slot at r = 31) and one with 3 bits in one slot of every
// other super-slot (distance 24).
func boundaryPlants(rng *rand.Rand, q Hash) []Hash {
	var out []Hash
	for p := range numSupers {
		for a := 0; a <= 3; a++ {
			h := q
			flipFresh(rng, &h, q, 2*p, a)
			flipFresh(rng, &h, q, 2*p+1, 3-a)
			near := h
			for o := range numSupers {
				if o != p {
					b := rng.IntN(5)
					flipFresh(rng, &h, q, 2*o, b)
					flipFresh(rng, &h, q, 2*o+1, 4-b)
					flipFresh(rng, &near, q, 2*o+rng.IntN(2), 3)
				}
			}
			far := h
			flipFresh(rng, &far, q, 2*p+a/2, 1) // a slot with a bit left
			if Distance(h, q) != 31 || Distance(far, q) != 32 || Distance(near, q) != 24 {
				panic("boundaryPlants: wrong distances")
			}
			out = append(out, h, far, near)
		}
	}
	return out
}

// flipFresh flips k random bits of slot s of h among those still equal to
// q's.
func flipFresh(rng *rand.Rand, h *Hash, q Hash, s, k int) {
	for _, b := range rng.Perm(slotBits) {
		if k == 0 {
			return
		}
		bit := uint64(1) << (uint(s&3)*16 + uint(b))
		if (h[s>>2]^q[s>>2])&bit == 0 {
			h[s>>2] ^= bit
			k--
		}
	}
}
