package web_test

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestFiguresInTheReadersLanguage: a regulator who reads French sees the
// figures in French, each text the catalogue's translation: the panels'
// titles and descriptions with the period in words, the headers, the
// chart's own words and the figures with a decimal comma; the CSV of a
// figure has French headers and keeps its figures as a spreadsheet reads
// them.
func TestFiguresInTheReadersLanguage(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	w.Must(t, 200, "POST", "/api/v1/me/preferences", w.Regulator, map[string]any{"language": "fr"})
	fr := w.App.Languages.Localizer("fr")
	reg := newBrowser(t, w.URL)
	reg.signIn(w.Regulator)

	p := reg.get("/?until=2025-06&months=24")
	wantStatus(t, "home", p, http.StatusOK)
	period := fr.N("the %d months %s to %s", 24, "2023-07", "2025-06")
	if period == "the 24 months 2023-07 to 2025-06" {
		t.Fatalf("no French for the period: %q", period)
	}
	for _, text := range []string{
		fr.T("Alerts by rule"), fr.T("Donation and transplantation by month"), fr.T("Cases by stage"),
		fr.T("Time from match to report and to removal"), fr.T("Median"), fr.T("Match to report"), fr.T("Stage"),
		fr.T("Alerts raised in %s, by the rule whose refusal raised them and the state each is in now.", period),
		fr.T("No figures to show: every value is zero."), fr.N("%d months", 24),
	} {
		if !strings.Contains(p.Body, html.EscapeString(text)) {
			t.Errorf("the French home lacks %q", text)
		}
	}
	if strings.Contains(p.Body, "Alerts by rule") || strings.Contains(p.Body, "the 24 months") {
		t.Error("the French home has the figures' English")
	}
	if !strings.Contains(p.Body, `<td class="num">0,0</td>`) || strings.Contains(p.Body, `<td class="num">0.0</td>`) {
		t.Error("the hours' table does not write its figures with a decimal comma")
	}

	p = reg.get("/figures/transplant-organs.csv")
	wantStatus(t, "csv", p, http.StatusOK)
	if _, table := figureFile(t, p.Body); !strings.HasPrefix(table, fr.T("Organ")+","+fr.T("Procured")+","+fr.T("Transplanted")+"\n") {
		t.Errorf("the French CSV's headers: %q", table)
	}
	p = reg.get("/figures/hashmatch-times.csv")
	wantStatus(t, "csv", p, http.StatusOK)
	if _, table := figureFile(t, p.Body); !strings.Contains(table, ",0.0,0.0\n") {
		t.Errorf("the CSV's figures are not as a spreadsheet reads them: %q", table)
	}
}
