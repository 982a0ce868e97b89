// Package disclosure is the one disclosure control of every figure custos
// publishes as an aggregate (statistics, dashboards' tables, the GODT, UNODC
// and StAR returns): a table of counts with its row and column totals, in
// which small counts are suppressed (primary suppression) and enough other
// cells with them (secondary suppression) that no suppressed cell can be
// recomputed from what is published.
//
// The rule: a count from 1 to Threshold-1 is suppressed, totals included;
// zeros are published (an empty cell says nothing about a person). Then,
// while some suppressed cell could be worked out exactly from the published
// cells and totals, the cheapest further cells are suppressed: interior cells
// before totals, small counts before large. "Worked out exactly" is the
// linear kind: the table's rows and columns each sum to their total, so a
// suppressed cell is recomputable when those sums pin it down, whatever the
// other suppressed cells hold. Seen as a graph whose nodes are the table's
// lines (its rows and its total row; its columns and its total column) and
// whose edges are the suppressed cells, a cell is pinned down exactly when
// its edge is a bridge; Protect leaves no bridge, so every line with a
// suppressed cell has at least two. Bounds that follow from counts being
// non-negative are not hidden: a suppressed pair that sums to 3 is known to
// hold values from 0 to 3.
package disclosure

import (
	"iter"
	"strconv"

	"github.com/custos-project/custos/internal/errs"
)

// DefaultThreshold is the threshold of a registry that sets none: counts
// of 1 to 4 are suppressed, as most national statistical offices do for
// tables of persons.
const DefaultThreshold = 5

// Table is a table of counts: Counts[i][j] is the count of row Rows[i] and
// column Cols[j]. The totals are computed, never given.
type Table struct {
	// Title names what is counted, and Corner heads the row labels.
	Title, Corner string
	Rows, Cols    []string
	Counts        [][]int
}

// Cell is a published count: its value, or that it is suppressed (and its
// value then 0, so that nothing downstream can print it by mistake).
type Cell struct {
	Value      int
	Suppressed bool
	// Primary is set on a cell suppressed because it is small; a cell
	// suppressed to protect another has Suppressed alone.
	Primary bool
}

// Suppressed is how a suppressed cell is shown.
const Suppressed = "x"

// String is the cell as a table shows it: its count, or Suppressed.
func (c Cell) String() string {
	if c.Suppressed {
		return Suppressed
	}
	return strconv.Itoa(c.Value)
}

// Published is a table after disclosure control, with its totals.
type Published struct {
	Title, Corner string
	Rows, Cols    []string
	Cells         [][]Cell
	// RowTotals[i] is the total of row i, ColTotals[j] of column j.
	RowTotals, ColTotals []Cell
	Total                Cell
	// Threshold is the threshold the table was protected with.
	Threshold int
}

// Protect applies the disclosure control with threshold (at least 1; 1
// suppresses nothing) to t. A table whose rows are not all as long as Cols,
// with a negative count, or a threshold below 1 is refused.
func Protect(t Table, threshold int) (Published, error) {
	if threshold < 1 {
		return Published{}, errs.Invalidf("range", "threshold", "threshold is out of range: it must be at least 1")
	}
	if len(t.Counts) != len(t.Rows) {
		return Published{}, errs.Invalidf("shape", "counts", "the table has %d rows of counts for %d row labels", len(t.Counts), len(t.Rows))
	}
	r, c := len(t.Rows), len(t.Cols)
	g := newGrid(r, c)
	for i, row := range t.Counts {
		if len(row) != c {
			return Published{}, errs.Invalidf("shape", "counts", "row %d has %d counts for %d columns", i, len(row), c)
		}
		for j, v := range row {
			if v < 0 {
				return Published{}, errs.Invalidf("range", "counts", "the count of row %d, column %d is negative", i, j)
			}
			g.v[i][j] = v
			g.v[i][c] += v
			g.v[r][j] += v
			g.v[r][c] += v
		}
	}
	for i := range r + 1 {
		for j := range c + 1 {
			if v := g.v[i][j]; v > 0 && v < threshold {
				g.s[i][j], g.primary[i][j] = true, true
			}
		}
	}
	g.secondary()
	for g.unpin() {
		g.secondary()
	}
	out := Published{Title: t.Title, Corner: t.Corner, Rows: t.Rows, Cols: t.Cols, Threshold: threshold,
		Cells: make([][]Cell, r), RowTotals: make([]Cell, r), ColTotals: make([]Cell, c), Total: g.cell(r, c)}
	for i := range r {
		out.Cells[i] = make([]Cell, c)
		for j := range c {
			out.Cells[i][j] = g.cell(i, j)
		}
		out.RowTotals[i] = g.cell(i, c)
	}
	for j := range c {
		out.ColTotals[j] = g.cell(r, j)
	}
	return out, nil
}

