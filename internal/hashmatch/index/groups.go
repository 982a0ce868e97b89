package index

import (
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Clustered haystacks: dense groups pruned by the triangle inequality.
//
// Multi-index hashing relies on slot values being spread: with n hashes a
// bucket holds about n/65536 entries. Near-duplicates of a few pictures
// (many hashes within a few dozen bits of one centre) share slot values,
// so some buckets hold thousands of entries, and a query near such a
// cluster verifies thousands of candidates; a linear scan of the whole
// haystack is then cheaper, but no scan can be much faster than the
// memory bandwidth. Hamming distance is a metric, so a cluster can be
// pruned as a whole instead: for a group of hashes within R bits of a
// centre c, a query q with D = d(q, c) can only match members m with
// |D - d(m, c)| <= r, because d(q, m) >= |d(q, c) - d(m, c)|.
//
// At build, partition finds the dense buckets (slot values held by far
// more hashes than chance gives: denseFactor times the expected count and
// at least denseMin), takes the hashes with a slot value in one of them
// (dense hashes), groups them by the first dense bucket they fall in,
// merges the groups whose centres (bitwise majorities) are close, and
// keeps in a group only members within groupRadiusMax bits of its centre.
// Each group's hashes are stored again, contiguously and sorted by their
// distance to the centre, with their positions in the segment, so that a
// query scans only the members in the distance band [D-r, D+r] of each
// group whose band is not empty, with the single-query scan kernel at the
// memory bandwidth. The multi-index tables hold only the other hashes (the
// sparse ones), so their buckets stay small. A random haystack has no
// dense bucket, so nothing changes for it.

const (
	// A bucket is dense when it holds more than denseFactor times the
	// expected n/65536 entries and more than denseMin. In a random
	// haystack a bucket's count is Poisson with mean λ = n/65536 (at most
	// 16 in the sample countDense takes), and P(count > max(8λ, 64)) is
	// below 1e-30 for every λ, so random haystacks have no dense buckets;
	// a cluster of a few thousand near-duplicates has several per slot.
	denseFactor = 8
	denseMin    = 64
	// denseSample bounds the hashes whose slot values are counted to find
	// the dense buckets (a stride sample of larger haystacks): the
	// partition only steers speed, never exactness.
	denseSample = 1 << 20
	// groupRadiusMax is the largest distance of a member from its group's
	// centre. A random hash lies 128 ± 8 bits from any centre, so it is
	// left out of a group, and a random query (128 from every centre) has
	// an empty band in every group at r <= 31: 128 - 31 > 64 + 24.
	groupRadiusMax = 64
	// bandLen is the length of a group's band table: the start of the
	// members at each distance 0..groupRadiusMax, and the end.
	bandLen = groupRadiusMax + 2
	// groupMergeDist: initial groups (one per dense bucket) whose centres
	// lie within this distance are one group. The dense buckets of one
	// cluster (its centre's slot values and their one-bit neighbours) give
	// centres a few bits apart; centres of unrelated clusters lie ~128
	// apart.
	groupMergeDist = 32
	// groupMin is the smallest group kept; smaller ones go back to the
	// tables, as each group costs every query a centre comparison.
	groupMin = 64
	// maxGroups bounds the groups, so that the seeds' merging (seeds times
	// groups comparisons) and each query's centre comparisons stay
	// bounded: a haystack of more, smaller clusters keeps the largest
	// maxGroups (seeds are taken largest first) and leaves the others in
	// the tables.
	maxGroups = 1024
	// majoritySample bounds the members a centre's majority is taken over.
	majoritySample = 4096
	// sweepPerHash bounds the centre comparisons a hash of the haystack
	// costs at build (about 2 ns each): with more groups than this, a
	// hash stays in the group of its seed, if any.
	sweepPerHash = 256
)

// groups holds the dense hashes of a segment: group g has centre
// centre[g], and its members with distance d from it are
// h[band[g*bandLen+d] : band[g*bandLen+d+1]], at segment positions pos[...].
type groups struct {
	centre []Hash
	band   []uint32
	h      []Hash
	pos    []uint32
	radius []int32 // largest member distance of each group; derived from band
}

// count returns the number of groups.
func (g *groups) count() int {
	if g == nil {
		return 0
	}
	return len(g.centre)
}

// grouped returns the number of hashes held in groups.
func (g *groups) grouped() int {
	if g == nil {
		return 0
	}
	return len(g.h)
}

// bands returns group i's band table.
func (g *groups) bands(i int) []uint32 {
	return g.band[i*bandLen : (i+1)*bandLen]
}

// setRadii derives each group's radius from its band table.
func (g *groups) setRadii() {
	g.radius = make([]int32, len(g.centre))
	for i := range g.centre {
		b := g.bands(i)
		d := groupRadiusMax
		for d > 0 && b[d] == b[d+1] {
			d--
		}
		g.radius[i] = int32(d)
	}
}

func (g *groups) memoryBytes() int64 {
	if g == nil {
		return 0
	}
	return int64(cap(g.centre))*32 + int64(cap(g.band))*4 + int64(cap(g.h))*32 +
		int64(cap(g.pos))*4 + int64(cap(g.radius))*4
}

// partition splits hashes into dense groups and sparse hashes. It returns
// nil groups and nil sparse when every hash is sparse; otherwise sparse
// lists the ascending positions of the hashes the tables must hold. It is
// deterministic, so Build and BuildFile make the same index.
//
// Steps: the dense buckets (countDense); each hash with a slot value in
// one goes to the first such bucket (its seed group); seeds of at least
// groupMin hashes get a centre (the bitwise majority of a sample) and are
// merged, largest first, into the first group whose leading seed's centre
// lies within groupMergeDist (leader clustering); each group's centre is
// the majority of its members; then every hash, dense or not, goes to the
// nearest centre within groupRadiusMax (when the comparisons stay within
// sweepPerHash a hash), and groups under groupMin hashes are dropped.
func partition(hashes []Hash) (*groups, []uint32) {
	n := len(hashes)
	// gid[s][v]: the seed number (1..ng) of dense bucket v of slot s, or 0.
	gid, ng := countDense(hashes)
	if ng == 0 {
		return nil, nil
	}
	// of[i] is hash i's seed, 0 for none.
	of := make([]int32, n)
	size := make([]int32, ng+1)
	for i := range hashes {
		h := &hashes[i]
		for s := range numSlots {
			if k := gid[s][slotKey(h, s)]; k != 0 {
				of[i] = k
				size[k]++
				break
			}
		}
	}
	// Seeds too small to matter leave their hashes to the sweep.
	for i, k := range of {
		if k != 0 && size[k] < groupMin {
			of[i] = 0
		}
	}
	for k, c := range size {
		if c < groupMin {
			size[k] = 0
		}
	}
	members := groupMembers(of, size)
	var order []int32
	centres := make([]Hash, ng+1)
	for k := 1; k <= int(ng); k++ {
		if size[k] > 0 {
			order = append(order, int32(k))
			centres[k] = majority(hashes, members[k], 64)
		}
	}
	if len(order) == 0 {
		return nil, nil
	}
	slices.SortStableFunc(order, func(a, b int32) int { return int(size[b] - size[a]) })
	group := make([]int32, ng+1) // seed -> group + 1; 0: none
	var leaders []int32          // group -> its leading seed
	for _, k := range order {
		for f, l := range leaders {
			if Distance(centres[k], centres[l]) <= groupMergeDist {
				group[k] = int32(f + 1)
				break
			}
		}
		if group[k] == 0 && len(leaders) < maxGroups {
			leaders = append(leaders, k)
			group[k] = int32(len(leaders))
		}
	}
	for i, k := range of {
		if k != 0 {
			of[i] = group[k]
		}
	}
	nf := len(leaders)
	fsize := make([]int32, nf+1)
	for _, k := range of {
		fsize[k]++
	}
	fsize[0] = 0
	fmembers := groupMembers(of, fsize)
	fc := make([]Hash, 0, nf)
	for f := 1; f <= nf; f++ {
		fc = append(fc, majority(hashes, fmembers[f], majoritySample))
	}
	// The sweep: each hash to its nearest centre within groupRadiusMax.
	// A dense hash compares with every centre too, as its seed's group
	// need not be the nearest.
	dist := make([]uint8, n)
	if nf <= sweepPerHash {
		assignNearest(hashes, fc, of, dist)
	} else {
		// Too many groups to compare every hash with each: keep the
		// seed's group when its centre is close enough.
		for i, k := range of {
			if k == 0 {
				continue
			}
			if d := Distance(hashes[i], fc[k-1]); d <= groupRadiusMax {
				dist[i] = uint8(d)
			} else {
				of[i] = 0
			}
		}
	}
	// Drop the groups too small to pay for their centre comparison, then
	// lay the members out by group and distance (a counting sort, stable,
	// so positions ascend within a distance).
	cnt := make([][bandLen]uint32, nf+1)
	for i, k := range of {
		if k != 0 {
			cnt[k][dist[i]]++
		}
	}
	g := &groups{}
	final := make([]int32, nf+1) // group f's index in g, or -1
	var at [][bandLen]uint32
	total := uint32(0)
	for f := 1; f <= nf; f++ {
		size := uint32(0)
		for _, c := range cnt[f] {
			size += c
		}
		if size < groupMin {
			final[f] = -1
			continue
		}
		final[f] = int32(len(g.centre))
		g.centre = append(g.centre, fc[f-1])
		var band [bandLen]uint32
		for d := range bandLen - 1 {
			band[d] = total
			total += cnt[f][d]
		}
		band[bandLen-1] = total
		g.band = append(g.band, band[:]...)
		at = append(at, band)
	}
	if len(g.centre) == 0 {
		return nil, nil
	}
	g.centre = exact(g.centre)
	g.band = exact(g.band)
	g.h = make([]Hash, total)
	g.pos = make([]uint32, total)
	sparse := make([]uint32, 0, n-int(total))
	for i, k := range of {
		if k == 0 || final[k] < 0 {
			sparse = append(sparse, uint32(i))
			continue
		}
		b := &at[final[k]]
		j := b[dist[i]]
		b[dist[i]] = j + 1
		g.h[j] = hashes[i]
		g.pos[j] = uint32(i)
	}
	g.setRadii()
	return g, sparse
}

// assignNearest sets of[i] to 1 + the index of the centre nearest to
// hashes[i] and dist[i] to its distance, or of[i] to 0 when no centre is
// within groupRadiusMax; ties go to the first centre. It spreads the work
// over GOMAXPROCS goroutines, in chunks that stay in cache while every
// centre is compared with them: with AVX-512, eight centres a pass by the
// batch scan's kernel (scan8AVX512), which stops only at a hash within
// groupRadiusMax of one of them.
func assignNearest(hashes []Hash, centres []Hash, of []int32, dist []uint8) {
	const chunk = 4096
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), (len(hashes)+chunk-1)/chunk) {
		wg.Go(func() {
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(hashes) {
					return
				}
				hi := min(lo+chunk, len(hashes))
				nearestChunk(hashes[lo:hi], centres, of[lo:hi], dist[lo:hi])
			}
		})
	}
	wg.Wait()
}

