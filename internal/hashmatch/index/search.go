package index

import (
	"math"
	"math/bits"
	"sync"
	"unsafe"
)

// Cost model, in units of "one hash visited by the single-query linear
// scan" (sequential, prefetched, four POPCNTs; about 5 ns of CPU on the
// shared reference machine). A probed bucket costs an offset-table read
// and a cache miss into the entry arrays; an entry costs a quarter of a
// SWAR popcount over four packed 2-byte partner values; a verification
// costs a position read and a random read of a 32-byte hash, both usually
// cache misses, though batched so they overlap. The figures were fitted
// with the benchmarks in bench_test.go; they only steer the choice between
// two exact paths, so being off by a factor of two costs speed, never
// correctness.
var (
	spanCost   = 20.0
	entryCost  = 0.2
	verifyCost = 10.0
	// batchScanCost is the cost, per query, of one hash visited by the
	// cache-blocked batch scan. In Go (four queries a pass) it saves memory
	// bandwidth, not POPCNTs, so it is barely cheaper than the
	// single-query scan; the AVX-512 kernel (eight queries a pass) measured
	// about a tenth of it (4,800 against 410-460 queries per CPU-second at
	// 1M).
	batchScanCost = func() float64 {
		if haveScan8 {
			return 0.1
		}
		return 0.9
	}()
)

// span is one non-empty bucket to visit, entries [lo, hi) of its slot's
// table, with k the largest partner-slot distance an entry may have.
type span struct {
	lo, hi uint32
	k      int32
}

// scratch holds one query's probe plan. Plans are large (26 KiB), so they
// are pooled rather than put on the goroutine stack.
type scratch struct {
	qk    [numSlots]uint16 // query's slot values
	rad   [numSlots]int    // probe radius per slot; -1: slot not probed
	super [numSlots]int    // bound T[p] of the slot's super-slot
	ends  [numSlots]int32  // spans[ends[s-1]:ends[s]] belong to slot s
	spans [maxSpans]span
	cost  float64 // estimated cost of the plan so far
	touch uint16  // sink for plan's early loads; see plan
	// Entries that passed the partner filter, verified in batches: slot
	// in the high 32 bits, entry index in the low 32; then their
	// positions.
	cand [verifyBatch]uint64
	cpos [verifyBatch]uint32
	// gr holds the member ranges of the groups to scan (planGroups).
	gr []uint32
	// spent is the estimated cost of the last indexed search (tables and
	// groups), for tests: it must stay within the budget.
	spent float64
}

// verifyBatch is how many filtered entries runMIH collects before
// verifying them; see flush.
const verifyBatch = 128

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// plan lists the non-empty buckets that multi-index hashing must visit for
// q at radius r. It gives up (returns false) when the segment has no
// tables, when r > maxMIHRadius, or as soon as the estimated cost reaches
// budget, because the caller will scan instead.
func (s *segment) plan(sc *scratch, q *Hash, r int, budget float64) bool {
	if !s.indexed || r > maxMIHRadius {
		return false
	}
	radii(r, &sc.rad, &sc.super)
	for sl := range numSlots {
		sc.qk[sl] = slotKey(q, sl)
	}
	n, entries := 0, 0
	touch := uint16(0)
	for sl := range numSlots {
		if rad := sc.rad[sl]; rad >= 0 {
			off := s.off[sl][:slotValues+1]
			qk, sup := sc.qk[sl], int32(sc.super[sl])
			for mi, mk := range probeMasks[:probeCount[rad]] {
				v := int(qk ^ mk) // int: v+1 must not wrap at 0xffff
				lo, hi := off[v], off[v+1]
				if lo != hi {
					// probeMasks is ordered by popcount: 1 zero mask, 16
					// one-bit masks, then two-bit masks.
					d := int32(0)
					if mi > 0 {
						d = 1
						if mi > slotBits {
							d = 2
						}
					}
					sc.spans[n] = span{lo, hi, sup - d}
					n++
					entries += int(hi - lo)
				}
			}
			sc.cost = spanCost*float64(n) + entryCost*float64(entries)
			if sc.cost >= budget {
				return false
			}
		}
		sc.ends[sl] = int32(n)
	}
	// Load each bucket's cache lines now, in a loop with no dependent
	// work, so the CPU overlaps these cache misses (buckets lie at random
	// places) and runMIH finds the lines in cache. Go has no prefetch
	// instruction; a real load into a sink does the job.
	start := int32(0)
	for sl := range numSlots {
		part := s.part[sl]
		for _, sp := range sc.spans[start:sc.ends[sl]] {
			// Touch every cache line of the bucket: both ends (a small
			// bucket may straddle two lines), and every 32nd entry (64
			// bytes) between them for the large buckets of big indexes.
			touch ^= part[sp.lo] ^ part[sp.hi-1]
			for j := sp.lo + 32; j < sp.hi; j += 32 {
				touch ^= part[j]
			}
		}
		start = sc.ends[sl]
	}
	sc.touch = touch
	return true
}

