package web_test

import (
	"bytes"
	"net/http"
	"net/url"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestImportPublishesWaitingWithdrawal: an entry withdrawn after disputes
// waits for the bank's next version; an import publishes it, and the
// bank's page says so in its counts ("1 deleted"), as the API's stats do,
// not only what the list itself changed. A list the bank held already,
// imported while a withdrawal waits, publishes a version (the withdrawal):
// it is not "Nothing published".
func TestImportPublishesWaitingWithdrawal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		hash := func(seed uint64) string {
			t.Helper()
			h, err := hashmatch.HashImage(bytes.NewReader(apptest.BlocksPNG(t, seed)), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			return h.PDQ.String()
		}
		bank := w.Bank(t, "Disputed")
		held, disputed := hash(2), hash(1)
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, map[string]any{"adds": []map[string]any{
			{"entry_id": "logo-like", "pdq": disputed, "classification": "A1"},
			{"entry_id": "kept", "pdq": held, "classification": "B1"},
		}})
		w.Subscribe(t, bank)
		m := w.Upload(t, "/api/v1/hashmatch/match/image", w.Service, "image/png", apptest.BlocksPNG(t, 1),
			"Custos-User-Id", "user-1", "Custos-Content-Ref", "photo/1")
		if m.Status != 200 || m.Str("status") != "match" {
			t.Fatalf("upload: %d %s", m.Status, m.Raw)
		}
		c := m.Str("case_id")
		w.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+c+"/review", w.Reviewer, map[string]any{"decision": "reject", "note": "benign"})
		w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+c+"/dispute", w.Reviewer, map[string]any{"note": "our logo"})
		w.Must(t, 200, "POST", "/api/v1/hashmatch/banks/"+bank+"/entries/logo-like/disputes/review", w.Analyst,
			map[string]any{"decision": "withdraw", "reason": "checked against the original report"})

		// The list restates the entry the bank keeps: the withdrawal alone
		// goes out, in version 2.
		an := newBrowser(t, w.URL)
		an.signIn(w.Analyst)
		p := an.postFile("/hashmatch/banks/"+bank+"/import", url.Values{"format": {"hex"}}, "file", "list.txt", []byte(held+" B1 kept\n"))
		wantStatus(t, "import", p, http.StatusSeeOther)
		p = an.get(p.Header.Get("Location"))
		mustContain(t, "import with a withdrawal waiting", p, "Version 2 published and signed: 0 added, 0 updated, 1 deleted, 1 records not imported")
		mustNotContain(t, "import with a withdrawal waiting", p, "Nothing published")

		// Through the API, the stats and the version agree.
		r := w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/import", w.Analyst,
			map[string]any{"format": "hex", "content": hash(3) + " A2 new\n"})
		if r.Body["version"].(map[string]any)["deletes"] != float64(0) || r.Body["stats"].(map[string]any)["deletes"] != float64(0) ||
			r.Body["stats"].(map[string]any)["adds"] != float64(1) {
			t.Errorf("an import with nothing waiting: %s", r.Raw)
		}
	})
}