// nearestChunk is assignNearest for one chunk.
func nearestChunk(hs []Hash, centres []Hash, of []int32, dist []uint8) {
	for i := range hs {
		of[i], dist[i] = 0, groupRadiusMax+1
	}
	if !haveScan8 {
		for i := range hs {
			h := &hs[i]
			for f := range centres {
				c := &centres[f]
				d := bits.OnesCount64(h[0]^c[0]) + bits.OnesCount64(h[1]^c[1]) +
					bits.OnesCount64(h[2]^c[2]) + bits.OnesCount64(h[3]^c[3])
				if d < int(dist[i]) {
					of[i], dist[i] = int32(f+1), uint8(d)
				}
			}
		}
	} else {
		var qw [4][8]uint64
		for base := 0; base < len(centres); base += 8 {
			// Pad the last octet with its first centre: a repeated centre
			// finds the same hashes at the same distances, never nearer.
			for k := range 8 {
				c := &centres[base]
				if base+k < len(centres) {
					c = &centres[base+k]
				}
				for w := range 4 {
					qw[w][k] = c[w]
				}
			}
			for j := 0; j < len(hs); j++ {
				at, mask := scan8AVX512(&hs[j], len(hs)-j, &qw, groupRadiusMax)
				j += at
				if mask == 0 {
					break
				}
				for m := mask; m != 0; m &= m - 1 {
					f := base + bits.TrailingZeros64(m)
					if f >= len(centres) {
						continue
					}
					if d := Distance(hs[j], centres[f]); d < int(dist[j]) {
						of[j], dist[j] = int32(f+1), uint8(d)
					}
				}
			}
		}
	}
	for i := range hs {
		if of[i] == 0 {
			dist[i] = 0
		}
	}
}

