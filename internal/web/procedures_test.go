package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestProcedureForm: a coordinator records a double kidney through the
// procedure form (two organ identifiers, one a line) and lands on the
// recipient's trace; a domino liver without its donor's consent is refused
// with the rule and the field, alerted, the form keeping what was typed;
// with the consent it is recorded, and the consent is on file; the form
// speaks French.
func TestProcedureForm(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := apptest.NewWorld(t, dsn)
		svc := w.App.Opened[transplant.Module.Name].Service.(*transplant.Service)
		coord := w.Principal(t, w.CoordA)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		d, err := svc.RegisterDonor(ctx, coord, transplant.NewDonor{Kind: transplant.DonorBrainDeath, Name: "Form Donor (synthetic)", NationalID: "XA-FORM-1",
			Sex: "male", BloodGroup: "A", DateOfBirth: "1968-02-03", CauseOfDeath: "trauma", DateOfDeath: yesterday(),
			IVDrugUse: "no", Malignancy: "no", TransmissibleDisease: "no", HIV: "negative", HCV: "negative", HBV: "negative", OrganFunction: "normal"})
		must(err)
		_, err = svc.RecordConsent(ctx, coord, d.ID, transplant.NewConsent{Kind: transplant.ConsentFamily, GivenOn: yesterday(),
			AssessedBy: "coordinator", AssessorIndependent: true, Voluntary: true, Informed: true})
		must(err)
		pr, err := svc.RecordProcurement(ctx, coord, transplant.NewProcurement{DonorID: d.ID, ProcuredAt: apptest.Hours(5), Organs: []string{"kidney", "kidney", "liver"}})
		must(err)
		recipient := func(n, organ string, organs ...string) string {
			r, err := svc.RegisterRecipient(ctx, coord, transplant.NewRecipient{CentreID: w.CentreA, Name: "Form Recipient " + n + " (synthetic)",
				NationalID: "XA-FORM-R" + n, Sex: "female", BloodGroup: "A", DateOfBirth: "1980-01-0" + n, Residence: "XA",
				OrganNeeded: organ, ListedOn: "2024-01-01"})
			must(err)
			for _, o := range organs {
				_, err := svc.AuthorizeTransplant(ctx, coord, transplant.NewTransplantAuthorization{OrganID: o, RecipientID: r.ID, CentreID: w.CentreA,
					AuthorizedBy: "Dr. M", CompatibilityDocumented: true, ConsentVerified: true, NoPaymentDeclared: true})
				must(err)
			}
			return r.ID
		}
		k1, k2, liver := pr.Organs[0].ID, pr.Organs[1].ID, pr.Organs[2].ID
		kidneys, livers := recipient("1", "kidney", k1, k2), recipient("2", "liver", liver)

		c := newBrowser(t, w.URL)
		c.signIn(w.CoordA)
		mustContain(t, "the transplantation form", c.get("/transplant/transplants/new"), `href="/transplant/procedures/new"`)
		p := c.get("/transplant/procedures/new")
		wantStatus(t, "the form", p, http.StatusOK)
		mustContain(t, "the form", p, `<form method="post" action="/transplant/procedures" id="procedure"`, `<option value="double_kidney">double kidney</option>`,
			`name="domino_consent.assessor_independent"`, `<option value="`+kidneys+`">`)

		// performed_at as the form's datetime-local sends it, in the
		// coordinator's zone (UTC here).
		performed := strings.TrimSuffix(apptest.Hours(1), "Z")[:16]
		p = c.post("/transplant/procedures", url.Values{"kind": {"double_kidney"}, "organ_ids": {k1 + "\r\n" + k2}, "recipient_id": {strings.ToLower(kidneys)},
			"performed_at": {performed}})
		wantStatus(t, "a double kidney", p, http.StatusSeeOther)
		loc := p.Header.Get("Location")
		if !strings.Contains(loc, "/transplant/trace?") || !strings.Contains(loc, kidneys) {
			t.Errorf("after the double kidney: Location %q", loc)
		}
		// The trace says what was recorded, as the other forms' pages do;
		// switching the language keeps the notice in the address, and the
		// page says it again in the new language.
		recorded := regexp.MustCompile(`id="flash"[^>]*>[^<]*Procedure TP-[0-9A-Z]+ recorded: 2 organs transplanted\.`)
		if p = c.get(loc); !recorded.MatchString(p.Body) {
			t.Errorf("the trace after the double kidney says nothing of it, or not %s\n%s", recorded, p.Body)
		}
		p = c.post("/language", url.Values{"language": {"fr"}, "next": {loc}})
		wantStatus(t, "the language switch", p, http.StatusSeeOther)
		if p.Header.Get("Location") != loc {
			t.Errorf("the language switch goes to %q, want the page it was on, %q", p.Header.Get("Location"), loc)
		}
		if p = c.get(loc); !regexp.MustCompile(`Intervention TP-[0-9A-Z]+ enregistrée : 2 organes transplantés\.`).MatchString(p.Body) || recorded.MatchString(p.Body) {
			t.Errorf("the trace in French does not say in French what was recorded\n%s", p.Body)
		}
		wantStatus(t, "back to English", c.post("/language", url.Values{"language": {"en"}, "next": {"/"}}), http.StatusSeeOther)
		for _, k := range []string{k1, k2} {
			o, err := svc.Organ(ctx, coord, k)
			must(err)
			if o.Status != "transplanted" {
				t.Errorf("organ %s is %s after the procedure", k, o.Status)
			}
		}

		alertCount := func() int {
			a, _ := w.Must(t, 200, "GET", "/api/v1/alerts", w.Regulator, nil).Body["alerts"].([]any)
			return len(a)
		}
		alerts := alertCount()
		form := url.Values{"kind": {"single"}, "organ_ids": {liver}, "recipient_id": {livers}, "performed_at": {performed}, "domino_liver": {"yes"},
			"domino_consent.assessed_by": {"Independent living donor advocate"}, "domino_consent.given_on": {yesterday()}}
		p = c.post("/transplant/procedures", form)
		wantStatus(t, "a domino liver without consent", p, http.StatusForbidden)
		mustContain(t, "a domino liver without consent", p, `<strong>living_consent</strong>`, `<code>domino_consent.voluntary</code>`,
			`value="Independent living donor advocate"`)
		if got := alertCount(); got != alerts+1 {
			t.Errorf("%d alerts after the domino liver without consent, want %d", got, alerts+1)
		}
		for _, k := range []string{"domino_consent.informed", "domino_consent.voluntary", "domino_consent.assessor_independent"} {
			form.Set(k, "yes")
		}
		p = c.post("/transplant/procedures", form)
		wantStatus(t, "a domino liver with its consent", p, http.StatusSeeOther)
		tr, err := svc.TraceRecipient(ctx, coord, livers)
		must(err)
		var domino string
		for _, dt := range tr.Donors {
			if dt.Donor.Kind == transplant.DonorDomino {
				domino = dt.Donor.ID
			}
		}
		var kind string
		must(w.App.DB.Read().QueryRow(ctx, "SELECT kind FROM consents WHERE donor_id = ?", domino).Scan(&kind))
		if kind != transplant.ConsentLiving {
			t.Errorf("the domino donor %q's consent: %q", domino, kind)
		}

		// In French.
		wantStatus(t, "choose French", c.post("/language", url.Values{"language": {"fr"}, "next": {"/transplant/procedures/new"}}), http.StatusSeeOther)
		p = c.get("/transplant/procedures/new")
		mustContain(t, "the form in French", p, `lang="fr"`, "<h1>Enregistrer une intervention</h1>", "Foie domino", "Le consentement est libre")
		mustNotContain(t, "the form in French", p, "Record a procedure", "The consent is voluntary")
	})
}
