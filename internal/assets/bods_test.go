package assets_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/storetest"
)

type bodsWorld struct {
	*apptest.Env
	S                   *assets.Service
	Officer, Prosecutor string // tokens
}

func newBODSWorld(t *testing.T, dsn string) *bodsWorld {
	t.Helper()
	e := apptest.Start(t, dsn)
	ca := e.Must(t, 201, "POST", "/api/v1/authorities", e.Admin, map[string]any{"name": "Demoland Central Authority", "kind": assets.KindCentralAuthority}).Str("id")
	po := e.Must(t, 201, "POST", "/api/v1/authorities", e.Admin, map[string]any{"name": "Demoland Asset Recovery Office", "kind": assets.KindProsecution}).Str("id")
	officer := e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Officer", "role": string(assets.RoleCentralAuthority), "authority_id": ca}).Str("token")
	pros := e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Prosecutor", "role": string(assets.RoleProsecutor), "authority_id": po}).Str("token")
	return &bodsWorld{Env: e, S: e.App.Service("assets").(*assets.Service), Officer: officer, Prosecutor: pros}
}

func lines(stmts ...[]byte) []byte { return append(bytes.Join(stmts, []byte("\n")), '\n') }

func (w *bodsWorld) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := w.App.DB.Read().QueryRow(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBODSImportHistoryAndLookups imports two files through the API (the
// second updates one relationship and closes another), answers who owns
// an entity and what a person controls, and checks that every lookup is
// logged with its source and retrieval time, that both
// files' statements are kept, and that the log verifies.
func TestBODSImportHistoryAndLookups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newBODSWorld(t, dsn)
		b := &bods.Builder{Prefix: "import-1", Date: "2026-03-01", Publisher: "Demoland companies register"}
		first := lines(
			b.Entity("A", "Alpha Holdings Ltd", "DL", ""), b.Entity("B", "Beta Trading Ltd", "DL", ""), b.Entity("C", "Gamma Invest SA", "XB", ""),
			b.Person("P", "Pat Example", ""), b.Person("Q", "Quinn Example", ""),
			b.Relationship("r1", "A", "B", []float64{60}, ""), b.Relationship("r2", "A", "C", []float64{40}, ""),
			b.Relationship("r3", "B", "P", []float64{50}, ""), b.Relationship("r4", "B", "Q", []float64{50}, ""),
			b.Relationship("r5", "C", "P", []float64{100}, ""), b.Relationship("r6", "C", "B", []float64{10, 20}, ""), // r6 with r1… loops? no: C held by B
		)
		im := w.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source=register-march.jsonl", w.Officer, first)
		if im.Body["statements"].(float64) != 11 || im.Body["relationships"].(float64) != 6 {
			t.Fatalf("import: %s", im.Raw)
		}
		owners := w.Must(t, 200, "GET", "/api/v1/assets/bods/owners/A", w.Prosecutor, nil)
		var a assets.OwnershipAnswer
		if err := json.Unmarshal(owners.Raw, &a); err != nil {
			t.Fatal(err)
		}
		// P: A←B←P 60×50 = 30, A←C←P 40×100 = 40, A←C←B←P 40×[10,20]×50 = [2,4]: [72, 74].
		var p *bods.Holding
		for i := range a.Holdings {
			if a.Holdings[i].Node.ID == "P" {
				p = &a.Holdings[i]
			}
		}
		if p == nil || p.Lo < 71.999 || p.Lo > 72.001 || p.Hi < 73.999 || p.Hi > 74.001 || p.PathCount != 3 {
			t.Fatalf("P holds %+v of A", p)
		}
		if a.Source != im.Str("id") || a.Imports != 1 || a.RetrievedAt == "" || a.LogIndex == 0 {
			t.Fatalf("the answer does not say its source and time: %+v", a)
		}

		// The second file: r1 now 30%, r4 closed, A renamed.
		b2 := &bods.Builder{Prefix: "import-2", Date: "2026-04-01", Publisher: "Demoland companies register"}
		second := lines(b2.Relationship("r1", "A", "B", []float64{30}, bods.StatusUpdated), b2.Relationship("r4", "B", "Q", []float64{50}, bods.StatusClosed),
			b2.Entity("A", "Alpha Group Ltd", "DL", bods.StatusUpdated))
		w.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source=register-april.jsonl", w.Officer, second)
		again, err := w.S.Ownership(context.Background(), w.Principal(t, w.Prosecutor), assets.QuestionOwners, "A", "cli")
		if err != nil {
			t.Fatal(err)
		}
		if again.Root.Name != "Alpha Group Ltd" || again.Imports != 2 {
			t.Fatalf("after the second import: %+v", again.Root)
		}
		for _, h := range again.Holdings {
			if h.Node.ID == "Q" {
				t.Fatalf("Q's closed relationship still counts: %+v", h)
			}
		}
		controls := w.Must(t, 200, "GET", "/api/v1/assets/bods/controls/P", w.Officer, nil)
		if n := len(controls.Body["holdings"].([]any)); n != 3 {
			t.Fatalf("P controls %d entities, want A, B, C: %s", n, controls.Raw)
		}
		exp := w.Do(t, "GET", "/api/v1/assets/bods/export", w.Officer, nil)
		all, err := bods.ReadAll(bytes.NewReader(exp.Raw))
		if exp.Status != 200 || err != nil || len(all) != 14 {
			t.Fatalf("export: status %d, %d statements, %v", exp.Status, len(all), err)
		}
		// Every lookup is an entry: 3 lookups (the export is an
		// export.made entry, TestBODSExportIsAnExport).
		rows, err := w.App.DB.Read().Query(context.Background(), "SELECT question, via, source, retrieved_at FROM assets_bods_lookups ORDER BY log_index")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var q, via, src, at string
			if err := rows.Scan(&q, &via, &src, &at); err != nil {
				t.Fatal(err)
			}
			if src == "" || at == "" {
				t.Fatalf("a lookup logged without its source or time: %s %s", q, via)
			}
			got = append(got, q+"/"+via)
		}
		rows.Close()
		if strings.Join(got, " ") != "owners/api owners/cli controls/api" {
			t.Fatalf("lookups logged: %v", got)
		}
		if n := w.count(t, "assets_bods_statements"); n != 14 {
			t.Fatalf("%d statements kept, want both files' 14", n)
		}
		if rep := w.Verify(t); !rep.OK() {
			t.Fatalf("log verify: %v", rep.Problems)
		}
		// A prosecutor may look up, not import.
		if r := w.Do(t, "POST", "/api/v1/assets/bods/imports", w.Prosecutor, lines(b2.Person("Z", "Z", ""))); r.Status != 403 {
			t.Fatalf("a prosecutor's import: %d %s", r.Status, r.Raw)
		}
		if r := w.Do(t, "GET", "/api/v1/assets/bods/owners/nobody", w.Officer, nil); r.Status != 404 {
			t.Fatalf("an unknown record: %d", r.Status)
		}
	})
}

