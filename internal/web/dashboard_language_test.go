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
// figure keeps its figures as a spreadsheet reads them
// (TestFigureFileIsTheSameInEveryLanguage: and its columns as codes).
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

	p = reg.get("/figures/hashmatch-times.csv")
	wantStatus(t, "csv", p, http.StatusOK)
	if _, table := figureFile(t, p.Body); !strings.Contains(table, ",0.0,0.0\n") {
		t.Errorf("the CSV's figures are not as a spreadsheet reads them: %q", table)
	}
}

// TestFigureFileIsTheSameInEveryLanguage: a figure's CSV, as every export's,
// is the same in every language (docs/exports.md): downloaded by a regulator
// who reads English, then French, each figure's file is byte for byte the
// same but for the header lines that name the export itself (its time, the
// log checkpoint it reflects, its own log entry and id), its columns the
// figure's fields and its categories their codes; the header names the
// figure by its id.
func TestFigureFileIsTheSameInEveryLanguage(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	reg := newBrowser(t, w.URL)
	reg.signIn(w.Regulator)
	figures := map[string]string{
		"alerts-rules":       "rule,open,acknowledged,closed\n",
		"transplant-months":  "month,donations,organs_procured,transplantations\n",
		"transplant-centres": "centre_id,donations,transplantations\n" + w.CentreA + ",",
		"transplant-organs":  "organ,procured,transplanted\nkidney,",
		"hashmatch-months":   "month,matches,reports,removals\n",
		"hashmatch-cases":    "stage,cases\nopen,",
		"hashmatch-times":    "step,median_hours,p90_hours\nmatch_to_report,",
	}
	get := func(id string) string {
		t.Helper()
		p := reg.get("/figures/" + id + ".csv?until=2025-06&months=12")
		wantStatus(t, id, p, http.StatusOK)
		return p.Body
	}
	english := map[string]string{}
	for id := range figures {
		english[id] = get(id)
	}
	w.Must(t, 200, "POST", "/api/v1/me/preferences", w.Regulator, map[string]any{"language": "fr"})
	fr := w.App.Languages.Localizer("fr")
	if p := reg.get("/"); !strings.Contains(p.Body, html.EscapeString(fr.T("Activity by centre"))) {
		t.Fatal("the regulator's home is not in French: the test would compare English with English")
	}
	// The lines that name the export itself: each download is another
	// export, logged.
	own := map[string]bool{"exported at (UTC)": true, "log checkpoint size": true, "log checkpoint root": true,
		"export log entry": true, "export id": true}
	strip := func(body string) string {
		var keep []string
		for _, line := range strings.Split(body, "\n") {
			name, _, _ := strings.Cut(line, ",")
			if !own[name] {
				keep = append(keep, line)
			}
		}
		return strings.Join(keep, "\n")
	}
	for id, start := range figures {
		french := get(id)
		if strip(french) != strip(english[id]) {
			t.Errorf("%s: the French file differs from the English one:\n%s\n---\n%s", id, french, english[id])
		}
		head, table := figureFile(t, french)
		if head["list"] != id {
			t.Errorf("%s: the header's list is %q, want the figure's id", id, head["list"])
		}
		if !strings.HasPrefix(table, start) {
			t.Errorf("%s: the table %q, want it to start %q", id, table, start)
		}
	}
}
