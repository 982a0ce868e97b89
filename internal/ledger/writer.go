package ledger

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/note"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/store"
)

// Decide validates a command against the registry's current state, inside the
// write transaction, and returns the entry to append. It must not write: the
// entry's projector does that, so that live writes and replays share one path.
// A refusal is an *errs.Error; one with Alert set is recorded as an alert.
type Decide func(ctx context.Context, tx *store.Tx, now time.Time) (*Entry, error)

// Result is what an accepted command got: its leaf index and entry.
type Result struct {
	Index int64
	Entry *Entry
}

// Writer is the single write path of a database: it runs commands in order,
// groups those that arrive together into one durable commit, and appends one
// leaf per accepted command. Several processes may each run a Writer on one
// PostgreSQL database: each batch locks the log head row, so leaf indices stay
// one gapless sequence.
type Writer struct {
	db       *store.DB
	reg      *Projections
	signer   note.Signer
	origin   string
	now      func() time.Time
	ids      *IDs
	log      *slog.Logger
	maxBatch int
	window   time.Duration
	period   time.Duration
	// repeatKey keys the MAC of the repeat counts kept outside the log
	// (WriterConfig.RepeatKey); unsoundRepeats are those found without it.
	repeatKey      []byte
	unsoundRepeats unsoundRepeats

	reqs    chan *request
	stop    chan struct{}
	stopped sync.WaitGroup

	// cached head: reused when the stored size has not moved under us.
	cache *state
	// keyOK is set once the signing key is known to be the log's own.
	keyOK bool

	// answered and reruns count the reads answered ahead and the batches
	// run again (Counts).
	answered, reruns atomic.Int64
	// timed holds the batches committed and their phases' time, together
	// so that Counts reads one with the other.
	timed struct {
		sync.Mutex
		batches int64
		phases  BatchPhases
	}

	// OnCommit, when set, is called after each batch commits with its size,
	// before its clients are answered: it must not block. refused counts
	// the commands a rule refused: not a Stale refusal, which its caller
	// runs again, nor an Unchanged one, which its caller answers as a
	// success, nor a fault (an error that is not an *errs.Error).
	OnCommit func(accepted, refused int, took time.Duration)

	// onQueued is told of each command queued (OnQueued).
	onQueued atomic.Pointer[func(ctx context.Context, name string)]
}

// OnQueued has f called with each command's context and name once the
// command is queued, before it waits for its turn (nil: no more); f must
// not block. It may be set while commands run: tests use it to act while
// a command waits, rather than sleep and hope it does.
func (w *Writer) OnQueued(f func(ctx context.Context, name string)) {
	if f == nil {
		w.onQueued.Store(nil)
		return
	}
	w.onQueued.Store(&f)
}

type request struct {
	ctx    context.Context
	actor  Actor
	name   string
	ahead  *Ahead
	decide Decide
	res    Result
	err    error
	done   chan struct{}
	// claimed says the command stored its context's idempotency key
	// (Claim) in its savepoint.
	claimed bool
}

// WriterConfig configures a Writer.
type WriterConfig struct {
	Signer   note.Signer
	Origin   string
	Now      func() time.Time // defaults to time.Now
	IDs      *IDs             // defaults to random ids
	Logger   *slog.Logger
	MaxBatch int // commands per commit, default 512
	// AlertWindow is how long an alert stays the one a retried refusal
	// repeats: a refusal identical in rule, field, command, principal and
	// authority to an alert raised within the window and not closed is
	// counted on that alert, not as a second alert. Default
	// DefaultAlertWindow; negative raises every one.
	AlertWindow time.Duration
	// RepeatPeriod is how often the log records the repeats of one open
	// alert: a repeat RepeatPeriod or more after the alert's last leaf is
	// an alert.repeated leaf that counts it and those counted meanwhile;
	// one sooner is counted outside the log (alert_repeats), changing no
	// leaf. So refusals that anyone may cause (a forged exchange envelope)
	// add at most one leaf a period per alert. Default DefaultRepeatPeriod;
	// negative logs every repeat.
	RepeatPeriod time.Duration
	// RepeatKey keys the HMAC each repeat count kept outside the log
	// carries, so that one written behind custos's back is never logged
	// (custos serve derives it from the master key, so that every server
	// of a registry has it). Nil: a random key of this process, whose
	// counts a later process discards.
	RepeatKey []byte
}

