package web_test

import (
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/demo"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/transplant"
)

// TestBrowserRegulatorDashboard signs in as the regulator of a small demo
// registry (two years of activity, to last month), chooses the 24 months to
// last month on the home page's period form, reads every figure from the tables
// beside the charts, and recomputes each with its own SQL and Go against the
// database: activity by month, by centre and by organ, alerts by rule and
// state, and hash matching by month and stage. Each chart is an SVG with its
// title; each CSV link downloads its table; a bad period is refused on the
// form; a coordinator's home has no figures.
func TestBrowserRegulatorDashboard(t *testing.T) {
	path := findChromium()
	if path == "" {
		t.Skip("no Chromium found: set CUSTOS_CHROMIUM to a Chromium or Chrome binary, or install chromium, to run the browser test")
	}
	ctx := context.Background()
	cfg := server.Config{DSN: filepath.Join(t.TempDir(), "demo.db"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, err := demo.Ensure(ctx, cfg, demo.Options{Years: 2, Scale: 0.2}); err != nil {
		t.Fatal(err)
	}
	app, err := server.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(func() {
		srv.Close()
		app.Close()
	})
	tokens := map[auth.Role]string{}
	for _, tk := range demo.Tokens() {
		tokens[tk.Role] = tk.Token
	}

	b := newTab(t, path, srv.URL)
	b.signIn(tokens[auth.Regulator])
	if n := b.count("#figures .figure"); n != 7 {
		t.Fatalf("the regulator's home shows %d figures, want 7 (alerts, 3 of transplant, 3 of hash matching)", n)
	}
	now := time.Now().UTC()
	thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	until := thisMonth.AddDate(0, -1, 0).Format("2006-01")
	b.fill(map[string]string{"period-until": until, "period-months": "24"})
	b.click("show the period", `#period button[type="submit"]`, 200)
	if loc, _ := chromedp.Run(b.ctx, chromedp.Location()); !strings.HasSuffix(loc, "/?until="+until+"&months=24") {
		t.Errorf("the period form went to %s", loc)
	}
	b.screenshot("custos-dashboard.png")

	want := recompute(t, app.DB, thisMonth.AddDate(-2, 0, 0).Format("2006-01"), thisMonth.Format("2006-01"))
	var months []string
	for m := thisMonth.AddDate(-2, 0, 0); m.Before(thisMonth); m = m.AddDate(0, 1, 0) {
		months = append(months, m.Format("2006-01"))
	}
	for id, w := range want {
		got := b.table(id)
		if strings.Join(got.head, "|") != strings.Join(w.head, "|") {
			t.Errorf("%s: columns %q, want %q", id, got.head, w.head)
			continue
		}
		rows := w.rows
		if w.byMonth {
			rows = nil
			for _, m := range months {
				r := w.months[m]
				if r == nil {
					r = make([]int, len(w.head)-1)
				}
				rows = append(rows, append([]string{m}, ints(r)...))
			}
		}
		if len(got.rows) != len(rows) {
			t.Errorf("%s: %d rows on the page, want %d:\n%q\n%q", id, len(got.rows), len(rows), got.rows, rows)
			continue
		}
		for i := range rows {
			if strings.Join(got.rows[i], "|") != strings.Join(rows[i], "|") {
				t.Errorf("%s: row %d is %q, the database says %q", id, i, got.rows[i], rows[i])
			}
		}
		// Its chart: an SVG titled as the table, labelled for assistive
		// technology.
		title := b.eval(`document.querySelector('#` + id + `-chart > title').textContent`)
		if caption := b.eval(`document.querySelector('#` + id + `-table caption').textContent`); title == "" || title != caption {
			t.Errorf("%s: chart title %q, table caption %q", id, title, caption)
		}
		// Its CSV: the same table.
		csvText := b.eval(`(async () => { const r = await fetch(document.querySelector('#fig-`+id+` a.csv').href);
			return r.status + '\n' + r.headers.get('content-type') + '\n' + r.headers.get('content-disposition') + '\n' + await r.text(); })()`, chromedp.EvalAwaitPromise)
		status, ctype, disp, body := cut4(csvText)
		if status != "200" || ctype != "text/csv; charset=utf-8" || !strings.HasSuffix(attachment(disp), ".csv") {
			t.Errorf("%s: CSV answered %s, %s, %s", id, status, ctype, disp)
		}
		head, body := figureFile(t, body)
		if head["filter"] != "months=24&until="+until {
			t.Errorf("%s: CSV header %q", id, head)
		}
		// The same table, its columns the figure's fields and its
		// categories their codes (the file is the same in every language).
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(recs) != len(rows)+1 || strings.Join(recs[0], "|") != strings.Join(w.fileHead, "|") {
			t.Errorf("%s: CSV %q (%v)", id, body, err)
		} else {
			for i := range rows {
				row := slices.Clone(rows[i])
				if w.codes != nil {
					row[0] = w.codes[i]
				}
				if strings.Join(recs[i+1], "|") != strings.Join(row, "|") {
					t.Errorf("%s: CSV row %d is %q, want %q", id, i, recs[i+1], row)
				}
			}
		}
	}
	// The figures are not empty: the test would pass on zeros otherwise.
	if w := want["transplant-months"]; w.total < 100 {
		t.Errorf("the demo's two years have %d donations, organs and transplantations in all", w.total)
	}
	if w := want["alerts-rules"]; len(w.rows) == 0 {
		t.Error("the demo raised no alert in its two years")
	}

	// A period the form does not offer is refused there, naming the field.
	b.open("/?until="+until+"&months=13", 422)
	if rule, field := b.text("#refusal-rule"), b.text("#refusal-field"); rule != "enum" || field != "months" {
		t.Errorf("months=13 refused by %q on %q", rule, field)
	}
	// A coordinator records; the figures are the regulator's and the
	// auditor's.
	b.click("sign out", `.signout button[type="submit"]`, 200)
	b.signIn(tokens[transplant.RoleCoordinator])
	if n := b.count("#figures"); n != 0 {
		t.Errorf("a coordinator's home shows figures")
	}
	b.open("/figures/transplant-months.csv", 404)
	b.click("sign out", `.signout button[type="submit"]`, 200)
	b.signIn(tokens[auth.Auditor])
	if n := b.count("#figures .figure"); n != 7 {
		t.Errorf("the auditor's home shows %d figures, want 7", n)
	}
}

// pageTable is a table as the page shows it: its header and its rows.
type pageTable struct {
	head []string
	rows [][]string
}

// table reads the table of the figure id.
func (b *tab) table(id string) pageTable {
	b.t.Helper()
	cells, err := chromedp.Run(b.ctx, chromedp.Evaluate[[][]string](`Array.from(document.querySelectorAll('#`+id+`-table tr')).map(r => Array.from(r.cells).map(c => c.textContent.trim()))`))
	if err != nil {
		b.fatal("read the table of "+id, err)
	}
	if len(cells) == 0 {
		b.t.Fatalf("no table of %s on the page", id)
	}
	return pageTable{head: cells[0], rows: cells[1:]}
}

func (b *tab) eval(js string, opts ...chromedp.EvaluateOption) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js, opts...))
	if err != nil {
		b.fatal("evaluate "+js, err)
	}
	return s
}

