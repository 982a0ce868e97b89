package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/custos-project/custos/internal/ledger"
	custos "github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// legacyDir holds a registry written by release dcc9f5f, the release before
// registries became modules (issue 9), dumped portably by its gen/main.go
// (regenerate.sh runs it with that release's code).
const legacyDir = "testdata/registry-dcc9f5f"

// legacyLeaves is the size of the fixture's log. It is written here as well
// as read from fixture.json so that a regenerated fixture of another size is
// a visible change.
const legacyLeaves = 58

// legacyFixture is fixture.json: the tokens and ids of the fixture registry.
type legacyFixture struct {
	Release    string `json:"release"`
	LogSize    int64  `json:"log_size"`
	LogRoot    string `json:"log_root"` // hex
	Principals []struct {
		Key, ID, Name, Role, Token string
		AuthorityID                string `json:"authority_id"`
		Revoked                    bool   `json:"revoked"`
	} `json:"principals"`
	IDs map[string]string `json:"ids"`
}

func (f *legacyFixture) token(t testing.TB, key string) string {
	t.Helper()
	for _, p := range f.Principals {
		if p.Key == key {
			return p.Token
		}
	}
	t.Fatalf("fixture.json has no principal %q", key)
	return ""
}

func (f *legacyFixture) id(t testing.TB, key string) string {
	t.Helper()
	v := f.IDs[key]
	if v == "" {
		t.Fatalf("fixture.json has no id %q", key)
	}
	return v
}

func readLegacyFixture(t testing.TB) *legacyFixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(legacyDir, "fixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f legacyFixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("fixture.json: %v", err)
	}
	if f.LogSize != legacyLeaves {
		t.Fatalf("fixture.json says the log has %d leaves, the test expects %d: update legacyLeaves with the regenerated fixture", f.LogSize, legacyLeaves)
	}
	return &f
}

