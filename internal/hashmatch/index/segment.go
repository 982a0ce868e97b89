package index

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// segment is an immutable, compact run of hashes: the hashes themselves in
// one contiguous array (32 B each), their external ids in the same order
// (8 B each, strictly ascending so Remove can binary-search them; nil when
// the ids are 0..n-1, the common case of a bank's index, so that position
// i holds id i and the array is not stored at all), and,
// when the segment is big enough to be worth it, one CSR table per slot:
// off[s][v]..off[s][v+1] delimits the entries of the hashes whose slot s
// has value v; entry j holds the hash's position pos[s][j] (4 B) and its
// partner slot value part[s][j] (2 B). Positions in a bucket ascend, so a
// bucket walks the hash array forwards.
type segment struct {
	hashes  []Hash
	ids     []uint64
	indexed bool // false: no tables, always scanned
	off     [numSlots][]uint32
	pos     [numSlots][]uint32
	part    [numSlots][]uint16
	// grp holds the hashes of dense clusters again, in groups pruned by
	// the triangle inequality (groups.go); the tables then hold only the
	// other hashes. nil when there are none or no tables.
	grp *groups
	// mapped is the file mapping the arrays live in, nil for a segment on
	// the Go heap; see Open.
	mapped *mapping
}

// denseOrNil returns nil when ids are exactly 0..len(ids)-1, else ids.
func denseOrNil(ids []uint64) []uint64 {
	for i, id := range ids {
		if id != uint64(i) {
			return ids
		}
	}
	return nil
}

// id returns the id of the hash at position i.
func (s *segment) id(i int) uint64 {
	if s.ids == nil {
		return uint64(i)
	}
	return s.ids[i]
}

// idSlice returns the ids of the segment, materialising dense ones.
func (s *segment) idSlice() []uint64 {
	if s.ids != nil {
		return s.ids
	}
	ids := make([]uint64, len(s.hashes))
	for i := range ids {
		ids[i] = uint64(i)
	}
	return ids
}

// buildSegment indexes hashes, whose ids must be strictly ascending. It
// takes ownership of both slices.
func buildSegment(ids []uint64, hashes []Hash, indexed bool) *segment {
	s := &segment{hashes: hashes, ids: ids, indexed: indexed}
	if !indexed {
		return s
	}
	// The tables hold the sparse hashes only: those of dense clusters go
	// to groups.
	grp, sparse := partition(hashes)
	s.grp = grp
	// One counting sort per slot. Slots are independent, so super-slots
	// (slot pairs, which need each other's values as partners) are spread
	// over the available cores. Each worker first copies its two slots out
	// of the hash array, so the 32-byte hashes are read once per pair
	// rather than twice per slot.
	var next atomic.Int32
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), numSupers) {
		wg.Go(func() {
			var even, odd []uint16
			var tmp sortBuffers
			for {
				p := int(next.Add(1)) - 1
				if p >= numSupers {
					return
				}
				even, odd = extractPair(hashes, sparse, 2*p, even, odd)
				s.off[2*p], s.pos[2*p], s.part[2*p] = countingSort(even, odd, &tmp)
				s.off[2*p+1], s.pos[2*p+1], s.part[2*p+1] = countingSort(odd, even, &tmp)
				toPositions(s.pos[2*p], sparse)
				toPositions(s.pos[2*p+1], sparse)
			}
		})
	}
	wg.Wait()
	return s
}

// extractPair returns the values of slots sl and sl+1 of every hash, or
// of the hashes at positions sparse when that is not nil, reusing the
// given buffers.
func extractPair(hashes []Hash, sparse []uint32, sl int, even, odd []uint16) ([]uint16, []uint16) {
	m := len(hashes)
	if sparse != nil {
		m = len(sparse)
	}
	even = slices.Grow(even[:0], m)[:m]
	odd = slices.Grow(odd[:0], m)[:m]
	odd = odd[:len(even)]
	w, sh := sl>>2, uint(sl&3)*16
	if sparse != nil {
		sparse = sparse[:len(even)]
		for i, p := range sparse {
			x := hashes[p][w&3] >> sh
			even[i] = uint16(x)
			odd[i] = uint16(x >> 16)
		}
		return even, odd
	}
	for i := range hashes {
		x := hashes[i][w&3] >> sh
		even[i] = uint16(x)
		odd[i] = uint16(x >> 16)
	}
	return even, odd
}

// toPositions maps a table's entries, indexes into sparse, to segment
// positions; nil sparse means they already are. Entries of a bucket keep
// ascending, as sparse does.
func toPositions(pos []uint32, sparse []uint32) {
	if sparse == nil {
		return
	}
	for j, i := range pos {
		pos[j] = sparse[i]
	}
}

