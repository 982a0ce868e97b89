package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestExportsList: the exports made are listed newest first from the log
// (GET /api/v1/log/exports): each export.made entry, where, when and by
// whom as its leaf says, with what its export.completed entry says was
// sent, or null for an export cut short; filtered by registry, list and
// day, paged by a cursor; for the roles that read the log's entries, no
// other. Before, an auditor found an export only by reading leaves one by
// one. The list reads the exports table (core migration 26), which log
// verify replays and compares, and which the migration's step fills from
// the log; a registry or list no export was made of is refused (enum), not
// answered with an empty page.
func TestExportsList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		if r := donorAt(t, w, w.CoordA, w.CentreA, "O"); r.Status != 201 {
			t.Fatalf("donor: %s", r.Raw)
		}
		var made []int64 // oldest first
		for _, path := range []string{"/api/v1/transplant/donors?format=csv&centre_id=" + w.CentreA, "/api/v1/authorities?format=xlsx"} {
			status, h, b := download(t, w.Env, w.Regulator, path)
			if status != 200 {
				t.Fatalf("%s: %d %s", path, status, b)
			}
			n, _ := strconv.ParseInt(h.Get(export.LogEntryHeader), 10, 64)
			made = append(made, n)
		}
		// An export that ends in an error after it was logged: made, never
		// completed.
		broken := errors.New("the list broke")
		req := export.Request{Registry: "transplant", List: "broken", Format: export.CSV, Columns: []string{"n"},
			Rows: func(context.Context) iter.Seq2[[]any, error] {
				return func(yield func([]any, error) bool) {
					if yield([]any{1}, nil) {
						yield(nil, broken)
					}
				}
			}}
		var cut export.Meta
		if _, err := export.Export(context.Background(), w.App.DB, w.App.Writer, w.Principal(t, w.Auditor).Actor(), req, func(m export.Meta) { cut = m }, io.Discard); !errors.Is(err, broken) {
			t.Fatalf("the broken export: %v", err)
		}
		made = append(made, cut.Entry)

		var all struct {
			Exports []export.Listed `json:"exports"`
			Next    string          `json:"next"`
		}
		r := w.Must(t, 200, "GET", "/api/v1/log/exports", w.Auditor, nil)
		if err := json.Unmarshal(r.Raw, &all); err != nil {
			t.Fatal(err)
		}
		// The answer is what the OpenAPI document says (a completed export
		// and one cut short, null).
		openAPIValidator(t, w.Env)("GET", "/api/v1/log/exports", "response", r.Body)
		if len(all.Exports) != 3 || all.Next != "" {
			t.Fatalf("the exports: %s", r.Raw)
		}
		for i, e := range all.Exports {
			if want := made[len(made)-1-i]; e.Entry != want {
				t.Errorf("export %d is entry %d, want %d (newest first)", i, e.Entry, want)
			}
			// What the list says is what the log's leaves say, no more.
			var leaf struct {
				At        string      `json:"at"`
				By        string      `json:"by"`
				Authority string      `json:"authority"`
				Type      string      `json:"type"`
				Data      export.Made `json:"data"`
			}
			if err := json.Unmarshal([]byte(w.Must(t, 200, "GET", "/api/v1/log/entries/"+strconv.FormatInt(e.Entry, 10), w.Auditor, nil).Str("data")), &leaf); err != nil {
				t.Fatal(err)
			}
			if leaf.Type != export.TypeMade || leaf.At != e.At || leaf.By != e.By || leaf.Authority != e.Authority || leaf.Data != e.Made {
				t.Errorf("export %d lists %+v; its leaf says %+v", e.Entry, e, leaf)
			}
			got, idx, ok := completedOf(t, w, e.Entry)
			switch {
			case !ok && e.Completed != nil:
				t.Errorf("export %d has no completed entry, the list says %+v", e.Entry, e.Completed)
			case ok && (e.Completed == nil || *e.Completed != export.Sent{Entry: idx, Rows: got.Rows, Bytes: got.Bytes, SHA256: got.SHA256}):
				t.Errorf("export %d: completed at %d %+v, the list says %+v", e.Entry, idx, got, e.Completed)
			}
		}
		if all.Exports[0].List != "broken" || all.Exports[0].Completed != nil || all.Exports[1].List != "authorities" || all.Exports[1].Completed == nil ||
			all.Exports[2].List != "donors" || all.Exports[2].Filter != "centre_id="+w.CentreA || all.Exports[2].Completed.Rows != 1 {
			t.Errorf("the exports: %s", r.Raw)
		}

		// Filters, and pages.
		today := time.Now().UTC().Format("2006-01-02")
		tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02")
		yesterday := time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02")
		for query, want := range map[string][]int64{
			"registry=transplant":                {made[2], made[0]},
			"registry=core&list=authorities":     {made[1]},
			"list=broken":                        {made[2]},
			"from=" + yesterday + "&to=" + today: {made[2], made[1], made[0]},
			"from=" + tomorrow:                   nil,
			"to=" + yesterday:                    nil,
		} {
			var got []int64
			next := "/api/v1/log/exports?limit=1&" + query
			for pages := 0; next != ""; pages++ {
				var p struct {
					Exports []export.Listed `json:"exports"`
					Next    string          `json:"next"`
				}
				if err := json.Unmarshal(w.Must(t, 200, "GET", next, w.Regulator, nil).Raw, &p); err != nil {
					t.Fatal(err)
				}
				if len(p.Exports) > 1 || pages > len(want) {
					t.Fatalf("%s: page %d holds %d exports", query, pages, len(p.Exports))
				}
				for _, e := range p.Exports {
					got = append(got, e.Entry)
				}
				next = p.Next
			}
			if len(got) != len(want) || (len(want) > 0 && !slices.Equal(got, want)) {
				t.Errorf("%s: exports %v, want %v", query, got, want)
			}
		}
		for _, c := range []struct{ path, token, rule, field string }{
			{"/api/v1/log/exports", w.CoordA, "role", ""},
			{"/api/v1/log/exports?from=2025-13-01", w.Auditor, "date_format", "from"},
			{"/api/v1/log/exports?to=2025-01-01&from=2025-02-01", w.Auditor, "dates_in_order", "to"},
			{"/api/v1/log/exports?type=donors", w.Auditor, "query", "type"},
			{"/api/v1/log/exports?cursor=nope", w.Auditor, "cursor", "cursor"},
			{"/api/v1/log/exports?list=nothing", w.Auditor, "enum", "list"},
			{"/api/v1/log/exports?registry=transplnat", w.Auditor, "enum", "registry"},
			{"/api/v1/log/exports?registry=core&list=donors", w.Auditor, "enum", "list"},
		} {
			if r := w.Do(t, "GET", c.path, c.token, nil); r.Str("error.rule") != c.rule || r.Str("error.field") != c.field {
				t.Errorf("%s: %d %s, want rule %s field %s", c.path, r.Status, r.Raw, c.rule, c.field)
			}
		}

		// The table is the log's: log verify replays it, and migration
		// 26's step writes it from the log again, row for row.
		ctx := context.Background()
		dump := func() string {
			t.Helper()
			rows, err := w.App.DB.Read().Query(ctx, `SELECT log_index, id, made_at, made_by, authority, registry, list, filter, format, checkpoint_size,
				checkpoint_root, personal, COALESCE(completed_index, -1), COALESCE(sent_rows, -1), COALESCE(sent_bytes, -1), COALESCE(sha256, '-') FROM exports ORDER BY log_index`)
			if err != nil {
				t.Fatal(err)
			}
			out, err := store.Rows(rows, func(r store.Scanner, s *string) error {
				var x [16]string
				ptrs := make([]any, len(x))
				for i := range x {
					ptrs[i] = &x[i]
				}
				err := r.Scan(ptrs...)
				*s = strings.Join(x[:], "|")
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return strings.Join(out, "\n")
		}
		projected := dump()
		if n := strings.Count(projected, "\n") + 1; n != 3 || !strings.HasSuffix(projected, "|-1|-1|-1|-") {
			t.Fatalf("the exports table: %d rows, want 3, the last not completed:\n%s", n, projected)
		}
		if rep := w.Verify(t); !rep.OK() {
			t.Fatalf("log verify: %v", rep.Problems)
		}
		refill(t, w, "exports", module.Core.SchemaSteps[26])
		if got := dump(); got != projected {
			t.Errorf("migration 26's step wrote\n%s\nwant what the projectors wrote\n%s", got, projected)
		}
		w.Tamper(t, "UPDATE exports SET sent_rows = 2 WHERE log_index = ?", made[0])
		rep := w.Verify(t)
		if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "exports") || !strings.Contains(rep.Problems[0], "sent_rows") {
			t.Errorf("log verify after an export's rows were changed: %v, want one problem naming exports and sent_rows", rep.Problems)
		}
	})
}

// refill empties table and runs a migration's step that fills it from the
// log, in one transaction, as the migration runs it on an upgrade.
func refill(t *testing.T, w *apptest.World, table string, step func(context.Context, *store.Tx) error) {
	t.Helper()
	ctx := context.Background()
	tx, err := w.App.DB.BeginWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM "+table); err != nil {
		t.Fatal(err)
	}
	if err := step(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}
