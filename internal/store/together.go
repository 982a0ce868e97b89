package store

import (
	"context"
	"strconv"
	"strings"
)

// Write is one data-modifying statement of ExecTogether.
type Write struct {
	SQL  string
	Args []any
}

// ExecTogether runs writes that change different tables and read none of
// the tables the others change. On PostgreSQL they go as one statement, the
// first ones as data-modifying WITH queries of the last: the server then
// looks up one cached plan and opens one portal for them instead of one each,
// on the log writer's backend, which runs every command's writes in turn (for
// the transplant record 0.99–1.06× the rate and 0.93–1.04× the server's CPU:
// BENCHMARKS.md, "one statement a transplant"). PostgreSQL runs the parts of
// such a statement on one snapshot and in no set order, hence the rule on
// what they may touch; a part's error fails the whole statement, as it would
// fail the command anyway. SQLite, which has no data-modifying WITH, runs
// them one after the other.
func ExecTogether(ctx context.Context, q Queryer, writes ...Write) error {
	if q.Dialect() != Postgres || len(writes) <= 1 {
		for _, w := range writes {
			if _, err := q.Exec(ctx, w.SQL, w.Args...); err != nil {
				return err
			}
		}
		return nil
	}
	n := 0
	for _, w := range writes {
		n += len(w.Args)
	}
	args := make([]any, 0, n)
	for _, w := range writes {
		args = append(args, w.Args...)
	}
	_, err := q.Exec(ctx, together(writes), args...)
	return err
}

// together is the one PostgreSQL statement of writes: each but the last a
// WITH query named w1, w2, ..., the last the main statement.
func together(writes []Write) string {
	var b strings.Builder
	for i, w := range writes[:len(writes)-1] {
		if i == 0 {
			b.WriteString("WITH ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString("w" + strconv.Itoa(i+1) + " AS (")
		b.WriteString(w.SQL)
		b.WriteString(")\n")
	}
	b.WriteString(writes[len(writes)-1].SQL)
	return b.String()
}
