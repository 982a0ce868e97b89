package index

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
)

// MaxRadius is the largest search radius: the distance between two 256-bit
// hashes never exceeds it.
const MaxRadius = 256

// Match is one search result: the id of a stored hash and its Hamming
// distance to the query.
type Match struct {
	ID       uint64
	Distance int
}

// path forces one search path; tests use it to check each path on its own.
type path int

const (
	pathAuto path = iota
	pathMIH       // multi-index hashing whenever r <= maxMIHRadius
	pathScan      // always the linear scan
)

// config holds tuning knobs; the zero value selects the defaults. Only
// tests and benchmarks change them.
type config struct {
	minIndexed int  // main segments smaller than this get no tables (default 16384)
	deltaMax   int  // delta size that triggers a merge; 0: deltaLimit
	path       path // forced search path
}

func (c *config) minIndexedOrDefault() int {
	if c.minIndexed > 0 {
		return c.minIndexed
	}
	// Below this the 4 MiB of offset tables would cost more than 256 B
	// per hash, and a linear scan is quick anyway.
	return 1 << 14
}

// indexed reports whether a main segment of n hashes gets tables.
func (c *config) indexed(n int) bool { return n >= c.minIndexedOrDefault() }

// deltaLimit returns how many unmerged additions a main segment of n
// hashes tolerates. Every query scans the whole delta (a few ns per entry)
// and a merge rebuilds the main segment (about 1 µs of CPU per hash on the
// reference machine), so the limit grows with n to keep the amortised
// merge cost per Add near 1 ms, and is capped so that the delta scan stays
// a modest share of a query (at 10M hashes, 8192 entries against ~130 µs
// for the multi-index search).
func (c *config) deltaLimit(n int) int {
	if c.deltaMax > 0 {
		return c.deltaMax
	}
	return min(max(n/1024, 1024), 8192)
}

// Index is an exact Hamming radius-search index over 256-bit hashes keyed
// by uint64 ids. The zero value is an empty index ready to use. An Index
// must not be copied after first use.
type Index struct {
	wmu sync.Mutex   // serialises writers; held across merges
	mu  sync.RWMutex // guards the fields below between readers and writers
	cfg config

	main  *segment // immutable once published; nil when empty
	dead  []uint64 // tombstone bit per main position; nil when none
	ndead int

	// The delta: hashes added since the last merge, in no order.
	dh   []Hash
	did  []uint64
	dpos map[uint64]int // id -> index in dh and did
}

// New returns an empty index.
func New() *Index { return &Index{} }

// Build returns an index holding hashes[i] under ids[i]. It does not keep
// references to either slice. Ids must be unique. Sorted ids are cheapest;
// others are sorted first.
func Build(ids []uint64, hashes []Hash) (*Index, error) {
	x := &Index{}
	if err := x.load(ids, hashes); err != nil {
		return nil, err
	}
	return x, nil
}

// load replaces the contents of x, which must not be shared yet.
func (x *Index) load(ids []uint64, hashes []Hash) error {
	if len(ids) != len(hashes) {
		return fmt.Errorf("index: %d ids but %d hashes", len(ids), len(hashes))
	}
	if uint64(len(ids)) > math.MaxUint32 {
		return fmt.Errorf("index: %d hashes exceed the limit of %d", len(ids), uint32(math.MaxUint32))
	}
	// Copy into exactly sized arrays: slices.Clone rounds capacity up to
	// an allocator size class, which at 10M hashes wastes megabytes.
	sid := make([]uint64, len(ids))
	copy(sid, ids)
	sh := make([]Hash, len(hashes))
	copy(sh, hashes)
	if !slices.IsSorted(sid) {
		sortByID(sid, sh)
	}
	for i := 1; i < len(sid); i++ {
		if sid[i] == sid[i-1] {
			return fmt.Errorf("index: duplicate id %d", sid[i])
		}
	}
	x.main = buildSegment(denseOrNil(sid), sh, x.cfg.indexed(len(sid)))
	x.dead, x.ndead = nil, 0
	x.dh, x.did, x.dpos = nil, nil, nil
	return nil
}