// runMIH verifies the entries of a plan made by plan and appends the
// matches to dst. It filters each entry by its inline partner slot first,
// so only entries that can still be within r cost a random read of their
// hash. Each match is reported once: only from the first slot whose probe
// and filter admit it (its canonical slot), which needs no per-query
// "seen" set at all. If verification turns out so frequent (clustered
// data) that the total cost exceeds budget, it stops and returns false
// with dst restored, and the caller scans instead: the wasted work is at
// most the budget.
func (s *segment) runMIH(dst []Match, sc *scratch, q *Hash, r int, dead []uint64, budget float64) ([]Match, bool) {
	orig := len(dst)
	// Clamp before converting: float-to-int conversion of an out-of-range
	// value (maxBudget) is implementation-defined in Go.
	maxVerify := math.MaxInt
	if v := (budget - sc.cost) / verifyCost; v < 1e18 {
		maxVerify = int(v)
	}
	verified, nc := 0, 0
	start := int32(0)
	for sl := range numSlots {
		end := sc.ends[sl]
		part := s.part[sl]
		if cap(part)-len(part) < partPad {
			panic("index: part array without padding")
		}
		// The filter reads four 16-bit entries per 8-byte load. part has
		// partPad entries of spare capacity, so the last load of a bucket
		// never leaves the allocation; lanes past the bucket are masked.
		pbase := unsafe.Pointer(unsafe.SliceData(part))
		q4 := uint64(sc.qk[sl^1]) * lanes
		tag := uint64(sl) << 32
		// An entry of an odd slot whose partner distance c is within the
		// (earlier) even slot's radius is admitted there too: its own
		// distance is super-k and c <= k, so it passes the even slot's
		// filter. Skip it here, before fetching anything; lane value
		// 0x8000+rad flags c <= rad, and rad = -1 (0x7fff) flags nothing.
		dup := uint64(0x7fff) * lanes
		if sl&1 == 1 {
			dup = uint64(0x8000+sc.rad[sl^1]) * lanes
		}
		if haveFilter {
			// The AVX-512 filter keeps lo <= c <= k: lo is 0, or for an
			// odd slot one more than its even partner's radius (the
			// entries skipped above).
			lo := uint16(0)
			if sl&1 == 1 {
				lo = uint16(sc.rad[sl^1] + 1)
			}
			qp := sc.qk[sl^1]
			for _, sp := range sc.spans[start:end] {
				if sp.k < int32(lo) {
					continue
				}
				for j := sp.lo; j < sp.hi; {
					at, mask := filterAVX512(&part[j], int(sp.hi-j), qp, lo, uint16(sp.k-int32(lo)))
					if mask == 0 {
						break
					}
					j += uint32(at)
					for ; mask != 0; mask &= mask - 1 {
						sc.cand[nc] = tag | uint64(j+uint32(bits.TrailingZeros64(mask)))
						nc++
						if nc == verifyBatch {
							dst = s.flush(dst, sc, nc, q, r, dead)
							verified += nc
							nc = 0
						}
					}
					j += 32
				}
			}
			if verified+nc > maxVerify {
				return dst[:orig], false
			}
			start = end
			continue
		}
		for _, sp := range sc.spans[start:end] {
			// Lane value 0x8000+k: subtracting a lane's popcount c leaves
			// bit 15 set exactly when c <= k, with no borrow between lanes
			// since c <= 16.
			kk := (0x8000 | uint64(sp.k)) * lanes
			for j := sp.lo; j < sp.hi; j += 4 {
				w := *(*uint64)(unsafe.Add(pbase, uintptr(j)*2)) ^ q4
				w -= (w >> 1) & 0x5555555555555555
				w = w&0x3333333333333333 + (w>>2)&0x3333333333333333
				w = (w + w>>4) & 0x0f0f0f0f0f0f0f0f
				w = (w + w>>8) & 0x001f001f001f001f
				hit := (kk - w) &^ (dup - w) & 0x8000800080008000
				if rem := sp.hi - j; rem < 4 {
					hit &= 1<<(16*rem) - 1
				}
				for hit != 0 {
					sc.cand[nc&(verifyBatch-1)] = tag | uint64(j+uint32(bits.TrailingZeros64(hit)>>4))
					hit &= hit - 1
					nc++
					if nc == verifyBatch {
						dst = s.flush(dst, sc, nc, q, r, dead)
						verified += nc
						nc = 0
					}
				}
			}
		}
		if verified+nc > maxVerify {
			return dst[:orig], false
		}
		start = end
	}
	sc.spent = sc.cost + verifyCost*float64(verified+nc)
	return s.flush(dst, sc, nc, q, r, dead), true
}