// grid is a table extended with its totals: row r is the column totals,
// column c the row totals, (r, c) the grand total.
type grid struct {
	r, c       int
	v          [][]int
	s, primary [][]bool
}

func newGrid(r, c int) *grid {
	g := &grid{r: r, c: c}
	for range r + 1 {
		g.v = append(g.v, make([]int, c+1))
		g.s = append(g.s, make([]bool, c+1))
		g.primary = append(g.primary, make([]bool, c+1))
	}
	return g
}

func (g *grid) cell(i, j int) Cell {
	if g.s[i][j] {
		return Cell{Suppressed: true, Primary: g.primary[i][j]}
	}
	return Cell{Value: g.v[i][j]}
}

// cost is what suppressing the cell (i, j) takes from the reader: its count,
// and far more for a total, which readers look at first. A 0 in a row or a
// column whose total is 0 costs more still: every cell of that line is 0
// and seen to be, hidden or not, so hiding it protects nothing.
func (g *grid) cost(i, j int) int64 {
	if g.s[i][j] {
		return 0
	}
	c := int64(g.v[i][j]) + 1
	if i == g.r || j == g.c {
		c += 1 << 40
	}
	if g.v[i][j] == 0 && (g.v[i][g.c] == 0 || g.v[g.r][j] == 0) {
		c += 1 << 41
	}
	return c
}

// unpin protects the suppressed cells that counts being non-negative give
// away: a line (a row or a column, the totals' included) whose total is
// published and whose suppressed cells hold 0 in all. Its total less its
// published cells is then 0, so each of them is 0: no longer hidden, and no
// longer hiding the cells they were suppressed to protect (a 0 suppressed
// beside a 3 in a column of total 0 shows the 3 from the 3's row). unpin
// suppresses one more cell of such a line, the cheapest that is not 0 (the
// line's suppressed cells then share a sum above 0, whose parts are not
// known), else its total, and tells whether it did; secondary runs again.
func (g *grid) unpin() bool {
	type line struct {
		cells [][2]int // the line's cells, its total last
	}
	var lines []line
	for i := range g.r + 1 {
		var l line
		for j := range g.c + 1 {
			l.cells = append(l.cells, [2]int{i, j})
		}
		lines = append(lines, l)
	}
	for j := range g.c + 1 {
		var l line
		for i := range g.r + 1 {
			l.cells = append(l.cells, [2]int{i, j})
		}
		lines = append(lines, l)
	}
	for _, l := range lines {
		total := l.cells[len(l.cells)-1]
		if g.s[total[0]][total[1]] {
			continue
		}
		hidden, sum := 0, 0
		for _, x := range l.cells[:len(l.cells)-1] {
			if g.s[x[0]][x[1]] {
				hidden++
				sum += g.v[x[0]][x[1]]
			}
		}
		if hidden == 0 || sum > 0 {
			continue
		}
		pick := total
		best := int64(-1)
		for _, x := range l.cells[:len(l.cells)-1] {
			if !g.s[x[0]][x[1]] && g.v[x[0]][x[1]] > 0 {
				if c := g.cost(x[0], x[1]); best < 0 || c < best {
					best, pick = c, x
				}
			}
		}
		g.s[pick[0]][pick[1]] = true
		return true
	}
	return false
}

