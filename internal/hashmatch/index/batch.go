package index

import (
	"sync"
	"sync/atomic"
)

const (
	// scanChunk is how many hashes the blocked scan sweeps with every
	// query of a group before moving on: 128 KiB, so the chunk stays in L2
	// (512 KiB per core on the reference machine) while each query of the
	// group reads it, and DRAM traffic is divided by the group size.
	scanChunk = 4096
	// scanGroup is the most queries sharing one pass over the haystack.
	scanGroup = 64
	// batchGrain is how many queries a worker claims at a time in the
	// multi-index phase; small enough to balance skewed queries.
	batchGrain = 16
)

// SearchBatch runs Search for every query in qs at radius r and returns
// the matches of qs[i], in no particular order, in element i. It spreads
// the queries over GOMAXPROCS goroutines. Each query first prices its
// multi-index plan from the bucket sizes; those cheaper to answer that way
// are, and the rest share a cache-blocked linear scan that compares each
// chunk of the haystack with many queries while it is in cache. Writers
// wait until the whole batch is done. It returns an error only when r is
// outside [0, MaxRadius].
func (x *Index) SearchBatch(qs []Hash, r int) ([][]Match, error) {
	if r < 0 || r > MaxRadius {
		return nil, errRadius
	}
	out := make([][]Match, len(qs))
	x.mu.RLock()
	defer x.mu.RUnlock()
	nw := min(workers(), len(qs))
	seg := x.main
	// Phase 1: multi-index hashing where it pays, plus the delta; collect
	// the queries that want a scan of the main segment.
	var scans []int
	var smu sync.Mutex
	var next atomic.Int64
	budget := 0.0
	if seg != nil {
		budget = batchScanCost * float64(len(seg.hashes))
	}
	if x.cfg.path == pathMIH {
		budget = maxBudget
	}
	var wg sync.WaitGroup
	for range nw {
		wg.Go(func() {
			var mine []int
			sc := scratchPool.Get().(*scratch)
			defer scratchPool.Put(sc)
			for {
				lo := int(next.Add(batchGrain)) - batchGrain
				if lo >= len(qs) {
					break
				}
				for i := lo; i < min(lo+batchGrain, len(qs)); i++ {
					q := &qs[i]
					out[i] = scanHashes(out[i], x.dh, x.did, 0, q, r, nil)
					if seg == nil {
						continue
					}
					if x.cfg.path != pathScan {
						var ok bool
						if out[i], ok = seg.searchIndexed(out[i], sc, q, r, x.dead, budget); ok {
							continue
						}
					}
					mine = append(mine, i)
				}
			}
			smu.Lock()
			scans = append(scans, mine...)
			smu.Unlock()
		})
	}
	wg.Wait()

	// Phase 2: the blocked scan, in groups claimed dynamically.
	if len(scans) > 0 {
		group := min(scanGroup, (len(scans)+nw-1)/nw)
		next.Store(0)
		for range min(nw, (len(scans)+group-1)/group) {
			wg.Go(func() {
				for {
					lo := int(next.Add(int64(group))) - group
					if lo >= len(scans) {
						return
					}
					seg.scanGroup(qs, scans[lo:min(lo+group, len(scans))], r, x.dead, out)
				}
			})
		}
		wg.Wait()
	}
	return out, nil
}

// scanGroup scans the whole segment for the queries qs[g] for g in group,
// chunk by chunk, so that each chunk is fetched from memory once per group
// rather than once per query, and within a chunk four queries a pass
// (scanQuads) so that each hash is loaded from cache once per four.
func (s *segment) scanGroup(qs []Hash, group []int, r int, dead []uint64, out [][]Match) {
	for c := 0; c < len(s.hashes); c += scanChunk {
		e := min(c+scanChunk, len(s.hashes))
		hs := s.hashes[c:e]
		var ids []uint64
		if s.ids != nil {
			ids = s.ids[c:e]
		}
		k := 0
		if haveScan8 {
			for ; k+8 <= len(group); k += 8 {
				scanOctets(out, hs, ids, c, qs, (*[8]int)(group[k:k+8]), r, dead)
			}
		}
		for ; k+4 <= len(group); k += 4 {
			scanQuads(out, hs, ids, c, qs, (*[4]int)(group[k:k+4]), r, dead)
		}
		for _, g := range group[k:] {
			out[g] = scanHashes(out[g], hs, ids, c, &qs[g], r, dead)
		}
	}
}