func (b *tab) count(sel string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll('`+sel+`').length`))
	if err != nil {
		b.fatal("count "+sel, err)
	}
	return n
}

func cut4(s string) (a, b, c, d string) {
	p := strings.SplitN(s, "\n", 4)
	for len(p) < 4 {
		p = append(p, "")
	}
	return p[0], p[1], p[2], p[3]
}

func ints(ns []int) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = strconv.Itoa(n)
	}
	return out
}

// expected is a figure's table as the test computes it from the database:
// by month (months, filled with zeros for the months without a row), or its
// rows as they must read.
type expected struct {
	head     []string
	fileHead []string // the CSV's columns
	codes    []string // the CSV's categories, where they are not the page's
	byMonth  bool
	months   map[string][]int
	rows     [][]string
	total    int
}

// recompute reads the records of the months from to the month before end
// and counts each figure of the dashboard itself: raw rows, bucketed in Go.
func recompute(t *testing.T, db *store.DB, from, end string) map[string]expected {
	t.Helper()
	ctx := context.Background()
	q := db.Read()
	query := func(sql string, scan func(r store.Scanner) error) {
		t.Helper()
		rows, err := q.Query(ctx, sql)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				t.Fatal(err)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	// in tells the month of an RFC 3339 time, and whether it is in the period.
	in := func(ts string) (string, bool) {
		tt, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			t.Fatalf("time %q: %v", ts, err)
		}
		m := tt.UTC().Format("2006-01")
		return m, m >= from && m < end
	}
	out := map[string]expected{}
	count := func(id string, head []string, col int, ts string) {
		m, ok := in(ts)
		if !ok {
			return
		}
		e := out[id]
		if e.months == nil {
			e = expected{head: head, byMonth: true, months: map[string][]int{}}
		}
		if e.months[m] == nil {
			e.months[m] = make([]int, len(head)-1)
		}
		e.months[m][col]++
		e.total++
		out[id] = e
	}

	// Transplant: by month, centre and organ.
	mh := []string{"Month", "Donations", "Organs procured", "Transplantations"}
	out["transplant-months"] = expected{head: mh, fileHead: []string{"month", "donations", "organs_procured", "transplantations"},
		byMonth: true, months: map[string][]int{}}
	centreName := map[string]string{}
	var centres []string
	query("SELECT id, name FROM authorities WHERE kind = 'transplant_centre' ORDER BY name, id", func(r store.Scanner) error {
		var id, name string
		err := r.Scan(&id, &name)
		centreName[id] = name
		centres = append(centres, id)
		return err
	})
	byCentre := map[string][2]int{}
	procured, transplanted := map[string]int{}, map[string]int{}
	// A donation is a deceased donor's first procurement in the log's
	// order, and each of a living (or domino) donor's procurements.
	donated := map[string]bool{}
	query("SELECT p.procured_at, p.centre_id, p.donor_id, d.kind FROM procurements p, donors d WHERE d.id = p.donor_id ORDER BY p.log_index, p.id", func(r store.Scanner) error {
		var at, c, donor, kind string
		err := r.Scan(&at, &c, &donor, &kind)
		if kind == transplant.DonorBrainDeath || kind == transplant.DonorCirculatoryDeath {
			if donated[donor] {
				return err
			}
			donated[donor] = true
		}
		count("transplant-months", mh, 0, at)
		if _, ok := in(at); ok {
			v := byCentre[c]
			v[0]++
			byCentre[c] = v
		}
		return err
	})
	query("SELECT p.procured_at, o.organ FROM organs o, procurements p WHERE p.id = o.procurement_id", func(r store.Scanner) error {
		var at, organ string
		err := r.Scan(&at, &organ)
		count("transplant-months", mh, 1, at)
		if _, ok := in(at); ok {
			procured[organ]++
		}
		return err
	})
	query("SELECT t.performed_at, t.centre_id, o.organ FROM transplants t, organs o WHERE o.id = t.organ_id", func(r store.Scanner) error {
		var at, c, organ string
		err := r.Scan(&at, &c, &organ)
		count("transplant-months", mh, 2, at)
		if _, ok := in(at); ok {
			v := byCentre[c]
			v[1]++
			byCentre[c] = v
			transplanted[organ]++
		}
		return err
	})
	ce := expected{head: []string{"Centre", "Donations", "Transplantations"}, fileHead: []string{"centre_id", "donations", "transplantations"}, codes: centres}
	for _, c := range centres {
		ce.rows = append(ce.rows, []string{centreName[c], strconv.Itoa(byCentre[c][0]), strconv.Itoa(byCentre[c][1])})
	}
	out["transplant-centres"] = ce
	oe := expected{head: []string{"Organ", "Procured", "Transplanted"}, fileHead: []string{"organ", "procured", "transplanted"}, codes: transplant.OrganTypes}
	for _, o := range transplant.OrganTypes {
		oe.rows = append(oe.rows, []string{strings.ToUpper(o[:1]) + o[1:], strconv.Itoa(procured[o]), strconv.Itoa(transplanted[o])})
	}
	out["transplant-organs"] = oe

	// Alerts raised in the period, by rule (in order) and state now.
	type rs struct{ rule, state string }
	alerts := map[rs]int{}
	var rules []string
	query("SELECT raised_at, rule, state FROM alerts ORDER BY rule", func(r store.Scanner) error {
		var at, rule, state string
		err := r.Scan(&at, &rule, &state)
		if _, ok := in(at); ok {
			if len(rules) == 0 || rules[len(rules)-1] != rule {
				rules = append(rules, rule)
			}
			alerts[rs{rule, state}]++
		}
		return err
	})
	ae := expected{head: []string{"Rule", "Open", "Acknowledged", "Closed"}, fileHead: []string{"rule", "open", "acknowledged", "closed"}}
	for _, rule := range rules {
		ae.rows = append(ae.rows, []string{rule, strconv.Itoa(alerts[rs{rule, "open"}]), strconv.Itoa(alerts[rs{rule, "acknowledged"}]), strconv.Itoa(alerts[rs{rule, "closed"}])})
	}
	out["alerts-rules"] = ae

	// Hash matching: cases, reports and removals by month; cases by stage.
	hh := []string{"Month", "Matches", "Reports", "Removals"}
	out["hashmatch-months"] = expected{head: hh, fileHead: []string{"month", "matches", "reports", "removals"}, byMonth: true, months: map[string][]int{}}
	stage := map[string]string{}
	var opened []string
	query("SELECT id, opened_at, status FROM hm_cases", func(r store.Scanner) error {
		var id, at, status string
		err := r.Scan(&id, &at, &status)
		count("hashmatch-months", hh, 0, at)
		if _, ok := in(at); ok {
			stage[id] = status
			opened = append(opened, id)
		}
		return err
	})
	reported := map[string]bool{}
	query("SELECT case_id, sent_at FROM hm_reports", func(r store.Scanner) error {
		var id, at string
		err := r.Scan(&id, &at)
		count("hashmatch-months", hh, 1, at)
		reported[id] = true
		return err
	})
	removed := map[string]bool{}
	query("SELECT case_id, removed_at FROM hm_removals", func(r store.Scanner) error {
		var id, at string
		err := r.Scan(&id, &at)
		count("hashmatch-months", hh, 2, at)
		removed[id] = true
		return err
	})
	stages := map[string]int{}
	for _, id := range opened {
		s := stage[id]
		switch {
		case s == "confirmed" && removed[id]:
			s = "removed"
		case s == "confirmed" && reported[id]:
			s = "reported"
		}
		stages[s]++
	}
	se := expected{head: []string{"Stage", "Cases"}, fileHead: []string{"stage", "cases"}}
	for _, s := range []struct{ stage, label string }{{"open", "Open: awaiting review"}, {"rejected", "Rejected on review"},
		{"confirmed", "Confirmed, not reported"}, {"reported", "Reported, not removed"}, {"removed", "Removed"}} {
		se.rows = append(se.rows, []string{s.label, strconv.Itoa(stages[s.stage])})
		se.codes = append(se.codes, s.stage)
	}
	out["hashmatch-cases"] = se
	return out
}
