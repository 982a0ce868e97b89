package hashmatch_test

import (
	"reflect"
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