// loadLegacy recreates the fixture registry on dsn, an empty SQLite file or
// a fresh PostgreSQL schema, as release dcc9f5f left it: its schema
// (schema.sql, BLOB as BYTEA on PostgreSQL, as that release's store did),
// every row of every table, and its key file beside it.
func loadLegacy(t testing.TB, dsn string) *registry {
	t.Helper()
	ctx := context.Background()
	schema, err := os.ReadFile(filepath.Join(legacyDir, "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	postgres := strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
	var db *sql.DB
	if postgres {
		db, err = sql.Open("pgx", dsn)
		schema = bytes.ReplaceAll(schema, []byte(" BLOB"), []byte(" BYTEA"))
	} else {
		db, err = sql.Open("sqlite", "file:"+dsn+"?_pragma=foreign_keys(1)")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, string(schema)); err != nil {
		t.Fatalf("schema.sql: %v", err)
	}
	for _, tb := range legacyRows(t) {
		marks := make([]string, len(tb.Columns))
		for i := range marks {
			marks[i] = "?"
			if postgres {
				marks[i] = fmt.Sprintf("$%d", i+1)
			}
		}
		ins, err := tx.PrepareContext(ctx, "INSERT INTO "+tb.Name+" ("+strings.Join(tb.Columns, ", ")+") VALUES ("+strings.Join(marks, ", ")+")")
		if err != nil {
			t.Fatalf("%s: %v", tb.Name, err)
		}
		for i, row := range tb.Rows {
			if _, err := ins.ExecContext(ctx, row...); err != nil {
				t.Fatalf("%s row %d: %v", tb.Name, i, err)
			}
		}
		ins.Close()
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	key, err := os.ReadFile(filepath.Join(legacyDir, "custos.key"))
	if err != nil {
		t.Fatal(err)
	}
	r := &registry{DSN: dsn, Key: filepath.Join(t.TempDir(), "custos.key")}
	if err := os.WriteFile(r.Key, key, 0o600); err != nil {
		t.Fatal(err)
	}
	r.PublicKey = publicKey(t, r.Key)
	return r
}

type legacyTable struct {
	Name    string
	Columns []string
	Rows    [][]any
}

// legacyRows reads rows.json: a value is a JSON integer, string or null,
// {"base64": ...} for bytes or {"float": ...} for a float.
func legacyRows(t testing.TB) []legacyTable {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(legacyDir, "rows.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dump struct {
		Tables []struct {
			Name    string
			Columns []string
			Rows    [][]json.RawMessage
		}
	}
	if err := json.Unmarshal(b, &dump); err != nil {
		t.Fatalf("rows.json: %v", err)
	}
	out := make([]legacyTable, len(dump.Tables))
	for i, tb := range dump.Tables {
		out[i] = legacyTable{Name: tb.Name, Columns: tb.Columns}
		for j, raw := range tb.Rows {
			if len(raw) != len(tb.Columns) {
				t.Fatalf("rows.json: %s row %d has %d values for %d columns", tb.Name, j, len(raw), len(tb.Columns))
			}
			row := make([]any, len(raw))
			for k, v := range raw {
				if row[k], err = legacyValue(v); err != nil {
					t.Fatalf("rows.json: %s row %d, %s: %v", tb.Name, j, tb.Columns[k], err)
				}
			}
			out[i].Rows = append(out[i].Rows, row)
		}
	}
	return out
}

func legacyValue(v json.RawMessage) (any, error) {
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return nil, err
	}
	switch x := x.(type) {
	case nil, string:
		return x, nil
	case json.Number:
		return x.Int64()
	case map[string]any:
		if s, ok := x["base64"].(string); ok && len(x) == 1 {
			return base64.StdEncoding.DecodeString(s)
		}
		if n, ok := x["float"].(json.Number); ok && len(x) == 1 {
			return n.Float64()
		}
	}
	return nil, fmt.Errorf("not a value of the dump: %s", v)
}

// TestLegacyRegistry opens a registry written by the release before
// registries became modules, on each engine, as an operator upgrading would:
// custos migrate (twice: the second changes nothing), custos log verify on
// the untouched log, then custos serve. Through the API it reads what the
// old release recorded (a donor's trace, the alerts, sealed personal data,
// hash-matching cases, a bank, its suppression list), refuses the revoked
// principal, records a donor and reads it back; log verify then passes with
// the new leaves after the old ones, and the old tree is a prefix of the new.
func TestLegacyRegistry(t *testing.T) {
	fx := readLegacyFixture(t)
	rootB64 := func() string {
		b, err := hex.DecodeString(fx.LogRoot)
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(b)
	}()
	storetest.Each(t, func(t *testing.T, dsn string) {
		reg := loadLegacy(t, dsn)
		// Before migrating, this custos refuses to serve it.
		if _, err := custos.Open(context.Background(), custos.Config{DSN: dsn, KeyFile: reg.Key}); err == nil ||
			!strings.Contains(err.Error(), "run custos migrate") {
			t.Fatalf("opening the unmigrated registry: %v, want a refusal that says to run custos migrate", err)
		}
		// custos migrate --plan says what migrate will do and does none of
		// it: run twice it says the same, and the migrate after it applies
		// exactly what it listed, in its order.
		plan := mustCLI(t, "migrate", "--db", dsn, "--plan")
		if again := mustCLI(t, "migrate", "--db", dsn, "--plan"); again != plan {
			t.Errorf("a second plan differs from the first:\n%s\n---\n%s", again, plan)
		}
		checkUnadopted(t, dsn)
		first := mustCLI(t, "migrate", "--db", dsn)
		second := mustCLI(t, "migrate", "--db", dsn)
		var planned, applied []string
		for _, l := range strings.Split(plan, "\n") {
			if m, ok := strings.CutPrefix(l, "would apply "); ok {
				planned = append(planned, strings.TrimSuffix(strings.SplitN(m, ";", 2)[0], ")"))
			}
		}
		for _, l := range strings.Split(first, "\n") {
			if m, ok := strings.CutPrefix(l, "applied "); ok && strings.HasSuffix(m, ")") {
				applied = append(applied, strings.TrimSuffix(m, ")"))
			}
		}
		if len(applied) == 0 || strings.Join(planned, "\n") != strings.Join(applied, "\n") {
			t.Errorf("the plan listed\n%s\nmigrate applied\n%s", strings.Join(planned, "\n"), strings.Join(applied, "\n"))
		}
		if want := fmt.Sprintf("%d migrations to apply, nothing changed; the database holds core 1, transplant 3, hashmatch 2,", len(applied)); !strings.Contains(plan, want) {
			t.Errorf("the plan's last line: %q, want it to hold %q", plan[strings.LastIndex(strings.TrimSpace(plan), "\n")+1:], want)
		}
		if !strings.Contains(plan, "would apply assets 10 (010_case_reference_key.sql; Go code then reads or writes rows") ||
			!strings.Contains(plan, "    The exchange between custos deployments") {
			t.Errorf("the plan does not say what each migration does:\n%s", plan)
		}
		// The old global versions 1-6 are adopted, never run again: only the
		// core's new versions 2 (the read log, already there), 3 (the work
		// on alerts), 4 (the principals' time zones), 5 (the exchange), 6
		// (the lists' keyset indexes), 7 (the exchange lists' keyset
		// indexes), 8 (the principals' languages) and 9 (the e-mail
		// outbox), 10-12 (other branches' migrations) and 13 (the log's
		// witnesses and their cosignatures), transplant's versions 4 (the lists'
		// keyset indexes), 5 (the person index, filled in when custos serve
		// opens it), 6 (the dashboards' indexes), 7 (vigilance: organ
		// dispositions, SAE reports and notifications), 8 (trafficking
		// reports), 9 (another branch's, a placeholder on branch labels) and
		// 10 (the hand-offs of organs), 11 (the assessment of trafficking
		// reports), 12 (the GODT branch's), 13 (treatment abroad,
		// follow-up, the waiting list), 14 (oversight), 15 (the reports'
		// narrow rows, filled from the tables: log verify below compares
		// them with a replay), 16 (the transplants' indexes reshaped),
		// 17 (the payers' questions, filled from their log entries), 18
		// (the subjects' indexes), 19 (the assignment of an organ from
		// abroad to a centre), 20 (the organs from abroad transplanted
		// here, written into the reports' rows), 21 (trafficking cases
		// linked to organs from abroad), 22 (the centre that holds an
		// organ from abroad, resolved when it was received), 23 (the
		// history of an organ from abroad's assignments, filled from the
		// log), 24 (that history's first holder and the imports' blood
		// groups, filled from the log), 25 (a donation number no longer
		// unique to one procurement: one donation, one number) and 26 (the
		// trafficking cases' links withdrawn, filled from the log),
		// hashmatch's versions 3 (the dashboards'
		// indexes), 4 (the lists' keyset indexes), 5 (the frames of a video
		// case), 6 (disputes of bank entries), 7 (retroactive matching), 8
		// (each bank's video match percentages), 9 (the updates each
		// version counts), 10 and 11 (retroactive videos, their rows' MACs)
		// and 12 (the bank version each case match searched), and the statistics and assets modules' own, are
		// applied.
		if want := "applied core 2 (002_personal_data_reads.sql)\napplied core 3 (003_alert_work.sql)\napplied core 4 (004_principal_time_zone.sql)\napplied core 5 (005_exchange.sql)\napplied core 6 (006_list_indexes.sql)\napplied core 7 (007_exchange_list_indexes.sql)\napplied core 8 (008_principal_language.sql)\napplied core 9 (009_mail_outbox.sql)\napplied core 10 (010_authority_contact.sql)\napplied core 11 (011_erasures.sql)\napplied core 12 (012_web_sessions.sql)\napplied core 13 (013_log_witnesses.sql)\napplied core 14 (014_alert_repeats.sql)\napplied core 15 (015_exchange_refusals.sql)\napplied core 16 (016_alert_logged_at.sql)\napplied core 17 (017_alert_repeats_mac.sql)\napplied core 18 (018_exchange_refusal_commits.sql)\napplied core 19 (019_web_sessions_mac.sql)\napplied core 20 (020_mail_outbox_mac.sql)\napplied core 21 (021_mail_committed.sql)\napplied core 22 (022_web_sessions_ended.sql)\napplied core 23 (023_cosignature_commits_peer_status_mac.sql)\napplied core 24 (024_idempotency_keys.sql)\napplied core 25 (025_exchange_abandoned.sql)\napplied core 26 (026_exports.sql)\napplied transplant 4 (004_list_keys.sql)\napplied transplant 5 (005_person_index.sql)\napplied transplant 6 (006_figures.sql)\napplied transplant 7 (007_vigilance.sql)\napplied transplant 8 (008_trafficking.sql)\napplied transplant 9 (009_crossborder.sql)\napplied transplant 10 (010_handoffs.sql)\napplied transplant 11 (011_trafficking_assessment.sql)\napplied transplant 12 (012_procedures.sql)\napplied transplant 13 (013_followup.sql)\napplied transplant 14 (014_oversight.sql)\napplied transplant 15 (015_report_rows.sql)\napplied transplant 16 (016_transplant_indexes.sql)\napplied transplant 17 (017_payer_questions.sql)\napplied transplant 18 (018_subject_indexes.sql)\napplied transplant 19 (019_import_assignment.sql)\napplied transplant 20 (020_import_transplants.sql)\napplied transplant 21 (021_import_links.sql)\napplied transplant 22 (022_import_holder.sql)\napplied transplant 23 (023_import_assignments.sql)\napplied transplant 24 (024_import_first_holder.sql)\napplied transplant 25 (025_one_donation_number.sql)\napplied transplant 26 (026_link_withdrawals.sql)\napplied hashmatch 3 (003_figures.sql)\napplied hashmatch 4 (004_list_indexes.sql)\napplied hashmatch 5 (005_video_suppression.sql)\napplied hashmatch 6 (006_disputes.sql)\napplied hashmatch 7 (007_retro.sql)\napplied hashmatch 8 (008_video_thresholds.sql)\napplied hashmatch 9 (009_version_updates.sql)\napplied hashmatch 10 (010_retro_videos.sql)\napplied hashmatch 11 (011_retro_mac.sql)\napplied hashmatch 12 (012_match_bank_version.sql)\napplied stats 1 (001_stats.sql)\napplied stats 2 (002_column_storage.sql)\napplied stats 3 (003_withdrawals.sql)\napplied stats 4 (004_records_digest.sql)\napplied stats 5 (005_row_digests.sql)\napplied assets 1 (001_assets.sql)\napplied assets 2 (002_bods.sql)\napplied assets 3 (003_requests.sql)\napplied assets 4 (004_bods_sealed.sql)\napplied assets 5 (005_bods_erasures.sql)\napplied assets 6 (006_bods_jurisdiction.sql)\napplied assets 7 (007_bods_writing.sql)\napplied assets 8 (008_bods_lookup_holders.sql)\napplied assets 9 (009_bods_import_index.sql)\napplied assets 10 (010_case_reference_key.sql)\napplied 73 migrations;"; !strings.HasPrefix(first, want) {
			t.Errorf("first custos migrate said %q, want it to start %q", first, want)
		}
		if !strings.HasPrefix(second, "applied 0 migrations;") {
			t.Errorf("second custos migrate said %q, want it to apply nothing", second)
		}
		checkAdopted(t, dsn)
		out := mustCLI(t, "log", "verify", "--db", dsn, "--public-key", reg.PublicKey)
		// The root in the checkpoint's base64, which the API below serves, then the fixture's hex.
		if want := fmt.Sprintf("OK: %d leaves, root %s (hex %s)", legacyLeaves, rootB64, fx.LogRoot); !strings.HasPrefix(out, want) {
			t.Fatalf("log verify of the migrated registry: %q, want it to start %q", out, want)
		}
		// Its sealed rows were written by leaves without a commitment: counted
		// apart, not reported as tampering.
		if !strings.Contains(out, "were written by leaves without a commitment (before custos logged them)") || !strings.Contains(out, "personal data: 0 sealed rows checked") {
			t.Errorf("log verify of the migrated registry's personal data: %q", out)
		}

		srv := startServer(t, reg)
		base := srv.URL
		regulator, coordA, reviewer := fx.token(t, "regulator"), fx.token(t, "coord_a"), fx.token(t, "reviewer")
		cp := must(t, 200, base, "GET", "/api/v1/log/checkpoint", "", nil)
		if cp.Body["size"] != float64(legacyLeaves) || cp.str("root") != rootB64 {
			t.Fatalf("checkpoint of the old registry: %s, want size %d and root %s", cp.Raw, legacyLeaves, rootB64)
		}

		// The old principals' tokens still work, the revoked one does not.
		me := must(t, 200, base, "GET", "/api/v1/me", coordA, nil)
		if me.str("authority_id") != fx.id(t, "centre_a") || me.str("role") != "coordinator" {
			t.Errorf("coordinator A: %s", me.Raw)
		}
		must(t, 401, base, "GET", "/api/v1/me", fx.token(t, "coord_b_former"), nil)

		// The deceased donor's trace: three organs, two transplanted.
		dead := fx.id(t, "donor_deceased")
		tr := must(t, 200, base, "GET", "/api/v1/trace/donors/"+dead, regulator, nil)
		var trace struct {
			Donors []struct {
				Donor struct {
					ID, Kind, CentreID string
				}
				Organs []struct {
					ID, Organ, Status string
					Transplant        *struct {
						ID        string
						Centre    struct{ ID string }
						Recipient struct{ ID string }
					}
				}
			}
		}
		if err := json.Unmarshal(tr.Raw, &trace); err != nil {
			t.Fatal(err)
		}
		type organ struct{ id, organ, status, transplant, centre, recipient string }
		want := []organ{
			{fx.id(t, "organ_kidney_1"), "kidney", "transplanted", fx.id(t, "transplant_kidney_1"), fx.id(t, "centre_a"), fx.id(t, "recipient_a_kidney")},
			{fx.id(t, "organ_kidney_2"), "kidney", "transplanted", fx.id(t, "transplant_kidney_2"), fx.id(t, "centre_b"), fx.id(t, "recipient_b_kidney")},
			{fx.id(t, "organ_liver"), "liver", "procured", "", "", ""},
		}
		var got []organ
		if len(trace.Donors) == 1 {
			for _, o := range trace.Donors[0].Organs {
				g := organ{id: o.ID, organ: o.Organ, status: o.Status}
				if o.Transplant != nil {
					g.transplant, g.centre, g.recipient = o.Transplant.ID, o.Transplant.Centre.ID, o.Transplant.Recipient.ID
				}
				got = append(got, g)
			}
		}
		if len(trace.Donors) != 1 || trace.Donors[0].Donor.ID != dead || trace.Donors[0].Donor.Kind != "deceased_brain_death" ||
			fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("trace of donor %s: %s\nwant organs %v", dead, tr.Raw, want)
		}

		// The alerts the old release raised: a payment not declared out, an
		// entry quarantined.
		al := must(t, 200, base, "GET", "/api/v1/alerts", regulator, nil)
		var alerts struct{ Alerts []struct{ Rule string } }
		if err := json.Unmarshal(al.Raw, &alerts); err != nil {
			t.Fatal(err)
		}
		var rules []string
		for _, a := range alerts.Alerts {
			rules = append(rules, a.Rule)
		}
		if strings.Join(rules, " ") != "hashmatch_quarantine no_payment" {
			t.Errorf("alerts: %s, want the quarantine then the payment refusal (newest first)", al.Raw)
		}

		// Hash matching: the reviewed case, the open video case, the bank.
		c := must(t, 200, base, "GET", "/api/v1/hashmatch/cases/"+fx.id(t, "case_confirmed"), reviewer, nil)
		if c.str("status") != "confirmed" || c.str("best_entry_id") != "img-1" || c.str("best_bank_id") != fx.id(t, "bank") ||
			c.str("source") != "hash" || c.str("content_ref") != "upload/user-1001" || !strings.HasPrefix(c.str("user_pseudonym"), "PS-") {
			t.Errorf("confirmed case: %s", c.Raw)
		}
		v := must(t, 200, base, "GET", "/api/v1/hashmatch/cases/"+fx.id(t, "case_video_open"), reviewer, nil)
		if ms, _ := v.Body["matches"].([]any); v.str("status") != "open" || v.str("source") != "video" || len(ms) != 1 ||
			ms[0].(map[string]any)["query_match_pct"] != float64(100) || ms[0].(map[string]any)["entry_id"] != "vid-1" {
			t.Errorf("open video case: %s", v.Raw)
		}
		rep := must(t, 200, base, "GET", "/api/v1/hashmatch/reports/"+fx.id(t, "report"), fx.token(t, "analyst"), nil)
		if rep.str("authority_reference") != "CT-2025-0042" || rep.str("case_id") != fx.id(t, "case_confirmed") {
			t.Errorf("report: %s", rep.Raw)
		}
		bank := must(t, 200, base, "GET", "/api/v1/hashmatch/banks/"+fx.id(t, "bank"), fx.token(t, "analyst"), nil)
		if b, _ := bank.Body["bank"].(map[string]any); b == nil || b["version"] != float64(2) || b["entries"] != float64(6) || b["quarantined"] != float64(0) {
			t.Errorf("bank: %s", bank.Raw)
		}
		// The banks and the provider's suppression list loaded from the old
		// tables: the rejected lookalike is suppressed, an unknown hash
		// matches nothing (neither is logged).
		service := fx.token(t, "service")
		quality := 90
		m := must(t, 200, base, "POST", "/api/v1/hashmatch/match", service, map[string]any{"items": []map[string]any{
			{"pdq": fx.id(t, "pdq_suppressed"), "quality": quality}, {"pdq": strings.Repeat("ab", 32), "quality": quality}}})
		var mr struct{ Results []struct{ Status string } }
		if err := json.Unmarshal(m.Raw, &mr); err != nil {
			t.Fatal(err)
		}
		if len(mr.Results) != 2 || mr.Results[0].Status != "suppressed" || mr.Results[1].Status != "no_match" {
			t.Errorf("match: %s, want suppressed and no_match", m.Raw)
		}

		// Sealed personal data opens with the old key file (a logged read),
		// and a new donor is recorded and read back.
		pd := must(t, 200, base, "POST", "/api/v1/personal-data", regulator, map[string]any{"id": dead, "purpose": "upgrade check"})
		if pd.str("name") != "Ada Fixture (synthetic)" || pd.str("national_id") != "XAFIX000001" {
			t.Errorf("personal data of %s: %s", dead, pd.Raw)
		}
		// The old donor is found by national identifier and, through the
		// name index serve filled in from the sealed data, by name and date
		// of birth (a logged search).
		dob := must(t, 200, base, "GET", "/api/v1/transplant/donors/"+dead, regulator, nil).str("donor.date_of_birth")
		for _, q := range []map[string]any{{"national_id": "xafix000001"}, {"name": "FIXTURE, Ada (synthetic)", "date_of_birth": dob}} {
			q["purpose"] = "upgrade check"
			found := must(t, 200, base, "POST", "/api/v1/transplant/persons/search", regulator, q)
			if ms, _ := found.Body["matches"].([]any); len(ms) != 1 || ms[0].(map[string]any)["id"] != dead {
				t.Errorf("search %v in the migrated registry: %s, want %s", q, found.Raw, dead)
			}
		}
		nd := must(t, 201, base, "POST", "/api/v1/donors", coordA, donor(1))
		id := nd.str("id")
		got1 := must(t, 200, base, "GET", "/api/v1/donors/"+id, coordA, nil)
		if got1.str("donor.id") != id || got1.str("donor.centre_id") != fx.id(t, "centre_a") {
			t.Errorf("new donor %s: %s", id, got1.Raw)
		}
		// The old tree is a prefix of the new one.
		cp = must(t, 200, base, "GET", "/api/v1/log/checkpoint", "", nil)
		if cp.Body["size"] != float64(legacyLeaves+4) {
			t.Fatalf("log size after four writes: %v, want %d", cp.Body["size"], legacyLeaves+4)
		}
		cr := must(t, 200, base, "GET", fmt.Sprintf("/api/v1/log/consistency?from=%d&to=%d", legacyLeaves, legacyLeaves+4), "", nil)
		var proof struct{ Proof [][]byte }
		if err := json.Unmarshal(cr.Raw, &proof); err != nil {
			t.Fatal(err)
		}
		oldRoot, _ := hex.DecodeString(fx.LogRoot)
		newRoot, _ := base64.StdEncoding.DecodeString(cp.str("root"))
		if err := ledger.VerifyConsistency(legacyLeaves, legacyLeaves+4, proof.Proof, oldRoot, newRoot); err != nil {
			t.Errorf("the old log is not a prefix of the new: %v (%s)", err, cr.Raw)
		}
		srv.stop()

		out = mustCLI(t, "log", "verify", "--db", dsn, "--public-key", reg.PublicKey)
		if want := fmt.Sprintf("OK: %d leaves,", legacyLeaves+4); !strings.HasPrefix(out, want) {
			t.Errorf("log verify after the writes: %q, want it to start %q", out, want)
		}
		if !strings.Contains(out, "personal data: 1 sealed rows checked") {
			t.Errorf("log verify after a donor registered with its commitment: %q", out)
		}
	})
}

// checkAdopted checks the schema versions of a migrated legacy registry, and
// that the release before (which read schema_migrations) is now refused.
// checkUnadopted fails unless the registry is still as the release before
// left it: its global versions in the table schema_migrations, no
// schema_versions.
func checkUnadopted(t *testing.T, dsn string) {
	t.Helper()
	ctx := context.Background()
	db := openStore(t, dsn)
	var v int
	if err := db.Read().QueryRow(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&v); err != nil || v != 6 {
		t.Errorf("schema_migrations after the plan: version %d, %v; want 6, read as the release before wrote it", v, err)
	}
	if _, err := db.SchemaVersions(ctx); err == nil {
		t.Error("schema_versions exists after the plan, which must change nothing")
	}
}

func checkAdopted(t *testing.T, dsn string) {
	t.Helper()
	ctx := context.Background()
	db := openStore(t, dsn)
	got, err := db.SchemaVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"core": 26, "transplant": 26, "hashmatch": 12, "stats": 5, "assets": 10}; !maps.Equal(got, want) {
		t.Errorf("schema versions after migrate: %v, want %v", got, want)
	}
	var rows int
	if err := db.Read().QueryRow(ctx, "SELECT COUNT(*) FROM schema_versions").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 79 {
		t.Errorf("schema_versions holds %d rows, want 79 (core 1-26, transplant 1-26, hashmatch 1-12, stats 1-5, assets 1-10)", rows)
	}
	// What the release before ran first when it opened a database.
	var v sql.NullInt64
	err = db.Read().QueryRow(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&v)
	if err == nil || !strings.Contains(err.Error(), "schema_versions") {
		t.Errorf("an old release reading schema_migrations got %v (version %v), want it refused", err, v)
	}
}