// flush verifies the first n collected entries. It first loads all their
// positions, then all their hashes: each loop's loads are independent, so
// their cache misses overlap instead of forming n dependent pairs.
func (s *segment) flush(dst []Match, sc *scratch, n int, q *Hash, r int, dead []uint64) []Match {
	cand, cpos := sc.cand[:n], sc.cpos[:n]
	for k, c := range cand {
		cpos[k] = s.pos[(c>>32)&(numSlots-1)][uint32(c)]
	}
	hs := s.hashes
	q0, q1, q2, q3 := q[0], q[1], q[2], q[3]
	for k, i := range cpos {
		h := &hs[i]
		d := bits.OnesCount64(h[0]^q0) + bits.OnesCount64(h[1]^q1) +
			bits.OnesCount64(h[2]^q2) + bits.OnesCount64(h[3]^q3)
		if d <= r {
			dst = s.emitMIH(dst, sc, int(cand[k]>>32), i, d, dead)
		}
	}
	return dst
}

// lanes broadcasts a 16-bit value to the four lanes of a uint64.
const lanes = 0x0001000100010001

// emitMIH appends the match at position i found through slot sl unless an
// earlier slot also admits it or it is tombstoned. Matches are rare, so it
// is kept out of line to keep flush's loop small.
//
//go:noinline
func (s *segment) emitMIH(dst []Match, sc *scratch, sl int, i uint32, d int, dead []uint64) []Match {
	h := &s.hashes[i]
	for t := range sl {
		if qualifies(h, &sc.qk, t, sc.rad[t], sc.super[t]) {
			return dst
		}
	}
	if dead != nil && dead[i>>6]>>(i&63)&1 != 0 {
		return dst
	}
	return append(dst, Match{ID: s.id(int(i)), Distance: d})
}

// search appends the matches in s for q at radius r, by multi-index
// hashing when the cost model favours it over a scan costing budget, and
// reports whether multi-index hashing produced the result.
func (s *segment) search(dst []Match, sc *scratch, q *Hash, r int, dead []uint64, p path, budget float64) ([]Match, bool) {
	if p != pathScan {
		if p == pathMIH {
			budget = maxBudget
		}
		if out, ok := s.searchIndexed(dst, sc, q, r, dead, budget); ok {
			return out, true
		}
	}
	return scanHashes(dst, s.hashes, s.ids, 0, q, r, dead), false
}

