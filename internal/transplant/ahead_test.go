package transplant_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestTransplantsInOneCommit records one transplantation four times at once,
// in one commit, where the writer answers the rules' read ahead on
// PostgreSQL (ledger.Ahead): the reads after the first of them share its
// organ and must see it transplanted, so exactly one is recorded and the others are
// refused as an organ already transplanted, by the rule, not by the table's
// unique organ (whose failure makes the writer run the batch again).
func TestTransplantsInOneCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newRuleWorld(t, dsn)
		before := w.svc.W.Counts()
		ta, err := w.svc.AuthorizeTransplant(ctx, w.coordA, authorization(w.organs[1], w.waitingKidney, w.CentreA))
		if err != nil {
			t.Fatal(err)
		}
		// A first command holds the writer until the others are queued.
		holding, release := make(chan struct{}), make(chan struct{})
		held := make(chan error, 1)
		go func() {
			_, err := w.svc.W.Submit(ctx, ledger.Actor{Principal: "PR-T"}, "hold", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
				close(holding)
				<-release
				return nil, errs.Invalidf("held", "", "held")
			})
			held <- err
		}()
		<-holding
		const n = 4
		errsOf := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errsOf[i] = w.svc.RecordTransplant(ctx, w.coordA, transplant.NewTransplant{OrganID: w.organs[1], RecipientID: w.waitingKidney,
					CentreID: w.CentreA, PerformedAt: apptest.Hours(0), AuthorizationID: ta.ID})
			}()
		}
		// A command with a read of its own joins them: whichever of them
		// comes first reads in the transaction, so at least one of the
		// others has its read answered ahead.
		wg.Add(1)
		go func() {
			defer wg.Done()
			const one = "SELECT 1"
			_, err := w.svc.W.SubmitAhead(ctx, ledger.Actor{Principal: "PR-T"}, "other", &ledger.Ahead{Keys: []string{"other"}, Read: store.Ahead{SQL: one}},
				func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
					var k int
					if err := tx.QueryRow(ctx, one).Scan(&k); err != nil {
						return nil, err
					}
					return nil, errs.Invalidf("other", "", "nothing to record")
				})
			if e, ok := errs.As(err); !ok || e.Rule != "other" {
				t.Errorf("the other command: %v", err)
			}
		}()
		time.Sleep(100 * time.Millisecond) // let them queue behind the holder
		close(release)
		wg.Wait()
		<-held
		recorded := 0
		for i, err := range errsOf {
			if err == nil {
				recorded++
				continue
			}
			if e, ok := errs.As(err); !ok || e.Rule != "organ_available" {
				t.Errorf("transplant %d: %v; want recorded or refused by organ_available", i, err)
			}
		}
		if recorded != 1 {
			t.Errorf("%d of %d transplants of one organ recorded; want 1", recorded, n)
		}
		var rows int
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM transplants WHERE organ_id = ?", w.organs[1]).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows != 1 {
			t.Errorf("%d transplants rows of organ %s; want 1", rows, w.organs[1])
		}
		c := w.svc.W.Counts()
		if c.Reruns != before.Reruns {
			t.Errorf("the writer ran %d batches again; want none", c.Reruns-before.Reruns)
		}
		if ahead := c.ReadAhead - before.ReadAhead; (ahead > 0) != (w.App.DB.Dialect == store.Postgres) {
			t.Errorf("%d reads answered ahead on %s", ahead, w.App.DB.Dialect)
		}
		// Waiting for them is part of the commands' phase.
		wait, cmds := c.Phases.ReadAheadWait-before.Phases.ReadAheadWait, c.Phases.Commands-before.Phases.Commands
		if wait > cmds || cmds <= 0 {
			t.Errorf("waited %v for reads ahead in %v of commands", wait, cmds)
		}
	})
}