// newRefusalWorld is a world with one import of one entity statement,
// good, made by b.
func newRefusalWorld(t *testing.T, dsn, prefix string) (*bodsWorld, *bods.Builder, []byte) {
	t.Helper()
	w := newBODSWorld(t, dsn)
	b := &bods.Builder{Prefix: prefix, Date: "2026-03-01", Publisher: "p"}
	good := b.Entity("A", "Alpha", "", "")
	w.Must(t, 201, "POST", "/api/v1/assets/bods/imports", w.Officer, lines(good))
	return w, b, good
}

// TestBODSBadFileChangesNothing: a file with one bad statement (a share
// not a number, a lone surrogate), or one that repeats a statement already
// imported, is refused with its path, and nothing is stored or logged.
func TestBODSBadFileChangesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w, b, good := newRefusalWorld(t, dsn, "bad")
		bad := bytes.Replace(b.Relationship("r1", "A", "P", []float64{10}, ""), []byte(`"exact":10`), []byte(`"exact":"ten"`), 1)
		r := w.Do(t, "POST", "/api/v1/assets/bods/imports", w.Officer, lines(b.Person("P", "P", ""), bad))
		if r.Status != 422 && r.Status != 400 || r.Str("error.field") != "statements[1].recordDetails.interests[0].share.exact" || r.Str("error.rule") != "bods_schema" {
			t.Fatalf("a bad share: %d %s", r.Status, r.Raw)
		}
		// Half of a UTF-16 surrogate pair alone in a name: encoding/json
		// read it as U+FFFD; it is refused, naming the statement and field.
		lone := bytes.Replace(b.Entity("L", "NAME", "DL", ""), []byte(`"NAME"`), []byte(`"L\ud800 Ltd"`), 1)
		r = w.Do(t, "POST", "/api/v1/assets/bods/imports", w.Officer, lines(b.Person("P3", "P", ""), lone))
		if r.Status != 400 || r.Str("error.rule") != "utf8" || r.Str("error.field") != "statements[1].recordDetails.name" {
			t.Fatalf("a lone surrogate: %d %s", r.Status, r.Raw)
		}
		r = w.Do(t, "POST", "/api/v1/assets/bods/imports", w.Officer, lines(b.Person("P2", "P", ""), good))
		if r.Str("error.rule") != "duplicate_statement" || r.Str("error.field") != "statements[1].statementId" {
			t.Fatalf("a statement imported twice: %d %s", r.Status, r.Raw)
		}
		if n := w.count(t, "assets_bods_statements"); n != 1 {
			t.Fatalf("%d statements stored after three refusals, want 1", n)
		}
		if n := w.count(t, "assets_bods_imports"); n != 1 {
			t.Fatalf("%d imports logged, want 1", n)
		}
	})
}