// DefaultAlertWindow is the writer's AlertWindow unless configured.
const DefaultAlertWindow = 10 * time.Minute

// DefaultRepeatPeriod is the writer's RepeatPeriod unless configured.
const DefaultRepeatPeriod = time.Minute

// NewWriter starts a writer on db. Close stops it.
func NewWriter(db *store.DB, reg *Projections, cfg WriterConfig) *Writer {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.IDs == nil {
		cfg.IDs = NewIDs(rand.Reader)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 512
	}
	if cfg.AlertWindow == 0 {
		cfg.AlertWindow = DefaultAlertWindow
	}
	if cfg.RepeatPeriod == 0 {
		cfg.RepeatPeriod = DefaultRepeatPeriod
	}
	if cfg.RepeatKey == nil {
		cfg.RepeatKey = make([]byte, 32)
		rand.Read(cfg.RepeatKey)
	}
	w := &Writer{db: db, reg: reg, signer: cfg.Signer, origin: cfg.Origin, now: cfg.Now, ids: cfg.IDs,
		log: cfg.Logger, maxBatch: cfg.MaxBatch, window: cfg.AlertWindow, period: cfg.RepeatPeriod, repeatKey: cfg.RepeatKey, reqs: make(chan *request, 4096), stop: make(chan struct{})}
	w.stopped.Add(1)
	go w.loop()
	return w
}

// WriterCounts are counts of how a writer ran its commands since it started.
type WriterCounts struct {
	// ReadAhead counts the commands whose declared read was answered ahead
	// (Ahead).
	ReadAhead int64
	// Reruns counts the batches run again because a write failed after
	// its command was counted (a fault: see Writer's log).
	Reruns int64
	// Batches counts the batches committed; Phases adds up where their
	// time went.
	Batches int64
	Phases  BatchPhases
}

// BatchPhases add up the time committed batches spent in each phase, in
// the order a batch runs them. Divided by the batches, they tell what bounds
// the log's write rate: on PostgreSQL the commands' reads answered ahead run
// on other backends, their writes and the commit on the writer's one
// (docs/operations.md, "How a national deployment grows").
type BatchPhases struct {
	// Begin: the transaction begun and the log's head locked.
	Begin time.Duration
	// Commands: each command decided and its writes made or sent;
	// ReadAheadWait is the part of it spent waiting for the reads answered
	// ahead to come back.
	Commands, ReadAheadWait time.Duration
	// Append: the leaves, the tree's nodes and the signed head written.
	Append time.Duration
	// Commit: the writes still queued run and the transaction committed
	// durably.
	Commit time.Duration
}

// Counts returns the writer's counts.
func (w *Writer) Counts() WriterCounts {
	w.timed.Lock()
	defer w.timed.Unlock()
	return WriterCounts{ReadAhead: w.answered.Load(), Reruns: w.reruns.Load(), Batches: w.timed.batches, Phases: w.timed.phases}
}

// IDs returns the writer's id source, for commands that assign ids.
func (w *Writer) IDs() *IDs { return w.ids }

// Now is the time on the writer's clock (WriterConfig.Now), the one its
// entries and idempotency keys are stamped with.
func (w *Writer) Now() time.Time { return w.now() }

// AlertRules returns the rules the deployment declares to raise alerts
// (Projections.DeclareAlertRules), sorted; none without projections.
func (w *Writer) AlertRules() []string {
	if w.reg == nil {
		return nil
	}
	return w.reg.AlertRules()
}

// DB returns the database the writer writes to.
func (w *Writer) DB() *store.DB { return w.db }

// ErrClosed is returned for commands submitted after Close.
var ErrClosed = errors.New("the writer is closed")

