package transplant_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
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

// TestSAEMailTampered: the e-mails of SAE notifications, changed in the
// database behind custos's back by whoever lacks the key file, are caught
// through the log. A sent e-mail's row put back to the pending state it
// had, with that state's valid MAC, is not sent again: the log says it
// was sent (its mail.sent entry), so the deliverer marks it failed, counts
// it tampered, and the outbox lists it tampered; log verify names it. An
// e-mail deleted before it is sent (the notice of a serious adverse
// reaction to a centre) is named by log verify and listed missing by the
// outbox.
func TestSAEMailTampered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		srv := mailtest.Start(t, mailtest.Options{})
		w := newVigilWorldWith(t, dsn, func(c *server.Config) {
			c.Mail = custosmail.Config{Addr: srv.Addr, TLS: custosmail.NoTLS, From: "registry@custos.example", BaseURL: "https://registry.example"}
		})
		w.Must(t, 200, "POST", "/api/v1/authorities/"+w.CentreB+"/contact", w.Admin, map[string]any{"email": "vigilance@centre-b.example"})
		admin := w.Principal(t, w.Admin)
		reported := 0
		report := func() string { // each another reaction: it started a minute earlier than the last
			t.Helper()
			reported++
			started := time.Now().UTC().Add(-time.Hour - time.Duration(reported)*time.Minute).Format(time.RFC3339)
			sae, err := w.svc.ReportSAE(ctx, w.coordA, transplant.NewSAE{Kind: transplant.SAEReaction, DonorID: w.donor, RecipientIDs: []string{w.rB},
				Contact: "Dr. Q, vigilance officer", StartedAt: started, DetectedAt: apptest.Hours(0),
				Description: "Donor-derived infection suspected.", ImmediateMeasures: "Recipients screened."})
			if err != nil {
				t.Fatal(err)
			}
			if len(sae.Mail) != 1 {
				t.Fatalf("the report queued e-mails %v, want centre B's", sae.Mail)
			}
			return sae.Mail[0]
		}
		deliver := func() {
			t.Helper()
			if err := w.App.Mail.DeliverDue(ctx); err != nil {
				t.Fatal(err)
			}
		}
		listed := func(id string) custosmail.Item {
			t.Helper()
			items, err := w.App.Mail.Outbox(ctx, admin, custosmail.Filter{Page: page.Request{Limit: 100}})
			if err != nil {
				t.Fatal(err)
			}
			for _, i := range items.Items {
				if i.ID == id {
					return i
				}
			}
			t.Fatalf("e-mail %s is not listed", id)
			return custosmail.Item{}
		}
		problems := func(want string) {
			t.Helper()
			rep := w.Verify(t)
			if rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), want) {
				t.Fatalf("log verify: %q, want a problem saying %q", rep.Problems, want)
			}
		}

		// A sent e-mail, put back to the pending state it had.
		sent := report()
		var saved struct{ state, attempts, next, last, errText, sentAt, mac string }
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT state, attempts, next_attempt_at, last_attempt_at, last_error, sent_at, mac FROM mail_outbox WHERE id = ?", sent).
			Scan(&saved.state, &saved.attempts, &saved.next, &saved.last, &saved.errText, &saved.sentAt, &saved.mac); err != nil {
			t.Fatal(err)
		}
		size := w.LogSize(t)
		deliver()
		srv.Wait(t, 1, 10*time.Second)
		if got := w.LogSize(t); got != size+1 {
			t.Fatalf("sending grew the log by %d leaves, want 1 (mail.sent)", got-size)
		}
		if i := listed(sent); i.State != custosmail.Sent || i.Tampered || i.SentEntry != int64(size) {
			t.Fatalf("the sent e-mail is listed %+v, want sent by entry %d", i, size)
		}
		if rep := w.Verify(t); !rep.OK() {
			t.Fatalf("log verify of the untouched registry: %q", rep.Problems)
		}
		w.Tamper(t, "UPDATE mail_outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_attempt_at = ?, last_error = ?, sent_at = ?, mac = ? WHERE id = ?",
			saved.state, saved.attempts, saved.next, saved.last, saved.errText, saved.sentAt, saved.mac, sent)
		if i := listed(sent); !i.Tampered || i.State != custosmail.Pending {
			t.Fatalf("the e-mail put back is listed %+v, want tampered", i)
		}
		deliver()
		deliver()
		if got := len(srv.Received()); got != 1 {
			t.Fatalf("the SMTP server received %d e-mails, want 1: the e-mail put back was sent again", got)
		}
		if i := listed(sent); !i.Tampered || i.State != custosmail.Failed || !strings.Contains(i.LastError, "not sent again") {
			t.Fatalf("the e-mail put back is listed %+v after delivery, want failed and tampered", i)
		}
		resp, err := http.Get(w.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), `custos_mail_events_total{event="tampered"} 1`) {
			t.Errorf("metrics: want 1 tampered:\n%s", b)
		}
		problems(`table mail_outbox: e-mail id="` + sent + `" is failed in the database, but entry ` + strconv.Itoa(size) + ` logs it sent (put back behind custos's back)`)
		w.Tamper(t, "UPDATE mail_outbox SET state = 'sent' WHERE id = ?", sent) // the state the log says, for what follows

		// An e-mail deleted before it is sent.
		deleted := report()
		w.Tamper(t, "DELETE FROM mail_outbox WHERE id = ?", deleted)
		deliver()
		if got := len(srv.Received()); got != 1 {
			t.Fatalf("the SMTP server received %d e-mails, want 1", got)
		}
		problems(`table mail_outbox: e-mail id="` + deleted + `", which the log says was queued, is missing from the database (deleted behind custos's back`)
		missing, n, err := w.App.Mail.MissingOf(ctx, admin)
		if err != nil || n != 1 || len(missing) != 1 || missing[0] != deleted {
			t.Fatalf("the outbox's missing e-mails: %v (%d, %v), want %s", missing, n, err, deleted)
		}
	})
}
