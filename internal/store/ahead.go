package store

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
)

// Ahead is a one-row read that a write transaction will make, sent before it
// is needed on another connection (SendAhead): on PostgreSQL another backend
// then runs it while the write transaction's own backend runs the statements
// before it, and the transaction's QueryRow of the same statement with the
// same arguments takes its row instead of a round trip (Tx.Answer).
//
// The row is the committed state when the read ran, not the transaction's:
// whoever answers a read from it must know that nothing the transaction
// wrote before could change it (the writer's commands declare what they
// touch, ledger.Ahead).
type Ahead struct {
	SQL  string
	Args []any

	row  Row
	done chan struct{}
}

// Aheads is a connection that Ahead reads are sent on, held until Close
// (their rows are scanned with its types).
type Aheads struct {
	db   *DB
	conn *sql.Conn
	done chan struct{} // closed when the reads sent last are read
}

// SendAhead sends reads on one connection of the primary's read pool, in one
// round trip, and returns at once; each read's row is ready when Tx.Answer's
// QueryRow needs it. More reads can follow on the same connection (Send). On
// SQLite, where a read costs no round trip and no other process runs it, it
// sends nothing and returns nil (Answer then ignores the reads). Close
// releases the connection.
func (db *DB) SendAhead(ctx context.Context, reads []*Ahead) *Aheads {
	if db.Dialect != Postgres {
		return nil
	}
	// The writer holds the log's head meanwhile: when every connection is
	// taken by long reads (an export), it reads in its transaction rather
	// than wait for one.
	if st := db.r.Stats(); st.Idle == 0 && st.OpenConnections >= st.MaxOpenConnections {
		return nil
	}
	conn, err := db.r.Conn(ctx)
	if err != nil {
		return nil
	}
	done := make(chan struct{})
	close(done)
	a := &Aheads{db: db, conn: conn, done: done}
	a.Send(ctx, reads)
	return a
}

// Send sends more reads on a's connection, once the reads sent before are
// read.
func (a *Aheads) Send(ctx context.Context, reads []*Ahead) {
	if len(reads) == 0 {
		return
	}
	prev, done := a.done, make(chan struct{})
	a.done = done
	for _, r := range reads {
		r.done = done
		r.row = Row{}
	}
	go func() {
		defer close(done)
		<-prev
		err := a.conn.Raw(func(dc any) error {
			c := dc.(*stdlib.Conn).Conn()
			bb := newBatch(c, a.db)
			var sent []*Ahead
			for _, r := range reads {
				if err := bb.add(ctx, r.SQL, r.Args, true); err != nil {
					r.row.err = err
					continue
				}
				sent = append(sent, r)
			}
			results, err := c.PgConn().ExecBatch(ctx, &bb.b).ReadAll()
			for i, r := range sent {
				if i < len(results) {
					r.row.set(bb.m, results[i])
				} else {
					r.row.err = errors.Join(errNotRead, err)
				}
			}
			return nil
		})
		if err != nil {
			for _, r := range reads {
				r.row.err = errors.Join(errNotRead, err)
			}
		}
	}()
}

var errNotRead = errors.New("not read ahead")

// Close waits for the reads and returns their connection to the pool; the
// rows they answered must have been scanned. It is safe on nil.
func (a *Aheads) Close() {
	if a == nil {
		return
	}
	<-a.done
	a.conn.Close()
}

// Answer makes the transaction's next QueryRow, when it is a's statement with
// a's arguments, take a's row (waiting for it) rather than run in the
// transaction; any other statement runs as usual, and a is forgotten either
// way. A read that failed on its connection is made in the transaction
// instead. Answer(nil), or of an Ahead that was not sent (SQLite), forgets
// the one before.
func (t *Tx) Answer(a *Ahead) {
	if a != nil && a.done == nil {
		a = nil
	}
	t.answer = a
}

// Answering returns the Ahead the transaction's next QueryRow takes its row
// from (Answer), nil when none: a statement of the writer's own run before
// the command's read sets it aside and gives it back.
func (t *Tx) Answering() *Ahead { return t.answer }

// AheadWait returns how long the transaction's QueryRow calls waited for
// the reads ahead that answered them (Answer) to come back.
func (t *Tx) AheadWait() time.Duration { return t.aheadWait }

// answered returns the row of the Ahead read of s with args, if Answer gave
// one and it could be read.
func (t *Tx) answered(s string, args []any) *Row {
	a := t.answer
	if a == nil {
		return nil
	}
	t.answer = nil
	if a.SQL != s || !reflect.DeepEqual(a.Args, args) {
		return nil
	}
	select {
	case <-a.done:
	default:
		start := time.Now()
		<-a.done
		t.aheadWait += time.Since(start)
	}
	if a.row.err != nil && !errors.Is(a.row.err, sql.ErrNoRows) {
		return nil
	}
	return &a.row
}
