package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
	"github.com/custos-project/custos/internal/web"
)

// transplantUI serves w's registry with the transplant section, by a UI
// whose log lines the test reads.
func transplantUI(t *testing.T, w *apptest.World) (*httptest.Server, *apptest.LogBuffer) {
	logs := &apptest.LogBuffer{}
	ui := &web.UI{DB: w.App.DB, Authorities: w.App.Authorities, Sections: []web.Section{web.Transplant(w.App.Transplant, w.App.Authorities)},
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	mux := http.NewServeMux()
	ui.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, logs
}

// TestPersonalData: a coordinator of the donor's centre, or the regulator,
// opens the sealed name and national identifier by giving a purpose; each
// read is a leaf of the log; anyone else is refused and nothing is logged;
// the data is never in a URL, a redirect or a log line.
func TestPersonalData(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	ctx := context.Background()
	dIn, rIn := apptest.DeceasedDonor(w.CentreA), apptest.Recipient(w.CentreA, "kidney")
	dIn["national_id"], rIn["national_id"] = "XA123456789", "XA98765kidney"
	donor := w.Must(t, 201, "POST", "/api/v1/donors", w.CoordA, dIn).Str("id")
	rc := w.Must(t, 201, "POST", "/api/v1/recipients", w.CoordA, rIn).Str("id")
	secrets := []string{"Test Donor (synthetic)", "XA123456789", "Test Recipient (synthetic)", "XA98765kidney"}

	// The same registry, served by a UI whose log the test reads.
	srv, logs := transplantUI(t, w)

	size := func() uint64 {
		t.Helper()
		h, _, err := ledger.ReadHead(ctx, w.App.DB.Read())
		if err != nil {
			t.Fatal(err)
		}
		return h.Size
	}
	noSecrets := func(what string, p *page) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(p.Body, s) {
				t.Errorf("%s: the page shows %q", what, s)
			}
			for k, vs := range p.Header {
				for _, v := range vs {
					if strings.Contains(v, s) {
						t.Errorf("%s: header %s shows %q", what, k, s)
					}
				}
			}
		}
	}
	form := `<form method="post" action="/transplant/donors/` + donor + `/personal-data" id="personal"`

	a := newBrowser(t, srv.URL)
	a.signIn(w.CoordA)
	p := a.get("/transplant/donors/" + donor)
	mustContain(t, "donor page", p, form, `id="personal-purpose" name="purpose" type="text" value="" required`)
	noSecrets("donor page", p)

	// A coordinator of another centre: not offered the form, refused, and
	// the regulator alerted (one leaf, the alert; no read).
	b := newBrowser(t, srv.URL)
	b.signIn(w.CoordB)
	if p := b.get("/transplant/donors/" + donor); strings.Contains(p.Body, form) {
		t.Error("a coordinator of another centre is offered the personal data form")
	}
	before := size()
	p = b.post("/transplant/donors/"+donor+"/personal-data", url.Values{"purpose": {"curiosity"}})
	wantStatus(t, "another centre", p, http.StatusForbidden)
	mustContain(t, "another centre", p, `id="refusal-rule">own_centre<`)
	noSecrets("another centre", p)
	if l, err := ledger.ReadLeaf(ctx, w.App.DB.Read(), before); err != nil || !strings.Contains(l.Data, `"rule":"own_centre"`) {
		t.Fatalf("another centre's refused read: leaf %d is %v %v, want its alert", before, l, err)
	}
	before++

	// The auditor's role does not open personal data.
	au := newBrowser(t, srv.URL)
	au.signIn(w.Auditor)
	if p := au.get("/transplant/donors/" + donor); strings.Contains(p.Body, form) {
		t.Error("the auditor is offered the personal data form")
	}
	p = au.post("/transplant/donors/"+donor+"/personal-data", url.Values{"purpose": {"audit"}})
	wantStatus(t, "auditor", p, http.StatusForbidden)
	mustContain(t, "auditor", p, `id="refusal-rule">role<`)
	noSecrets("auditor", p)

	// No purpose: refused on the field.
	p = a.post("/transplant/donors/"+donor+"/personal-data", url.Values{"purpose": {"  "}})
	wantStatus(t, "no purpose", p, http.StatusUnprocessableEntity)
	mustContain(t, "no purpose", p, `id="refusal-rule">required<`, `id="refusal-field">purpose<`,
		`id="personal-purpose" name="purpose" type="text" value="  " required aria-describedby="personal-purpose-hint personal-purpose-error" aria-invalid="true"`)
	noSecrets("no purpose", p)
	// A recipient's id under /transplant/donors/ opens nothing.
	p = a.post("/transplant/donors/"+rc+"/personal-data", url.Values{"purpose": {"mix-up"}})
	wantStatus(t, "recipient as donor", p, http.StatusNotFound)
	noSecrets("recipient as donor", p)
	if n := size(); n != before {
		t.Fatalf("refused reads changed the log: size %d, was %d", n, before)
	}

	// Opened: the answer to the POST shows it, marked confidential, not kept.
	purpose := "confirm identity before procurement"
	p = a.post("/transplant/donors/"+donor+"/personal-data", url.Values{"purpose": {purpose}})
	wantStatus(t, "open", p, http.StatusOK)
	if loc := p.Header.Get("Location"); loc != "" {
		t.Errorf("open: redirect to %q", loc)
	}
	if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("open: Cache-Control %q", cc)
	}
	mustContain(t, "open", p, `<title>Confidential: personal data · custos</title>`, `id="confidential"`,
		`<dd id="person-name">Test Donor (synthetic)</dd>`, `<dd id="person-national_id"><span class="id">XA123456789</span></dd>`, purpose,
		`href="/transplant/donors/`+donor+`"`)
	if n := size(); n != before+1 {
		t.Fatalf("after a read, log size %d, want %d", n, before+1)
	}
	var leaf string
	if err := w.App.DB.Read().QueryRow(ctx, "SELECT data FROM log_leaves WHERE idx = ?", int64(before)).Scan(&leaf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{privacy.TypeRead, donor, purpose} {
		if !strings.Contains(leaf, want) {
			t.Errorf("the read's leaf lacks %q: %s", want, leaf)
		}
	}
	for _, s := range secrets {
		if strings.Contains(leaf, s) {
			t.Errorf("the read's leaf holds %q", s)
		}
	}

	// The regulator opens a recipient's, from the recipient's page.
	r := newBrowser(t, srv.URL)
	r.signIn(w.Regulator)
	p = r.get("/transplant/recipients/" + rc)
	mustContain(t, "recipient page", p, `<form method="post" action="/transplant/recipients/`+rc+`/personal-data" id="personal"`)
	noSecrets("recipient page", p)
	p = r.post("/transplant/recipients/"+rc+"/personal-data", url.Values{"purpose": {"inspection of the waiting list"}})
	wantStatus(t, "regulator opens", p, http.StatusOK)
	mustContain(t, "regulator opens", p, "Test Recipient (synthetic)", "XA98765kidney", `href="/transplant/recipients/`+rc+`"`)
	if n := size(); n != before+2 {
		t.Fatalf("after two reads, log size %d, want %d", n, before+2)
	}

	// The UI logged (sign-ins), and never the personal data.
	l := logs.String()
	if !strings.Contains(l, "web sign-in") {
		t.Fatalf("the UI's log is empty: %q", l)
	}
	for _, s := range secrets {
		if strings.Contains(l, s) {
			t.Errorf("the log holds %q", s)
		}
	}
}

