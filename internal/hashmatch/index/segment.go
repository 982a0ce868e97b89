package index

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// segment is an immutable, compact run of hashes: the hashes themselves in
// one contiguous array (32 B each), their external ids in the same order
// (8 B each, strictly ascending so Remove can binary-search them), and,
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
}

// buildSegment indexes hashes, whose ids must be strictly ascending. It
// takes ownership of both slices.
func buildSegment(ids []uint64, hashes []Hash, indexed bool) *segment {
	s := &segment{hashes: hashes, ids: ids, indexed: indexed}
	if !indexed {
		return s
	}
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
			for {
				p := int(next.Add(1)) - 1
				if p >= numSupers {
					return
				}
				even, odd = extractPair(hashes, 2*p, even, odd)
				s.off[2*p], s.pos[2*p], s.part[2*p] = countingSort(even, odd)
				s.off[2*p+1], s.pos[2*p+1], s.part[2*p+1] = countingSort(odd, even)
			}
		})
	}
	wg.Wait()
	return s
}

// extractPair returns the values of slots sl and sl+1 of every hash,
// reusing the given buffers.
func extractPair(hashes []Hash, sl int, even, odd []uint16) ([]uint16, []uint16) {
	even = slices.Grow(even[:0], len(hashes))[:len(hashes)]
	odd = slices.Grow(odd[:0], len(hashes))[:len(hashes)]
	odd = odd[:len(even)]
	w, sh := sl>>2, uint(sl&3)*16
	for i := range hashes {
		x := hashes[i][w&3] >> sh
		even[i] = uint16(x)
		odd[i] = uint16(x >> 16)
	}
	return even, odd
}

// countingSort returns the CSR table of one slot, given every hash's value
// of that slot (keys) and of its partner: bucket offsets, and the
// positions and partner values of the hashes grouped by slot value,
// ascending by position within a bucket.
func countingSort(keys, partners []uint16) (off, pos []uint32, part []uint16) {
	n := len(keys)
	partners = partners[:n]
	off = make([]uint32, slotValues+1)
	for _, k := range keys {
		off[k]++
	}
	// Exclusive prefix sums: off[v] becomes the start of bucket v.
	sum := uint32(0)
	for v, c := range off[:slotValues] {
		off[v] = sum
		sum += c
	}
	off[slotValues] = sum
	pos = make([]uint32, n)
	// partPad spare entries let the filter load four entries at a time
	// (one 8-byte read) at the end of the last bucket.
	part = make([]uint16, n, n+partPad)
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

// partPad is the spare capacity after each part array.
const partPad = 3

// find returns the position of id, or -1.
func (s *segment) find(id uint64) int {
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
	return n
}