// exact returns a copy of a with capacity len(a).
func exact[T any](a []T) []T {
	b := make([]T, len(a))
	copy(b, a)
	return b
}

// countDense counts the slot values of (a stride sample of) hashes and
// numbers the dense buckets 1..ng in gid; 0 marks the others.
func countDense(hashes []Hash) (gid *[numSlots][slotValues]int32, ng int32) {
	n := len(hashes)
	stride := max(1, (n+denseSample-1)/denseSample)
	gid = new([numSlots][slotValues]int32)
	ns := 0
	for i := 0; i < n; i += stride {
		h := &hashes[i]
		for s := range numSlots {
			gid[s][slotKey(h, s)]++
		}
		ns++
	}
	limit := int32(max(denseMin, denseFactor*ns/slotValues))
	for s := range numSlots {
		for v, c := range gid[s] {
			if c > limit {
				ng++
				gid[s][v] = ng
			} else {
				gid[s][v] = 0
			}
		}
	}
	return gid, ng
}

// groupMembers lists, for each group k >= 1 of size[k], the positions i
// with of[i] == k in ascending order: members[k] is a subslice of one
// array.
func groupMembers(of []int32, size []int32) [][]uint32 {
	total := 0
	for _, c := range size[1:] {
		total += int(c)
	}
	all := make([]uint32, total)
	members := make([][]uint32, len(size))
	at := 0
	for k := 1; k < len(size); k++ {
		members[k] = all[at : at : at+int(size[k])]
		at += int(size[k])
	}
	for i, k := range of {
		if k != 0 {
			members[k] = append(members[k], uint32(i))
		}
	}
	return members
}