// TestBODSStatementSize: a file with a statement one byte longer than
// bods.MaxStatement (a name padded out) is refused naming the statement,
// and nothing is stored or logged; one of bods.MaxStatement bytes is
// imported.
func TestBODSStatementSize(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w, b, _ := newRefusalWorld(t, dsn, "size")
		sized := func(recordID string, size int) []byte {
			t.Helper()
			s := b.Entity(recordID, strings.Repeat("n", size-len(b.Entity(recordID, "", "", ""))), "", "")
			if len(s) != size {
				t.Fatalf("a statement of %d bytes, want %d", len(s), size)
			}
			return s
		}
		statements, leaves := w.count(t, "assets_bods_statements"), w.count(t, "log_leaves")
		r := w.Do(t, "POST", "/api/v1/assets/bods/imports?source=big.jsonl", w.Officer, lines(b.Person("P", "P", ""), sized("BIG", bods.MaxStatement+1)))
		if r.Status != 422 || r.Str("error.rule") != "statement_size" || r.Str("error.field") != "statements[1]" {
			t.Fatalf("a statement of %d bytes: %d %s", bods.MaxStatement+1, r.Status, r.Raw)
		}
		if len(r.Raw) > 4096 {
			t.Fatalf("the refusal is %d bytes long", len(r.Raw))
		}
		if n := w.count(t, "assets_bods_statements"); n != statements {
			t.Fatalf("%d statements stored after the refusal, want %d", n, statements)
		}
		if n := w.count(t, "log_leaves"); n != leaves {
			t.Fatalf("%d log entries after the refusal, want %d", n, leaves)
		}
		w.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source=just.jsonl", w.Officer, lines(b.Person("P", "P", ""), sized("JUST", bods.MaxStatement)))
		if n := w.count(t, "assets_bods_statements"); n != statements+2 {
			t.Fatalf("%d statements stored after a statement of MaxStatement bytes, want %d", n, statements+2)
		}
	})
}

