package stats

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// verifyColumns is the statistics registry's part of log verify: the
// column chunks of each import (stats_columns) are not replayed from the
// log, but its entry carries their SHA-256 and their number, which the
// replayed stats_imports holds. Each import's chunks are read back in the
// order they were stored and hashed as the import hashed them; a chunk
// missing, one past the number the entry gives, a column whose length is
// not its width times the chunk's records, or a digest that differs is a
// problem naming the import (and the chunk where one can be told: the
// entry has one digest for all the chunks). Chunks of an import that is
// not in the log (one that never finished) are a note: they are never
// counted.
func verifyColumns(ctx context.Context, c ledger.CheckRun) error {
	type logged struct {
		sum    string
		chunks int
		index  int64
	}
	rows, err := c.Replay.Query(ctx, "SELECT id, columns_sha256, chunks, log_index FROM stats_imports")
	if err != nil {
		return err
	}
	inLog := map[string]logged{}
	for rows.Next() {
		var id string
		var l logged
		if err := rows.Scan(&id, &l.sum, &l.chunks, &l.index); err != nil {
			rows.Close()
			return err
		}
		inLog[id] = l
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	q := "SELECT id, import_id, chunk, n, data FROM stats_columns ORDER BY id"
	if c.Live.Dialect() == store.Postgres {
		q += ` COLLATE "C"`
	}
	live, err := c.Live.Query(ctx, q)
	if err != nil {
		return err
	}
	defer live.Close()
	// One import at a time: its chunks are consecutive in key order.
	var (
		cur     string
		sum     hash.Hash
		seen    map[int]bool
		bad     bool // a problem named a chunk of cur already
		orphans = map[string]int{}
		done    = map[string]bool{}
		stop    bool
	)
	finish := func() {
		if cur == "" {
			return
		}
		done[cur] = true
		l, ok := inLog[cur]
		if !ok {
			return
		}
		for k := 0; k < l.chunks && !stop; k++ {
			if !seen[k] {
				bad = true
				stop = c.Problem("stats_columns: import %s: chunk %d, which entry %d counts, is missing (deleted behind custos's back)", cur, k, l.index)
			}
		}
		if !bad && !stop && hex.EncodeToString(sum.Sum(nil)) != l.sum {
			stop = c.Problem("stats_columns: import %s: its %d chunks do not match the SHA-256 entry %d carries (changed behind custos's back; the entry has one digest for all of them)", cur, l.chunks, l.index)
		}
	}
	for live.Next() && !stop {
		var id, imp string
		var chunk, n int
		var data []byte
		if err := live.Scan(&id, &imp, &chunk, &n, &data); err != nil {
			return err
		}
		if imp != cur {
			finish()
			cur, sum, seen, bad = imp, sha256.New(), map[int]bool{}, false
		}
		l, ok := inLog[imp]
		if !ok {
			orphans[imp]++
			continue
		}
		col, err := strconv.Atoi(id[strings.LastIndexByte(id, '/')+1:])
		switch {
		case err != nil || col < 0 || col >= int(numCols) || id != columnKey(imp, chunk, col):
			bad = true
			stop = c.Problem("stats_columns: import %s: row id=%s is not a column of a chunk (inserted behind custos's back)", imp, id)
			continue
		case chunk >= l.chunks:
			bad = true
			stop = c.Problem("stats_columns: import %s: chunk %d is past the %d chunks entry %d counts (inserted behind custos's back)", imp, chunk, l.chunks, l.index)
			continue
		case len(data) != n*width(col):
			bad = true
			stop = c.Problem("stats_columns: import %s: chunk %d column %s holds %d bytes, not %d for its %d records (changed behind custos's back)", imp, chunk, colNames[col], len(data), n*width(col), n)
		}
		seen[chunk] = true
		fmt.Fprintf(sum, "%d/%d/%d:", chunk, col, len(data))
		sum.Write(data)
	}
	if err := live.Err(); err != nil {
		return err
	}
	if stop {
		return nil
	}
	finish()
	ids := make([]string, 0, len(inLog))
	for id, l := range inLog {
		if !done[id] && l.chunks > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		if c.Problem("stats_columns: import %s: its %d chunks, which entry %d counts, are all missing (deleted behind custos's back)", id, inLog[id].chunks, inLog[id].index) {
			return nil
		}
	}
	for _, id := range slices.Sorted(maps.Keys(orphans)) {
		c.Note("stats_columns: %d column(s) of import %s, which is not in the log (an import that did not finish): never counted", orphans[id], id)
	}
	return nil
}