// sortByID sorts ids ascending and permutes hashes alongside.
func sortByID(ids []uint64, hashes []Hash) {
	type pair struct {
		id uint64
		h  Hash
	}
	ps := make([]pair, len(ids))
	for i := range ps {
		ps[i] = pair{ids[i], hashes[i]}
	}
	slices.SortFunc(ps, func(a, b pair) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	for i := range ps {
		ids[i], hashes[i] = ps[i].id, ps[i].h
	}
}

// Len returns the number of hashes in the index.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.lenLocked()
}

func (x *Index) lenLocked() int {
	n := len(x.dh) - x.ndead
	if x.main != nil {
		n += len(x.main.hashes)
	}
	return n
}

// Add stores h under id, replacing the hash already stored under id, if
// any. Every so often (see the package documentation) it folds the pending
// updates into a rebuilt main segment, which takes time proportional to
// the index size; searches continue meanwhile.
func (x *Index) Add(id uint64, h Hash) {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	x.mu.Lock()
	if p, ok := x.dpos[id]; ok {
		x.dh[p] = h
		x.mu.Unlock()
		return
	}
	x.killMainLocked(id)
	if x.dpos == nil {
		x.dpos = make(map[uint64]int)
	}
	x.dpos[id] = len(x.dh)
	x.dh = append(x.dh, h)
	x.did = append(x.did, id)
	merge := len(x.dh) > x.cfg.deltaLimit(x.mainLen())
	x.mu.Unlock()
	if merge {
		x.merge()
	}
}

// Remove deletes the hash stored under id and reports whether there was
// one. Like Add, it occasionally rebuilds the main segment, once removed
// hashes make up an eighth of it.
func (x *Index) Remove(id uint64) bool {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	x.mu.Lock()
	if p, ok := x.dpos[id]; ok {
		last := len(x.dh) - 1
		x.dh[p], x.did[p] = x.dh[last], x.did[last]
		x.dpos[x.did[p]] = p
		x.dh, x.did = x.dh[:last], x.did[:last]
		delete(x.dpos, id)
		x.mu.Unlock()
		return true
	}
	removed := x.killMainLocked(id)
	// Tombstoned hashes still cost verification work and memory; fold
	// them out once they are a noticeable share of the segment.
	merge := x.ndead > max(x.cfg.deltaLimit(x.mainLen()), x.mainLen()/8)
	x.mu.Unlock()
	if merge {
		x.merge()
	}
	return removed
}

// killMainLocked tombstones id in the main segment and reports whether it
// was live there. x.mu must be held for writing.
func (x *Index) killMainLocked(id uint64) bool {
	if x.main == nil {
		return false
	}
	p := x.main.find(id)
	if p < 0 {
		return false
	}
	if x.dead == nil {
		x.dead = make([]uint64, (len(x.main.hashes)+63)/64)
	}
	if x.dead[p>>6]>>(p&63)&1 != 0 {
		return false
	}
	x.dead[p>>6] |= 1 << (p & 63)
	x.ndead++
	return true
}

func (x *Index) mainLen() int {
	if x.main == nil {
		return 0
	}
	return len(x.main.hashes)
}

// Compact folds pending additions and removals into the main segment now,
// instead of waiting for the delta to fill. It is useful after a burst of
// updates, before a period of heavy searching.
func (x *Index) Compact() {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	x.merge()
}

