package store

import "database/sql"

// Scanner reads the columns of one row: a *sql.Rows at a row, or a *sql.Row,
// so that one scan function serves a list and a lookup.
type Scanner interface {
	Scan(dest ...any) error
}

// Rows reads every row of rows into a T with scan, then closes rows. The
// list is empty, never nil, when there are no rows, so that it encodes as
// an empty JSON array.
func Rows[T any](rows *sql.Rows, scan func(Scanner, *T) error) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		var v T
		if err := scan(rows, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Counts reads the (key, count) rows of a grouping query, such as
// "SELECT status, COUNT(*) FROM t GROUP BY status", into a map; a key that
// is NULL reads as "".
func Counts(rows *sql.Rows) (map[string]int, error) {
	defer rows.Close()
	m := map[string]int{}
	for rows.Next() {
		var k sql.NullString
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		m[k.String] += n
	}
	return m, rows.Err()
}

// ReadQuery is one query of DB.ReadBatch: Row reads each of its rows.
type ReadQuery struct {
	SQL  string
	Args []any
	Row  func(Scanner) error
}
