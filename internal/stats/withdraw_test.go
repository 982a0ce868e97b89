package stats_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/stats/statstest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestImportOnceAndWithdraw imports a file, answers the same file again
// (the same bytes, the same mapping version) with the import that counts
// it, unchanged, writing nothing, also when it lands while the retry is
// stored; refuses a copy holding the same records, or the file under
// another mapping version (naming the import that counts it, writing
// nothing); withdraws the import
// (a reason required, a statistician's act, once) so that its records are no
// longer counted but it stays listed, withdrawn; the file may then be
// imported again; and the log still verifies (the withdrawal replays).
func TestImportOnceAndWithdraw(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newWorld(t, dsn)
		m := w.mapping(t)
		f := makeFile(t, 2000, statstest.Options{Seed: 11, Counts: true})
		imp := func() (*stats.Import, error) {
			return w.S.Import(ctx, w.Statistician, stats.ImportRequest{Source: "police.csv", Mapping: m.ID}, bytes.NewReader(f.data), 0, nil)
		}
		q := stats.Query{Stage: "police", Unit: "offence", Level: 1, Totals: true, Sources: []string{stats.SourceImport}}
		total := func() int64 {
			t.Helper()
			res, err := w.S.Aggregate(ctx, w.Regulator, q)
			if err != nil {
				t.Fatal(err)
			}
			return res.Get(stats.Total)
		}
		count := func(sql string) int {
			t.Helper()
			var n int
			if err := w.App.DB.Read().QueryRow(ctx, sql).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		first, err := imp()
		if err != nil {
			t.Fatal(err)
		}
		want := total()
		if want == 0 {
			t.Fatal("the file counts no police offence")
		}
		chunks := count("SELECT COUNT(*) FROM stats_columns")
		size := func() uint64 {
			h, _, err := ledger.ReadHead(ctx, w.App.DB.Read())
			if err != nil {
				t.Fatal(err)
			}
			return h.Size
		}
		if first.Unchanged {
			t.Fatalf("a first import answers unchanged: %+v", first)
		}

		// The same file again (a retry after a lost answer): not an error;
		// the answer is the import that counts it, unchanged, and nothing
		// is written, under the mapping's version named or taken as the
		// latest alike.
		logSize := size()
		for _, version := range []int{0, m.Version} {
			again, err := w.S.Import(ctx, w.Statistician, stats.ImportRequest{Source: "police-retry.csv", Mapping: m.ID, MappingVersion: version}, bytes.NewReader(f.data), 0, nil)
			if err != nil || !again.Unchanged || again.ID != first.ID || again.LogIndex != first.LogIndex || again.Source != "police.csv" {
				t.Fatalf("the same file again (version %d): %+v, %v; want import %s, unchanged", version, again, err, first.ID)
			}
		}
		// The same file sent twice, the second while the first is being
		// stored (the import counting it withdrawn first, so that both
		// pass the check before storing): the second's decision finds the
		// first, and its chunks are dropped.
		if _, err := w.S.Withdraw(ctx, w.Statistician, first.ID, stats.Withdrawal{Reason: "to race an import"}); err != nil {
			t.Fatal(err)
		}
		var raced *stats.Import
		once := false
		racing, err := w.S.Import(ctx, w.Statistician, stats.ImportRequest{Source: "police-race.csv", Mapping: m.ID}, bytes.NewReader(f.data), 0,
			func(phase string, _, _ int64) {
				if phase != "store" || once {
					return
				}
				once = true
				// This import's check passed: the other lands before it
				// asks the log.
				var err error
				if raced, err = w.S.Import(ctx, w.Statistician, stats.ImportRequest{Source: "police-first.csv", Mapping: m.ID}, bytes.NewReader(f.data), 0, nil); err != nil {
					t.Fatal(err)
				}
			})
		if err != nil || raced == nil || !racing.Unchanged || racing.ID != raced.ID {
			t.Fatalf("the same file imported meanwhile: %+v, %v; want %+v, unchanged", racing, err, raced)
		}
		// Two leaves were written: the withdrawal, the racing import; no
		// third, and only that import's chunks are kept beside the first's.
		if got := size(); got != logSize+2 || count("SELECT COUNT(*) FROM stats_columns") != 2*chunks || count("SELECT COUNT(*) FROM stats_imports") != 2 {
			t.Fatalf("after the same file again: log %d (want %d), chunks %d (want %d), %d imports", got, logSize+2, count("SELECT COUNT(*) FROM stats_columns"), 2*chunks,
				count("SELECT COUNT(*) FROM stats_imports"))
		}
		if total() != want {
			t.Fatalf("after the same file again: counted %d, want %d", total(), want)
		}
		// From here on, raced is the import that counts the file.
		orig := first
		first = raced
		// Copies of the file that hold the same records are refused too:
		// other line endings, the rows in another order.
		lines := strings.Split(strings.TrimSuffix(string(f.data), "\n"), "\n")
		slices.Reverse(lines[1:])
		for what, data := range map[string][]byte{
			"with CRLF line endings": bytes.ReplaceAll(f.data, []byte("\n"), []byte("\r\n")),
			"with its rows reversed": []byte(strings.Join(lines, "\n") + "\n"),
		} {
			_, err := w.S.Import(ctx, w.Statistician, stats.ImportRequest{Source: "police-copy.csv", Mapping: m.ID}, bytes.NewReader(data), 0, nil)
			if e, ok := errs.As(err); !ok || e.Rule != "imported_before" || !strings.Contains(e.Message, "holds the same records as "+first.ID) {
				t.Fatalf("the file %s: %v, want imported_before naming %s", what, err, first.ID)
			}
		}
		// One record less is other records, whatever the file's name: a
		// file named as the one imported is imported, not unchanged.
		other := strings.Join(lines[:len(lines)-1], "\n") + "\n"
		if im, err := w.S.Import(ctx, w.Statistician, stats.ImportRequest{Source: "police.csv", Mapping: m.ID}, strings.NewReader(other), 0, nil); err != nil || im.Unchanged {
			t.Fatalf("a file with one record less, under the same name: %+v, %v", im, err)
		}
		list0, err := w.S.Imports(ctx, w.Regulator)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.S.Withdraw(ctx, w.Statistician, list0[0].ID, stats.Withdrawal{Reason: "a test of the digest"}); err != nil {
			t.Fatal(err)
		}

		// A statistician of another statistics office.
		ministry := w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "Ministry of Justice statistics unit", "kind": "statistics_office"}).Str("id")
		officer := w.Principal(t, w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Ministry statistician", "role": "statistician", "authority_id": ministry}).Str("token"))
		for _, c := range []struct {
			name  string
			id    string
			in    stats.Withdrawal
			as    *auth.Principal
			code  errs.Code
			rule  string
			field string
		}{
			{"no reason", first.ID, stats.Withdrawal{Reason: " "}, w.Statistician, errs.Invalid, "required", "reason"},
			{"not a statistician", first.ID, stats.Withdrawal{Reason: "r"}, w.Regulator, errs.Forbidden, "", ""},
			{"unknown import", "SI-NOSUCHIMPORT", stats.Withdrawal{Reason: "r"}, w.Statistician, errs.NotFound, "reference", "import_id"},
			{"another office's import", first.ID, stats.Withdrawal{Reason: "not ours"}, officer, errs.Forbidden, "authority", "import_id"},
			// Another office learns nothing from the reason's rule or the
			// import's state: it is refused first.
			{"another office's import, no reason", first.ID, stats.Withdrawal{Reason: " "}, officer, errs.Forbidden, "authority", "import_id"},
			{"another office's import withdrawn", list0[0].ID, stats.Withdrawal{Reason: "not ours"}, officer, errs.Forbidden, "authority", "import_id"},
			{"an import withdrawn", list0[0].ID, stats.Withdrawal{Reason: "again"}, w.Statistician, errs.Conflict, "withdrawn", "id"},
		} {
			_, err := w.S.Withdraw(ctx, c.as, c.id, c.in)
			if e, ok := errs.As(err); !ok || e.Code != c.code || (c.rule != "" && (e.Rule != c.rule || e.Field != c.field)) {
				t.Errorf("withdraw, %s: %v, want %s %s at %s", c.name, err, c.code, c.rule, c.field)
			} else if c.as == w.Regulator && !strings.Contains(err.Error(), "may not withdraw imports") {
				t.Errorf("withdraw, %s: %q does not name the action", c.name, err)
			}
		}
		// The refusals recorded for oversight: the alerts raised and the
		// retries counted on them, in the log or not yet.
		const authorityRefusals = `SELECT COUNT(*) + COALESCE(SUM(repeats), 0) + (SELECT COALESCE(SUM(r.count), 0) FROM alert_repeats r
			JOIN alerts a ON a.id = r.alert_id WHERE a.rule = 'authority') FROM alerts WHERE rule = 'authority'`
		if n := count(authorityRefusals); n != 3 {
			t.Errorf("another office's withdrawals raised %d alerts, want 3", n)
		}
		// Nor may it publish a version of the first office's mapping (the
		// first office's next import would be coded with it); under an id
		// of its own it may.
		rows, err := stats.ParseMapping(strings.NewReader(statstest.Mapping))
		if err != nil {
			t.Fatal(err)
		}
		hijack := stats.NewMapping{ID: m.ID, Name: "Recoded by the ministry", Rows: rows[1:]}
		// Refused first, whatever its name and rows (the first office's
		// own statistician gets their rules).
		for _, c := range []struct {
			name string
			in   stats.NewMapping
			rule string
		}{
			{"good", hijack, "required"},
			{"no name", stats.NewMapping{ID: m.ID, Rows: rows[1:]}, "required"},
			{"no rows", stats.NewMapping{ID: m.ID, Name: "Recoded by the ministry"}, "required"},
		} {
			if _, err := w.S.PublishMapping(ctx, officer, c.in); err == nil {
				t.Errorf("another office's version of a mapping, %s: published", c.name)
			} else if e, _ := errs.As(err); e == nil || e.Code != errs.Forbidden || e.Rule != "authority" || e.Field != "id" {
				t.Errorf("another office's version of a mapping, %s: %v, want refused (authority, id)", c.name, err)
			}
			if c.name == "good" {
				continue
			}
			if _, err := w.S.PublishMapping(ctx, w.Statistician, c.in); err == nil {
				t.Errorf("the office's version of its mapping, %s: published", c.name)
			} else if e, _ := errs.As(err); e == nil || e.Code != errs.Invalid || e.Rule != c.rule {
				t.Errorf("the office's version of its mapping, %s: %v, want refused (%s)", c.name, err, c.rule)
			}
		}
		if n := count(authorityRefusals); n != 6 {
			t.Errorf("another office's mapping versions raised %d alerts in all, want 6", n)
		}
		if n := count("SELECT COUNT(*) FROM stats_mappings WHERE mapping_id = '" + m.ID + "'"); n != 1 {
			t.Errorf("mapping %s has %d versions after another office's refused one, want 1", m.ID, n)
		}
		hijack.ID = "ministry-penal-code"
		if _, err := w.S.PublishMapping(ctx, officer, hijack); err != nil {
			t.Errorf("the ministry's own mapping: %v", err)
		}
		before := size()
		wd, err := w.S.Withdraw(ctx, w.Statistician, first.ID, stats.Withdrawal{Reason: "sent twice by the police"})
		if err != nil {
			t.Fatal(err)
		}
		if wd.WithdrawnAt == "" || wd.WithdrawnBy != w.Statistician.ID || wd.WithdrawalReason != "sent twice by the police" || wd.WithdrawalIndex != int64(before) {
			t.Fatalf("withdrawn: %+v", wd)
		}
		if got := total(); got != 0 {
			t.Fatalf("a withdrawn import still counts %d", got)
		}
		if _, err := w.S.Withdraw(ctx, w.Statistician, first.ID, stats.Withdrawal{Reason: "again"}); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("withdrawn twice: %v, want a conflict", err)
		}

		second, err := imp()
		if err != nil {
			t.Fatalf("the file again once its import is withdrawn: %v", err)
		}
		if got := total(); got != want {
			t.Fatalf("imported again: counts %d, want %d", got, want)
		}
		list, err := w.S.Imports(ctx, w.Regulator)
		if err != nil {
			t.Fatal(err)
		}
		// The newest first: the file again, the file with one record less
		// (withdrawn), the file's import that won the race (withdrawn), its
		// first import (withdrawn).
		if len(list) != 4 || list[0].ID != second.ID || list[0].WithdrawnAt != "" || list[1].Source != "police.csv" || list[1].RecordsDigest == first.RecordsDigest ||
			list[1].WithdrawnAt == "" || list[2].ID != first.ID || list[2].WithdrawnAt == "" || list[3].ID != orig.ID || list[3].WithdrawnAt == "" {
			t.Fatalf("imports: %+v", list)
		}
		// The same file coded with another version of the mapping, named,
		// is not the same import: its records would be counted twice,
		// coded another way. Refused, naming the import that counts it;
		// named with the version it was imported with, or sent naming no
		// version (a retry), it is unchanged.
		rows[0].NationalLabel += " (revised)"
		next, err := w.S.PublishMapping(ctx, w.Statistician, stats.NewMapping{ID: m.ID, Name: m.Name, Rows: rows})
		if err != nil {
			t.Fatal(err)
		}
		logSize = size()
		if retry, err := imp(); err != nil || !retry.Unchanged || retry.ID != second.ID || retry.MappingVersion != second.MappingVersion {
			t.Fatalf("the same file naming no version after the next one: %+v, %v; want unchanged %s", retry, err, second.ID)
		}
		_, err = w.S.Import(ctx, w.Statistician, stats.ImportRequest{Source: "police.csv", Mapping: m.ID, MappingVersion: next.Version}, bytes.NewReader(f.data), 0, nil)
		if e, ok := errs.As(err); !ok || e.Code != errs.Conflict || e.Rule != "imported_before" || e.Field != "file" ||
			!strings.Contains(e.Message, second.ID) || !strings.Contains(e.Message, second.FileSHA256) {
			t.Fatalf("the same file under the mapping's next version: %v, want conflict imported_before at file naming %s", err, second.ID)
		}
		again, err := w.S.Import(ctx, w.Statistician, stats.ImportRequest{Source: "police.csv", Mapping: m.ID, MappingVersion: second.MappingVersion}, bytes.NewReader(f.data), 0, nil)
		if err != nil || !again.Unchanged || again.ID != second.ID {
			t.Fatalf("the same file under the version it was imported with: %+v, %v", again, err)
		}
		if got := size(); got != logSize {
			t.Fatalf("refused or unchanged imports were logged: log %d, was %d", got, logSize)
		}
		rep, err := ledger.Verify(ctx, w.App.DB, w.App.Projections, ledger.VerifyOptions{VerifierKey: w.App.Keys.LogKey})
		if err != nil || !rep.OK() {
			t.Fatalf("log verify after a withdrawal: %v %v", err, rep.Problems)
		}
	})
}
