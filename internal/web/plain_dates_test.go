package web_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestPlainDatesInTheReadersLanguage: a consent's day, a date without a
// time, reads on the donor's page in the reader's layout (Arabic
// 02/01/2006), as the times beside it do, not as stored (2006-01-02); and
// what the consent attests is a list joined with the Arabic comma ("، "),
// not the Latin one.
func TestPlainDatesInTheReadersLanguage(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
	day := time.Now().UTC().AddDate(0, 0, -1)
	w.Must(t, 201, "POST", "/api/v1/transplant/donors/"+donor+"/consents", w.CoordA, map[string]any{"kind": "family_authorization",
		"given_on": day.Format(time.DateOnly), "assessed_by": "Dr Test", "voluntary": true, "informed": true})
	w.Must(t, 200, "POST", "/api/v1/me/preferences", w.CoordA, map[string]any{"language": "ar"})
	c := newBrowser(t, w.URL)
	c.signIn(w.CoordA)
	p := c.get("/transplant/donors/" + donor)
	wantStatus(t, "the donor's page", p, http.StatusOK)
	mustContain(t, "the donor's page", p, `<td class="nowrap">`+day.Format("02/01/2006")+`</td>`)
	ar := w.App.Languages.Localizer("ar")
	mustContain(t, "the donor's page", p, "<td>"+ar.T("voluntary")+"، "+ar.T("informed")+"</td>")
}
