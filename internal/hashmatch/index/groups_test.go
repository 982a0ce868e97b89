package index

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// groupHaystacks returns haystacks on which the index forms groups (and a
// random one, on which it must not), 20,000 hashes each so that the
// default build indexes them.
func groupHaystacks(rng *rand.Rand) []struct {
	name string
	hs   []Hash
} {
	// Overlapping clusters: centres 20 to 40 bits apart, members within
	// 0..40 bits of one of them, so that a member can be nearer to another
	// cluster's centre than to its own.
	c0 := randHash(rng)
	centres := []Hash{c0, flipBits(rng, c0, 20), flipBits(rng, c0, 40), flipBits(rng, c0, 30)}
	overlap := make([]Hash, 20000)
	for i := range overlap {
		overlap[i] = flipBits(rng, centres[rng.IntN(len(centres))], rng.IntN(41))
	}
	return []struct {
		name string
		hs   []Hash
	}{
		{"random", randomHaystack(rng, 20000)},
		{"clustered", clusteredHaystack(rng, 20000, 10, 48)},
		{"tight-clusters", clusteredHaystack(rng, 20000, 3, 6)},
		{"one-giant-cluster", clusteredHaystack(rng, 20000, 1, 48)},
		{"overlapping-clusters", overlap},
	}
}

// TestGroupsExact checks the groups against the oracle: on each haystack,
// hashes planted at every distance 0..32 from a cluster member, from the
// group's centre and from a random point, at radii 0..31, on every path,
// single queries and SearchBatch.
func TestGroupsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, hc := range groupHaystacks(rng) {
		t.Run(hc.name, func(t *testing.T) {
			probe := buildWith(t, config{}, denseIDs(len(hc.hs)), slices.Clone(hc.hs))
			st := probe.Stats()
			if (st.Groups == 0) != (hc.name == "random") {
				t.Fatalf("%d groups holding %d of %d hashes", st.Groups, st.Grouped, st.Len)
			}
			t.Logf("%d groups holding %d of %d hashes", st.Groups, st.Grouped, st.Len)
			anchors := []Hash{hc.hs[1], hc.hs[2], randHash(rng)}
			if st.Groups > 0 {
				anchors = append(anchors, probe.main.grp.centre[0], probe.main.grp.centre[st.Groups-1])
			}
			ps := plantAround(rng, hc.hs, anchors, 32)
			x := buildWith(t, config{}, ps.ids, ps.hashes)
			queries := append(slices.Clone(ps.anchors), flipBits(rng, hc.hs[3], 20), randHash(rng))
			for _, r := range []int{0, 1, 8, 16, 30, 31} {
				want := make([][]Match, len(queries))
				for i, q := range queries {
					want[i] = bruteForce(ps.ids, ps.hashes, q, r)
				}
				for _, pc := range allPaths {
					x.cfg.path = pc.p
					for i, q := range queries {
						checkSearch(t, x, q, r, want[i])
					}
					checkPlants(t, x, ps, r)
					got, err := x.SearchBatch(queries, r)
					if err != nil {
						t.Fatal(err)
					}
					for i := range queries {
						compareMatches(t, "SearchBatch/"+pc.name, r, sortMatches(got[i]), want[i])
					}
				}
			}
		})
	}
}

// plantAround returns hs plus, for each anchor, a hash at every distance
// 0..maxD from it, with ids 0..n-1 (dense, as a bank's).
func plantAround(rng *rand.Rand, hs []Hash, anchors []Hash, maxD int) *plantedSet {
	ps := &plantedSet{plants: map[Hash]map[int]uint64{}}
	ps.hashes = slices.Clone(hs)
	for _, q := range anchors {
		ps.plant(rng, q, upTo(maxD))
	}
	ps.ids = denseIDs(len(ps.hashes))
	return ps
}

