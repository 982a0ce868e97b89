package store

import (
	"database/sql/driver"
	"errors"

	"modernc.org/sqlite"
)

// SQLiteAggregate makes name(...) an aggregate function in every SQLite
// statement of the connections opened after it (call it from an init
// function), with any number of arguments. newAgg is called for each
// evaluation (a statement's group of rows); step is given each row's
// values (as a scanned row's values come: int64, float64, string, []byte,
// nil), which point into SQLite's memory and must not be kept; final gives
// the result. newAgg must be safe to call from several connections at
// once; the step and final it returns serve one evaluation. A statement
// that folds a table's rows into one value in SQLite reads one column in
// all, instead of one or more for each row.
func SQLiteAggregate(name string, newAgg func() (step func(args []driver.Value) error, final func() driver.Value)) {
	sqlite.MustRegisterFunction(name, &sqlite.FunctionImpl{NArgs: -1, Deterministic: true, VolatileArgs: true,
		MakeAggregate: func(sqlite.FunctionContext) (sqlite.AggregateFunction, error) {
			step, final := newAgg()
			return &aggregate{step: step, final: final}, nil
		}})
}

type aggregate struct {
	step  func([]driver.Value) error
	final func() driver.Value
}

func (a *aggregate) Step(_ *sqlite.FunctionContext, args []driver.Value) error { return a.step(args) }

func (a *aggregate) WindowInverse(*sqlite.FunctionContext, []driver.Value) error {
	return errors.New("not a window function")
}

func (a *aggregate) WindowValue(*sqlite.FunctionContext) (driver.Value, error) { return a.final(), nil }

func (a *aggregate) Final(*sqlite.FunctionContext) {}