// TestBODSRefusedLateChangesNothing refuses files whose bad statement
// comes after several batches of good ones have gone to be stored (a
// schema fault, then a statementId of an earlier import): the statements
// stored for them are deleted again and nothing is logged; a good file of
// that size is stored whole and verifies.
func TestBODSRefusedLateChangesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w, b, good := newRefusalWorld(t, dsn, "late")
		const n = 3000
		file := func(prefix string, at int, bad []byte) []byte {
			var stmts [][]byte
			for i := range n {
				if i == at {
					stmts = append(stmts, bad)
					continue
				}
				stmts = append(stmts, b.Entity(fmt.Sprintf("%s-%d", prefix, i), fmt.Sprintf("Company %d", i), "", ""))
			}
			return lines(stmts...)
		}
		broken := bytes.Replace(b.Entity("X", "X", "", ""), []byte(`"recordType":"entity"`), []byte(`"recordType":"company"`), 1)
		r := w.Do(t, "POST", "/api/v1/assets/bods/imports", w.Officer, file("B", n-10, broken))
		if r.Str("error.rule") != "bods_schema" || r.Str("error.field") != fmt.Sprintf("statements[%d].recordType", n-10) {
			t.Fatalf("a bad statement late in the file: %d %s", r.Status, r.Raw)
		}
		r = w.Do(t, "POST", "/api/v1/assets/bods/imports", w.Officer, file("C", n-10, good))
		if r.Status != 409 || r.Str("error.rule") != "duplicate_statement" || r.Str("error.field") != fmt.Sprintf("statements[%d].statementId", n-10) {
			t.Fatalf("a statement of an earlier import late in the file: %d %s", r.Status, r.Raw)
		}
		if got := w.count(t, "assets_bods_statements"); got != 1 {
			t.Fatalf("%d statements stored after two late refusals, want 1", got)
		}
		if got := w.count(t, "assets_bods_imports"); got != 1 {
			t.Fatalf("%d imports logged, want 1", got)
		}
		im := w.Must(t, 201, "POST", "/api/v1/assets/bods/imports", w.Officer, file("D", -1, nil))
		if got, _ := im.Body["statements"].(float64); got != n || w.count(t, "assets_bods_statements") != n+1 {
			t.Fatalf("a good file of %d statements: %s, %d stored", n, im.Raw, w.count(t, "assets_bods_statements"))
		}
		if rep := w.Verify(t); !rep.OK() {
			t.Fatalf("log verify after the imports: %v", rep.Problems)
		}
	})
}

// TestBODSOfficialExamples imports each official example; the joint
// ownership example answers two persons with 50% each.
func TestBODSOfficialExamples(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "reference", "bods", "examples")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("the BODS reference is not at %s: %v", dir, err)
	}
	// The examples reuse statement ids between them: one registry each.
	var w *bodsWorld
	for _, name := range []string{"bods-package.json", "simple-pep-declaration.json", "joint-ownership.json"} {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		w = newBODSWorld(t, storetest.SQLite(t))
		w.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source="+name, w.Officer, raw)
	}
	a, err := w.S.Ownership(context.Background(), w.Principal(t, w.Prosecutor), assets.QuestionOwners, "31c55e425764", "api")
	if err != nil {
		t.Fatal(err)
	}
	var persons int
	for _, h := range a.Holdings {
		if h.Node.Type == bods.Person && h.Lo == 50 && h.Hi == 50 {
			persons++
		}
	}
	if persons != 2 {
		t.Fatalf("the joint ownership example answers %+v", a.Holdings)
	}
}

// TestBODSDemo imports Demoland's register and finds its ownership chain:
// the harbour company is held by Ana through Azure and Kestrel (70 × 100 ×
// [50, 75] plus 30 × 10 × [50, 75]), the loop Northwind–Kestrel is cut, and
// the later file's update and closure show.
func TestBODSDemo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newBODSWorld(t, dsn)
		admin := w.Principal(t, w.Admin)
		if err := assets.DemoBODS(context.Background(), &module.Demo{Service: w.S, Admin: admin}); err != nil {
			t.Fatal(err)
		}
		a, err := w.S.Ownership(context.Background(), w.Principal(t, w.Prosecutor), assets.QuestionOwners, assets.DemoOwnedEntity, "api")
		if err != nil {
			t.Fatal(err)
		}
		if a.Imports != 2 || a.Cycles == 0 {
			t.Fatalf("the demo answers %d imports, %d loops", a.Imports, a.Cycles)
		}
		byName := map[string]bods.Holding{}
		fold := strings.NewReplacer("É", "E", "É", "E", "-", " ")
		for _, h := range a.Holdings {
			byName[h.Node.Name] = h
			if h.Node.Type != bods.Person {
				continue
			}
			// A person's record id is opaque: no part of the name is in it.
			for _, part := range strings.Fields(fold.Replace(strings.ToUpper(h.Node.Name))) {
				if len(part) >= 3 && strings.Contains(strings.ToUpper(h.Node.ID), part) {
					t.Errorf("the record id %s of a person carries %q of the name %s", h.Node.ID, part, h.Node.Name)
				}
			}
		}
		if len(byName) < 3 {
			t.Fatalf("the demo's holdings: %+v", a.Holdings)
		}
		ana := byName["Ana Demo-Varga"]
		if ana.Lo < 36.49 || ana.Lo > 36.51 || ana.Hi < 54.74 || ana.Hi > 54.76 {
			t.Fatalf("Ana holds %+v, want [36.5, 54.75]", ana)
		}
		if bruno := byName["Bruno Example"]; !bruno.Known || bruno.Lo < 14.59 || bruno.Lo > 14.61 {
			t.Fatalf("Bruno holds %+v, want 70 × 20 + 30 × 10 × 20 = 14.6, his control without a share closed", bruno)
		}
	})
}

