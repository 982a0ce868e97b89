package index

import "math/bits"

// Slot layout and the pigeonhole argument behind the search.
//
// The 256 bits are cut into 16 slots of 16 bits: slot s is bits
// [16*(s%4), 16*(s%4)+16) of Hash[s/4], so slots 4w..4w+3 are the four
// 16-bit lanes of word w, lowest lane first. Each slot value is indexed in
// its own CSR table. Slots are paired into 8 super-slots of 32 bits,
// {2p, 2p+1}; each table entry stores, besides the position of its hash,
// the value of the partner slot (s^1), 2 bytes.
//
// Exactness rests on the generalised pigeonhole principle (Norouzi,
// Punjani and Fleet, "Fast exact search in Hamming space with multi-index
// hashing"): if a distance D <= t is split over k parts and t = k*c + e
// (0 <= e < k), then one of any e+1 chosen parts has distance <= c or one
// of the other k-e-1 parts has distance <= c-1; otherwise the total would
// be at least (e+1)(c+1) + (k-e-1)c = t+1. Applied twice:
//
//   - over the 8 super-slots with t = r: super-slot p (in order) is within
//     T[p] = r/8 of the query for p <= r%8, or r/8-1 for the others;
//   - over the two halves of that super-slot with t = T[p]: the even half
//     is within floor(T[p]/2) or the odd half within T[p]-1-floor(T[p]/2).
//
// So every match h has a slot s, probed at radius rad[s] (the half's
// bound), with d_s(h) <= rad[s] and d_partner(h) <= T[p] - d_s(h). The
// search probes each slot value within rad[s] of the query's (17 buckets
// per slot at r = 31, 272 in all, as in plain 16x16 MIH) but, for every
// bucket entry, first tests the inline partner value against
// T[p] - d_s, a sequential 2-byte read. At r = 31 that rejects all but
// ~0.26% of random entries, so only a handful of hashes per query are
// fetched from the (random-access, cache-missing) hash array, instead of
// the ~N/240 a plain MIH fetches.
//
// Per-slot radius 2 (137 probes) supports T[p] <= 5, i.e. r <= 47; larger
// radii use the linear scan, which is cheaper by then anyway.

const (
	numSlots      = 16
	numSupers     = numSlots / 2
	slotBits      = 16
	slotValues    = 1 << slotBits
	maxSlotRadius = 2
	// maxMIHRadius is the largest r multi-index hashing can serve.
	maxMIHRadius = numSupers*(2*maxSlotRadius+2) - 1 // 47
	// maxSpans bounds the probes of one query: 16 slots at radius 2.
	maxSpans = numSlots * (1 + slotBits + slotBits*(slotBits-1)/2)
)

// slotKey returns slot s of h.
func slotKey(h *Hash, s int) uint16 {
	return uint16(h[(s>>2)&3] >> (uint(s&3) * 16))
}

// probeMasks lists every 16-bit mask with at most maxSlotRadius set bits,
// ordered by popcount, so probeMasks[:probeCount[k]] reach every slot value
// within distance k.
var (
	probeMasks = func() []uint16 {
		ms := []uint16{0}
		for i := range slotBits {
			ms = append(ms, 1<<i)
		}
		for i := range slotBits {
			for j := i + 1; j < slotBits; j++ {
				ms = append(ms, 1<<i|1<<j)
			}
		}
		return ms
	}()
	probeCount = [maxSlotRadius + 1]int{1, 1 + slotBits, 1 + slotBits + slotBits*(slotBits-1)/2}
)

// radii fills, for query radius r <= maxMIHRadius, each slot's probe
// radius (-1: not probed) and its super-slot bound T[p].
func radii(r int, rad, super *[numSlots]int) {
	a, b := r/numSupers, r%numSupers
	for p := range numSupers {
		t := a
		if p > b {
			t = a - 1
		}
		// Split t over the two halves: radii summing to t-1 is the most
		// that still forces one half within its radius (for t = 2c+1 both
		// get c; for t = 2c the even half gets c and the odd half c-1).
		even, odd := -1, -1
		if t >= 0 {
			even = t / 2
			odd = t - 1 - even
		}
		rad[2*p], rad[2*p+1] = even, odd
		super[2*p], super[2*p+1] = t, t
	}
}

// qualifies reports whether multi-index hashing reaches h through slot s
// and passes its partner filter: the condition under which a match is
// reported from slot s.
func qualifies(h *Hash, qk *[numSlots]uint16, s, rad, super int) bool {
	ds := bits.OnesCount16(slotKey(h, s) ^ qk[s])
	return ds <= rad && bits.OnesCount16(slotKey(h, s^1)^qk[s^1]) <= super-ds
}
