package demo_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/demo"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/transplant"
)

// TestDemoShowsEveryRegistry builds a small demo registry and checks, through
// the API, what a newcomer signing in with the printed tokens finds: every
// token signs in as the principal it is printed for, the analyst's hotline
// holds two published banks, the service subscribes to both, and the
// reviewer has one open case, a match of an altered copy of a bank's image.
// The log verifies.
func TestDemoShowsEveryRegistry(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "demo.db")
	cfg := server.Config{DSN: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var progress []string
	created, err := demo.Ensure(ctx, cfg, demo.Options{Years: 1, Scale: 0.05, Progress: func(s string) { progress = append(progress, s) }})
	if err != nil || !created {
		t.Fatalf("demo: created %v, %v", created, err)
	}
	if !slices.Contains(progress, "demo: hash matching: 2 banks, 7 entries, 1 subscribed service, 1 open case") {
		t.Errorf("progress messages %q", progress)
	}
	if last := progress[len(progress)-1]; !strings.HasPrefix(last, "demo: statistics: 38 national offence codes mapped to the ICCS, 2 years of national records imported (") {
		t.Errorf("last progress message %q", last)
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
	e := &apptest.Env{App: app, URL: srv.URL, Cfg: cfg}

	tokens := map[auth.Role]string{}
	for _, tk := range demo.Tokens() {
		me := e.Must(t, 200, "GET", "/api/v1/me", tk.Token, nil)
		if me.Str("name") != tk.Name || me.Str("role") != string(tk.Role) {
			t.Errorf("the token printed for %s (%s) signs in as %s", tk.Name, tk.Role, me.Raw)
		}
		tokens[tk.Role] = tk.Token
	}
	// Demoland's amounts are in a real currency, not three letters ISO 4217
	// gives another (XAD is the Arab Accounting Dinar), and its asset-recovery
	// statistics answer in EUR and USD, with the rates the demo records.
	var currencies []string
	rows, err := app.DB.Read().Query(ctx, `SELECT currency FROM assets_assets UNION SELECT currency FROM assets_measures
		UNION SELECT currency FROM assets_rates UNION SELECT to_currency FROM assets_rates ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		currencies = append(currencies, c)
	}
	rows.Close()
	if strings.Join(currencies, " ") != "EUR USD" {
		t.Errorf("the demo's asset-recovery currencies are %v, want EUR and USD", currencies)
	}
	for _, cur := range []string{"USD", "EUR"} {
		e.Must(t, 200, "GET", "/api/v1/assets/statistics?currency="+cur, tokens[auth.Regulator], nil)
	}
	// the statistician finds a year of Demoland's records and more, imported
	// with the demo's mapping, and the statistics counted from them
	st := app.Service("stats").(*stats.Service)
	statistician := e.Principal(t, tokens[stats.RoleStatistician])
	if ims, err := st.Imports(ctx, statistician); err != nil || len(ims) != 2 || ims[0].Mapping != stats.DemoMappingID {
		t.Errorf("the demo's imports: %v, %v", ims, err)
	}
	if res, err := st.Aggregate(ctx, statistician, stats.Query{Stage: stats.StagePolice, Unit: stats.UnitOffence, Period: stats.PeriodYear}); err != nil || len(res.Cells) != 2 {
		t.Errorf("the demo's police-recorded offences by year: %v, %v", res, err)
	}
	for _, r := range []auth.Role{hashmatch.RoleAnalyst, hashmatch.RoleService, hashmatch.RoleReviewer, stats.RoleStatistician} {
		if tokens[r] == "" {
			t.Fatalf("the demo prints no %s token", r)
		}
	}

	banks := e.Must(t, 200, "GET", "/api/v1/hashmatch/banks", tokens[hashmatch.RoleAnalyst], nil).Body["banks"].([]any)
	if len(banks) != 2 {
		t.Fatalf("the analyst sees %d banks, want 2", len(banks))
	}
	own := 0 // banks with video match percentages of their own
	for _, b := range banks {
		m := b.(map[string]any)
		if v := m["version"]; v != 1.0 {
			t.Errorf("bank %v: version %v, want 1", m["id"], v)
		}
		if m["query_match_threshold_pct"] == 70.0 && m["index_match_threshold_pct"] == 50.0 {
			own++
		}
	}
	if own != 1 {
		t.Errorf("%d demo banks have video match percentages 70 and 50, want 1 (the partner list)", own)
	}
	subs := e.Must(t, 200, "GET", "/api/v1/hashmatch/subscriptions", tokens[hashmatch.RoleService], nil).Body["subscriptions"].([]any)
	if len(subs) != 2 {
		t.Errorf("the service subscribes to %d banks, want 2", len(subs))
	}

	cases := e.Must(t, 200, "GET", "/api/v1/hashmatch/cases?status=open", tokens[hashmatch.RoleReviewer], nil).Body["cases"].([]any)
	if len(cases) != 1 {
		t.Fatalf("the reviewer sees %d open cases, want 1", len(cases))
	}
	id := cases[0].(map[string]any)["id"].(string)
	c := e.Must(t, 200, "GET", "/api/v1/hashmatch/cases/"+id, tokens[hashmatch.RoleReviewer], nil)
	if c.Str("status") != "open" || c.Str("source") != "upload" || c.Str("best_entry_id") != "demo-img-002" ||
		!strings.HasPrefix(c.Str("user_pseudonym"), "PS-") {
		t.Errorf("case: %s", c.Raw)
	}

	// Vigilance: organs discarded, and a serious adverse reaction whose
	// notifications one centre has acknowledged.
	var disposed, reports, acknowledged int
	if err := app.DB.Read().QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM organ_dispositions), (SELECT COUNT(*) FROM sae_reports),
		(SELECT COUNT(*) FROM notifications WHERE acknowledged_at IS NOT NULL)`).Scan(&disposed, &reports, &acknowledged); err != nil {
		t.Fatal(err)
	}
	if disposed == 0 || reports != 1 || acknowledged != 1 {
		t.Errorf("the demo has %d dispositions, %d SAE reports, %d acknowledged notifications; want some, 1 and 1", disposed, reports, acknowledged)
	}
	// Labels and hand-offs: the last donations' organs have a chain of
	// custody, which their trace shows with a link to their label.
	var chained string
	if err := app.DB.Read().QueryRow(ctx, `SELECT organ_id FROM organ_handoffs WHERE step = 'transport' ORDER BY log_index DESC LIMIT 1`).Scan(&chained); err != nil {
		t.Fatalf("the demo has no organ handed to transport: %v", err)
	}
	tr := e.Must(t, 200, "GET", "/api/v1/transplant/trace/organs/"+chained, tokens[auth.Regulator], nil)
	if !strings.Contains(string(tr.Raw), `"step": "transplant_theatre"`) || !strings.Contains(string(tr.Raw), `"step": "transport"`) {
		t.Errorf("the trace of %s shows no chain of custody: %s", chained, tr.Raw)
	}
	// Every notified centre has a notification address: each notification
	// is an e-mail in the outbox, pending (the demo sends no e-mail).
	var notified, pending int
	if err := app.DB.Read().QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM notifications), (SELECT COUNT(*) FROM mail_outbox WHERE state = 'pending')`).
		Scan(&notified, &pending); err != nil {
		t.Fatal(err)
	}
	if notified == 0 || pending != notified {
		t.Errorf("the demo has %d notifications and %d pending e-mails, want as many", notified, pending)
	}

	// Trafficking: the assessor's queue holds four reports, one confirmed,
	// and the regulator downloads the UNODC return, its one case suppressed.
	if tokens[transplant.RoleTraffickingAssessor] == "" {
		t.Fatal("the demo prints no assessor token")
	}
	queue := e.Must(t, 200, "GET", "/api/v1/transplant/trafficking/reports", tokens[transplant.RoleTraffickingAssessor], nil).Body["reports"].([]any)
	statuses := map[string]int{}
	for _, r := range queue {
		statuses[r.(map[string]any)["status"].(string)]++
	}
	if len(queue) != 4 || statuses[transplant.TraffickingReferred] != 1 || statuses[transplant.TraffickingReceived] != 1 {
		t.Errorf("the assessor's queue: %v", statuses)
	}
	ret := e.Do(t, "GET", "/api/v1/transplant/trafficking/unodc?format=csv", tokens[auth.Regulator], nil)
	if ret.Status != 200 || !strings.Contains(string(ret.Raw), "\norgan,total,kidney,x") {
		t.Errorf("the UNODC return: %d\n%s", ret.Status, ret.Raw)
	}

	// Oversight: a reimbursement, an audit of the first centre with a
	// finding and its corrective action, and the payer's question about the
	// transplantation linked to the confirmed case, answered no.
	reg := tokens[auth.Regulator]
	if rb := e.Must(t, 200, "GET", "/api/v1/transplant/reimbursements", reg, nil).Body["reimbursements"].([]any); len(rb) != 1 {
		t.Errorf("the demo's reimbursements: %v", rb)
	}
	audits := e.Must(t, 200, "GET", "/api/v1/transplant/audits", reg, nil).Body["audits"].([]any)
	if len(audits) != 1 || len(audits[0].(map[string]any)["findings"].([]any)) != 1 {
		t.Errorf("the demo's audits: %v", audits)
	}
	if tokens[transplant.RolePayer] == "" {
		t.Fatal("the demo prints no payer token")
	}
	checks := e.Must(t, 200, "GET", "/api/v1/transplant/payer-checks", reg, nil).Body["checks"].([]any)
	if len(checks) != 1 {
		t.Fatalf("the demo's payer checks: %v", checks)
	}
	tx := checks[0].(map[string]any)["transplant_id"].(string)
	ans := e.Must(t, 200, "POST", "/api/v1/transplant/payer-check", tokens[transplant.RolePayer], map[string]any{"transplant_id": tx})
	if ans.Body["procedure_payable"] != false || ans.Str("reason") != transplant.ReasonTraffickingConfirmed || ans.Body["medicines_payable"] != true {
		t.Errorf("the payer asks about %s: %s", tx, ans.Raw)
	}

	res, err := ledger.Verify(ctx, app.DB, server.NewProjections(), ledger.VerifyOptions{VerifierKey: app.Keys.LogKey})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Fatalf("log verify: %v", res.Problems)
	}
}

// TestDemoNothingInTheFuture builds the demo as if made early in a month and
// as if made just after Tail has passed, and checks that no entry of its log
// is dated after the moment it was made: the events that follow the activity
// (trafficking reports, residents treated abroad, hash banks, asset recovery,
// statistics) run on for days, and an entry dated in the future would make
// the registry's own rules ("not in the future", "not before the last
// change") refuse what a newcomer then records today.
func TestDemoNothingInTheFuture(t *testing.T) {
	ctx := context.Background()
	month := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, made := range []time.Time{month.Add(2*24*time.Hour + 9*time.Hour), month.Add(8*time.Hour + demo.Tail + time.Minute)} {
		db := filepath.Join(t.TempDir(), "demo.db")
		cfg := server.Config{DSN: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if _, err := demo.Ensure(ctx, cfg, demo.Options{Years: 1, Now: made}); err != nil {
			t.Fatal(err)
		}
		app, err := server.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := app.DB.Read().Query(ctx, "SELECT data FROM log_leaves")
		if err != nil {
			t.Fatal(err)
		}
		var last time.Time
		var first string
		for rows.Next() {
			var data string
			if err := rows.Scan(&data); err != nil {
				t.Fatal(err)
			}
			var e struct {
				At   time.Time `json:"at"`
				Type string    `json:"type"`
			}
			if err := json.Unmarshal([]byte(data), &e); err != nil {
				t.Fatal(err)
			}
			if e.At.After(made) && first == "" {
				first = e.Type + " at " + e.At.Format(time.RFC3339)
			}
			if e.At.After(last) {
				last = e.At
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		app.Close()
		if first != "" {
			t.Errorf("a demo made at %s logs entries after it, the first %s, the last at %s", made.Format(time.RFC3339), first, last.Format(time.RFC3339))
		}
		if last.Before(made.AddDate(0, -2, 0)) {
			t.Errorf("a demo made at %s ends at %s: its activity should end within the two months before", made.Format(time.RFC3339), last.Format(time.RFC3339))
		}
	}
}
