package transplant_test

import (
	"context"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	custosmail "github.com/custos-project/custos/internal/mail"
	"github.com/custos-project/custos/internal/mail/mailtest"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// readMail parses one e-mail the SMTP server received: its decoded
// subject, its Content-Language and its decoded body.
func readMail(t *testing.T, r mailtest.Received) (subject, lang, body string) {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(r.Data))
	if err != nil {
		t.Fatalf("the e-mail does not parse: %v\n%s", err, r.Data)
	}
	subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	return subject, m.Header.Get("Content-Language"), string(b)
}

// TestSAEMail: the administrator gives authorities a notification e-mail
// (refusals name rule and field and write nothing); an SAE report then
// e-mails, through a real SMTP server on the loopback, each notified centre
// that has an address but the reporting one, in the centre's language; a
// centre that received no organ of the donor gets nothing. An unacknowledged
// notification's escalation e-mails the late centre and the regulator, and
// an overdue final report the reporting centre and the regulator. No e-mail
// holds the donor's name, the report's texts or a recipient.
func TestSAEMail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		srv := mailtest.Start(t, mailtest.Options{})
		w := newVigilWorldWith(t, dsn, func(c *server.Config) {
			c.Mail = custosmail.Config{Addr: srv.Addr, TLS: custosmail.NoTLS, From: "registry@custos.example", BaseURL: "https://registry.example"}
		})
		centreC := w.Must(t, 201, "POST", "/api/v1/transplant/centres", w.Admin, map[string]any{"name": "Centre C", "city": "Eastbrook"}).Str("id")
		contact := func(id, email, lang string) *apptest.Response {
			return w.Do(t, "POST", "/api/v1/authorities/"+id+"/contact", w.Admin, map[string]any{"email": email, "language": lang})
		}
		size := w.LogSize(t)
		for _, c := range []struct {
			name, token, id, email, lang string
			status                       int
			rule, field                  string
		}{
			{"not an address", w.Admin, w.CentreB, "vigilance at centre-b", "", 422, "email", "email"},
			{"two addresses", w.Admin, w.CentreB, "a@b.example, c@d.example", "", 422, "email", "email"},
			{"a language the registry does not speak", w.Admin, w.CentreB, "vigilance@centre-b.example", "de", 422, "language", "language"},
			{"a language without an address", w.Admin, w.CentreB, "", "fr", 422, "required", "email"},
			{"an unknown authority", w.Admin, "TC-NOSUCH", "vigilance@centre-b.example", "", 404, "reference", "id"},
			{"a coordinator", w.CoordB, w.CentreB, "vigilance@centre-b.example", "", 403, "role", ""},
			{"the regulator", w.Regulator, w.CentreB, "vigilance@centre-b.example", "", 403, "role", ""},
		} {
			r := w.Do(t, "POST", "/api/v1/authorities/"+c.id+"/contact", c.token, map[string]any{"email": c.email, "language": c.lang})
			if r.Status != c.status || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field {
				t.Errorf("%s: got %d %s/%s, want %d %s/%s", c.name, r.Status, r.Str("error.rule"), r.Str("error.field"), c.status, c.rule, c.field)
			}
		}
		if got := w.LogSize(t); got != size {
			t.Fatalf("the refusals wrote %d leaves", got-size)
		}
		for _, c := range []struct{ id, email, lang string }{
			{w.CentreA, "vigilance@centre-a.example", ""},
			{w.CentreB, "Vigilance desk <vigilance@centre-b.example>", "fr"},
			{centreC, "vigilance@centre-c.example", ""},
			{w.RegulatorAuthority, "oversight@regulator.example", "es"},
		} {
			r := contact(c.id, c.email, c.lang)
			if r.Status != 200 || !strings.HasSuffix(c.email, r.Str("notify_email")+">") && r.Str("notify_email") != c.email || r.Str("notify_language") != c.lang {
				t.Fatalf("set the contact of %s: %d %s", c.id, r.Status, r.Body)
			}
		}
		if got := w.count(t, "SELECT COUNT(*) FROM authorities WHERE notify_email = 'vigilance@centre-b.example' AND notify_language = 'fr'"); got != 1 {
			t.Fatalf("centre B's contact is not as set (%d rows)", got)
		}

		donorName := deceasedDonor(w.CentreA).Name
		in := transplant.NewSAE{Kind: transplant.SAEReaction, DonorID: w.donor, RecipientIDs: []string{w.rB},
			Contact: "Dr. Q, vigilance officer, +00 1 23 45 67", StartedAt: apptest.Hours(1), DetectedAt: apptest.Hours(0),
			Description:       "Donor-derived infection suspected: recipient febrile, blood cultures positive.",
			ImmediateMeasures: "Recipients of the donor's organs to be screened; donor samples retested."}
		sae, err := w.svc.ReportSAE(ctx, w.coordA, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(sae.Mail) != 1 {
			t.Fatalf("the report queued e-mails %v, want one (centre B's)", sae.Mail)
		}
		deliver := func(n int) []mailtest.Received {
			t.Helper()
			if err := w.App.Mail.DeliverDue(ctx); err != nil {
				t.Fatal(err)
			}
			return srv.Wait(t, n, 10*time.Second)
		}
		got := deliver(1)
		if to := got[0].To; !slices.Equal(to, []string{"vigilance@centre-b.example"}) {
			t.Fatalf("the report's e-mail went to %v, want centre B's address only", to)
		}
		subject, lang, body := readMail(t, got[0])
		if lang != "fr" {
			t.Errorf("centre B's e-mail is in %q, want fr (its contact's language)", lang)
		}
		for _, want := range []string{sae.ReportID, w.donor, "Centre A", "https://registry.example/transplant/sae/" + sae.ID} {
			if !strings.Contains(subject+body, want) {
				t.Errorf("centre B's e-mail does not say %q:\n%s\n%s", want, subject, body)
			}
		}
		leaks := []string{donorName, in.Description, in.ImmediateMeasures, in.Contact, w.rA, w.rB, "febrile"}
		noLeak := func(who, text string) {
			t.Helper()
			for _, l := range leaks {
				if strings.Contains(text, l) {
					t.Errorf("%s's e-mail holds %q:\n%s", who, l, text)
				}
			}
		}
		noLeak("centre B", subject+body)

		// A day later centre B has not acknowledged: the escalation e-mails
		// centre B a reminder and the regulator the escalation.
		w.clk.advance(25 * time.Hour)
		if n, err := w.svc.Escalate(ctx); err != nil || n != 1 {
			t.Fatalf("escalate: %d, %v; want 1", n, err)
		}
		got = deliver(3)
		byAddress := map[string]mailtest.Received{}
		for _, r := range got[1:] {
			byAddress[r.To[0]] = r
		}
		for addr, want := range map[string]struct{ lang, text string }{
			"vigilance@centre-b.example":  {"fr", sae.ReportID},
			"oversight@regulator.example": {"es", w.CentreB},
		} {
			r, ok := byAddress[addr]
			if !ok {
				t.Fatalf("the escalation e-mailed %v, not %s", got[1:], addr)
			}
			subject, lang, body := readMail(t, r)
			if lang != want.lang || !strings.Contains(subject+body, want.text) || !strings.Contains(body, "/transplant/sae/"+sae.ID) {
				t.Errorf("the escalation's e-mail to %s (%s):\n%s\n%s", addr, lang, subject, body)
			}
			noLeak(addr, subject+body)
		}

		// Four months on, the final report is overdue: the reporting centre
		// and the regulator are e-mailed; centre C never is.
		w.clk.advance(4 * 30 * 24 * time.Hour)
		if n, err := w.svc.Escalate(ctx); err != nil || n != 1 {
			t.Fatalf("escalate: %d, %v; want 1", n, err)
		}
		got = deliver(5)
		var to []string
		for _, r := range got[3:] {
			to = append(to, r.To[0])
			subject, _, body := readMail(t, r)
			if !strings.Contains(subject, sae.ReportID) {
				t.Errorf("the overdue e-mail's subject %q does not name the report", subject)
			}
			noLeak(r.To[0], subject+body)
		}
		slices.Sort(to)
		if want := []string{"oversight@regulator.example", "vigilance@centre-a.example"}; !slices.Equal(to, want) {
			t.Errorf("the overdue final report e-mailed %v, want %v", to, want)
		}
		for _, r := range srv.Received() {
			if r.To[0] == "vigilance@centre-c.example" {
				t.Errorf("centre C, which received no organ of the donor, was e-mailed")
			}
		}
		// The outbox lists them all, each with the report as its reference.
		ob, err := custosmail.List(ctx, w.App.DB.Read(), w.App.Mail.Key, custosmail.Filter{Page: page.Request{Limit: 100}})
		if err != nil {
			t.Fatal(err)
		}
		if len(ob.Items) != 5 {
			t.Fatalf("the outbox holds %d e-mails, want 5", len(ob.Items))
		}
		for _, i := range ob.Items {
			if i.Reference != sae.ReportID || i.State != custosmail.Sent {
				t.Errorf("outbox %s: reference %q, state %s", i.ID, i.Reference, i.State)
			}
		}
	})
}
