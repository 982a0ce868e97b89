package disclosure

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/errs"
)

// extended is the published table with its totals as one grid (the column
// totals as row r, the row totals as column c), and the true counts.
func extended(t *testing.T, tab Table, p Published) (cells [][]Cell, truth [][]int) {
	t.Helper()
	r, c := len(tab.Rows), len(tab.Cols)
	truth = make([][]int, r+1)
	for i := range truth {
		truth[i] = make([]int, c+1)
	}
	for i := range r {
		for j := range c {
			v := tab.Counts[i][j]
			truth[i][j] += v
			truth[i][c] += v
			truth[r][j] += v
			truth[r][c] += v
		}
	}
	for i := range r {
		cells = append(cells, append(append([]Cell(nil), p.Cells[i]...), p.RowTotals[i]))
	}
	cells = append(cells, append(append([]Cell(nil), p.ColTotals...), p.Total))
	return cells, truth
}

// recomputable lists the suppressed cells of the grid that the published
// cells and the table's sums determine, by exact linear algebra on the
// rationals, independent of the graph Protect reasons with: the unknowns are
// the suppressed cells, the equations say that each row sums to its total,
// each column to its total, and the totals to the grand total; an unknown is
// determined when its unit vector lies in the span of the equations, that
// is, when its pivot row of the reduced matrix has no other entry.
func recomputable(cells [][]Cell) [][2]int {
	r, c := len(cells)-1, len(cells[0])-1
	var unknown [][2]int
	col := map[[2]int]int{}
	for i := range r + 1 {
		for j := range c + 1 {
			if cells[i][j].Suppressed {
				col[[2]int{i, j}] = len(unknown)
				unknown = append(unknown, [2]int{i, j})
			}
		}
	}
	var m [][]*big.Rat
	equation := func(terms map[[2]int]int64) {
		row := make([]*big.Rat, len(unknown))
		for k := range row {
			row[k] = new(big.Rat)
		}
		for at, coef := range terms {
			if k, ok := col[at]; ok {
				row[k].SetInt64(coef)
			}
		}
		m = append(m, row)
	}
	for i := range r + 1 { // each row, the total row too, sums to its total
		terms := map[[2]int]int64{{i, c}: -1}
		for j := range c {
			terms[[2]int{i, j}] = 1
		}
		equation(terms)
	}
	for j := range c + 1 { // each column, the total column too
		terms := map[[2]int]int64{{r, j}: -1}
		for i := range r {
			terms[[2]int{i, j}] = 1
		}
		equation(terms)
	}
	// Reduced row echelon form.
	pivotRow := map[int]int{}
	row := 0
	for k := 0; k < len(unknown) && row < len(m); k++ {
		p := -1
		for x := row; x < len(m); x++ {
			if m[x][k].Sign() != 0 {
				p = x
				break
			}
		}
		if p < 0 {
			continue
		}
		m[row], m[p] = m[p], m[row]
		inv := new(big.Rat).Inv(m[row][k])
		for y := range m[row] {
			m[row][y].Mul(m[row][y], inv)
		}
		for x := range m {
			if x == row || m[x][k].Sign() == 0 {
				continue
			}
			f := new(big.Rat).Set(m[x][k])
			for y := range m[x] {
				m[x][y].Sub(m[x][y], new(big.Rat).Mul(f, m[row][y]))
			}
		}
		pivotRow[k] = row
		row++
	}
	var out [][2]int
	for k, pr := range pivotRow {
		alone := true
		for y := range m[pr] {
			if y != k && m[pr][y].Sign() != 0 {
				alone = false
			}
		}
		if alone {
			out = append(out, unknown[k])
		}
	}
	return out
}

// checkProtected fails t unless p publishes tab correctly under threshold:
// every count below it (and above 0) suppressed, every published figure
// true, a suppressed cell's value hidden, no suppressed cell recomputable,
// and every line with a suppressed cell holding at least two.
func checkProtected(t *testing.T, tab Table, p Published, threshold int) {
	t.Helper()
	cells, truth := extended(t, tab, p)
	for i, row := range cells {
		for j, cell := range row {
			v := truth[i][j]
			switch {
			case v > 0 && v < threshold && !cell.Suppressed:
				t.Errorf("cell (%d,%d) = %d is published under threshold %d", i, j, v, threshold)
			case v > 0 && v < threshold && !cell.Primary:
				t.Errorf("cell (%d,%d) = %d is not marked primary", i, j, v)
			case cell.Suppressed && cell.Value != 0:
				t.Errorf("suppressed cell (%d,%d) carries its value %d", i, j, cell.Value)
			case !cell.Suppressed && cell.Value != v:
				t.Errorf("cell (%d,%d) published as %d, is %d", i, j, cell.Value, v)
			}
		}
	}
	for i, row := range cells {
		n := 0
		for _, cell := range row {
			if cell.Suppressed {
				n++
			}
		}
		if n == 1 {
			t.Errorf("row %d of the grid has one suppressed cell", i)
		}
	}
	for j := range cells[0] {
		n := 0
		for i := range cells {
			if cells[i][j].Suppressed {
				n++
			}
		}
		if n == 1 {
			t.Errorf("column %d of the grid has one suppressed cell", j)
		}
	}
	if rc := recomputable(cells); len(rc) > 0 {
		t.Errorf("suppressed cells recomputable from the totals: %v\n%s", rc, show(cells, truth))
	}
	if z := zeroLines(cells, truth); len(z) > 0 {
		t.Errorf("lines whose published total shows their suppressed cells to be 0: %v\n%s", z, show(cells, truth))
	}
}