// searchIndexed appends the matches in s for q at radius r found by
// multi-index hashing over the tables and by the groups' bands, and
// reports true; or, when that would cost more than budget, leaves dst as
// it was and reports false, for the caller to scan. The groups are priced
// first (one centre comparison each), so that the tables get what is left
// of the budget.
func (s *segment) searchIndexed(dst []Match, sc *scratch, q *Hash, r int, dead []uint64, budget float64) ([]Match, bool) {
	if !s.indexed || r > maxMIHRadius {
		return dst, false
	}
	gcost := 0.0
	if s.grp != nil {
		gcost = s.grp.planGroups(sc, q, r)
	}
	if !s.plan(sc, q, r, budget-gcost) {
		return dst, false
	}
	out, ok := s.runMIH(dst, sc, q, r, dead, budget-gcost)
	if !ok {
		return dst, false
	}
	if s.grp != nil {
		out = s.searchGroups(out, sc, q, r, dead)
		sc.spent += gcost
	}
	return out, true
}

// maxBudget disables the fallback to a scan.
const maxBudget = 1e300

// scanHashes appends every hash in hs within distance r of q, reporting
// hs[j] under ids[j] (under base+j when ids is nil: dense ids) and skipping
// positions base+j tombstoned in dead. It is the brute-force path: a tight
// sequential loop the hardware prefetcher keeps fed, two hashes an
// iteration so that their POPCNT chains overlap, branching only on a
// candidate pair.
func scanHashes(dst []Match, hs []Hash, ids []uint64, base int, q *Hash, r int, dead []uint64) []Match {
	if haveScan8 && len(hs) >= 64 {
		return scanHashesAVX(dst, hs, ids, base, q, r, dead)
	}
	q0, q1, q2, q3 := q[0], q[1], q[2], q[3]
	if ids != nil {
		ids = ids[:len(hs)]
	}
	j := 0
	for ; j+1 < len(hs); j += 2 {
		a, b := &hs[j], &hs[j+1]
		da := bits.OnesCount64(a[0]^q0) + bits.OnesCount64(a[1]^q1) +
			bits.OnesCount64(a[2]^q2) + bits.OnesCount64(a[3]^q3)
		db := bits.OnesCount64(b[0]^q0) + bits.OnesCount64(b[1]^q1) +
			bits.OnesCount64(b[2]^q2) + bits.OnesCount64(b[3]^q3)
		if min(da, db) <= r {
			if da <= r {
				dst = emitScan(dst, ids, base, j, da, dead)
			}
			if db <= r {
				dst = emitScan(dst, ids, base, j+1, db, dead)
			}
		}
	}
	if j < len(hs) {
		if d := Distance(hs[j], *q); d <= r {
			dst = emitScan(dst, ids, base, j, d, dead)
		}
	}
	return dst
}

// scanHashesAVX is scanHashes with the AVX-512 kernel scan1AVX512, two
// hashes a vector register; haveScan8 must be true.
func scanHashesAVX(dst []Match, hs []Hash, ids []uint64, base int, q *Hash, r int, dead []uint64) []Match {
	j := eachMatchAVX(hs, q, r, func(j, d int) { dst = emitScan(dst, ids, base, j, d, dead) })
	if j < len(hs) {
		if d := Distance(hs[j], *q); d <= r {
			dst = emitScan(dst, ids, base, j, d, dead)
		}
	}
	return dst
}

