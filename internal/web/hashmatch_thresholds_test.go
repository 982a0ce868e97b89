package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestHashmatchVideoThresholdsPage: the bank's owner sets its vPDQ match
// percentages on the bank's page; out of range and non-numbers are refused
// on their field with the values kept; another authority sees them but no
// form, and its post is refused.
func TestHashmatchVideoThresholdsPage(t *testing.T) {
	w := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{})
	bank := w.Bank(t, "Known videos")
	an := newBrowser(t, w.URL)
	an.signIn(w.Analyst)
	p := an.get("/hashmatch/banks/" + bank)
	wantStatus(t, "bank", p, http.StatusOK)
	mustContain(t, "bank", p, `id="thresholds"`, `action="/hashmatch/banks/`+bank+`/video_thresholds"`,
		`id="query-match-threshold-pct">80 %<`, `id="index-match-threshold-pct">0 %<`, `value="80"`)

	p = an.post("/hashmatch/banks/"+bank+"/video_thresholds", url.Values{"query_match_threshold_pct": {"101"}, "index_match_threshold_pct": {"0"}})
	wantStatus(t, "101", p, http.StatusUnprocessableEntity)
	mustContain(t, "101", p, `id="refusal-rule">range<`, `id="refusal-field">query_match_threshold_pct<`, `value="101"`)
	p = an.post("/hashmatch/banks/"+bank+"/video_thresholds", url.Values{"query_match_threshold_pct": {"80"}, "index_match_threshold_pct": {"half"}})
	wantStatus(t, "half", p, http.StatusUnprocessableEntity)
	mustContain(t, "half", p, `id="refusal-rule">number<`, `id="refusal-field">index_match_threshold_pct<`)

	p = an.post("/hashmatch/banks/"+bank+"/video_thresholds", url.Values{"query_match_threshold_pct": {"70"}, "index_match_threshold_pct": {"12,5"}})
	wantStatus(t, "set", p, http.StatusSeeOther)
	p = an.get(p.Header.Get("Location"))
	mustContain(t, "set", p, "Video match percentages saved", `id="query-match-threshold-pct">70 %<`, `id="index-match-threshold-pct">12.5 %<`, `value="12.5"`)
	b := w.Must(t, 200, "GET", "/api/v1/hashmatch/banks/"+bank, w.Analyst, nil).Body["bank"].(map[string]any)
	if b["query_match_threshold_pct"] != 70.0 || b["index_match_threshold_pct"] != 12.5 {
		t.Errorf("after the form: %v %v, want 70 12.5", b["query_match_threshold_pct"], b["index_match_threshold_pct"])
	}

	oa := newBrowser(t, w.URL)
	oa.signIn(w.OtherAnalyst)
	p = oa.get("/hashmatch/banks/" + bank)
	mustContain(t, "other analyst", p, `id="query-match-threshold-pct">70 %<`)
	mustNotContain(t, "other analyst", p, `id="thresholds"`)
	p = oa.post("/hashmatch/banks/"+bank+"/video_thresholds", url.Values{"query_match_threshold_pct": {"10"}})
	wantStatus(t, "other analyst sets", p, http.StatusForbidden)
	mustContain(t, "other analyst sets", p, `id="refusal-rule">own_bank<`)
}