// zeroLines lists the lines of the grid (rows "r<i>", columns "c<j>", the
// totals' included) whose total is published and whose suppressed cells hold
// 0 in all: counts being non-negative, each of them is then known to be 0,
// which the linear algebra of recomputable does not see.
func zeroLines(cells [][]Cell, truth [][]int) []string {
	r, c := len(cells)-1, len(cells[0])-1
	var out []string
	check := func(name string, at [][2]int) {
		total := at[len(at)-1]
		if cells[total[0]][total[1]].Suppressed {
			return
		}
		hidden, sum := 0, 0
		for _, x := range at[:len(at)-1] {
			if cells[x[0]][x[1]].Suppressed {
				hidden++
				sum += truth[x[0]][x[1]]
			}
		}
		if hidden > 0 && sum == 0 {
			out = append(out, name)
		}
	}
	for i := range r + 1 {
		var at [][2]int
		for j := range c + 1 {
			at = append(at, [2]int{i, j})
		}
		check(fmt.Sprintf("r%d", i), at)
	}
	for j := range c + 1 {
		var at [][2]int
		for i := range r + 1 {
			at = append(at, [2]int{i, j})
		}
		check(fmt.Sprintf("c%d", j), at)
	}
	return out
}

// TestZerosDoNotGiveAwayACell: a 0 suppressed to protect a small count in a
// column of zeros, whose published total of 0 shows it to be 0, protects
// nothing: the row's total then gives the small count (the table below, as
// Protect published it, showed its 3 so). Nor does a row of zeros.
func TestZerosDoNotGiveAwayACell(t *testing.T) {
	for _, tab := range []Table{
		table([]int{0, 10, 3}, []int{0, 20, 40}),
		table([]int{0, 10, 3}, []int{0, 20, 40}, []int{0, 30, 30}),
		table([]int{10, 3}, []int{20, 40}, []int{0, 0}),
		table([]int{0, 0, 0}, []int{0, 2, 0}, []int{0, 9, 9}),
	} {
		p, err := Protect(tab, DefaultThreshold)
		if err != nil {
			t.Fatal(err)
		}
		checkProtected(t, tab, p, DefaultThreshold)
	}
}

func show(cells [][]Cell, truth [][]int) string {
	var b strings.Builder
	for i, row := range cells {
		for j, c := range row {
			fmt.Fprintf(&b, "%4d%s", truth[i][j], map[bool]string{true: "*", false: " "}[c.Suppressed])
		}
		b.WriteString("\n")
	}
	return b.String()
}

func table(counts ...[]int) Table {
	t := Table{Counts: counts}
	for i := range counts {
		t.Rows = append(t.Rows, fmt.Sprintf("r%d", i))
	}
	if len(counts) > 0 {
		for j := range counts[0] {
			t.Cols = append(t.Cols, fmt.Sprintf("c%d", j))
		}
	}
	return t
}

// TestSuppressedCellsCannotBeRecomputed protects random tables, many with
// small counts, and checks each against exact linear algebra: no suppressed
// cell follows from the published cells and totals.
func TestSuppressedCellsCannotBeRecomputed(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 3))
	suppressed := 0
	for n := range 400 {
		r, c := 1+rng.IntN(6), 1+rng.IntN(6)
		counts := make([][]int, r)
		for i := range counts {
			counts[i] = make([]int, c)
			for j := range counts[i] {
				switch rng.IntN(4) {
				case 0:
					counts[i][j] = 0
				case 1:
					counts[i][j] = 1 + rng.IntN(4)
				default:
					counts[i][j] = rng.IntN(60)
				}
			}
		}
		threshold := []int{1, 3, 5, 10}[rng.IntN(4)]
		tab := table(counts...)
		p, err := Protect(tab, threshold)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(fmt.Sprintf("%d-%dx%d-k%d", n, r, c, threshold), func(t *testing.T) { checkProtected(t, tab, p, threshold) })
		for _, row := range p.Cells {
			for _, cell := range row {
				if cell.Suppressed {
					suppressed++
				}
			}
		}
	}
	if suppressed == 0 {
		t.Fatal("no table had a suppressed cell: the test tested nothing")
	}
}

// TestRecomputableSeesALoneSuppression checks the checker: one suppressed
// cell in a row is recomputable, two in a rectangle are not.
func TestRecomputableSeesALoneSuppression(t *testing.T) {
	lone := [][]Cell{{{Suppressed: true}, {Value: 7}, {Value: 9}}, {{Value: 2}, {Value: 7}, {Value: 9}}, {{Value: 4}, {Value: 14}, {Value: 18}}}
	if got := recomputable(lone); len(got) != 1 {
		t.Errorf("a lone suppressed cell: recomputable %v, want it", got)
	}
	rect := [][]Cell{{{Suppressed: true}, {Suppressed: true}, {Value: 9}}, {{Suppressed: true}, {Suppressed: true}, {Value: 9}}, {{Value: 4}, {Value: 14}, {Value: 18}}}
	if got := recomputable(rect); len(got) != 0 {
		t.Errorf("a rectangle: recomputable %v, want none", got)
	}
}

