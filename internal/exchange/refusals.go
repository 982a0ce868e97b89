package exchange

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"maps"
	"slices"
	"time"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/tick"
)

// TypeRefusalsCommitted commits the refusals kept in exchange_refusals since
// the last such entry to the log, by their number and SHA-256.
const TypeRefusalsCommitted = "exchange.refusals_committed"

// RefusalsCommitted is the data of exchange.refusals_committed: how many
// refusals it commits and the SHA-256 of their rows (refusalsDigest). Its
// projector marks them with its index (commit_index).
type RefusalsCommitted struct {
	Refusals int64  `json:"refusals"`
	SHA256   string `json:"sha256"`
}

// RefusalPeriod is how often, at most, the registry commits the refusals it
// kept to the log (CommitRefusals).
const RefusalPeriod = time.Minute

// The refusals of messages whose signature verified are kept in
// exchange_refusals, so that the same envelope posted again is answered with
// the same refusal (Receive). A refusal is not a leaf of its own: whoever
// holds a suspended or an expired key of a peer can have any number of
// messages refused, and the log's growth stays bounded by what the
// registry accepts (as alert repeats are counted outside the log). But a
// refusal deleted behind custos's back would let the envelope, posted
// again once the cause is gone (the peer resumed), be received, and the
// receiver's log would then contradict the signed refusal in the sender's.
// So the registry commits them: at most once a RefusalPeriod, when some are
// not yet committed, one entry names how many and their SHA-256, and its
// projector marks them with its index; log verify (verifyRefusals) checks
// the rows of each commitment against it. Those kept since the last
// commitment (a period's, or those of a registry whose server is stopped)
// are not yet checked.

// refusalColumns are the columns of a refusal its commitment covers.
const refusalColumns = "id, peer_id, message_sha256, code, rule, field, reason, receipt, receipt_key, receipt_signature, refused_at"

// addRefusal adds a row of exchange_refusals (its refusalColumns) to a
// commitment's digest: each column's length and bytes, so that no two rows
// share one.
func addRefusal(h hash.Hash, cols []string) {
	for _, c := range cols {
		fmt.Fprintf(h, "%d:%s", len(c), c)
	}
}

// refusalsOrder reads the refusals in the order their digest takes them:
// by id, byte by byte on PostgreSQL too.
func refusalsOrder(q store.Queryer) string {
	if q.Dialect() == store.Postgres {
		return ` ORDER BY id COLLATE "C"`
	}
	return " ORDER BY id"
}

// refusalsDigest counts and hashes the refusals of one commitment (0: those
// not yet committed).
func refusalsDigest(ctx context.Context, q store.Queryer, commit int64) (int64, string, error) {
	rows, err := q.Query(ctx, "SELECT "+refusalColumns+" FROM exchange_refusals WHERE commit_index = ?"+refusalsOrder(q), commit)
	if err != nil {
		return 0, "", err
	}
	defer rows.Close()
	h := sha256.New()
	var n int64
	cols := make([]string, 11)
	ptrs := make([]any, len(cols))
	for i := range cols {
		ptrs[i] = &cols[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return 0, "", err
		}
		addRefusal(h, cols)
		n++
	}
	return n, hex.EncodeToString(h.Sum(nil)), rows.Err()
}

// CommitRefusals commits to the log the refusals kept since the last
// commitment (one exchange.refusals_committed entry by the registry itself),
// unless there are none or the last commitment is less than a RefusalPeriod
// old. custos serve runs it every period (RunRefusals); several servers of
// one registry commit each refusal once. It tells whether it wrote one.
func (s *Service) CommitRefusals(ctx context.Context) (bool, error) {
	return s.W.CommitKept(ctx, s.DB.Read(), "SELECT COUNT(*) FROM exchange_refusals WHERE commit_index = 0", "commit the refusals kept", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		var last string
		if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(committed_at), '') FROM exchange_refusal_commits").Scan(&last); err != nil {
			return nil, err
		}
		if last > ledger.FormatTime(now.Add(-RefusalPeriod)) {
			return nil, nothingToCommit()
		}
		n, sum, err := refusalsDigest(ctx, tx, 0)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, nothingToCommit()
		}
		return ledger.NewEntry(TypeRefusalsCommitted, RefusalsCommitted{Refusals: n, SHA256: sum})
	})
}

// nothingToCommit refuses a commitment that another server made meanwhile,
// or one less than a period after the last.
func nothingToCommit() error {
	return errs.New(errs.Conflict, "nothing_to_commit", "", "the refusals kept are committed already, or were less than a period ago")
}

// RunRefusals commits the refusals kept (CommitRefusals) at once and then
// every RefusalPeriod until ctx ends.
func (s *Service) RunRefusals(ctx context.Context, log func(error)) {
	tick.Run(ctx, RefusalPeriod, nil, func(ctx context.Context) error { _, err := s.CommitRefusals(ctx); return err }, log)
}