// merge rebuilds the main segment from its live hashes plus the delta.
// x.wmu must be held. Only writers change the fields it reads, so it reads
// them without x.mu and builds the new segment while searches go on; it
// takes x.mu only to publish.
func (x *Index) merge() {
	if len(x.dh) == 0 && x.ndead == 0 {
		return
	}
	// Sort the delta by id, then merge it with the live main ids.
	order := make([]int, len(x.did))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		switch {
		case x.did[a] < x.did[b]:
			return -1
		case x.did[a] > x.did[b]:
			return 1
		}
		return 0
	})
	var mids []uint64
	var mhs []Hash
	if x.main != nil {
		mids, mhs = x.main.idSlice(), x.main.hashes
	}
	n := len(mids) - x.ndead + len(order)
	ids := make([]uint64, 0, n)
	hashes := make([]Hash, 0, n)
	i, j := 0, 0
	for i < len(mids) || j < len(order) {
		if i < len(mids) && x.dead != nil && x.dead[i>>6]>>(i&63)&1 != 0 {
			i++
			continue
		}
		if j == len(order) || (i < len(mids) && mids[i] < x.did[order[j]]) {
			ids = append(ids, mids[i])
			hashes = append(hashes, mhs[i])
			i++
		} else {
			ids = append(ids, x.did[order[j]])
			hashes = append(hashes, x.dh[order[j]])
			j++
		}
	}
	seg := buildSegment(denseOrNil(ids), hashes, x.cfg.indexed(len(ids)))

	x.mu.Lock()
	x.main = seg
	x.dead, x.ndead = nil, 0
	x.dh, x.did = x.dh[:0], x.did[:0]
	clear(x.dpos)
	x.mu.Unlock()
}

// MemoryBytes returns the approximate number of bytes the index holds:
// its arrays exactly, plus an estimate for the delta's id map.
func (x *Index) MemoryBytes() int64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var n int64
	if x.main != nil {
		n += x.main.memoryBytes()
	}
	n += int64(cap(x.dead))*8 + int64(cap(x.dh))*32 + int64(cap(x.did))*8
	n += int64(len(x.dpos)) * 40 // key, value and bucket overhead, roughly
	return n
}

// Stats describes the internal state of an index, for monitoring.
type Stats struct {
	Len         int   // hashes stored
	Main        int   // hashes in the main segment, tombstoned ones included
	Tombstones  int   // removed or replaced hashes still in the main segment
	Delta       int   // hashes added since the last merge
	Indexed     bool  // whether the main segment has multi-index tables
	Groups      int   // dense clusters searched by the triangle inequality
	Grouped     int   // hashes of the main segment held in those groups
	MemoryBytes int64 // as reported by MemoryBytes
}

// Stats returns a snapshot of the index's internal state.
func (x *Index) Stats() Stats {
	mem := x.MemoryBytes()
	x.mu.RLock()
	defer x.mu.RUnlock()
	st := Stats{Len: x.lenLocked(), Main: x.mainLen(), Tombstones: x.ndead, Delta: len(x.dh), MemoryBytes: mem}
	if x.main != nil {
		st.Indexed = x.main.indexed
		st.Groups, st.Grouped = x.main.grp.count(), x.main.grp.grouped()
	}
	return st
}

// errRadius reports a radius outside [0, MaxRadius].
var errRadius = errors.New("index: search radius must be between 0 and 256")

// Search returns every stored hash within Hamming distance r of q, in no
// particular order. It returns an error only when r is outside
// [0, MaxRadius].
func (x *Index) Search(q Hash, r int) ([]Match, error) {
	return x.AppendSearch(nil, q, r)
}

// AppendSearch is like Search but appends the matches to dst and returns
// the extended slice, so a caller can reuse one buffer across queries and
// search without allocating.
func (x *Index) AppendSearch(dst []Match, q Hash, r int) ([]Match, error) {
	if r < 0 || r > MaxRadius {
		return dst, errRadius
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if seg := x.main; seg != nil {
		dst = x.searchMain(dst, seg, &q, r)
	}
	return scanHashes(dst, x.dh, x.did, 0, &q, r, nil), nil
}

// searchMain searches the main segment by multi-index hashing or by a
// scan, whichever the cost model says is cheaper for this query.
func (x *Index) searchMain(dst []Match, seg *segment, q *Hash, r int) []Match {
	sc := scratchPool.Get().(*scratch)
	dst, _ = seg.search(dst, sc, q, r, x.dead, x.cfg.path, float64(len(seg.hashes)))
	scratchPool.Put(sc)
	return dst
}

// workers returns how many goroutines a batch should use.
func workers() int { return max(runtime.GOMAXPROCS(0), 1) }