// TestBODSImportStoppedBeforeItsEntry: the statements of an import whose
// process died before its entry hold their statementIds; the next import
// removes them once they have had no beat for assets.Orphaned, so the
// same file can be imported again, and refuses a file that repeats those
// of an import under way (import_under_way, naming when its statements
// are removed, not the import: it names no state yet). log verify notes
// such statements; one stored with no import at all, as custos never
// stores one, fails it.
func TestBODSImportStoppedBeforeItsEntry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newBODSWorld(t, dsn)
		ctx := context.Background()
		now := time.Now()
		clock := now.Add(-time.Minute)
		w.S.Now = func() time.Time { return clock }
		u := &bods.Builder{Prefix: "under-way", Date: "2026-03-01", Publisher: "p"}
		underWay := lines(u.Entity("B", "Beta", "", ""))
		writing, err := w.S.StageBODS(ctx, bytes.NewReader(underWay))
		if err != nil {
			t.Fatal(err)
		}
		clock = now.Add(-time.Hour)
		b := &bods.Builder{Prefix: "died", Date: "2026-03-01", Publisher: "p"}
		died := lines(b.Entity("A", "Alpha", "", ""), b.Person("P", "Pat Example", ""), b.Relationship("r", "A", "P", []float64{60}, ""))
		if _, err := w.S.StageBODS(ctx, bytes.NewReader(died)); err != nil {
			t.Fatal(err)
		}
		clock = now
		if rep := w.Verify(t); !rep.OK() || !strings.Contains(strings.Join(rep.Notes, "\n"), "4 statements of an import not in the log") {
			t.Fatalf("log verify with two imports stopped: %v, notes %v", rep.Problems, rep.Notes)
		}
		w.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source=again.jsonl", w.Officer, died)
		if n := w.count(t, "assets_bods_statements"); n != 4 {
			t.Fatalf("%d statements stored after the import again, want its 3 and the 1 under way", n)
		}
		r := w.Do(t, "POST", "/api/v1/assets/bods/imports", w.Officer, underWay)
		if r.Status != 409 || r.Str("error.rule") != "import_under_way" || r.Str("error.field") != "statements[0].statementId" ||
			strings.Contains(r.Str("error.message"), writing) || !strings.Contains(r.Str("error.message"), "removes") {
			t.Fatalf("a file whose statement an import under way holds: %d %s", r.Status, r.Raw)
		}
		if rep := w.Verify(t); !rep.OK() {
			t.Fatalf("log verify: %v", rep.Problems)
		}
		tx, err := w.App.DB.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO assets_bods_statements (id, import_id, pos, statement_id, record_id, record_type, record_status, statement_date,
			name, kind, subject, party, interests, body) SELECT 'BO-FORGED/000000000', 'BO-FORGED', 0, 'forged', record_id, record_type, record_status, statement_date,
			name, kind, subject, party, interests, body FROM assets_bods_statements WHERE import_id = ?`, writing); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if rep := w.Verify(t); rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), "1 statements of no import") {
			t.Fatalf("a statement stored with no import: log verify says %v", rep.Problems)
		}
	})
}
