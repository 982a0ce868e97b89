package hashmatch_test

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestPublishUnchanged: a publication that would leave every entry as it is
// (the same adds sent again after a lost answer, updates to the content an
// entry holds, a delete of an entry deleted already) publishes nothing:
// the answer is 200 with the bank's current version and "unchanged":true,
// and neither the log nor the versions grow, so subscribers pull no empty
// delta. In a version that changes other entries, those it leaves as they
// are are not in its document or its counts.
func TestPublishUnchanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := newBank(t, w, "Retried")
		w.Subscribe(t, bank)
		path := "/api/v1/hashmatch/banks/" + bank + "/versions"
		size := func() any { return w.Must(t, 200, "GET", "/api/v1/log/checkpoint", "", nil).Body["size"] }
		versions := func() int {
			vs, _ := w.Must(t, 200, "GET", path, w.Analyst, nil).Body["versions"].([]any)
			return len(vs)
		}
		e1 := hashmatch.DocEntry{EntryID: "e1", PDQ: apptest.PDQHex(1), Classification: "A1"}
		e2 := hashmatch.DocEntry{EntryID: "e2", MD5: "0123456789abcdef0123456789abcdef", Classification: "B1", Video: &hashmatch.VideoHash{}}
		e3 := hashmatch.DocEntry{EntryID: "e3", PDQ: apptest.PDQHex(3), Classification: "A2"}
		first := hashmatch.NewVersion{Adds: []hashmatch.DocEntry{e1, e2, e3}}
		v1 := w.Must(t, 201, "POST", path, w.Analyst, first)
		if v1.Body["unchanged"] != nil {
			t.Errorf("a publication that changed the bank says unchanged: %s", v1.Raw)
		}
		before := size()

		// The same publication again: nothing published, the answer is
		// version 1 as it was, with unchanged.
		again := w.Must(t, 200, "POST", path, w.Analyst, first)
		if again.Body["version"] != float64(1) || again.Body["unchanged"] != true || again.Body["adds"] != float64(3) ||
			again.Str("doc_sha256") != v1.Str("doc_sha256") {
			t.Errorf("publication sent again: %s, first answer %s", again.Raw, v1.Raw)
		}
		// Updates to the content entries hold: the same.
		if r := w.Must(t, 200, "POST", path, w.Analyst, hashmatch.NewVersion{Updates: []hashmatch.DocEntry{e2, e1}}); r.Body["version"] != float64(1) || r.Body["unchanged"] != true {
			t.Errorf("updates that change nothing: %s", r.Raw)
		}
		if got := size(); got != before || versions() != 1 {
			t.Fatalf("a publication that changed nothing was logged or published: log %v, was %v; %d versions", got, before, versions())
		}

		// A version that changes one entry and restates two: only the one
		// changed is in it.
		e2b := e2
		e2b.Classification = "B2"
		v2 := w.Must(t, 201, "POST", path, w.Analyst, hashmatch.NewVersion{Adds: []hashmatch.DocEntry{e3}, Updates: []hashmatch.DocEntry{e1, e2b}})
		if v2.Body["version"] != float64(2) || v2.Body["updates"] != float64(1) || v2.Body["adds"] != float64(0) || v2.Body["unchanged"] != nil {
			t.Errorf("version with one change: %s", v2.Raw)
		}
		// A delete, then the same delete again.
		w.Must(t, 201, "POST", path, w.Analyst, hashmatch.NewVersion{Deletes: []string{"e3"}})
		before = size()
		if r := w.Must(t, 200, "POST", path, w.Analyst, hashmatch.NewVersion{Deletes: []string{"e3"}}); r.Body["version"] != float64(3) || r.Body["unchanged"] != true {
			t.Errorf("a delete sent again: %s", r.Raw)
		}
		if got := size(); got != before || versions() != 3 {
			t.Errorf("a delete sent again was logged or published: log %v, was %v; %d versions", got, before, versions())
		}

		// What changes an entry, or names one the bank never had, is
		// still refused, and an empty version too.
		e1b := e1
		e1b.Classification = "A2"
		for _, c := range []struct {
			name   string
			in     hashmatch.NewVersion
			status int
			rule   string
		}{
			{"add of a held entry with other content", hashmatch.NewVersion{Adds: []hashmatch.DocEntry{e1b}}, 409, "entry_exists"},
			{"add of a deleted entry", hashmatch.NewVersion{Adds: []hashmatch.DocEntry{e3}}, 409, "entry_exists"},
			{"update of a deleted entry", hashmatch.NewVersion{Updates: []hashmatch.DocEntry{e3}}, 409, "no_live_entry"},
			{"delete of an entry never held", hashmatch.NewVersion{Deletes: []string{"e3", "e9"}}, 409, "no_live_entry"},
			{"empty version", hashmatch.NewVersion{}, 422, "empty_version"},
		} {
			if r := w.Do(t, "POST", path, w.Analyst, c.in); r.Status != c.status || r.Str("error.rule") != c.rule {
				t.Errorf("%s: %d %s, want %d %s", c.name, r.Status, r.Raw, c.status, c.rule)
			}
		}

		// The subscriber's deltas: version 2 updates e2 alone, version 3
		// deletes e3; no empty delta.
		pull := w.Must(t, 200, "POST", "/api/v1/hashmatch/banks/"+bank+"/pull", w.Service, map[string]any{"since": 1})
		var p hashmatch.Pull
		jsonUnmarshal(t, string(pull.Raw), &p)
		if p.To != 3 || len(p.Documents) != 2 {
			t.Fatalf("pull since 1: %s", pull.Raw)
		}
		var d2 hashmatch.Doc
		jsonUnmarshal(t, strings.SplitN(p.Documents[0].Note, "\n", 2)[0], &d2)
		if len(d2.Adds) != 0 || len(d2.Deletes) != 0 || !reflect.DeepEqual(d2.Updates, []hashmatch.DocEntry{e2b}) {
			t.Errorf("version 2's document: adds %+v, deletes %v, updates %+v; want the update of e2 alone", d2.Adds, d2.Deletes, d2.Updates)
		}
	})
}