// Stale is the refusal of a command whose reads the log overtook (an
// import recorded after the answer was made from the registry): its caller
// runs it again at once, so the writer does not count it among the
// commands refused by a rule (OnCommit's refused).
type Stale struct{ Refusal *errs.Error }

func (s Stale) Error() string { return s.Refusal.Error() }

// Unwrap gives the refusal, so that errs.As finds it.
func (s Stale) Unwrap() error { return s.Refusal }

// Unchanged is how a command's Decide says it would change nothing (a
// publication sent again after its answer was lost): no entry is written,
// and its caller answers success, so the writer does not count it among
// the commands refused by a rule (OnCommit's refused). Refusal is what the
// caller recognizes it by; it is never shown.
type Unchanged struct{ Refusal *errs.Error }

func (u Unchanged) Error() string { return u.Refusal.Error() }

// Unwrap gives the refusal, so that errs.As finds it.
func (u Unchanged) Unwrap() error { return u.Refusal }

// Ahead declares the read a command's Decide begins with, so that on
// PostgreSQL the writer can send it on another connection as the command's
// transaction begins: another backend runs it while the writer's runs the
// commands before, and Decide's QueryRow of the same statement with the same
// arguments takes its row without a round trip (store.Tx.Answer).
//
// The row is the state committed before the transaction, so it answers the
// command only when nothing before it in the transaction could have changed
// it: every command before it in the transaction declared an Ahead (those
// that come together run first), and none shares a key with it. A command
// that declares none (Submit) reads in the transaction, and so do those
// after it.
type Ahead struct {
	// Keys name what the read depends on and what the command's projection
	// changes that another command's read could depend on ("organ:ID",
	// "recipient:ID"): two commands with no key in common must not change
	// what the other's read returns.
	Keys []string
	Read store.Ahead
}

// Submit runs one command and waits until it is durably committed or refused.
func (w *Writer) Submit(ctx context.Context, actor Actor, name string, decide Decide) (Result, error) {
	return w.SubmitAhead(ctx, actor, name, nil, decide)
}

// CommitKept writes, as the registry itself (no principal), the entry that
// commits to rows kept outside the log (the exchange's refusals, the
// witnesses' cosignatures), when the query waiting, run on q, counts some
// rows not yet committed. decide builds the entry, or refuses when there is
// nothing to commit after all (another server committed them, the last
// commitment is too recent): a refusal is no error. It tells whether it
// wrote an entry. The background loop of custos serve runs it every period.
func (w *Writer) CommitKept(ctx context.Context, q store.Queryer, waiting, name string, decide Decide) (bool, error) {
	var n int
	if err := q.QueryRow(ctx, waiting).Scan(&n); err != nil {
		return false, fmt.Errorf("%s: count the rows to commit: %w", name, err)
	}
	if n == 0 {
		return false, nil
	}
	_, err := w.Submit(ctx, Actor{}, name, decide)
	if _, refused := errs.As(err); refused {
		return false, nil
	}
	return err == nil, err
}

// Refused records the refusal err of what is not a command, a read, as a
// command's refusal is recorded: as an alert when err is an *errs.Error with
// Alert set (repeats counted as a command's are), and not at all otherwise.
// It returns err, or the error recording it.
func (w *Writer) Refused(ctx context.Context, actor Actor, name string, err error) error {
	if e, ok := errs.As(err); ok && e.Alert {
		_, err = w.Submit(ctx, actor, name, func(context.Context, *store.Tx, time.Time) (*Entry, error) { return nil, e })
	}
	return err
}