// countingSort returns the CSR table of one slot, given every hash's value
// of that slot (keys) and of its partner: bucket offsets, and the
// positions and partner values of the hashes grouped by slot value,
// ascending by position within a bucket.
//
// Scattering n entries straight into 65536 buckets writes to random cache
// lines once the arrays outgrow the cache, so large inputs go through two
// stable 256-way passes instead (low byte, then high byte), whose writes
// stream into 256 sequential runs each.
func countingSort(keys, partners []uint16, tmp *sortBuffers) (off, pos []uint32, part []uint16) {
	n := len(keys)
	partners = partners[:n]
	off = make([]uint32, slotValues+1)
	for _, k := range keys {
		off[k]++
	}
	var lo, hi [256]uint32 // starts of the byte-wise runs, for radixScatter
	// Exclusive prefix sums: off[v] becomes the start of bucket v.
	sum := uint32(0)
	for v, c := range off[:slotValues] {
		off[v] = sum
		sum += c
		lo[v&0xff] += c
	}
	off[slotValues] = sum
	for b := range hi {
		hi[b] = off[b<<8]
	}
	pos = make([]uint32, n)
	// partPad spare entries let the filter load four entries at a time
	// (one 8-byte read) past the end of the last bucket.
	part = make([]uint16, n, n+partPad)
	if n >= radixMin {
		radixScatter(keys, partners, &lo, &hi, pos, part, tmp)
		return off, pos, part
	}
	// Scatter, using off[v] as bucket v's cursor; afterwards off[v] is the
	// end of bucket v, i.e. the start of bucket v+1, so shift back by one.
	for i, k := range keys {
		j := off[k]
		pos[j] = uint32(i)
		part[j] = partners[i]
		off[k] = j + 1
	}
	copy(off[1:], off[:slotValues])
	off[0] = 0
	return off, pos, part
}

// radixMin is the input size from which countingSort uses radixScatter:
// below it the direct scatter's targets fit in cache. It is a variable so
// tests can exercise both paths on small inputs.
var radixMin = 1 << 21

// sortBuffers holds radixScatter's intermediate arrays, reused across the
// slots a build worker sorts: fresh memory costs page faults, which are
// slow in virtual machines.
type sortBuffers struct {
	keys, partners []uint16
	pos            []uint32
}

// radixScatter fills pos and part in (key, position) order by two stable
// counting passes. lo holds the counts of each low byte; hi the start of
// each high byte's run in the final order.
func radixScatter(keys, partners []uint16, lo, hi *[256]uint32, pos []uint32, part []uint16, tmp *sortBuffers) {
	n := len(keys)
	sum := uint32(0)
	for b, c := range lo {
		lo[b] = sum
		sum += c
	}
	tmp.keys = slices.Grow(tmp.keys[:0], n)[:n]
	tmp.partners = slices.Grow(tmp.partners[:0], n)[:n]
	tmp.pos = slices.Grow(tmp.pos[:0], n)[:n]
	tk, tq, tp := tmp.keys, tmp.partners, tmp.pos
	for i, k := range keys {
		t := lo[k&0xff]
		lo[k&0xff] = t + 1
		tk[t], tp[t], tq[t] = k, uint32(i), partners[i]
	}
	pos, part = pos[:n], part[:n]
	tp, tq = tp[:len(tk)], tq[:len(tk)]
	for t, k := range tk {
		j := hi[k>>8]
		hi[k>>8] = j + 1
		pos[j], part[j] = tp[t], tq[t]
	}
}

// partPad is the spare capacity after each part array.
const partPad = 3

// find returns the position of id, or -1.
func (s *segment) find(id uint64) int {
	if s.ids == nil {
		if id < uint64(len(s.hashes)) {
			return int(id)
		}
		return -1
	}
	lo, hi := 0, len(s.ids)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if s.ids[h] < id {
			lo = h + 1
		} else {
			hi = h
		}
	}
	if lo < len(s.ids) && s.ids[lo] == id {
		return lo
	}
	return -1
}

// memoryBytes returns the bytes held by the segment's arrays.
func (s *segment) memoryBytes() int64 {
	n := int64(cap(s.hashes))*32 + int64(cap(s.ids))*8
	for i := range numSlots {
		n += int64(cap(s.off[i]))*4 + int64(cap(s.pos[i]))*4 + int64(cap(s.part[i]))*2
	}
	return n + s.grp.memoryBytes()
}