func TestEdgeCases(t *testing.T) {
	suppressedCount := func(p Published) int {
		n := 0
		for i, row := range p.Cells {
			for _, c := range row {
				if c.Suppressed {
					n++
				}
			}
			if p.RowTotals[i].Suppressed {
				n++
			}
		}
		for _, c := range p.ColTotals {
			if c.Suppressed {
				n++
			}
		}
		if p.Total.Suppressed {
			n++
		}
		return n
	}
	for _, c := range []struct {
		name       string
		tab        Table
		threshold  int
		suppressed int // in the grid with totals; -1: do not count
	}{
		{"zeros are published", table([]int{0, 0}, []int{0, 0}), 5, 0},
		{"large counts are published", table([]int{10, 20}, []int{30, 40}), 5, 0},
		{"all small: all but a grand total of 7", table([]int{1, 2}, []int{3, 1}), 5, 8},
		{"one small cell: a rectangle of four", table([]int{2, 20, 30}, []int{40, 50, 60}, []int{70, 80, 90}), 5, 4},
		{"a small total with its cells", table([]int{1, 2, 0}, []int{40, 50, 60}, []int{70, 80, 90}), 5, -1},
		{"one cell", table([]int{3}), 5, 4},
		{"one row", table([]int{3, 10, 12}), 5, -1},
		{"one column", table([]int{3}, []int{10}, []int{12}), 5, -1},
		{"threshold 1 suppresses nothing", table([]int{1, 2}, []int{3, 1}), 1, 0},
		{"a zero beside a small count", table([]int{0, 3}, []int{10, 20}), 5, -1},
		{"no rows", table(), 5, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := Protect(c.tab, c.threshold)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.tab.Rows) > 0 {
				checkProtected(t, c.tab, p, c.threshold)
			}
			if n := suppressedCount(p); c.suppressed >= 0 && n != c.suppressed {
				t.Errorf("%d cells suppressed, want %d", n, c.suppressed)
			}
		})
	}
	t.Run("the small total's row", func(t *testing.T) {
		p, _ := Protect(table([]int{1, 2, 0}, []int{40, 50, 60}, []int{70, 80, 90}), 5)
		if !p.RowTotals[0].Suppressed || !p.RowTotals[0].Primary {
			t.Errorf("a row total of 3 is published: %+v", p.RowTotals[0])
		}
	})
	t.Run("the cheapest complement", func(t *testing.T) {
		// The 2 is protected by the 6 beside it and the 7 and 8 below: the
		// smallest rectangle, not the large counts or a total.
		p, _ := Protect(table([]int{2, 6, 100}, []int{7, 8, 200}, []int{300, 400, 500}), 5)
		want := [][]bool{{true, true, false}, {true, true, false}, {false, false, false}}
		for i := range want {
			for j := range want[i] {
				if p.Cells[i][j].Suppressed != want[i][j] {
					t.Errorf("cell (%d,%d) suppressed %v, want %v", i, j, p.Cells[i][j].Suppressed, want[i][j])
				}
			}
		}
		if p.Total.Suppressed || p.RowTotals[0].Suppressed || p.ColTotals[0].Suppressed {
			t.Errorf("a total is suppressed: %+v", p)
		}
	})
}

func TestRefusals(t *testing.T) {
	for _, c := range []struct {
		tab       Table
		threshold int
		field     string
	}{
		{table([]int{1}), 0, "threshold"},
		{table([]int{-1, 2}), 5, "counts"},
		{Table{Rows: []string{"a"}, Cols: []string{"x", "y"}, Counts: [][]int{{1}}}, 5, "counts"},
		{Table{Rows: []string{"a", "b"}, Cols: []string{"x"}, Counts: [][]int{{1}}}, 5, "counts"},
	} {
		_, err := Protect(c.tab, c.threshold)
		if e, ok := errs.As(err); !ok || e.Code != errs.Invalid || e.Field != c.field {
			t.Errorf("%+v threshold %d: %v, want invalid field %s", c.tab, c.threshold, err, c.field)
		}
	}
}

func TestLines(t *testing.T) {
	tab := table([]int{2, 20}, []int{30, 40})
	tab.Corner = "centre"
	p, _ := Protect(tab, 5)
	if got := strings.Join(p.Columns(), ","); got != "centre,c0,c1,total" {
		t.Errorf("columns %s", got)
	}
	var lines [][]any
	for l, err := range p.Lines() {
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	// The 2 is protected by the other three counts: the one rectangle that
	// leaves the totals published.
	want := "[r0 x x 22] [r1 x x 70] [total 32 60 92]"
	if got := fmt.Sprint(lines); got != "["+want+"]" {
		t.Errorf("lines %s, want %s", got, want)
	}
}
