package ledger

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/custos-project/custos/internal/store"
)

// leafItem is a stored leaf as the verification reads it: its index, the
// hash stored beside it, its bytes, and what hashing and decoding made of
// them.
type leafItem struct {
	idx    int64
	stored []byte
	data   []byte
	hash   []byte
	entry  *Entry
	// decoded is the entry's data, decoded beside the replay.
	decoded *decoded
	err     error
}

type leafBatch struct {
	items []leafItem
	ready chan struct{} // closed once every item is hashed and decoded
}

const leafBatchSize = 512

// readLeaves reads the leaves from index from on, in order, and hands each
// to each once it is hashed and decoded. One goroutine reads, workers hash
// and decode batches, and each runs on the caller's goroutine in index
// order, so the replay (the one part that cannot be split) is all that
// remains on it. each stops the reading by returning false.
func readLeaves(ctx context.Context, q store.Queryer, reg *Projections, from uint64, workers int, each func(*leafItem) (bool, error)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rows, err := q.Query(ctx, "SELECT idx, hash, data FROM log_leaves WHERE idx >= ? ORDER BY idx", int64(from))
	if err != nil {
		return err
	}
	ordered := make(chan *leafBatch, 4*workers)
	work := make(chan *leafBatch, 4*workers)
	done := make(chan struct{})
	var readErr error
	go func() {
		defer close(done)
		defer close(ordered)
		defer close(work)
		defer rows.Close()
		for {
			b := &leafBatch{items: make([]leafItem, 0, leafBatchSize), ready: make(chan struct{})}
			for len(b.items) < leafBatchSize && rows.Next() {
				var it leafItem
				if err := rows.Scan(&it.idx, &it.stored, &it.data); err != nil {
					readErr = err
					return
				}
				b.items = append(b.items, it)
			}
			if len(b.items) == 0 {
				readErr = rows.Err()
				return
			}
			select {
			case work <- b:
			case <-ctx.Done():
				return
			}
			select {
			case ordered <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range workers {
		go func() {
			for b := range work {
				for i := range b.items {
					it := &b.items[i]
					it.hash = LeafHash(it.data)
					it.entry, it.err = decodeEntry(it.data)
					if it.err == nil {
						it.data, it.decoded = nil, reg.prepare(it.entry)
					}
				}
				close(b.ready)
			}
		}()
	}
	stop := func(err error) error {
		cancel()
		for range ordered {
		}
		<-done
		return err
	}
	for b := range ordered {
		<-b.ready
		for i := range b.items {
			goOn, err := each(&b.items[i])
			if err != nil || !goOn {
				return stop(err)
			}
		}
	}
	<-done
	return readErr
}

// compareJob is one part of the comparison: a table, a module's check, or
// the sealed rows.
type compareJob struct {
	name string
	size int64 // rows replayed, to start the largest first
	run  func(ctx context.Context, live store.Queryer, out *jobOut) error
}

type jobOut struct {
	problems, notes         []string
	covered                 []string
	rows, digestRows        int64
	table, check            bool
	sealedRows, uncommitted int
	found                   *atomic.Int64 // problems found by all jobs
}

// compareAll runs the comparison jobs on the snapshots, one job per
// snapshot at a time, largest first, calls done[k] once snapshot k has no
// job left, and adds what they found to rep in the order of the jobs as
// declared. A table whose range digests the
// state kept (kept) is compared by digests (digestJobs), and so is a table
// large enough to be cut in key ranges, each range's digest of the live
// rows against that of the replayed ones; the others row by row. It
// returns the digests of every table compared in ranges, for a state to
// keep.
//
// Each module check is given what it kept at the verification the state
// was saved from (memos) and returns, in keep, what it keeps for the next.
func compareAll(ctx context.Context, snaps []*store.Tx, done []func(), mem *store.DB, reg *Projections, seals *sealedLog, kept map[string][]keptRange, memos, keep map[string]string, opt VerifyOptions, rep *Report) (map[string][]keptRange, error) {
	replay := mem.Read()
	var jobs []compareJob
	per := int64(opt.SplitRows)
	if per <= 0 {
		per = 100_000
	}
	var mu sync.Mutex
	digests := map[string][]keptRange{}
	for _, t := range reg.ProjectedTables() {
		// A table whose digests the state kept, or one large enough to be
		// cut in key ranges, is compared by the digests of its ranges.
		ranges, fromKept := kept[t.Name], true
		var n int64
		if len(ranges) == 0 {
			if err := replay.QueryRow(ctx, "SELECT COUNT(*) FROM "+t.Name).Scan(&n); err != nil {
				return nil, fmt.Errorf("count %s: %w", t.Name, err)
			}
			bounds, err := splitKeys(ctx, replay, t, n, per)
			if err != nil {
				return nil, fmt.Errorf("split %s: %w", t.Name, err)
			}
			ranges, fromKept = keyRanges(bounds, n), false
		}
		if len(ranges) > 0 {
			js, err := digestJobs(ctx, snaps[0], replay, t, ranges, fromKept, opt, func(r []keptRange) {
				mu.Lock()
				digests[t.Name] = r
				mu.Unlock()
			})
			if err != nil {
				return nil, fmt.Errorf("compare %s: %w", t.Name, err)
			}
			jobs = append(jobs, js...)
			continue
		}
		jobs = append(jobs, compareJob{name: t.Name, size: n, run: func(ctx context.Context, live store.Queryer, out *jobOut) error {
			out.table = true
			n, err := compareTable(ctx, live, replay, t, nil, nil, out.problem(opt.MaxProblems))
			out.rows = n
			if err != nil {
				return fmt.Errorf("compare %s: %w", t.Name, err)
			}
			return nil
		}})
	}
	for _, c := range reg.moduleChecks() {
		if opt.WithoutPersonalData {
			rep.Notes = append(rep.Notes, c.name+": not checked (a copy of the log alone holds none of what the log commits to without holding it)")
			continue
		}
		jobs = append(jobs, compareJob{name: c.name, run: func(ctx context.Context, live store.Queryer, out *jobOut) error {
			out.check = true
			err := c.run(ctx, CheckRun{Live: live, Replay: replay, Problem: out.problem(opt.MaxProblems), Workers: opt.Workers,
				Note:    func(format string, args ...any) { out.notes = append(out.notes, fmt.Sprintf(format, args...)) },
				Covered: func(format string, args ...any) { out.covered = append(out.covered, fmt.Sprintf(format, args...)) },
				Kept:    memos[c.name], Keep: func(memo string) {
					mu.Lock()
					keep[c.name] = memo
					mu.Unlock()
				}})
			if err != nil {
				return fmt.Errorf("check %s: %w", c.name, err)
			}
			return nil
		}})
	}
	if opt.WithoutPersonalData {
		rep.Notes = append(rep.Notes, "subjects: not compared with the log (a copy without personal data)")
	} else {
		jobs = append(jobs, compareJob{name: "subjects", size: int64(len(seals.committed)), run: func(ctx context.Context, live store.Queryer, out *jobOut) error {
			var r Report
			if err := verifySealed(ctx, live, seals, &r, out.problem(opt.MaxProblems)); err != nil {
				return fmt.Errorf("compare subjects: %w", err)
			}
			out.sealedRows, out.uncommitted, out.notes = r.SealedRows, r.Uncommitted, r.Notes
			return nil
		}})
	}
	order := make([]int, len(jobs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return -cmpInt(jobs[a].size, jobs[b].size) })
	outs := make([]jobOut, len(jobs))
	var problems atomic.Int64
	for i := range outs {
		outs[i].found = &problems
	}
	todo := make(chan int)
	var (
		wg       sync.WaitGroup
		firstErr error
		finished uint64
	)
	for k, s := range snaps {
		wg.Add(1)
		go func(live store.Queryer) {
			defer wg.Done()
			// Its snapshot's part is done: done[k] runs beside the
			// parts still running.
			defer done[k]()
			for i := range todo {
				if problems.Load() >= int64(opt.MaxProblems) {
					continue
				}
				err := jobs[i].run(ctx, live, &outs[i])
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				finished++
				if opt.Progress != nil {
					opt.Progress("tables", finished, uint64(len(jobs)))
				}
				mu.Unlock()
			}
		}(s)
	}
	for _, i := range order {
		todo <- i
	}
	close(todo)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	for _, o := range outs {
		if o.table {
			rep.Tables++
		}
		if o.check {
			rep.Checks++
		}
		rep.Rows += o.rows
		rep.DigestRows += o.digestRows
		rep.SealedRows += o.sealedRows
		rep.Uncommitted += o.uncommitted
		rep.Notes = append(rep.Notes, o.notes...)
		rep.Covered = append(rep.Covered, o.covered...)
		for _, p := range o.problems {
			if len(rep.Problems) < opt.MaxProblems {
				rep.Problems = append(rep.Problems, p)
			}
		}
	}
	return digests, nil
}

// splitKeys returns the keys that cut a table of n replayed rows into
// ranges of about per rows, in order, none when it is not larger than that
// or its key is not one column. They are quantiles of keys sampled at evenly
// spaced rowids of the replayed table: the ranges they make cover every key
// on both sides whatever the keys, and are even when the keys are spread
// alike over the rowids.
func splitKeys(ctx context.Context, replay store.Queryer, t Table, n, per int64) ([]string, error) {
	if n <= per || strings.Contains(t.Order, ",") {
		return nil, nil
	}
	parts := (n + per - 1) / per
	var first, last int64
	if err := replay.QueryRow(ctx, "SELECT MIN(rowid), MAX(rowid) FROM "+t.Name).Scan(&first, &last); err != nil {
		return nil, err
	}
	samples := parts * 8
	keys := make([]string, 0, samples)
	for i := range samples {
		var k any
		err := replay.QueryRow(ctx, "SELECT "+t.Order+" FROM "+t.Name+" WHERE rowid >= ? ORDER BY rowid LIMIT 1", first+(last-first)*i/samples).Scan(&k)
		if err != nil {
			return nil, err
		}
		s, ok := k.(string)
		if !ok {
			return nil, nil // a key that is not text is compared whole
		}
		keys = append(keys, s)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	var bounds []string
	for p := int64(1); p < parts; p++ {
		b := keys[int64(len(keys))*p/parts]
		if len(bounds) == 0 || b > bounds[len(bounds)-1] {
			bounds = append(bounds, b)
		}
	}
	return bounds, nil
}

// keyRanges are the ranges that bounds (splitKeys) cut a table of n rows
// into, none without bounds.
func keyRanges(bounds []string, n int64) []keptRange {
	if len(bounds) == 0 {
		return nil
	}
	ranges := make([]keptRange, len(bounds)+1)
	for p := range ranges {
		if p > 0 {
			ranges[p].lo = &bounds[p-1]
		}
		if p < len(bounds) {
			ranges[p].hi = &bounds[p]
		}
		ranges[p].rows = n / int64(len(ranges))
	}
	return ranges
}

// problem returns the problem function of a job: it tells true once the
// verification as a whole has found max problems.
func (o *jobOut) problem(max int) func(string, ...any) bool {
	return func(format string, args ...any) bool {
		o.problems = append(o.problems, fmt.Sprintf(format, args...))
		return o.found.Add(1) >= int64(max)
	}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