// projectRefusalsCommitted records a commitment and marks the refusals it
// commits, those not yet committed: the writer's transaction holds the
// log's head, and a refusal is kept only while holding it too
// (rememberRefusal), so they are the ones its command counted. On a replay
// exchange_refusals is empty and only the commitment is written.
func projectRefusalsCommitted(ctx context.Context, q store.Queryer, i int64, e *ledger.Entry, d *RefusalsCommitted) error {
	if _, err := q.Exec(ctx, "INSERT INTO exchange_refusal_commits (id, log_index, refusals, sha256, committed_at) VALUES (?, ?, ?, ?, ?)",
		fmt.Sprintf("%020d", i), i, d.Refusals, d.SHA256, e.At); err != nil {
		return err
	}
	_, err := q.Exec(ctx, "UPDATE exchange_refusals SET commit_index = ? WHERE commit_index = 0", i)
	return err
}

// verifyRefusals is the exchange's part of log verify: the refusals each
// exchange.refusals_committed entry committed (the rows of exchange_refusals
// whose commit_index is its index) must be as many as it counts and hash
// to its SHA-256. One missing is a deletion behind custos's back, which
// would let its envelope be received if posted again; one changed, or
// marked with an index no commitment has, is a change. The refusals not yet
// committed are a note.
func verifyRefusals(ctx context.Context, c ledger.CheckRun) error {
	rows, err := c.Replay.Query(ctx, "SELECT log_index, refusals, sha256 FROM exchange_refusal_commits")
	if err != nil {
		return err
	}
	type commit struct {
		n   int64
		sum string
	}
	logged := map[int64]commit{}
	for rows.Next() {
		var i int64
		var x commit
		if err := rows.Scan(&i, &x.n, &x.sum); err != nil {
			rows.Close()
			return err
		}
		logged[i] = x
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// The live rows, a commitment at a time.
	q := "SELECT commit_index, " + refusalColumns + " FROM exchange_refusals"
	if c.Live.Dialect() == store.Postgres {
		q += ` ORDER BY commit_index, id COLLATE "C"`
	} else {
		q += " ORDER BY commit_index, id"
	}
	live, err := c.Live.Query(ctx, q)
	if err != nil {
		return err
	}
	defer live.Close()
	type got struct {
		n   int64
		h   hash.Hash
		ids []string // of a commitment the log does not hold: the first rows
	}
	seen := map[int64]*got{}
	cols := make([]string, 11)
	ptrs := []any{new(int64)}
	for i := range cols {
		ptrs = append(ptrs, &cols[i])
	}
	for live.Next() {
		if err := live.Scan(ptrs...); err != nil {
			return err
		}
		i := *ptrs[0].(*int64)
		g := seen[i]
		if g == nil {
			g = &got{h: sha256.New()}
			seen[i] = g
		}
		g.n++
		addRefusal(g.h, cols)
		if len(g.ids) < 3 {
			g.ids = append(g.ids, cols[0])
		}
	}
	if err := live.Err(); err != nil {
		return err
	}
	var committed int64
	for _, x := range logged {
		committed += x.n
	}
	c.Covered("exchange_refusals: %d refusals of %d commitments, each commitment's rows against its count and SHA-256 in the log", committed, len(logged))
	for _, i := range slices.Sorted(maps.Keys(logged)) {
		want, g := logged[i], seen[i]
		if g == nil {
			g = &got{h: sha256.New()}
		}
		var stop bool
		switch {
		case g.n < want.n:
			stop = c.Problem("table exchange_refusals: the rows whose commit_index is %d are %d, but entry %d committed %d refusals (deleted behind custos's back: their envelopes, posted again, would be received once the cause is gone)",
				i, g.n, i, want.n)
		case g.n > want.n:
			stop = c.Problem("table exchange_refusals: the rows whose commit_index is %d are %d, but entry %d committed %d refusals (inserted behind custos's back)", i, g.n, i, want.n)
		case hex.EncodeToString(g.h.Sum(nil)) != want.sum:
			stop = c.Problem("table exchange_refusals: the %d rows whose commit_index is %d do not match the SHA-256 entry %d carries (changed behind custos's back)", g.n, i, i)
		}
		if stop {
			return nil
		}
	}
	for _, i := range slices.Sorted(maps.Keys(seen)) {
		if _, ok := logged[i]; ok {
			continue
		}
		if i == 0 {
			c.Note("exchange_refusals: %d refusal(s) not yet committed to the log (the registry commits them within a minute while it serves)", seen[i].n)
			continue
		}
		if c.Problem("table exchange_refusals: row id=%q has commit_index %d, which is no commitment of the log (changed behind custos's back)", seen[i].ids[0], i) {
			return nil
		}
	}
	return nil
}