// SubmitAhead is Submit for a command whose first read is declared (Ahead).
func (w *Writer) SubmitAhead(ctx context.Context, actor Actor, name string, ahead *Ahead, decide Decide) (Result, error) {
	r := &request{ctx: ctx, actor: actor, name: name, ahead: ahead, decide: decide, done: make(chan struct{})}
	select {
	case <-w.stop:
		return Result{}, ErrClosed
	case w.reqs <- r:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	if f := w.onQueued.Load(); f != nil {
		(*f)(ctx, name)
	}
	// Once queued, the command may commit: wait for the outcome rather than
	// report a failure for a write that then lands.
	<-r.done
	if c, _ := ctx.Value(claimKey{}).(*Claim); c != nil {
		c.settle(r.res, r.err, r.claimed)
	}
	return r.res, r.err
}

// SubmitAs runs one command as Submit does and decodes the entry it recorded
// into a new T: what a service answers for a command is the record it wrote.
func SubmitAs[T any](ctx context.Context, w *Writer, actor Actor, name string, decide Decide) (*T, error) {
	return SubmitAheadAs[T](ctx, w, actor, name, nil, decide)
}

// SubmitAheadAs is SubmitAs for a command whose first read is declared
// (Ahead).
func SubmitAheadAs[T any](ctx context.Context, w *Writer, actor Actor, name string, ahead *Ahead, decide Decide) (*T, error) {
	res, err := w.SubmitAhead(ctx, actor, name, ahead, decide)
	if err != nil {
		return nil, err
	}
	out := new(T)
	if err := res.Entry.Decode(out); err != nil {
		return nil, err
	}
	return out, nil
}

// Close stops the writer after the commands already queued.
func (w *Writer) Close() {
	select {
	case <-w.stop:
		return
	default:
	}
	close(w.stop)
	w.stopped.Wait()
}

func (w *Writer) loop() {
	defer w.stopped.Done()
	expect := 1 // size of the previous batch
	for {
		var first *request
		select {
		case first = <-w.reqs:
		case <-w.stop:
			// Drain what was queued before the stop.
			for {
				select {
				case r := <-w.reqs:
					w.run([]*request{r})
				default:
					return
				}
			}
		}
		batch := w.fill([]*request{first}, expect)
		expect = len(batch)
		w.run(batch)
	}
}

// fill adds the commands already queued to batch. The clients of the previous
// batch, woken by its commit, are usually about to submit again: when fewer
// than that batch's size are queued, the writer yields for a moment to let
// them in, so that concurrent clients keep sharing one commit instead of
// alternating between a batch of one and a batch of the rest.
func (w *Writer) fill(batch []*request, expect int) []*request {
	var start time.Time
	for yields := 0; ; yields++ {
		batch = w.queued(batch)
		if len(batch) >= min(expect, w.maxBatch) {
			return batch
		}
		if yields == 0 {
			start = time.Now()
		} else if time.Since(start) > maxFillWait {
			return batch
		}
		runtime.Gosched()
	}
}

// queued adds the commands already queued to batch, without waiting.
func (w *Writer) queued(batch []*request) []*request {
	for len(batch) < w.maxBatch {
		select {
		case r := <-w.reqs:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// maxBatchTime bounds how long commands keep joining a transaction, and so
// how long its first command waits for its commit.
const maxBatchTime = 10 * time.Millisecond

// maxFillWait bounds how long fill waits for a previous batch's clients: a
// fraction of one durable commit.
const maxFillWait = 300 * time.Microsecond

func (w *Writer) run(batch []*request) {
	start := time.Now()
	batch, accepted, refused, err := w.commit(batch, false)
	if errors.Is(err, errRerun) {
		// A write failed after its command was reported a success (the
		// writes of a command go with the next one's read): the batch runs
		// again, each command learning the fate of its own writes.
		w.log.Warn("a write failed after its command was counted; the batch runs again, each command's writes sent at its end", "commands", len(batch))
		w.reruns.Add(1)
		w.cache = nil
		for _, r := range batch {
			r.res, r.err, r.claimed = Result{}, nil, false
		}
		batch, accepted, refused, err = w.commit(batch, true)
	}
	if err != nil {
		w.cache = nil
		w.log.Error("log commit failed", "commands", len(batch), "err", err)
		for _, r := range batch {
			if r.err == nil || errs.CodeOf(r.err) != errs.Invalid {
				r.res, r.err = Result{}, fmt.Errorf("commit: %w", err)
			}
		}
	}
	// The batch is counted before its clients hear back, so that whoever
	// reads the metrics after an answer finds its command counted.
	if err == nil && w.OnCommit != nil {
		w.OnCommit(accepted, refused, time.Since(start))
	}
	for _, r := range batch {
		close(r.done)
	}
}

// errRerun asks run to run a batch again with each command's writes sent at
// its end (store.Tx.DeferRelease).
var errRerun = errors.New("a command's writes failed after it succeeded")

// commit runs the batch's commands in one transaction and commits it. Commands
// that arrive while it runs join it, up to maxBatch commands and maxBatchTime:
// the clients of a commit come back while the next one is being worked on,
// and would otherwise wait for a commit of their own. It returns the batch
// with the commands that joined.
//
// Unless careful, a command's writes and savepoint release are sent with the
// next command's first read (one round trip a command on PostgreSQL); when
// such writes fail, it returns errRerun and the batch must run again
// carefully, each command's writes sent at its end.
func (w *Writer) commit(batch []*request, careful bool) (_ []*request, accepted, refused int, err error) {
	ctx := context.Background()
	start := time.Now()
	tx, err := w.db.BeginWrite(ctx)
	if err != nil {
		return batch, 0, 0, err
	}
	defer tx.Rollback()
	// On PostgreSQL a command's writes go with its savepoint's release in
	// one round trip (and, unless careful, with the next command's read),
	// and the batch's leaves, nodes and head with the commit's flush
	// (store.Tx.Pipeline, store.Tx.DeferRelease).
	tx.Pipeline()
	if !careful {
		tx.DeferRelease()
		defer func() {
			if err != nil && tx.Deferred() != nil {
				err = errRerun
			}
		}()
	}
	st, err := w.head(ctx, tx)
	if err != nil {
		return batch, 0, 0, err
	}
	if err := w.checkKey(ctx, tx); err != nil {
		return batch, 0, 0, err
	}
	begun := time.Now()
	size := st.size()
	ra := &readsAhead{db: w.db, off: careful, sent: map[*request]bool{}, touched: map[string]bool{}}
	defer ra.close()
	ra.send(ctx, batch, 0)
	var leaves []leaf
	now := w.now().UTC()
	at := FormatTime(now)
	for i := 0; ; i++ {
		if i == len(batch) {
			if len(batch) < w.maxBatch && time.Since(start) < maxBatchTime {
				batch = w.queued(batch)
				ra.send(ctx, batch, i)
			}
			if i == len(batch) {
				break
			}
		}
		r := batch[i]
		if r.ctx.Err() != nil {
			r.err = r.ctx.Err()
			continue
		}
		// A command that has begun runs to its end: its client's going away
		// no longer interrupts its statements (which would also cost each
		// statement a goroutine to watch for it).
		rctx := context.WithoutCancel(r.ctx)
		if a := ra.answer(r); a != nil {
			w.answered.Add(1)
			// The commands before it are sent now: the writer's backend
			// runs them while this one is decided, its read answered
			// already.
			tx.Send(ctx)
			tx.Answer(a)
		}
		var e *Entry
		perr := tx.Savepoint(ctx, func() error {
			var err error
			e, err = w.decideCommand(ctx, rctx, tx, now, int64(size), at, r)
			return err
		})
		tx.Answer(nil)
		if tx.Deferred() != nil {
			return batch, 0, 0, errRerun
		}
		if perr != nil {
			r.err = perr
			ae, ok := errs.As(perr)
			if !ok {
				// A fault, not a rule's refusal: logged, not counted.
				w.log.Error("command failed", "command", r.name, "err", perr)
				r.err = errs.New(errs.Internal, "", "", "internal error")
				continue
			}
			if !errors.As(perr, new(Stale)) && !errors.As(perr, new(Unchanged)) {
				refused++
			}
			if !ae.Alert {
				continue
			}
			a, err := w.alert(ctx, tx, now, r, Alert{Rule: ae.Rule, Field: ae.Field, Message: ae.Message, Command: r.name})
			if err != nil {
				return batch, 0, 0, err
			}
			if a == nil {
				// A repeat counted outside the log: no leaf.
				if err := tx.Flush(ctx); err != nil {
					return batch, 0, 0, fmt.Errorf("count a repeated refusal: %w", err)
				}
				continue
			}
			a.V, a.At, a.By, a.Authority = Version, at, r.actor.Principal, r.actor.Authority
			if err := w.reg.Project(ctx, tx, int64(size), a); err != nil {
				return batch, 0, 0, fmt.Errorf("record alert: %w", err)
			}
			// Sent now, so that a failure is the alert's, not the next
			// command's.
			if err := tx.Flush(ctx); err != nil {
				return batch, 0, 0, fmt.Errorf("record alert: %w", err)
			}
			e = a
		} else {
			accepted++
			r.res = Result{Index: int64(size), Entry: e}
		}
		data, err := encodeEntry(e)
		if err != nil {
			return batch, 0, 0, err
		}
		leaves = append(leaves, leaf{index: size, data: data})
		size++
	}
	decided := time.Now()
	if len(leaves) > 0 {
		if err := w.append(ctx, tx, st, leaves); err != nil {
			return batch, 0, 0, err
		}
	}
	appended := time.Now()
	if err := tx.Commit(); err != nil {
		return batch, 0, 0, err
	}
	w.cache = st
	committed := time.Now()
	w.timed.Lock()
	w.timed.batches++
	p := &w.timed.phases
	p.Begin += begun.Sub(start)
	p.Commands += decided.Sub(begun)
	p.ReadAheadWait += tx.AheadWait()
	p.Append += appended.Sub(decided)
	p.Commit += committed.Sub(appended)
	w.timed.Unlock()
	return batch, accepted, refused, nil
}

// readsAhead sends the declared reads of a batch's commands (Ahead) and
// tells which of them answer their command.
type readsAhead struct {
	db      *store.DB
	off     bool // a careful run reads everything in the transaction
	aheads  *store.Aheads
	sent    map[*request]bool
	touched map[string]bool // the keys of the commands run so far
	unkeyed bool            // a command without an Ahead ran
}

// send sends the reads of batch[from:], the commands that joined since the
// last call, on another connection: sent once the head is locked, they see
// every commit before this transaction. Those commands are put in order
// first, the ones that declared a read before the others: one that did not
// would end the reads answered ahead for those after it. Commands in one
// batch were submitted concurrently, so any order is theirs.
func (ra *readsAhead) send(ctx context.Context, batch []*request, from int) {
	if ra.off {
		return
	}
	more := batch[from:]
	slices.SortStableFunc(more, func(a, b *request) int {
		return cmp.Compare(aheadRank(a), aheadRank(b))
	})
	var reads []*store.Ahead
	for j, r := range more {
		// The transaction's first command has no commands before it to
		// overlap with: its read goes on the writer's connection with its
		// savepoint, in one round trip, as a command alone does.
		if r.ahead != nil && from+j > 0 {
			reads = append(reads, &r.ahead.Read)
			ra.sent[r] = true
		}
	}
	if len(reads) == 0 {
		return
	}
	if ra.aheads == nil {
		ra.aheads = ra.db.SendAhead(ctx, reads)
	} else {
		ra.aheads.Send(ctx, reads)
	}
}

// answer returns the read that answers r, about to run, or nil when r reads
// in the transaction: when every command before it declared its read, their
// keys tell whether one of them changed its row. It notes r's keys.
func (ra *readsAhead) answer(r *request) *store.Ahead {
	var a *store.Ahead
	if ra.aheads != nil && ra.sent[r] && !ra.unkeyed && !anyKey(ra.touched, r.ahead.Keys) {
		a = &r.ahead.Read
	}
	if r.ahead == nil {
		ra.unkeyed = true
	} else {
		for _, k := range r.ahead.Keys {
			ra.touched[k] = true
		}
	}
	return a
}

// close waits for the reads and releases their connection.
func (ra *readsAhead) close() { ra.aheads.Close() }

// aheadRank orders a command that declared its read before one that did not.
func aheadRank(r *request) int {
	if r.ahead != nil {
		return 0
	}
	return 1
}

// anyKey tells whether one of keys is in set.
func anyKey(set map[string]bool, keys []string) bool {
	for _, k := range keys {
		if set[k] {
			return true
		}
	}
	return false
}

// alert is the entry that records a refusal with Alert set: a new
// alert.raised, or, for a repeat of an open alert raised within the window,
// either an alert.repeated that counts it with the repeats counted since the
// alert's last leaf (when that leaf is RepeatPeriod old or more) or nil: the
// repeat is counted in alert_repeats, outside the log, and no leaf is
// written. The decision is a leaf of its own, so a replay never depends on
// the window the writer ran with; the repeats not yet logged are not
// replayed (a leaf or the closing logs them later).
func (w *Writer) alert(ctx context.Context, tx *store.Tx, now time.Time, r *request, a Alert) (*Entry, error) {
	if w.window > 0 {
		o, err := repeatedAlert(ctx, tx, a, r.actor.Principal, r.actor.Authority, FormatTime(now.Add(-w.window)))
		if err != nil {
			return nil, fmt.Errorf("find the alert a refusal repeats: %w", err)
		}
		if o.id != "" {
			unlogged, _ := w.checkRepeats(o.id, o.repeats, o.logged)
			if w.period > 0 && o.logged > FormatTime(now.Add(-w.period)) {
				if err := w.countRepeat(ctx, tx, o.id, unlogged+1, FormatTime(now), o.logged); err != nil {
					return nil, fmt.Errorf("count a repeated refusal: %w", err)
				}
				return nil, nil
			}
			d := AlertRepeated{AlertID: o.id}
			if unlogged > 0 {
				d.Count = unlogged + 1
			}
			return NewEntry(TypeAlertRepeated, d)
		}
	}
	a.ID = w.ids.New("AL")
	return NewEntry(TypeAlert, a)
}

// head returns the compact range of the stored tree, locking the head row on
// PostgreSQL so that concurrent writers in other processes wait their turn.
func (w *Writer) head(ctx context.Context, tx *store.Tx) (*state, error) {
	lock := "SELECT size FROM log_state WHERE id = 1"
	if tx.Dialect() == store.Postgres {
		lock += " FOR UPDATE"
	}
	var size int64
	if err := tx.QueryRow(ctx, lock).Scan(&size); err != nil {
		return nil, fmt.Errorf("lock log head (was the database initialised with custos init?): %w", err)
	}
	if w.cache != nil && w.cache.size() == uint64(size) {
		return w.cache, nil
	}
	return loadState(ctx, tx)
}

// checkKey refuses to sign with a key that is not the log's: a server started
// with another registry's key file (easy to do with several servers) would
// otherwise sign checkpoints no auditor can verify and seal personal data
// under a master key the other servers lack.
func (w *Writer) checkKey(ctx context.Context, tx *store.Tx) error {
	if w.keyOK {
		return nil
	}
	var key string
	if err := tx.QueryRow(ctx, "SELECT value FROM settings WHERE name = 'log_key'").Scan(&key); err != nil {
		return fmt.Errorf("read the log's verifier key: %w", err)
	}
	v, err := note.NewVerifier(key)
	if err != nil {
		return fmt.Errorf("the log's verifier key: %w", err)
	}
	if v.Name() != w.signer.Name() || v.KeyHash() != w.signer.KeyHash() {
		return fmt.Errorf("the key file does not belong to this registry: its signing key is %s+%08x, the log's is %s+%08x; give the registry's own --key-file",
			w.signer.Name(), w.signer.KeyHash(), v.Name(), v.KeyHash())
	}
	w.keyOK = true
	return nil
}

type leaf struct {
	index uint64
	data  []byte
}

// append writes the leaves, every subtree they complete, and the new signed
// head. It mutates st only after all of it succeeded in the transaction; the
// caller drops the cache on failure.
func (w *Writer) append(ctx context.Context, tx *store.Tx, st *state, leaves []leaf) error {
	rng, root, err := writeTree(ctx, tx, st, leaves)
	if err != nil {
		return err
	}
	cp, err := SignCheckpoint(w.signer, w.origin, Head{Size: rng.End(), Root: root})
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE log_state SET size = ?, root = ?, checkpoint = ? WHERE id = 1",
		int64(rng.End()), root, cp); err != nil {
		return err
	}
	st.rng, st.root = rng, root
	return nil
}

// writeTree writes the leaves after the tree st holds, and every subtree they
// complete, and returns the range and root of the grown tree. It leaves st
// and the log head as they were.
func writeTree(ctx context.Context, tx *store.Tx, st *state, leaves []leaf) (*compact.Range, []byte, error) {
	rng, err := factory.NewRange(0, st.rng.End(), append([][]byte(nil), st.rng.Hashes()...))
	if err != nil {
		return nil, nil, err
	}
	var nodes []nodeRow
	visit := func(id compact.NodeID, h []byte) {
		if id.Level > 0 {
			nodes = append(nodes, nodeRow{int(id.Level), int64(id.Index), h})
		}
	}
	leafArgs := make([]any, 0, 3*len(leaves))
	for _, l := range leaves {
		h := LeafHash(l.data)
		if err := rng.Append(h, visit); err != nil {
			return nil, nil, err
		}
		leafArgs = append(leafArgs, int64(l.index), h, string(l.data))
	}
	if err := insertRows(ctx, tx, "INSERT INTO log_leaves (idx, hash, data) VALUES ", 3, leafArgs); err != nil {
		return nil, nil, fmt.Errorf("append leaves: %w", err)
	}
	nodeArgs := make([]any, 0, 3*len(nodes))
	for _, n := range nodes {
		nodeArgs = append(nodeArgs, n.level, n.index, n.hash)
	}
	if err := insertRows(ctx, tx, "INSERT INTO log_nodes (level, idx, hash) VALUES ", 3, nodeArgs); err != nil {
		return nil, nil, fmt.Errorf("append nodes: %w", err)
	}
	root, err := rng.GetRootHash(nil)
	if err != nil {
		return nil, nil, err
	}
	return rng, root, nil
}

type nodeRow struct {
	level int
	index int64
	hash  []byte
}

// insertRows inserts rows of n columns with multi-row VALUES lists, in chunks
// that stay under both engines' parameter limits.
func insertRows(ctx context.Context, tx *store.Tx, prefix string, n int, args []any) error {
	const rowsPerStmt = 200
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
	for len(args) > 0 {
		k := min(len(args)/n, rowsPerStmt)
		q := prefix + strings.TrimSuffix(strings.Repeat(tuple+", ", k), ", ")
		if _, err := tx.Exec(ctx, q, args[:k*n]...); err != nil {
			return err
		}
		args = args[k*n:]
	}
	return nil
}

// Init creates the log's head and appends the registry.initialized leaf. It is
// the first write of a new database and fails if the log already exists.
func Init(ctx context.Context, db *store.DB, reg *Projections, signer note.Signer, verifierKey, origin, jurisdiction string, now time.Time) error {
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM log_state").Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return errors.New("the log already exists")
	}
	empty := hasher.EmptyRoot()
	cp, err := SignCheckpoint(signer, origin, Head{Root: empty})
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO log_state (id, size, root, checkpoint) VALUES (1, 0, ?, ?)", empty, cp); err != nil {
		return err
	}
	e, err := NewEntry(TypeInitialized, Initialized{Jurisdiction: jurisdiction, Origin: origin, LogKey: verifierKey})
	if err != nil {
		return err
	}
	e.At = FormatTime(now)
	if err := reg.Project(ctx, tx, 0, e); err != nil {
		return err
	}
	data, err := encodeEntry(e)
	if err != nil {
		return err
	}
	w := &Writer{signer: signer, origin: origin}
	if err := w.append(ctx, tx, &state{rng: factory.NewEmptyRange(0)}, []leaf{{0, data}}); err != nil {
		return err
	}
	return tx.Commit()
}