// majority returns the bitwise majority of the hashes at positions ms (a
// stride sample of at most limit of them). It counts eight bits a step:
// acc[w][b] holds, in byte lane k, how many sampled hashes have bit 8k+b of
// word w set, and is drained into cnt before a lane can overflow.
func majority(hashes []Hash, ms []uint32, limit int) Hash {
	const ones = 0x0101010101010101
	stride := max(1, (len(ms)+limit-1)/limit)
	var cnt [4][64]int32
	var acc [4][8]uint64
	drain := func() {
		for w := range 4 {
			for b := range 8 {
				for k := range 8 {
					cnt[w][8*k+b] += int32(acc[w][b] >> (8 * k) & 0xff)
				}
				acc[w][b] = 0
			}
		}
	}
	m, pending := 0, 0
	for j := 0; j < len(ms); j += stride {
		h := &hashes[ms[j]]
		for w := range 4 {
			x := h[w]
			a := &acc[w]
			a[0] += x & ones
			a[1] += x >> 1 & ones
			a[2] += x >> 2 & ones
			a[3] += x >> 3 & ones
			a[4] += x >> 4 & ones
			a[5] += x >> 5 & ones
			a[6] += x >> 6 & ones
			a[7] += x >> 7 & ones
		}
		m++
		if pending++; pending == 255 {
			drain()
			pending = 0
		}
	}
	drain()
	var c Hash
	for w := range 4 {
		for b := range 64 {
			if 2*cnt[w][b] > int32(m) {
				c[w] |= 1 << b
			}
		}
	}
	return c
}