// TestRecipientPageAndTransplantForm: the recipient page; the organs page
// lists pending authorizations through the service; the transplant form says
// which organ it is about and offers only recipients waiting for that type.
func TestRecipientPageAndTransplantForm(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	ctx := context.Background()
	donor := w.Must(t, 201, "POST", "/api/v1/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
	w.Must(t, 201, "POST", "/api/v1/donors/"+donor+"/consents", w.CoordA, map[string]any{"kind": "family_authorization",
		"given_on": yesterday(), "assessed_by": "Dr Test", "voluntary": true, "informed": true})
	pr := w.Must(t, 201, "POST", "/api/v1/procurements", w.CoordA, map[string]any{"donor_id": donor, "procured_at": apptest.Hours(2),
		"organs": []string{"kidney", "liver"}})
	organs := pr.Body["organs"].([]any)
	kidney := organs[0].(map[string]any)["id"].(string)
	kidneyIn := apptest.Recipient(w.CentreA, "kidney")
	kidneyIn["date_of_birth"] = "1980-02-02"
	rcKidney := w.Must(t, 201, "POST", "/api/v1/recipients", w.CoordA, kidneyIn).Str("id")
	rcLiver := w.Must(t, 201, "POST", "/api/v1/recipients", w.CoordA, apptest.Recipient(w.CentreA, "liver")).Str("id")

	a := newBrowser(t, w.URL)
	a.signIn(w.CoordA)

	// The list links each recipient to its page; the registry's country is
	// the default residence.
	p := a.get("/transplant/recipients")
	mustContain(t, "recipients", p, `href="/transplant/recipients/`+rcKidney+`"`, `id="recipient-residence" name="residence" type="text" value="XA"`)
	p = a.get("/transplant/recipients/" + rcKidney)
	wantStatus(t, "recipient page", p, http.StatusOK)
	mustContain(t, "recipient page", p, `<h1>Recipient <span class="id" id="recipient-id">`+rcKidney+`</span></h1>`,
		`id="recipient-status">waiting<`, "<dd>Kidney</dd>", "<dd>1980-02-02</dd>", "<dd>XA</dd>", "<dd>2024-01-01</dd>",
		"Waiting list of Centre A", `href="/transplant/trace?q=`+rcKidney+`"`, `<a href="/transplant/recipients" aria-current="page">`)
	if strings.Contains(p.Body, "Test Recipient (synthetic)") {
		t.Error("the recipient page shows personal data")
	}
	wantStatus(t, "unknown recipient", a.get("/transplant/recipients/RC-0000000000"), http.StatusNotFound)

	// Authorized: the organs page lists the authorization, with the link
	// that fills the transplant form.
	ta := w.Must(t, 201, "POST", "/api/v1/transplant-authorizations", w.CoordA, map[string]any{"organ_id": kidney, "recipient_id": rcKidney,
		"authorized_by": "Dr Test", "compatibility_documented": true, "consent_verified": true, "no_payment_declared": true}).Str("id")
	p = a.get("/transplant/organs")
	mustContain(t, "organs", p, ta, `for recipient <a class="id" href="/transplant/recipients/`+rcKidney+`">`,
		`href="/transplant/transplants/new?organ_id=`+kidney+`&amp;recipient_id=`+rcKidney+`&amp;authorization_id=`+ta+`"`)

	// The service answers what the pages need.
	au, err := auth.Authenticate(ctx, w.App.DB.Read(), w.Auditor)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := w.App.Transplant.PendingAuthorizations(ctx, au, transplant.ListFilter{})
	pending := pg.Items
	if err != nil || len(pending) != 1 || pending[0].ID != ta || pending[0].OrganID != kidney || pending[0].RecipientID != rcKidney ||
		pending[0].CentreID != w.CentreA || pending[0].AuthorizedBy != "Dr Test" || !pending[0].NoPaymentDeclared || !pending[0].OnWaitingList {
		t.Errorf("pending authorizations: %+v, %v", pending, err)
	}
	if o, err := w.App.Transplant.Organ(ctx, au, strings.ToLower(kidney)); err != nil || o.ID != kidney || o.Organ != "kidney" || o.DonorID != donor {
		t.Errorf("organ: %+v, %v", o, err)
	}
	if _, err := w.App.Transplant.PendingAuthorizations(ctx, nil, transplant.ListFilter{}); err == nil {
		t.Error("pending authorizations without a principal")
	}
	if j, err := w.App.Transplant.Jurisdiction(ctx); j != "XA" || err != nil {
		t.Errorf("jurisdiction %q, %v", j, err)
	}

	// The transplant form names the organ and its donor, and offers the
	// recipients waiting for a kidney only.
	p = a.get("/transplant/transplants/new?organ_id=" + url.QueryEscape(strings.ToLower(kidney)) + "&recipient_id=" + rcKidney + "&authorization_id=" + ta)
	wantStatus(t, "transplant form", p, http.StatusOK)
	mustContain(t, "transplant form", p, `id="transplant-organ">Kidney <span class="id organ-id">`+kidney+`</span> from donor <a class="id" href="/transplant/donors/`+donor+`">`,
		`<option value="`+rcKidney+`">`)
	if strings.Contains(p.Body, `<option value="`+rcLiver+`">`) {
		t.Error("the kidney's transplant form offers a recipient waiting for a liver")
	}
	// A mistyped identifier: the form, about no organ, for the POST to refuse.
	p = a.get("/transplant/transplants/new?organ_id=XA-00-000000-00-Z")
	wantStatus(t, "mistyped organ", p, http.StatusOK)
	if strings.Contains(p.Body, `id="transplant-organ"`) {
		t.Error("the form names an organ for a mistyped identifier")
	}
	mustContain(t, "mistyped organ", p, `<option value="`+rcLiver+`">`, `<option value="`+rcKidney+`">`)
	p = a.post("/transplant/transplants", url.Values{"organ_id": {"XA-00-000000-00-Z"}, "recipient_id": {rcKidney},
		"performed_at": {time.Now().UTC().Format("2006-01-02T15:04")}})
	wantStatus(t, "mistyped organ posted", p, http.StatusUnprocessableEntity)
	mustContain(t, "mistyped organ posted", p, `id="refusal-field">organ_id<`, `id="transplant-organ_id"`, `aria-invalid="true"`)

	// Recorded: no longer pending; the recipient is transplanted.
	p = a.post("/transplant/transplants", url.Values{"organ_id": {kidney}, "recipient_id": {rcKidney}, "authorization_id": {ta},
		"performed_at": {time.Now().UTC().Format("2006-01-02T15:04")}})
	wantStatus(t, "record transplant", p, http.StatusSeeOther)
	if pending, err := w.App.Transplant.PendingAuthorizations(ctx, au, transplant.ListFilter{}); err != nil || len(pending.Items) != 0 {
		t.Errorf("pending after the transplantation: %+v, %v", pending, err)
	}
	if p := a.get("/transplant/organs"); strings.Contains(p.Body, ta) {
		t.Error("the organs page lists a used authorization")
	}
	mustContain(t, "transplanted recipient", a.get("/transplant/recipients/"+rcKidney), `id="recipient-status">transplanted<`)
}