// secondary suppresses cells until no suppressed cell is a bridge of the
// graph of suppressed cells. Each round protects one bridge (i, j) at the
// least cost: one more cell that joins the two parts the bridge alone joins,
// or the three (fewer when some are suppressed already) that close a
// rectangle through it. It ends: the table wholly suppressed has no bridge.
func (g *grid) secondary() {
	for {
		i, j, ok := g.bridge()
		if !ok {
			return
		}
		comp := g.components(i, j)
		best, cells := int64(-1), [][2]int(nil)
		consider := func(cost int64, cs ...[2]int) {
			if best < 0 || cost < best {
				best, cells = cost, cs
			}
		}
		for a := range g.r + 1 {
			for b := range g.c + 1 {
				if g.s[a][b] {
					continue
				}
				ra, cb := comp[a], comp[g.r+1+b]
				ri, cj := comp[i], comp[g.r+1+j]
				if (ra == ri && cb == cj) || (ra == cj && cb == ri) {
					consider(g.cost(a, b), [2]int{a, b})
				}
				if a != i && b != j {
					consider(g.cost(i, b)+g.cost(a, b)+g.cost(a, j), [2]int{i, b}, [2]int{a, b}, [2]int{a, j})
				}
			}
		}
		for _, x := range cells {
			g.s[x[0]][x[1]] = true
		}
	}
}

// bridge finds a suppressed cell whose edge is a bridge: without it, its row
// and its column are not joined by other suppressed cells.
func (g *grid) bridge() (int, int, bool) {
	for i := range g.r + 1 {
		for j := range g.c + 1 {
			if !g.s[i][j] {
				continue
			}
			comp := g.components(i, j)
			if comp[i] != comp[g.r+1+j] {
				return i, j, true
			}
		}
	}
	return 0, 0, false
}

// components labels the nodes of the graph of suppressed cells, less the
// cell (skipI, skipJ), by connected component: nodes 0..r are the rows,
// r+1..r+c+1 the columns.
func (g *grid) components(skipI, skipJ int) []int {
	n := g.r + 1 + g.c + 1
	comp := make([]int, n)
	for k := range comp {
		comp[k] = -1
	}
	label := 0
	for start := range n {
		if comp[start] >= 0 {
			continue
		}
		stack := []int{start}
		comp[start] = label
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			visit := func(y int) {
				if comp[y] < 0 {
					comp[y] = label
					stack = append(stack, y)
				}
			}
			if x <= g.r {
				for j := range g.c + 1 {
					if g.s[x][j] && (x != skipI || j != skipJ) {
						visit(g.r + 1 + j)
					}
				}
			} else {
				j := x - g.r - 1
				for i := range g.r + 1 {
					if g.s[i][j] && (i != skipI || j != skipJ) {
						visit(i)
					}
				}
			}
		}
		label++
	}
	return comp
}

// Columns are the column names of the published table as a file shows it:
// the corner, each column, then "total".
func (p Published) Columns() []string {
	return append(append([]string{p.Corner}, p.Cols...), "total")
}

// Lines yields the published table's rows as an export writes them
// (export.Write): each row's label, its cells and its total, then the row
// "total" of the column totals; a suppressed cell is Suppressed.
func (p Published) Lines() iter.Seq2[[]any, error] {
	return func(yield func([]any, error) bool) {
		line := func(label string, cells []Cell, total Cell) []any {
			out := []any{label}
			for _, c := range cells {
				out = append(out, value(c))
			}
			return append(out, value(total))
		}
		for i, row := range p.Cells {
			if !yield(line(p.Rows[i], row, p.RowTotals[i]), nil) {
				return
			}
		}
		yield(line("total", p.ColTotals, p.Total), nil)
	}
}

func value(c Cell) any {
	if c.Suppressed {
		return Suppressed
	}
	return c.Value
}
