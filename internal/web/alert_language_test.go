package web_test

import (
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestAlertsInTheReadersLanguage: a regulator who reads Arabic finds each
// alert's message in Arabic on the alerts page and on the alert's own page,
// though the log keeps it in English: the sentence of a refused command (a
// coordinator recording a donor for another centre) as the API writes the
// same refusal for a reader of Arabic, and the sentence the screening of a
// treatment abroad writes (a payment reported), the organ named in Arabic
// too; the identifiers in them stand apart, left to right. The command
// that raised each ("register donor", "record treatment abroad") reads in
// Arabic too. An English reader reads the message as the log has it.
func TestAlertsInTheReadersLanguage(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	ar := w.App.Languages.Localizer("ar")
	body, _ := json.Marshal(apptest.DeceasedDonor(w.CentreB))
	refused := w.Upload(t, "/api/v1/transplant/donors", w.CoordA, "application/json", body, "Accept-Language", "ar")
	if refused.Status != http.StatusForbidden || refused.Header.Get("Content-Language") != "ar" {
		t.Fatalf("a donor for another centre: %d %s %s", refused.Status, refused.Header.Get("Content-Language"), refused.Raw)
	}
	refusal := refused.Str("error.message")

	person := apptest.Recipient(w.CentreA, "kidney")
	abroad := w.Must(t, 201, "POST", "/api/v1/transplant/abroad", w.CoordA, map[string]any{"kind": transplant.AbroadTransplant,
		"name": person["name"], "national_id": person["national_id"], "sex": person["sex"], "date_of_birth": person["date_of_birth"],
		"country": "XB", "organ": "kidney", "performed_on": yesterday(), "known_through": "returning_patient",
		"donor_type": "deceased", "donor_relation": "not_applicable", "donor_nationality": "XB", "payment_reported": "yes", "medical_records": "yes"}).Str("id")
	screening := ar.T("record %s: a resident reports a payment for the %s transplanted in %s: an indicator of transplant commercialism",
		abroad, errs.Text("kidney"), "XB")
	if refusal == "" || strings.Contains(screening, "kidney") || strings.Contains(screening, "resident reports") {
		t.Fatalf("nothing in Arabic to test against: %q, %q", refusal, screening)
	}

	alerts := w.Must(t, 200, "GET", "/api/v1/alerts", w.Regulator, nil).Body["alerts"].([]any)
	english := map[string]string{}  // alert id -> the message the log keeps
	commands := map[string]string{} // alert id -> the command, in Arabic
	for _, a := range alerts {
		a := a.(map[string]any)
		english[a["id"].(string)] = a["message"].(string)
		command := a["command"].(string)
		commands[a["id"].(string)] = ar.T(command)
		if ar.T(command) == command {
			t.Errorf("command %q has no message in Arabic", command)
		}
	}
	if len(english) != 2 {
		t.Fatalf("want the refusal's alert and the screening's, have %v", english)
	}

	w.Must(t, 200, "POST", "/api/v1/me/preferences", w.Regulator, map[string]any{"language": "ar"})
	reg := newBrowser(t, w.URL)
	reg.signIn(w.Regulator)
	list := reg.get("/alerts")
	wantStatus(t, "alerts", list, http.StatusOK)
	mustContain(t, "alerts", list, `<html lang="ar" dir="rtl">`, `<span class="value">`+abroad+`</span>`)
	for id, message := range english {
		want := refusal
		if strings.Contains(message, abroad) {
			want = screening
		}
		row := regexp.MustCompile(`(?s)<tr id="alert-` + id + `">.*?</tr>`).FindString(list.Body)
		if cells := regexp.MustCompile(`(?s)<td>(.*?)</td>`).FindAllStringSubmatch(row, -1); len(cells) < 3 || plain(cells[2][1]) != want {
			t.Errorf("alert %s on the list reads %q, want %q", id, cells, want)
		}
		if cells := regexp.MustCompile(`(?s)<td>(.*?)</td>`).FindAllStringSubmatch(row, -1); len(cells) < 5 || plain(cells[4][1]) != commands[id] {
			t.Errorf("alert %s's command on the list reads %q, want %q", id, cells, commands[id])
		}
		p := reg.get("/alerts/" + id)
		wantStatus(t, "alert "+id, p, http.StatusOK)
		m := regexp.MustCompile(`(?s)<dd>(.*?)</dd>`).FindAllStringSubmatch(strings.SplitN(p.Body, `<dt>`+html.EscapeString(ar.T("Message"))+`</dt>`, 2)[1], 1)
		if len(m) == 0 || plain(m[0][1]) != want {
			t.Errorf("alert %s's page reads %q, want %q", id, m, want)
		}
		c := regexp.MustCompile(`(?s)<dd>(.*?)</dd>`).FindAllStringSubmatch(strings.SplitN(p.Body, `<dt>`+html.EscapeString(ar.T("Command"))+`</dt>`, 2)[1], 1)
		if len(c) == 0 || plain(c[0][1]) != commands[id] {
			t.Errorf("alert %s's page names its command %q, want %q", id, c, commands[id])
		}
	}

	// English: the message as the log keeps it.
	w.Must(t, 200, "POST", "/api/v1/me/preferences", w.Regulator, map[string]any{"language": "en"})
	list = reg.get("/alerts")
	for id, message := range english {
		if !strings.Contains(plain(list.Body), message) {
			t.Errorf("the English alerts page lacks alert %s's %q", id, message)
		}
	}
}

// plain is the text of HTML: its tags dropped, its entities read.
func plain(s string) string {
	return html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(s, ""))
}
