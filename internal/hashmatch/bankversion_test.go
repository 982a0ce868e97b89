package hashmatch_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/hashmatch/pdq"
	"github.com/custos-project/custos/internal/storetest"
)

// TestMatchNamesBankVersion: each match names the version of the bank that
// was searched, so that a service can say afterwards which list made it
// act: a match after version 1 says 1, the same entry matched after
// version 2 says 2, in the match answer, the case, the review queue, the case HMA's
// lookup opens and an offline match of the snapshot; the log still verifies.
func TestMatchNamesBankVersion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := w.Bank(t, "Known")
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, hashmatch.NewVersion{Adds: []hashmatch.DocEntry{
			{EntryID: "img-1", PDQ: apptest.PDQHex(1), Classification: "A1"}}})
		w.Subscribe(t, bank)
		match := func(want float64) string {
			t.Helper()
			m := w.Must(t, 200, "POST", "/api/v1/hashmatch/match", w.Service, map[string]any{"items": []any{map[string]any{"pdq": apptest.PDQHex(1), "quality": 90}}})
			res := m.Body["results"].([]any)[0].(map[string]any)
			ms := res["matches"].([]any)
			if len(ms) != 1 || ms[0].(map[string]any)["bank_version"] != want {
				t.Fatalf("match after version %v: %s", want, m.Raw)
			}
			return res["case_id"].(string)
		}
		first := match(1)
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, hashmatch.NewVersion{Adds: []hashmatch.DocEntry{
			{EntryID: "img-2", PDQ: apptest.PDQHex(2), Classification: "A1"}}})
		second := match(2)

		for id, want := range map[string]float64{first: 1, second: 2} {
			c := w.Must(t, 200, "GET", "/api/v1/hashmatch/cases/"+id, w.Reviewer, nil)
			if ms := c.Body["matches"].([]any); ms[0].(map[string]any)["bank_version"] != want {
				t.Errorf("case %s: %s, want bank_version %v", id, c.Raw, want)
			}
		}
		q := w.Must(t, 200, "GET", "/api/v1/hashmatch/cases?id="+second, w.Reviewer, nil)
		if cs := q.Body["cases"].([]any); len(cs) != 1 || cs[0].(map[string]any)["bank_version"] != 2.0 {
			t.Errorf("review queue: %s", q.Raw)
		}

		// HMA's answer keeps HMA's shape; the case it opens records the version.
		h := w.Do(t, "GET", "/hma/m/lookup?signal_type=pdq&signal="+apptest.PDQHex(1), w.Service, nil)
		if h.Status != 200 || strings.Contains(string(h.Raw), "bank_version") {
			t.Errorf("HMA lookup: %d %s", h.Status, h.Raw)
		}
		c := w.Must(t, 200, "GET", "/api/v1/hashmatch/cases/"+h.Header.Get("Custos-Case-Id"), w.Reviewer, nil)
		if ms := c.Body["matches"].([]any); ms[0].(map[string]any)["bank_version"] != 2.0 {
			t.Errorf("case of an HMA lookup: %s", c.Raw)
		}

		pull := w.Must(t, 200, "POST", "/api/v1/hashmatch/banks/"+bank+"/pull", w.Service, map[string]any{"since": 0})
		file := filepath.Join(t.TempDir(), "bank.note")
		if err := os.WriteFile(file, []byte(pull.Body["documents"].([]any)[0].(map[string]any)["note"].(string)), 0o600); err != nil {
			t.Fatal(err)
		}
		_, lb, err := hashmatch.LoadBankFile(file, w.App.Keys.LogKey)
		if err != nil {
			t.Fatal(err)
		}
		hash, err := pdq.ParseHex(apptest.PDQHex(1))
		if err != nil {
			t.Fatal(err)
		}
		local, _, err := hashmatch.MatchLocal([]*hashmatch.LocalBank{lb}, []pdq.Hash{hash})
		if err != nil || len(local) != 1 || local[0].BankVersion != 2 {
			t.Errorf("offline match of the snapshot: %+v %v", local, err)
		}
		verifyLog(t, w)
	})
}
