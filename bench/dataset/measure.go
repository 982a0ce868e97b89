package dataset

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/transplant"
)

// Pending is a transplantation authorized but not yet recorded.
type Pending struct {
	OrganID, RecipientID, CentreID, AuthID string
}

// PendingTransplants lists up to limit authorized transplantations of organs
// still procured: the generated pool.
func PendingTransplants(ctx context.Context, db *store.DB, limit int) ([]Pending, error) {
	rows, err := db.Read().Query(ctx, `SELECT ta.organ_id, ta.recipient_id, ta.centre_id, ta.id FROM transplant_authorizations ta
		WHERE NOT EXISTS (SELECT 1 FROM transplants t WHERE t.organ_id = ta.organ_id) ORDER BY ta.id LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, p *Pending) error {
		return r.Scan(&p.OrganID, &p.RecipientID, &p.CentreID, &p.AuthID)
	})
}

// Coordinators maps each centre to its coordinator.
func Coordinators(cs []Centre) map[string]*auth.Principal {
	m := map[string]*auth.Principal{}
	for _, c := range cs {
		m[c.ID] = c.Coord
	}
	return m
}

// parallel runs fn on every item with the given number of clients.
func parallel(items []Pending, clients int, fn func(Pending) error) (time.Duration, error) {
	ch := make(chan Pending)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range ch {
				if err := fn(it); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, it := range items {
		ch <- it
	}
	close(ch)
	wg.Wait()
	return time.Since(start), first
}

// RecordTransplants records each pending transplantation through the real
// command, Service.RecordTransplant (rule checks, log leaf, durable commit),
// with the given number of concurrent clients.
func RecordTransplants(ctx context.Context, app *server.App, coord map[string]*auth.Principal, items []Pending, clients int) (time.Duration, error) {
	return parallel(items, clients, func(it Pending) error {
		_, err := app.Transplant.RecordTransplant(ctx, coord[it.CentreID], transplant.NewTransplant{OrganID: it.OrganID,
			RecipientID: it.RecipientID, CentreID: it.CentreID, AuthorizationID: it.AuthID,
			PerformedAt: time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)})
		return err
	})
}

// CreateBaseline makes transplants_baseline, a copy of the transplants table
// (same columns, keys, references and index) outside the log.
func CreateBaseline(ctx context.Context, db *store.DB) error {
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{"DROP TABLE IF EXISTS transplants_baseline", `CREATE TABLE transplants_baseline (
	id TEXT PRIMARY KEY,
	organ_id TEXT NOT NULL UNIQUE REFERENCES organs(id),
	recipient_id TEXT NOT NULL REFERENCES recipients(id),
	centre_id TEXT NOT NULL REFERENCES authorities(id),
	authorization_id TEXT NOT NULL REFERENCES transplant_authorizations(id),
	performed_at TEXT NOT NULL,
	recorded_at TEXT NOT NULL,
	recorded_by TEXT NOT NULL,
	log_index BIGINT NOT NULL)`, "CREATE INDEX transplants_baseline_recipient ON transplants_baseline (recipient_id)"} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// DropBaseline removes transplants_baseline.
func DropBaseline(ctx context.Context, db *store.DB) error {
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(ctx, "DROP TABLE IF EXISTS transplants_baseline"); err != nil {
		return err
	}
	return tx.Commit()
}

// BaselineInsert inserts the same transplant rows as plain INSERTs into
// transplants_baseline, one durable transaction per row, no log, no rule
// checks, with the given number of concurrent clients.
func BaselineInsert(ctx context.Context, db *store.DB, coord map[string]*auth.Principal, items []Pending, clients int) (time.Duration, error) {
	ids := ledger.NewIDs(cryptoReader{})
	return parallel(items, clients, func(it Pending) error {
		return BaselineInsertOne(ctx, db, ids.New("TX"), coord[it.CentreID].ID, it)
	})
}

// BaselineInsertOne inserts one baseline row in its own transaction.
func BaselineInsertOne(ctx context.Context, db *store.DB, id, by string, it Pending) error {
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := ledger.FormatTime(time.Now())
	if _, err := tx.Exec(ctx, `INSERT INTO transplants_baseline (id, organ_id, recipient_id, centre_id, authorization_id, performed_at, recorded_at, recorded_by, log_index)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, it.OrganID, it.RecipientID, it.CentreID, it.AuthID, now, now, by, -1); err != nil {
		return err
	}
	return tx.Commit()
}

// Latencies are sorted sample durations.
type Latencies []time.Duration

// Sample times fn n times (after warm warm-up calls), each on a random index
// below max, and returns the sorted durations.
func Sample(n, warm, max int, seed uint64, fn func(i int) error) (Latencies, error) {
	r := rand.New(rand.NewPCG(seed, 1))
	for k := 0; k < warm; k++ {
		if err := fn(r.IntN(max)); err != nil {
			return nil, err
		}
	}
	out := make(Latencies, n)
	for k := range out {
		i := r.IntN(max)
		t0 := time.Now()
		if err := fn(i); err != nil {
			return nil, err
		}
		out[k] = time.Since(t0)
	}
	slices.Sort(out)
	return out, nil
}

// Q returns the q-quantile (0..1).
func (l Latencies) Q(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	k := int(q*float64(len(l))+0.5) - 1
	return l[max(0, min(k, len(l)-1))]
}

// Max returns the largest sample.
func (l Latencies) Max() time.Duration { return l.Q(1) }

// ScanAll reads every row of the projected tables and of the log: the I/O
// floor of a verification, without hashing or replaying.
func ScanAll(ctx context.Context, db *store.DB, reg *ledger.Projections) (int64, error) {
	q, err := db.Snapshot(ctx)
	if err != nil {
		return 0, err
	}
	defer q.Rollback()
	names := []string{"log_leaves", "log_nodes"}
	for _, t := range reg.ProjectedTables() {
		names = append(names, t.Name)
	}
	var n int64
	for _, name := range names {
		rows, err := q.Query(ctx, "SELECT * FROM "+name)
		if err != nil {
			return n, err
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return n, err
			}
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Verify runs ledger.Verify and fails unless the log and tables agree.
func Verify(ctx context.Context, app *server.App) (*ledger.Report, error) {
	rep, err := ledger.Verify(ctx, app.DB, app.Projections, ledger.VerifyOptions{VerifierKey: app.Keys.LogKey})
	if err != nil {
		return nil, err
	}
	if !rep.OK() {
		return rep, fmt.Errorf("log verify found %d problems, first: %s", len(rep.Problems), rep.Problems[0])
	}
	return rep, nil
}

type cryptoReader struct{}

func (cryptoReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(rand.Uint32())
	}
	return len(p), nil
}