// TestGroupsUpdates removes grouped hashes (tombstones in groups), adds
// near-duplicates of grouped hashes (the delta), checks, merges (the
// groups are rebuilt) and checks again, against a model.
func TestGroupsUpdates(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	hs := clusteredHaystack(rng, 20000, 6, 40)
	ids := seqIDs(rng, len(hs))
	m := model{}
	for i, id := range ids {
		m[id] = hs[i]
	}
	x := buildWith(t, config{deltaMax: 1 << 20}, ids, hs)
	g := x.main.grp
	if g.count() == 0 {
		t.Fatal("no groups")
	}
	// Remove 300 grouped hashes and replace 100 others.
	for k := range 400 {
		p := g.pos[rng.IntN(len(g.pos))]
		id := x.main.id(int(p))
		if _, ok := m[id]; !ok {
			continue
		}
		if k < 300 {
			if !x.Remove(id) {
				t.Fatalf("Remove(%d) = false", id)
			}
			delete(m, id)
		} else {
			h := flipBits(rng, m[id], rng.IntN(10))
			x.Add(id, h)
			m[id] = h
		}
	}
	for k := range 200 {
		id := uint64(1)<<40 + uint64(k)
		h := flipBits(rng, g.h[rng.IntN(len(g.h))], rng.IntN(32))
		x.Add(id, h)
		m[id] = h
	}
	if st := x.Stats(); st.Tombstones == 0 || st.Delta == 0 {
		t.Fatalf("no pending updates: %+v", st)
	}
	checkGroupQueries(t, x, m, rng)
	x.Compact()
	if st := x.Stats(); st.Groups == 0 || st.Tombstones != 0 || st.Delta != 0 {
		t.Fatalf("after Compact: %+v", st)
	}
	checkGroupQueries(t, x, m, rng)
}

// checkGroupQueries compares every path with the oracle over m for
// queries near stored hashes, at r = 31 and 16.
func checkGroupQueries(t *testing.T, x *Index, m model, rng *rand.Rand) {
	t.Helper()
	ids, hs := m.slices()
	var qs []Hash
	for range 12 {
		qs = append(qs, flipBits(rng, hs[rng.IntN(len(hs))], rng.IntN(32)))
	}
	qs = append(qs, randHash(rng))
	defer func() { x.cfg.path = pathAuto }()
	for _, r := range []int{16, 31} {
		for _, pc := range allPaths {
			x.cfg.path = pc.p
			got, err := x.SearchBatch(qs, r)
			if err != nil {
				t.Fatal(err)
			}
			for i, q := range qs {
				want := bruteForce(ids, hs, q, r)
				checkSearch(t, x, q, r, want)
				compareMatches(t, "SearchBatch/"+pc.name, r, sortMatches(got[i]), want)
			}
		}
	}
}

// TestGroupsFile writes clustered indexes with WriteFile (sparse ids) and
// BuildFile, opens them, and checks that the groups came back and every
// search is exact, also after a Remove of a grouped hash on the mapped
// index.
func TestGroupsFile(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	dir := t.TempDir()
	for _, hc := range groupHaystacks(rng)[1:] {
		t.Run(hc.name, func(t *testing.T) {
			dense := denseIDs(len(hc.hs))
			sparseIDs := seqIDs(rng, len(hc.hs))
			for _, c := range []struct {
				name string
				ids  []uint64
			}{{"written", sparseIDs}, {"built", dense}} {
				path := filepath.Join(dir, hc.name+"-"+c.name+".idx")
				var err error
				if c.name == "built" {
					err = BuildFile(path, hc.hs, testKey)
				} else {
					err = buildWith(t, config{}, c.ids, hc.hs).WriteFile(path, testKey)
				}
				if err != nil {
					t.Fatal(err)
				}
				y, err := Open(path, testKey)
				if err != nil {
					t.Fatal(err)
				}
				mem := buildWith(t, config{}, c.ids, hc.hs)
				if st, want := y.Stats(), mem.Stats(); st.Groups != want.Groups || st.Grouped != want.Grouped || st.Groups == 0 {
					t.Fatalf("opened: %d groups holding %d, built: %d holding %d", st.Groups, st.Grouped, want.Groups, want.Grouped)
				}
				m := model{}
				for i, id := range c.ids {
					m[id] = hc.hs[i]
				}
				gone := y.main.id(int(y.main.grp.pos[0]))
				y.Remove(gone)
				delete(m, gone)
				checkGroupQueries(t, y, m, rng)
			}
		})
	}
}

