package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/mail"
	"github.com/custos-project/custos/internal/mail/mailtest"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestMailOutboxPage: an administrator finds the e-mail outbox in the
// navigation, sees a queued e-mail with its state and, once the SMTP server
// on loopback refused it for good, its answer; filters by state (an unknown
// state refused on its field); sends a test e-mail (a bad address refused
// on its field, a good one accepted by the server). An e-mail marked sent
// in the database is listed tampered; one deleted there is named in the
// warning above the list, which log verify's problem matches. A regulator
// may not open the page.
func TestMailOutboxPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		testMailOutboxPage(t, dsn)
	})
}

func testMailOutboxPage(t *testing.T, dsn string) {
	smtp := mailtest.Start(t, mailtest.Options{})
	w := apptest.NewWorldWith(t, dsn, func(c *server.Config) {
		c.Modules = mailtest.Modules() // its command queues e-mails (mailtest.Notify)
		c.Mail = mail.Config{Addr: smtp.Addr, TLS: mail.NoTLS, From: "registry@custos.example"}
	})
	ad := newBrowser(t, w.URL)
	ad.signIn(w.Admin)
	p := ad.get("/mail/outbox")
	wantStatus(t, "outbox", p, http.StatusOK)
	mustContain(t, "outbox", p, `href="/mail/outbox"`, "The registry has queued no e-mail.", smtp.Addr)
	mustNotContain(t, "outbox", p, `id="missing"`)
	checkPage(t, "outbox", p.Body)

	ctx := context.Background()
	admin := w.Principal(t, w.Admin)
	notify := func(to string) string {
		t.Helper()
		ids, err := mailtest.Notify(ctx, w.App, admin.Actor(), mail.Message{To: []mail.Recipient{{Address: to}},
			Subject: "Reference: %s", SubjectArgs: []string{"SAE-XA-1"}, Body: "Open it in the registry: %s", BodyArgs: []string{"x"}, Reference: "SAE-XA-1"})
		if err != nil {
			t.Fatal(err)
		}
		return ids[0]
	}
	ids := []string{notify("vigilance@centre.example")}
	if rep := w.Verify(t); !rep.OK() {
		t.Fatalf("log verify of an e-mail custos queued: %q", rep.Problems)
	}
	smtp.Refuse("550 5.1.1 mailbox unavailable")
	if err := w.App.Mail.DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	p = ad.get("/mail/outbox?state=failed")
	mustContain(t, "failed", p, `id="mail-`+ids[0]+`"`, "vigilance@centre.example", "SAE-XA-1", "550 5.1.1 mailbox unavailable")
	if strings.Contains(p.Body, "Tampered:") {
		t.Fatalf("an e-mail custos wrote alone is marked tampered:\n%s", p.Body)
	}
	if p = ad.get("/mail/outbox?state=sent"); strings.Contains(p.Body, ids[0]) || !strings.Contains(p.Body, "No e-mail matches the filter.") {
		t.Fatalf("the sent filter shows the failed e-mail:\n%s", p.Body)
	}
	// Marked sent in the database behind custos's back: listed as
	// tampered (the auditor's F3).
	w.Tamper(t, "UPDATE mail_outbox SET state = 'sent', sent_at = created_at, last_error = '' WHERE id = ?", ids[0])
	p = ad.get("/mail/outbox?state=sent")
	mustContain(t, "tampered", p, `id="mail-`+ids[0]+`"`, "Tampered: changed in the database outside custos")
	checkPage(t, "tampered", p.Body)
	refused(t, "unknown state", ad.get("/mail/outbox?state=lost"), http.StatusUnprocessableEntity, "enum", "state")

	refused(t, "bad address", ad.post("/mail/test", url.Values{"to": {"not an address"}}), http.StatusUnprocessableEntity, "email", "to")
	p = ad.post("/mail/test", url.Values{"to": {"operator@registry.example"}})
	mustContain(t, "flash", ad.get(noticed(t, "test e-mail", p, "/mail/outbox")), "The SMTP server accepted the test e-mail.")
	mustNotContain(t, "the bare address", ad.get("/mail/outbox?done=test"), `id="flash"`)
	if r := smtp.Wait(t, 1, 5*time.Second); r[0].To[0] != "operator@registry.example" {
		t.Fatalf("received %+v", r)
	}

	// Deleted in the database before it was sent: the page warns above
	// the list, naming it, as log verify does.
	deleted := notify("desk@centre.example")
	w.Tamper(t, "DELETE FROM mail_outbox WHERE id = ?", deleted)
	p = ad.get("/mail/outbox")
	wantStatus(t, "missing", p, http.StatusOK)
	mustContain(t, "missing", p, `<div class="bad" id="missing">`, "1 e-mail the log says was queued is missing from the outbox: deleted in the database outside custos", `<code class="id">`+deleted+`</code>`)
	mustNotContain(t, "missing", p, `id="mail-`+deleted+`"`)
	checkPage(t, "missing", p.Body)
	if i := strings.Index(p.Body, `id="missing"`); i < 0 || i > strings.Index(p.Body, `id="outbox"`) {
		t.Errorf("the warning is not above the list:\n%s", p.Body)
	}
	if rep := w.Verify(t); rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), `e-mail id="`+deleted+`", which the log says was queued, is missing`) {
		t.Errorf("log verify: %q, want the deleted e-mail named", rep.Problems)
	}

	reg := newBrowser(t, w.URL)
	reg.signIn(w.Regulator)
	if p := reg.get("/mail/outbox"); p.Status != http.StatusForbidden {
		t.Fatalf("a regulator opened the outbox: %d", p.Status)
	}
	if strings.Contains(reg.get("/").Body, `href="/mail/outbox"`) {
		t.Fatal("a regulator's navigation links the outbox")
	}
}