// planGroups finds, for each group, the members that can lie within r of
// q (those whose distance to the centre is within r of the query's), and
// records them in sc.gr as [lo, hi) pairs, with hi's top bit set when
// every member of the range matches. It returns how many members the
// query will compare, in the cost model's units.
func (g *groups) planGroups(sc *scratch, q *Hash, r int) float64 {
	sc.gr = sc.gr[:0]
	cost := 0.0
	for i := range g.centre {
		c := &g.centre[i]
		d := bits.OnesCount64(c[0]^q[0]) + bits.OnesCount64(c[1]^q[1]) +
			bits.OnesCount64(c[2]^q[2]) + bits.OnesCount64(c[3]^q[3])
		rad := int(g.radius[i])
		if d-r > rad {
			continue
		}
		b := g.bands(i)
		lo, hi := b[max(d-r, 0)], b[min(d+r, rad)+1]
		if lo == hi {
			continue
		}
		all := uint32(0)
		if d+rad <= r {
			all = 1 << 31
		}
		sc.gr = append(sc.gr, lo, hi|all)
		cost += float64(hi - lo)
	}
	// A centre comparison costs about what a scanned hash does.
	return cost + float64(len(g.centre))
}

// searchGroups scans the member ranges planGroups chose and appends the
// matches, skipping tombstoned positions.
func (s *segment) searchGroups(dst []Match, sc *scratch, q *Hash, r int, dead []uint64) []Match {
	g := s.grp
	for k := 0; k < len(sc.gr); k += 2 {
		lo, hi := sc.gr[k], sc.gr[k+1]
		if hi&(1<<31) != 0 {
			// Every member is within r: the triangle inequality says so,
			// only the distances are left to compute.
			hi &^= 1 << 31
			for j := lo; j < hi; j++ {
				dst = s.emitGroup(dst, g.pos[j], Distance(g.h[j], *q), dead)
			}
			continue
		}
		dst = s.scanGroupRange(dst, g.h[lo:hi], g.pos[lo:hi], q, r, dead)
	}
	return dst
}

// scanGroupRange is scanHashes over group members hs at segment positions
// ps.
func (s *segment) scanGroupRange(dst []Match, hs []Hash, ps []uint32, q *Hash, r int, dead []uint64) []Match {
	j := 0
	if haveScan8 {
		j = eachMatchAVX(hs, q, r, func(j, d int) { dst = s.emitGroup(dst, ps[j], d, dead) })
	}
	q0, q1, q2, q3 := q[0], q[1], q[2], q[3]
	for ; j < len(hs); j++ {
		h := &hs[j]
		d := bits.OnesCount64(h[0]^q0) + bits.OnesCount64(h[1]^q1) +
			bits.OnesCount64(h[2]^q2) + bits.OnesCount64(h[3]^q3)
		if d <= r {
			dst = s.emitGroup(dst, ps[j], d, dead)
		}
	}
	return dst
}

// emitGroup appends the match at segment position p unless it is
// tombstoned.
func (s *segment) emitGroup(dst []Match, p uint32, d int, dead []uint64) []Match {
	if dead != nil && dead[p>>6]>>(p&63)&1 != 0 {
		return dst
	}
	return append(dst, Match{ID: s.id(int(p)), Distance: d})
}