// TestOpenRefusesLyingGroups: a file whose group positions or bands are
// wrong but whose checksums are valid is refused, not searched.
func TestOpenRefusesLyingGroups(t *testing.T) {
	rng := rand.New(rand.NewPCG(47, 48))
	dir := t.TempDir()
	hs := clusteredHaystack(rng, 20000, 4, 30)
	good := filepath.Join(dir, "good.idx")
	if err := BuildFile(good, hs, testKey); err != nil {
		t.Fatal(err)
	}
	x, err := Open(good, testKey)
	if err != nil {
		t.Fatal(err)
	}
	st := x.Stats()
	l := layoutFor(int64(len(hs)), true, true, int64(st.Groups), int64(st.Grouped))
	orig, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	for name, at := range map[string]int64{"position": l.gpos + 4, "band": l.band + 4*3} {
		t.Run(name, func(t *testing.T) {
			b := slices.Clone(orig)
			for i := range 4 {
				b[at+int64(i)] = 0xff
			}
			reseal(b, testKey)
			path := filepath.Join(dir, name+".idx")
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Open(path, testKey); !errors.Is(err, ErrFile) {
				t.Fatalf("Open = %v; want ErrFile", err)
			}
		})
	}
}

// denseIDs returns 0..n-1.
func denseIDs(n int) []uint64 {
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = uint64(i)
	}
	return ids
}

// reseal recomputes the header checksum and the MAC under key of an index
// file's bytes, as whoever holds the key could.
func reseal(b, key []byte) {
	binary.LittleEndian.PutUint32(b[60:], crc32c(b[:60]))
	copy(b[macAt:], fileMAC(key, b[:headerSize], payloadDigests(b[headerSize:])))
}

// TestGroupsNeverExplode: on every clustered haystack the automatic path
// answers each query near a cluster at no more than the cost of a scan,
// whether through the groups or by scanning.
func TestGroupsNeverExplode(t *testing.T) {
	rng := rand.New(rand.NewPCG(49, 50))
	for _, hc := range groupHaystacks(rng)[1:] {
		x := buildWith(t, config{}, denseIDs(len(hc.hs)), hc.hs)
		budget := float64(len(hc.hs))
		indexed := 0
		for i := range 50 {
			q := flipBits(rng, hc.hs[rng.IntN(len(hc.hs))], i%32)
			sc := new(scratch)
			_, mih := x.main.search(nil, sc, &q, 31, nil, pathAuto, budget)
			if mih {
				indexed++
				if sc.spent > budget {
					t.Fatalf("%s: indexed search cost %.0f, over the scan's %.0f", hc.name, sc.spent, budget)
				}
			}
		}
		t.Logf("%s: %d of 50 near queries answered by the index", hc.name, indexed)
	}
}

// TestPartitionKernelsAgree: the sweep gives the same groups with the
// AVX-512 kernel as in Go, so an index file does not depend on the CPU
// that built it.
func TestPartitionKernelsAgree(t *testing.T) {
	if !haveScan8 {
		t.Skip("no AVX-512 VPOPCNTQ")
	}
	rng := rand.New(rand.NewPCG(51, 52))
	for _, hc := range groupHaystacks(rng)[1:] {
		g1, s1 := partition(hc.hs)
		haveScan8 = false
		g2, s2 := partition(hc.hs)
		haveScan8 = true
		if !slices.Equal(s1, s2) || !slices.Equal(g1.centre, g2.centre) || !slices.Equal(g1.band, g2.band) ||
			!slices.Equal(g1.h, g2.h) || !slices.Equal(g1.pos, g2.pos) {
			t.Fatalf("%s: the AVX-512 and Go sweeps disagree", hc.name)
		}
	}
}

// TestManySmallClusters: more clusters than maxGroups. The largest keep
// groups, the others stay in the tables, and every search stays exact.
func TestManySmallClusters(t *testing.T) {
	if testing.Short() {
		t.Skip("300,000 hashes")
	}
	rng := rand.New(rand.NewPCG(53, 54))
	var hs []Hash
	for c := range maxGroups + 300 {
		centre := randHash(rng)
		for range 200 + c%7 {
			hs = append(hs, flipBits(rng, centre, rng.IntN(9)))
		}
	}
	rng.Shuffle(len(hs), func(i, j int) { hs[i], hs[j] = hs[j], hs[i] })
	ids := denseIDs(len(hs))
	x := buildWith(t, config{}, ids, hs)
	st := x.Stats()
	if st.Groups != maxGroups {
		t.Fatalf("%d groups, want %d", st.Groups, maxGroups)
	}
	t.Logf("%d groups holding %d of %d hashes", st.Groups, st.Grouped, st.Len)
	for i := range 6 {
		q := flipBits(rng, hs[rng.IntN(len(hs))], 5*i)
		want := bruteForce(ids, hs, q, 31)
		for _, pc := range allPaths {
			x.cfg.path = pc.p
			checkSearch(t, x, q, 31, want)
		}
	}
}
