package ledger

import (
	"context"
	"errors"
	"time"

	"github.com/custos-project/custos/internal/store"
)

// What a command's Decide writes outside the projected tables (e-mails in
// the outbox) the log commits to through the command's entry, whose
// projection records it (the outbox's mail_committed). Two hooks keep a
// module from forgetting either half:
//
//   - Every: a projector run after the projector of every type registered
//     with On, on the entry's decoded data, so that what any module's
//     entries carry is projected by the package that owns it, not by each
//     module's projector (mail.Queuer);
//   - AfterProject: a check the Decide that wrote registers, which the
//     writer runs once the entry is projected, in the command's savepoint,
//     so that a command whose entry does not commit to what it wrote fails
//     at its first run, in its module's tests, rather than at the next
//     log verify.

// DataProjector is a projector of Every: data is the entry's data as On
// decoded it (a *T).
type DataProjector func(ctx context.Context, q store.Queryer, index int64, e *Entry, data any) error

// Every adds p, run after the projector of every entry type registered
// with On, live and in replays alike.
func (r *Projections) Every(p DataProjector) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.every = append(r.every, p)
}

// projectEvery runs the projectors of Every on an entry's decoded data.
func (r *Projections) projectEvery(ctx context.Context, q store.Queryer, index int64, e *Entry, data any) error {
	r.mu.RLock()
	every := r.every
	r.mu.RUnlock()
	for _, p := range every {
		if err := p(ctx, q, index, e, data); err != nil {
			return err
		}
	}
	return nil
}

// AfterCheck is a check of AfterProject: it reads what the command's
// projection wrote (q is the command's transaction) and returns an error
// when the entry e did not commit to what the Decide wrote.
type AfterCheck func(ctx context.Context, q store.Queryer, e *Entry) error

// command is what the writer keeps of the command being decided.
type command struct {
	after []AfterCheck
}

type commandKey struct{}

// ErrNotDeciding is AfterProject's answer outside a Decide the writer runs.
var ErrNotDeciding = errors.New("ledger: not inside a command's Decide run by the writer")

// AfterProject registers, from a command's Decide (ctx is the one the
// writer gave it), a check the writer runs once the command's entry is
// projected, in the command's savepoint: its error fails the command as
// the Decide's would, and a refused command's checks do not run. Outside
// such a Decide it returns ErrNotDeciding, so that what a Decide writes is
// never written where no entry commits to it.
func AfterProject(ctx context.Context, check AfterCheck) error {
	c, ok := ctx.Value(commandKey{}).(*command)
	if !ok {
		return ErrNotDeciding
	}
	c.after = append(c.after, check)
	return nil
}

// decideCommand runs decide with a context that AfterProject registers on,
// projects its entry and runs the checks registered.
func (w *Writer) decideCommand(ctx, rctx context.Context, tx *store.Tx, now time.Time, index int64, at string, r *request) (*Entry, error) {
	c := &command{}
	claim := claimOf(rctx)
	if claim != nil {
		// The key's look-up is the writer's, not the command's: the
		// command's read answered ahead is set aside for it.
		a := tx.Answering()
		tx.Answer(nil)
		err := checkClaim(ctx, tx, now, claim)
		tx.Answer(a)
		if err != nil {
			return nil, err
		}
	}
	e, err := r.decide(context.WithValue(rctx, commandKey{}, c), tx, now)
	if err != nil {
		return nil, err
	}
	e.V, e.At, e.By, e.Authority = Version, at, r.actor.Principal, r.actor.Authority
	if err := w.reg.Project(ctx, tx, index, e); err != nil {
		return nil, err
	}
	for _, check := range c.after {
		if err := check(ctx, tx, e); err != nil {
			return nil, err
		}
	}
	if claim != nil {
		// The key goes with the command's writes, in its savepoint.
		if err := storeClaim(ctx, tx, index, at, claim); err != nil {
			return nil, err
		}
		r.claimed = true
	}
	return e, nil
}