// eachMatchAVX runs the AVX-512 kernel scan1AVX512 over hs (haveScan8
// must be true) and calls emit(j, d) for each hs[j] within r of q, in
// order. It compares hashes in pairs and returns the index of the first
// it left uncompared: len(hs), or len(hs)-1 when that is odd.
func eachMatchAVX(hs []Hash, q *Hash, r int, emit func(j, d int)) int {
	j := 0
	for j+1 < len(hs) {
		at, mask := scan1AVX512(&hs[j], len(hs)-j, q, uint64(r))
		j += at
		if mask == 0 {
			break
		}
		if mask&0x0f != 0 {
			emit(j, Distance(hs[j], *q))
		}
		if mask&0xf0 != 0 {
			emit(j+1, Distance(hs[j+1], *q))
		}
		j += 2
	}
	return j
}

// emitScan appends the scan match at hs[j] (segment position base+j)
// unless it is tombstoned.
//
//go:noinline
func emitScan(dst []Match, ids []uint64, base, j, d int, dead []uint64) []Match {
	p := base + j
	if dead != nil && dead[p>>6]>>(p&63)&1 != 0 {
		return dst
	}
	id := uint64(p)
	if ids != nil {
		id = ids[j]
	}
	return append(dst, Match{ID: id, Distance: d})
}

// scanQuads is the multi-query scan: it compares every hash of hs with
// four queries at once, qs[g[0..3]], loading each hash once for the four,
// so that a pass over the haystack serves four queries (the C++ reference
// scan serves eight a pass with AVX-512; Go has no SIMD, so four keeps the
// query words and sums in registers). Matches of qs[g[k]] go to out[g[k]].
func scanQuads(out [][]Match, hs []Hash, ids []uint64, base int, qs []Hash, g *[4]int, r int, dead []uint64) {
	a, b, c, e := &qs[g[0]], &qs[g[1]], &qs[g[2]], &qs[g[3]]
	for j := range hs {
		h := &hs[j]
		h0, h1, h2, h3 := h[0], h[1], h[2], h[3]
		d0 := bits.OnesCount64(h0^a[0]) + bits.OnesCount64(h1^a[1]) + bits.OnesCount64(h2^a[2]) + bits.OnesCount64(h3^a[3])
		d1 := bits.OnesCount64(h0^b[0]) + bits.OnesCount64(h1^b[1]) + bits.OnesCount64(h2^b[2]) + bits.OnesCount64(h3^b[3])
		d2 := bits.OnesCount64(h0^c[0]) + bits.OnesCount64(h1^c[1]) + bits.OnesCount64(h2^c[2]) + bits.OnesCount64(h3^c[3])
		d3 := bits.OnesCount64(h0^e[0]) + bits.OnesCount64(h1^e[1]) + bits.OnesCount64(h2^e[2]) + bits.OnesCount64(h3^e[3])
		if min(d0, d1, d2, d3) <= r {
			for k, d := range [4]int{d0, d1, d2, d3} {
				if d <= r {
					out[g[k]] = emitScan(out[g[k]], ids, base, j, d, dead)
				}
			}
		}
	}
}

// scanOctets is scanQuads for eight queries a pass, with the AVX-512
// kernel scan8AVX512 (haveScan8 must be true): the query words sit in
// vector registers, so each hash costs a few vector instructions for all
// eight, and the kernel returns to Go only at a hash within r of one of
// them.
func scanOctets(out [][]Match, hs []Hash, ids []uint64, base int, qs []Hash, g *[8]int, r int, dead []uint64) {
	if len(hs) == 0 {
		return
	}
	var qw [4][8]uint64
	for k, gi := range g {
		for w := range 4 {
			qw[w][k] = qs[gi][w]
		}
	}
	for j := 0; j < len(hs); {
		at, mask := scan8AVX512(&hs[j], len(hs)-j, &qw, uint64(r))
		j += at
		if mask == 0 {
			break
		}
		for m := mask; m != 0; m &= m - 1 {
			k := bits.TrailingZeros64(m)
			out[g[k]] = emitScan(out[g[k]], ids, base, j, Distance(hs[j], qs[g[k]]), dead)
		}
		j++
	}
}