// TestImportUnchanged: importing a list the bank holds already (the same
// file again, by the API or the web form) publishes nothing, as a
// publication sent again does: 200 with the current version and
// "unchanged":true, its records counted already_held, and neither the log
// nor the versions grow. A list whose deletions the bank made already is
// held too. A list with nothing a bank can hold is still refused
// empty_version: importing it again would not help.
func TestImportUnchanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := newBank(t, w, "Reimported")
		path := "/api/v1/hashmatch/banks/" + bank + "/import"
		size := func() any { return w.Must(t, 200, "GET", "/api/v1/log/checkpoint", "", nil).Body["size"] }
		list := apptest.PDQHex(1) + " A1 e1\n" + apptest.PDQHex(2) + " A2 e2\n"
		first := w.Must(t, 201, "POST", path, w.Analyst, map[string]any{"format": "hex", "content": list})
		before := size()

		type answer struct {
			Version hashmatch.Version     `json:"version"`
			Stats   hashmatch.ImportStats `json:"stats"`
		}
		var a, f answer
		jsonUnmarshal(t, string(first.Raw), &f)
		jsonUnmarshal(t, string(w.Must(t, 200, "POST", path, w.Analyst, map[string]any{"format": "hex", "content": list}).Raw), &a)
		if !a.Version.Unchanged || a.Version.Version != 1 || a.Version.DocSHA256 != f.Version.DocSHA256 ||
			a.Stats.Adds != 0 || a.Stats.Skipped != 2 || len(a.Stats.NotHeld) != 1 || a.Stats.NotHeld[0].Rule != hashmatch.NotHeldAlreadyHeld {
			t.Errorf("the same list again: %+v", a)
		}
		if got := size(); got != before {
			t.Errorf("an import the bank held already was logged: log %v, was %v", got, before)
		}

		// A deletion the bank made already, beside an entry it holds.
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, hashmatch.NewVersion{Deletes: []string{"e2"}})
		before = size()
		del := `{"adds":[{"entry_id":"e1","pdq":"` + apptest.PDQHex(1) + `","classification":"A1"}],"deletes":["e2"]}`
		jsonUnmarshal(t, string(w.Must(t, 200, "POST", path, w.Analyst, map[string]any{"format": "json", "content": del}).Raw), &a)
		if !a.Version.Unchanged || a.Version.Version != 2 || a.Stats.Skipped != 2 {
			t.Errorf("a deletion made already: %+v", a)
		}
		if got := size(); got != before {
			t.Errorf("an import of a deletion made already was logged: log %v, was %v", got, before)
		}

		// Nothing a bank can hold, or a deletion of an entry it never had:
		// still empty_version, naming why.
		for name, c := range map[string]map[string]any{
			"no PDQ":              {"format": "projectvic", "content": `{"value":[{"MediaID":17,"Category":1,"MD5":"0123456789abcdef0123456789abcdef"}]}`},
			"deletion never held": {"format": "json", "content": `{"deletes":["e9"]}`},
		} {
			if r := w.Do(t, "POST", path, w.Analyst, c); r.Status != 422 || r.Str("error.rule") != "empty_version" {
				t.Errorf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
		if got := size(); got != before {
			t.Errorf("a refused import was logged: log %v, was %v", got, before)
		}
	})
}

// TestUnchangedNotRefused: a publication or an import that changes
// nothing, answered 200, is no refusal: custos_commands_refused_total on
// /metrics does not count it. A publication of nothing (empty_version),
// refused in the writer, does.
func TestUnchangedNotRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := newBank(t, w, "Counted")
		refusedRE := regexp.MustCompile(`(?m)^custos_commands_refused_total ([0-9]+)$`)
		refused := func() int {
			t.Helper()
			body := apptest.Metrics(t, w.URL)
			m := refusedRE.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("/metrics has no custos_commands_refused_total:\n%s", body)
			}
			n, _ := strconv.Atoi(m[1])
			return n
		}
		versions := "/api/v1/hashmatch/banks/" + bank + "/versions"
		e1 := hashmatch.DocEntry{EntryID: "e1", PDQ: apptest.PDQHex(1), Classification: "A1"}
		w.Must(t, 201, "POST", versions, w.Analyst, hashmatch.NewVersion{Adds: []hashmatch.DocEntry{e1}})
		before := refused()
		w.Must(t, 200, "POST", versions, w.Analyst, hashmatch.NewVersion{Adds: []hashmatch.DocEntry{e1}})
		w.Must(t, 200, "POST", "/api/v1/hashmatch/banks/"+bank+"/import", w.Analyst,
			map[string]any{"format": "hex", "content": apptest.PDQHex(1) + " A1 e1\n"})
		if got := refused(); got != before {
			t.Errorf("publications that changed nothing counted as refused: %d → %d", before, got)
		}
		if r := w.Do(t, "POST", versions, w.Analyst, hashmatch.NewVersion{}); r.Status != 422 || r.Str("error.rule") != "empty_version" {
			t.Fatalf("empty version: %d %s", r.Status, r.Raw)
		}
		if got := refused(); got != before+1 {
			t.Errorf("an empty version refused: refused %d → %d, want one more", before, got)
		}
	})
}
