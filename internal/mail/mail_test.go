package mail_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	custosmail "github.com/custos-project/custos/internal/mail"
	"github.com/custos-project/custos/internal/mail/mailtest"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// The texts of the test e-mails: messages of the core's catalogue, so that
// their translations are checked.
const (
	subject = "Reference: %s"
	body    = "Open it in the registry: %s"
)

// clock is a settable clock for the deliverer.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// world is a registry whose e-mail goes to a test SMTP server, with the
// deliverer driven by the test.
type world struct {
	env   *apptest.Env
	smtp  *mailtest.Server
	clock *clock
	logs  *apptest.LogBuffer
	admin *auth.Principal
}

func start(t *testing.T, dsn string, opts mailtest.Options, tune func(*custosmail.Config)) *world {
	t.Helper()
	srv := mailtest.Start(t, opts)
	logs := &apptest.LogBuffer{}
	w := &world{smtp: srv, clock: &clock{t: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}}
	w.env = apptest.StartWith(t, dsn, func(cfg *server.Config) {
		cfg.Modules = mailtest.Modules() // its command queues e-mails (mailtest.Notify)
		cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
		cfg.Now = w.clock.now // the writer's and the deliverer's
		cfg.Mail = custosmail.Config{Addr: srv.Addr, TLS: custosmail.NoTLS, From: "registry@custos.example",
			BaseURL: "https://registry.example", RetryBase: time.Minute, RetryMax: 10 * time.Minute, MaxAge: time.Hour}
		if tune != nil {
			tune(&cfg.Mail)
		}
	})
	w.logs = logs
	w.admin = w.env.Principal(t, w.env.Admin)
	return w
}

// notify sets the admin's language to lang, then queues m in a command
// that notifies, as a module does (mailtest.Notify: Enqueue in its Decide,
// the e-mails named by its entry and committed in the log).
func (w *world) notify(t *testing.T, m custosmail.Message, lang string) ([]string, error) {
	t.Helper()
	if _, err := w.env.App.Authorities.SetPreferences(context.Background(), w.admin, auth.Preferences{Language: &lang}); err != nil {
		t.Fatal(err)
	}
	return mailtest.Notify(context.Background(), w.env.App, w.admin.Actor(), m)
}

// verified runs log verify, which must pass: the e-mails queued are
// committed in the log and the outbox holds them.
func (w *world) verified(t *testing.T) {
	t.Helper()
	if rep := w.env.Verify(t); !rep.OK() {
		t.Fatalf("log verify: %q", rep.Problems)
	}
}

// fresh is a new registry's database on dsn's engine.
func fresh(t *testing.T, dsn string) string {
	if strings.HasPrefix(dsn, "postgres") {
		return storetest.Postgres(t)
	}
	return storetest.SQLite(t)
}

func (w *world) deliver(t *testing.T) {
	t.Helper()
	if err := w.env.App.Mail.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// outbox lists the e-mails in state (all when empty), each of which must
// carry its MAC: every write of the deliverer keeps it.
func (w *world) outbox(t *testing.T, state string) []custosmail.Item {
	t.Helper()
	items := w.list(t, state)
	for _, i := range items {
		if i.Tampered {
			t.Fatalf("e-mail %s, written by custos alone, is listed as tampered: %+v", i.ID, i)
		}
	}
	return items
}

// list lists the e-mails in state (all when empty) as they are.
func (w *world) list(t *testing.T, state string) []custosmail.Item {
	t.Helper()
	p, err := custosmail.List(context.Background(), w.env.App.DB.Read(), w.env.App.Mail.Key, custosmail.Filter{State: state})
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

func msg(to ...custosmail.Recipient) custosmail.Message {
	return custosmail.Message{To: to, Subject: subject, SubjectArgs: []string{"SAE-FR-0042"}, Body: body, BodyArgs: []string{"the record"},
		Reference: "SAE-FR-0042", Link: "/transplant/vigilance/SAE-FR-0042"}
}

// read parses a received message and returns its decoded subject and body.
func read(t *testing.T, r mailtest.Received) (*mail.Message, string, string) {
	t.Helper()
	for _, line := range strings.Split(r.Data, "\r\n") {
		if len(line) > 998 {
			t.Fatalf("a line of %d characters, over SMTP's 998", len(line))
		}
	}
	m, err := mail.ReadMessage(strings.NewReader(r.Data))
	if err != nil {
		t.Fatalf("the e-mail does not parse: %v\n%s", err, r.Data)
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	return m, subj, string(b)
}

// TestDelivery queues a notification after the recipient principal
// changed their language: nothing is queued when the command is refused;
// once committed, the e-mail goes to the SMTP server on loopback, written
// in the language the principal chose, with the reference and the link
// after the registry's address, and the outbox says it was sent. The
// server's log names the e-mail, never its text or address; the metric
// counts it; log verify passes on the e-mails queued and sent.
func TestDelivery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := start(t, dsn, mailtest.Options{}, nil)
		ctx := context.Background()
		_, err := w.env.App.Writer.Submit(ctx, w.admin.Actor(), "refused", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
			if _, err := custosmail.Enqueue(ctx, tx, w.env.App.Mail.Key, msg(custosmail.Recipient{Address: "a@centre.example"})); err != nil {
				return nil, err
			}
			return nil, errs.Invalidf("example", "field", "refused after queueing")
		})
		if e, ok := errs.As(err); !ok || e.Rule != "example" {
			t.Fatalf("the refused command: %v", err)
		}
		if got := w.outbox(t, ""); len(got) != 0 {
			t.Fatalf("a refused command queued %d e-mails", len(got))
		}

		ids, err := w.notify(t, msg(custosmail.Recipient{Address: "Vigilance <vigilance@centre.example>", Principal: w.admin.ID},
			custosmail.Recipient{Address: "registry@abroad.example", Language: "es"}, custosmail.Recipient{Address: "registry@arab.example", Language: "ar"}), "fr")
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 3 || !strings.HasSuffix(ids[0], "-1") || !strings.HasSuffix(ids[1], "-2") {
			t.Fatalf("ids %v", ids)
		}
		if got := w.outbox(t, custosmail.Pending); len(got) != 3 || got[0].ID != ids[2] || got[2].Address != "vigilance@centre.example" {
			t.Fatalf("pending, newest first: %+v", got)
		}
		w.deliver(t)
		got := w.smtp.Wait(t, 3, 5*time.Second)
		byTo := map[string]mailtest.Received{}
		for _, r := range got {
			if len(r.To) != 1 || r.From != "registry@custos.example" {
				t.Fatalf("envelope %+v", r)
			}
			byTo[r.To[0]] = r
		}
		fr, subj, text := read(t, byTo["vigilance@centre.example"])
		if subj != "Référence : SAE-FR-0042" || fr.Header.Get("Content-Language") != "fr" || fr.Header.Get("Auto-Submitted") != "auto-generated" {
			t.Errorf("the French e-mail: subject %q, headers %v", subj, fr.Header)
		}
		if !strings.Contains(text, "https://registry.example/transplant/vigilance/SAE-FR-0042") || !strings.Contains(text, "SAE-FR-0042") {
			t.Errorf("the French e-mail's body lacks the link or the reference:\n%s", text)
		}
		if es, subj, _ := read(t, byTo["registry@abroad.example"]); es.Header.Get("Content-Language") != "es" || !strings.Contains(subj, "SAE-FR-0042") {
			t.Errorf("the Spanish e-mail: %q %v", subj, es.Header)
		}
		if ar, subj, _ := read(t, byTo["registry@arab.example"]); ar.Header.Get("Content-Language") != "ar" || subj != "المرجع: SAE-FR-0042" {
			t.Errorf("the Arabic e-mail: %q %v", subj, ar.Header)
		}
		sent := w.outbox(t, custosmail.Sent)
		if len(sent) != 3 || sent[0].SentAt == "" || sent[0].Attempts != 1 || sent[0].NextAttemptAt != "" {
			t.Fatalf("sent: %+v", sent)
		}
		w.deliver(t)
		if n := len(w.smtp.Received()); n != 3 {
			t.Fatalf("a sent e-mail was sent again: %d received", n)
		}
		resp, err := http.Get(w.env.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), `custos_mail_events_total{event="sent"} 3`) {
			t.Errorf("metrics lack the e-mails sent")
		}
		for _, want := range []string{`custos_mail_outbox_findings{finding="missing"} 0`, `custos_mail_outbox_findings{finding="tampered"} 0`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("metrics lack %s:\n%s", want, b)
			}
		}
		logs := w.logs.String()
		for _, secret := range []string{"SAE-FR-0042", "Référence", "vigilance@centre.example", "registry@abroad.example", "registry@arab.example"} {
			if strings.Contains(logs, secret) {
				t.Errorf("the server's log holds %q:\n%s", secret, logs)
			}
		}
		w.verified(t)
	})
}

// TestQueuedMailMustBeCommitted: a command whose entry does not name the
// e-mails it queued (its data is not a mail.Queuer: a module that forgot)
// fails, with an internal error, and queues nothing, rather than leave
// e-mails that log verify would report inserted behind custos's back; the
// server log names the entry's type and what it lacks. Enqueue outside a
// command's Decide is refused, writing nothing.
func TestQueuedMailMustBeCommitted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := start(t, dsn, mailtest.Options{}, nil)
		ctx := context.Background()
		lang := "fr"
		pref, err := auth.SetPreferences(w.admin.ID, auth.Preferences{Language: &lang}, w.env.App.Languages.Codes())
		if err != nil {
			t.Fatal(err)
		}
		size := w.env.LogSize(t)
		_, err = w.env.App.Writer.Submit(ctx, w.admin.Actor(), "forgets its e-mails", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
			if _, err := custosmail.Enqueue(ctx, tx, w.env.App.Mail.Key, msg(custosmail.Recipient{Address: "a@centre.example"})); err != nil {
				return nil, err
			}
			return pref(ctx, tx, now) // an entry that names no e-mail
		})
		if e, ok := errs.As(err); !ok || e.Code != errs.Internal {
			t.Fatalf("a command whose entry forgets its e-mails: %v, want an internal error", err)
		}
		if got := w.list(t, ""); len(got) != 0 || w.env.LogSize(t) != size {
			t.Fatalf("the command that forgot its e-mails queued %d and grew the log by %d leaves", len(got), w.env.LogSize(t)-size)
		}
		if !strings.Contains(w.logs.String(), "entry type principal.preferences_set queued 1 e-mail(s) but its projection commits 0: its data must implement mail.Queuer") {
			t.Errorf("the server log does not say what the command lacks:\n%s", w.logs.String())
		}

		tx, err := w.env.App.DB.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := custosmail.Enqueue(ctx, tx, w.env.App.Mail.Key, msg(custosmail.Recipient{Address: "a@centre.example"})); !errors.Is(err, ledger.ErrNotDeciding) {
			t.Fatalf("Enqueue outside a Decide: %v", err)
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM mail_outbox").Scan(&n); err != nil || n != 0 {
			t.Fatalf("Enqueue outside a Decide wrote %d rows (%v)", n, err)
		}
		w.verified(t)
	})
}

// TestOutboxChanged: e-mails whose rows were changed in the database
// behind custos's back (the auditor's F3) are not sent: one given another
// address and arguments, one put back to pending after it was sent, and
// one inserted with another's MAC; each is marked failed, named in the
// server log (by id, never its address) and counted as tampered, and the
// outbox lists it as tampered. A notification marked sent in the database
// without being sent is listed as tampered too. The e-mail nobody touched
// is sent, and listed as custos wrote it. /metrics counts the rows listed
// tampered, and those deleted as missing.
func TestOutboxChanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := start(t, dsn, mailtest.Options{}, nil)
		ctx := context.Background()
		var ids []string
		for _, to := range []string{"redirected@centre.example", "hidden@centre.example", "resent@centre.example", "kept@centre.example"} {
			got, err := w.notify(t, msg(custosmail.Recipient{Address: to}), "")
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, got[0])
		}
		redirected, hidden, resent, kept := ids[0], ids[1], ids[2], ids[3]
		exec := func(q string, args ...any) {
			t.Helper()
			tx, err := w.env.App.DB.BeginWrite(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if _, err := tx.Exec(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		// resent is sent first; the others wait.
		exec("UPDATE mail_outbox SET next_attempt_at = '2099-01-01T00:00:00.000000Z' WHERE id <> ?", resent)
		w.deliver(t)
		w.smtp.Wait(t, 1, 5*time.Second)
		exec("UPDATE mail_outbox SET next_attempt_at = created_at WHERE id <> ?", resent)
		// The changes: another address and text; sent without being sent;
		// pending again after it was sent; a row of its own with kept's MAC.
		exec(`UPDATE mail_outbox SET address = 'attacker@elsewhere.example', args = '{"subject":["URGENT"],"body":["wire the money"]}' WHERE id = ?`, redirected)
		exec("UPDATE mail_outbox SET state = 'sent', sent_at = created_at, attempts = 1 WHERE id = ?", hidden)
		exec("UPDATE mail_outbox SET state = 'pending', sent_at = '', next_attempt_at = created_at WHERE id = ?", resent)
		exec(`INSERT INTO mail_outbox (id, seq, created_at, address, principal_id, language, subject, body, args, reference, link, state, attempts, next_attempt_at, last_attempt_at, last_error, sent_at, mac)
			SELECT 'ML-FORGED-1', seq + 100, created_at, 'attacker@elsewhere.example', principal_id, language, subject, body, args, reference, link, state, attempts, next_attempt_at, last_attempt_at, last_error, sent_at, mac
			FROM mail_outbox WHERE id = ?`, kept)
		w.deliver(t)
		got := w.smtp.Wait(t, 2, 5*time.Second)
		if len(got) != 2 || got[0].To[0] != "resent@centre.example" || got[1].To[0] != "kept@centre.example" {
			t.Fatalf("the SMTP server received %+v, want the e-mails to resent@ and kept@ only", got)
		}
		byID := map[string]custosmail.Item{}
		for _, i := range w.list(t, "") {
			byID[i.ID] = i
		}
		for _, c := range []struct {
			id, state string
			tampered  bool
		}{{redirected, custosmail.Failed, true}, {hidden, custosmail.Sent, true}, {resent, custosmail.Failed, true},
			{"ML-FORGED-1", custosmail.Failed, true}, {kept, custosmail.Sent, false}} {
			i := byID[c.id]
			if i.State != c.state || i.Tampered != c.tampered {
				t.Errorf("e-mail %s: listed %s, tampered %v; want %s, tampered %v", c.id, i.State, i.Tampered, c.state, c.tampered)
			}
			if c.tampered && c.state == custosmail.Failed && !strings.Contains(i.LastError, "MAC") {
				t.Errorf("e-mail %s: its last error %q does not say why it was not sent", c.id, i.LastError)
			}
		}
		// Refused once: the next rounds neither send nor log them again.
		w.deliver(t)
		logs := w.logs.String()
		for _, id := range []string{redirected, resent, "ML-FORGED-1"} {
			if n := strings.Count(logs, `"msg":"mail not sent: its row in the outbox does not carry the registry's MAC`+
				` (written or changed behind custos's back); marked failed","mail":"`+id+`"`); n != 1 {
				t.Errorf("the server log reports e-mail %s %d times, want once:\n%s", id, n, logs)
			}
		}
		if strings.Contains(logs, "attacker@elsewhere.example") || strings.Contains(logs, "wire the money") {
			t.Errorf("the server log holds a changed row's address or text:\n%s", logs)
		}
		metrics := func() string {
			t.Helper()
			resp, err := http.Get(w.env.URL + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return string(b)
		}
		b := metrics()
		if !strings.Contains(b, `custos_mail_events_total{event="tampered"} 3`) || !strings.Contains(b, `custos_mail_events_total{event="sent"} 2`) {
			t.Errorf("metrics: want 3 tampered and 2 sent:\n%s", b)
		}
		// The rows the outbox lists tampered, the one marked sent without
		// being sent included, which the deliverer never meets; none
		// missing until one is deleted.
		if !strings.Contains(b, `custos_mail_outbox_findings{finding="tampered"} 4`) || !strings.Contains(b, `custos_mail_outbox_findings{finding="missing"} 0`) {
			t.Errorf("metrics: want 4 rows tampered and none missing:\n%s", b)
		}
		exec("DELETE FROM mail_outbox WHERE id = ?", kept)
		exec("DELETE FROM mail_outbox WHERE id = ?", redirected)
		if b := metrics(); !strings.Contains(b, `custos_mail_outbox_findings{finding="tampered"} 3`) || !strings.Contains(b, `custos_mail_outbox_findings{finding="missing"} 2`) {
			t.Errorf("metrics: want 3 rows tampered and 2 missing:\n%s", b)
		}
	})
}

// TestFindingsCounted: /metrics counts the outbox's findings again only
// after a change. An unchanged outbox is not read again at the next scrape
// (custos_mail_outbox_reads_total stays); a row inserted with another's
// MAC, a row deleted, and an e-mail custos queues are seen at the first
// scrape after them; a row changed in place behind custos's back, which
// moves nothing a scrape sees without reading the rows, is seen once the
// last count is mail.FindingsEvery old, and not read before.
func TestFindingsCounted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := start(t, dsn, mailtest.Options{}, nil)
		ctx := context.Background()
		var ids []string
		for _, to := range []string{"one@centre.example", "two@centre.example", "three@centre.example"} {
			got, err := w.notify(t, msg(custosmail.Recipient{Address: to}), "")
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, got[0])
		}
		exec := func(q string, args ...any) {
			t.Helper()
			tx, err := w.env.App.DB.BeginWrite(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if _, err := tx.Exec(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		readsRE := regexp.MustCompile(`(?m)^custos_mail_outbox_reads_total ([0-9]+)$`)
		// scrape returns the findings' series and the reads of the outbox.
		scrape := func() (string, int) {
			t.Helper()
			resp, err := http.Get(w.env.URL + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			m := readsRE.FindSubmatch(b)
			if m == nil {
				t.Fatalf("/metrics lacks custos_mail_outbox_reads_total:\n%s", b)
			}
			reads, _ := strconv.Atoi(string(m[1]))
			var found []string
			for _, l := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(l, "custos_mail_outbox_findings{") {
					found = append(found, l)
				}
			}
			return strings.Join(found, " "), reads
		}
		want := func(what, found string, reads int, tampered, missing, wantReads int) {
			t.Helper()
			if f := fmt.Sprintf(`custos_mail_outbox_findings{finding="missing"} %d custos_mail_outbox_findings{finding="tampered"} %d`, missing, tampered); found != f || reads != wantReads {
				t.Errorf("%s: %s, %d reads of the outbox; want %s, %d reads", what, found, reads, f, wantReads)
			}
		}
		found, r0 := scrape()
		want("the first scrape", found, r0, 0, 0, r0)
		if r0 < 1 {
			t.Fatalf("the first scrape read the outbox %d times", r0)
		}
		found, reads := scrape()
		want("the outbox unchanged", found, reads, 0, 0, r0)

		// A pending row marked sent in place: no scrape sees it until the
		// count is FindingsEvery old, and none reads the outbox before.
		exec("UPDATE mail_outbox SET state = 'sent', sent_at = created_at, attempts = 1 WHERE id = ?", ids[0])
		w.clock.add(custosmail.FindingsEvery - time.Second)
		found, reads = scrape()
		want("a row changed in place, within FindingsEvery", found, reads, 0, 0, r0)
		w.clock.add(time.Second)
		found, reads = scrape()
		want("a row changed in place, FindingsEvery after the count", found, reads, 1, 0, r0+1)
		found, reads = scrape()
		want("then unchanged", found, reads, 1, 0, r0+1)

		// A row inserted with another's MAC: the first scrape after it.
		exec(`INSERT INTO mail_outbox (id, seq, created_at, address, principal_id, language, subject, body, args, reference, link, state, attempts, next_attempt_at, last_attempt_at, last_error, sent_at, mac)
			SELECT 'ML-FORGED-1', seq + 100, created_at, 'attacker@elsewhere.example', principal_id, language, subject, body, args, reference, link, state, attempts, next_attempt_at, last_attempt_at, last_error, sent_at, mac
			FROM mail_outbox WHERE id = ?`, ids[1])
		found, reads = scrape()
		want("a row inserted", found, reads, 2, 0, r0+2)
		// A row deleted: the first scrape after it.
		exec("DELETE FROM mail_outbox WHERE id = ?", ids[2])
		found, reads = scrape()
		want("a row deleted", found, reads, 2, 1, r0+3)
		// An e-mail custos queues (a leaf): read again, nothing found in it.
		if _, err := w.notify(t, msg(custosmail.Recipient{Address: "four@centre.example"}), ""); err != nil {
			t.Fatal(err)
		}
		found, reads = scrape()
		want("an e-mail queued", found, reads, 2, 1, r0+4)
		found, reads = scrape()
		want("then unchanged", found, reads, 2, 1, r0+4)
	})
}

// TestRetryAndFailure: a recipient the server refuses for now (4xx) is
// tried again after the wait, doubled at each failure, and sent when the
// server accepts; one it refuses for good (5xx) fails at once with the
// server's reply; one still refused when MaxAge has passed fails too. The
// log names the reply's code, not its text.
func TestRetryAndFailure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := start(t, dsn, mailtest.Options{}, nil)
		w.smtp.Refuse("451 4.3.0 <later@centre.example> try again later", "452 4.3.1 still busy")
		ids, err := w.notify(t, msg(custosmail.Recipient{Address: "later@centre.example"}), "")
		if err != nil {
			t.Fatal(err)
		}
		w.deliver(t)
		p := w.outbox(t, custosmail.Pending)
		if len(p) != 1 || p[0].Attempts != 1 || !strings.Contains(p[0].LastError, "451") || p[0].NextAttemptAt != ledger.FormatTime(w.clock.now().Add(time.Minute)) {
			t.Fatalf("after a 451: %+v", p)
		}
		w.clock.add(59 * time.Second)
		w.deliver(t)
		if p := w.outbox(t, custosmail.Pending); p[0].Attempts != 1 {
			t.Fatalf("tried before its time: %+v", p)
		}
		w.clock.add(time.Second)
		w.deliver(t)
		if p := w.outbox(t, custosmail.Pending); len(p) != 1 || p[0].Attempts != 2 || p[0].NextAttemptAt != ledger.FormatTime(w.clock.now().Add(2*time.Minute)) {
			t.Fatalf("the wait does not double: %+v", p)
		}
		w.clock.add(2 * time.Minute)
		w.deliver(t)
		if s := w.outbox(t, custosmail.Sent); len(s) != 1 || s[0].ID != ids[0] || s[0].Attempts != 3 || s[0].LastError != "" {
			t.Fatalf("not sent once accepted: %+v", s)
		}
		if len(w.smtp.Received()) != 1 {
			t.Fatal("the server did not receive it")
		}

		w.smtp.Refuse("550 5.1.1 <nobody@centre.example> no such user")
		if _, err := w.notify(t, msg(custosmail.Recipient{Address: "nobody@centre.example"}), ""); err != nil {
			t.Fatal(err)
		}
		w.deliver(t)
		f := w.outbox(t, custosmail.Failed)
		if len(f) != 1 || f[0].Attempts != 1 || !strings.Contains(f[0].LastError, "550") {
			t.Fatalf("after a 550: %+v", f)
		}

		w.smtp.Refuse("421 4.3.2 closing", "421 4.3.2 closing")
		if _, err := w.notify(t, msg(custosmail.Recipient{Address: "slow@centre.example"}), ""); err != nil {
			t.Fatal(err)
		}
		w.deliver(t)
		w.clock.add(time.Hour)
		w.deliver(t)
		if f := w.outbox(t, custosmail.Failed); len(f) != 2 || f[0].Address != "slow@centre.example" || f[0].Attempts != 2 {
			t.Fatalf("past MaxAge: %+v", f)
		}
		logs := w.logs.String()
		if !strings.Contains(logs, "the SMTP server replied 451") || !strings.Contains(logs, "the SMTP server replied 550") {
			t.Errorf("the log does not name the replies' codes:\n%s", logs)
		}
		if strings.Contains(logs, "centre.example") {
			t.Errorf("the log holds an address:\n%s", logs)
		}
	})
}

// TestTLS sends over STARTTLS and over TLS from the first byte to servers
// whose certificate a test CA signed, authenticating with a password; the
// same server is not trusted without the CA, and a server that offers no
// STARTTLS is not sent to when it is required.
func TestTLS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ca := mailtest.NewCA(t)
		for _, c := range []struct {
			name     string
			implicit bool
			mode     string
		}{{"starttls", false, custosmail.StartTLS}, {"implicit", true, custosmail.ImplicitTLS}} {
			t.Run(c.name, func(t *testing.T) {
				w := start(t, fresh(t, dsn), mailtest.Options{TLS: ca.Server, Implicit: c.implicit, User: "custos", Password: "s3cret"}, func(mc *custosmail.Config) {
					mc.TLS, mc.RootCAs, mc.User, mc.Password = c.mode, ca.Pool, "custos", "s3cret"
				})
				if _, err := w.notify(t, msg(custosmail.Recipient{Address: "tls@centre.example"}), ""); err != nil {
					t.Fatal(err)
				}
				w.deliver(t)
				r := w.smtp.Wait(t, 1, 5*time.Second)
				if !r[0].TLS || r[0].User != "custos" {
					t.Fatalf("received %+v", r[0])
				}
				if strings.Contains(w.logs.String(), "s3cret") {
					t.Error("the log holds the password")
				}
			})
		}
		// Each is not sent, its e-mail left pending with the reason: a
		// server the system does not trust; one without STARTTLS, which
		// starttls requires; and, with starttls-optional (in clear to a
		// server without STARTTLS), never the password, even on loopback
		// (which net/smtp alone would allow).
		for _, c := range []struct {
			name, why string
			smtp      mailtest.Options
			cfg       func(*custosmail.Config)
		}{
			{"untrusted", "certificate", mailtest.Options{TLS: ca.Server}, func(mc *custosmail.Config) { mc.TLS = custosmail.StartTLS }},
			{"no starttls", "STARTTLS", mailtest.Options{}, func(mc *custosmail.Config) { mc.TLS = custosmail.StartTLS }},
			{"optional, with a password", "over TLS only", mailtest.Options{}, func(mc *custosmail.Config) {
				mc.TLS, mc.User, mc.Password = custosmail.StartTLSOptional, "custos", "s3cret-password"
			}},
		} {
			t.Run(c.name, func(t *testing.T) {
				w := start(t, fresh(t, dsn), c.smtp, c.cfg)
				if _, err := w.notify(t, msg(custosmail.Recipient{Address: "tls@centre.example"}), ""); err != nil {
					t.Fatal(err)
				}
				w.deliver(t)
				p := w.outbox(t, custosmail.Pending)
				if len(p) != 1 || !strings.Contains(p[0].LastError, c.why) || len(w.smtp.Received()) != 0 {
					t.Fatalf("sent, or pending for another reason than %q: %+v", c.why, p)
				}
			})
		}
	})
}

// TestRestart queues an e-mail on a registry whose SMTP server is not
// configured yet, stops it, and serves it again with one: the new serve's
// deliverer sends what the outbox held.
func TestRestart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		srv := mailtest.Start(t, mailtest.Options{})
		cfg := server.Config{DSN: dsn, KeyFile: storetest.KeyFile(t), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Modules: mailtest.Modules()}
		ctx := context.Background()
		token, err := server.Init(ctx, cfg, server.InitOptions{Jurisdiction: "XA", Authority: "Test"})
		if err != nil {
			t.Fatal(err)
		}
		serve := func(cfg server.Config, during func(app *server.App)) {
			app, err := server.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			sctx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			ready := make(chan struct{})
			go func() { done <- app.Serve(sctx, &http.Server{Addr: "127.0.0.1:0"}, func(string) { close(ready) }) }()
			<-ready
			during(app)
			stop()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			app.Close()
		}
		serve(cfg, func(app *server.App) {
			p, err := auth.Authenticate(ctx, app.DB.Read(), token)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := mailtest.Notify(ctx, app, p.Actor(), msg(custosmail.Recipient{Address: "after@centre.example"})); err != nil {
				t.Fatal(err)
			}
		})
		if n := len(srv.Received()); n != 0 {
			t.Fatalf("sent with no SMTP server configured: %d", n)
		}
		cfg.Mail = custosmail.Config{Addr: srv.Addr, TLS: custosmail.NoTLS, From: "registry@custos.example", Poll: 20 * time.Millisecond}
		serve(cfg, func(app *server.App) {
			r := srv.Wait(t, 1, 10*time.Second)
			if r[0].To[0] != "after@centre.example" {
				t.Fatalf("received %+v", r)
			}
		})
	})
}

// TestEnqueueRefuses names the rule and the field of each refusal, and
// queues nothing.
func TestEnqueueRefuses(t *testing.T) {
	w := start(t, storetest.SQLite(t), mailtest.Options{}, nil)
	ok := custosmail.Recipient{Address: "a@centre.example"}
	for _, c := range []struct {
		name        string
		m           custosmail.Message
		rule, field string
	}{
		{"no recipient", msg(), "required", "to"},
		{"bad address", msg(ok, custosmail.Recipient{Address: "not an address"}), "email", "to[1].address"},
		{"two addresses", msg(custosmail.Recipient{Address: "a@b.example, c@d.example"}), "email", "to[0].address"},
		{"quoted", msg(custosmail.Recipient{Address: `"a b"@centre.example`}), "email", "to[0].address"},
		{"unknown principal", msg(custosmail.Recipient{Address: "a@centre.example", Principal: "PR-NOSUCH"}), "not_found", "to[0].principal"},
		{"header injection", func() custosmail.Message {
			m := msg(ok)
			m.SubjectArgs = []string{"x\r\nBcc: all@example.com"}
			return m
		}(), "control_character", "subject_args[0]"},
		{"long argument", func() custosmail.Message { m := msg(ok); m.BodyArgs = []string{strings.Repeat("x", 201)}; return m }(), "too_long", "body_args[0]"},
		{"outside link", func() custosmail.Message { m := msg(ok); m.Link = "https://elsewhere.example/"; return m }(), "link", "link"},
		{"no subject", func() custosmail.Message { m := msg(ok); m.Subject = ""; return m }(), "required", "subject"},
	} {
		_, err := w.notify(t, c.m, "")
		e, isErr := errs.As(err)
		if !isErr || e.Rule != c.rule || e.Field != c.field {
			t.Errorf("%s: got %v, want rule %s field %s", c.name, err, c.rule, c.field)
		}
	}
	if got := w.outbox(t, ""); len(got) != 0 {
		t.Fatalf("refusals queued %d e-mails", len(got))
	}
}

// TestOutboxPages walks the outbox by keyset pages and refuses a state it
// does not have.
func TestOutboxPages(t *testing.T) {
	w := start(t, storetest.SQLite(t), mailtest.Options{}, nil)
	ids, err := w.notify(t, msg(custosmail.Recipient{Address: "a@centre.example"}, custosmail.Recipient{Address: "b@centre.example"}, custosmail.Recipient{Address: "c@centre.example"}), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var seen []string
	f := custosmail.Filter{Page: page.Request{Limit: 2}}
	for {
		p, err := custosmail.List(ctx, w.env.App.DB.Read(), w.env.App.Mail.Key, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range p.Items {
			seen = append(seen, i.ID)
		}
		if p.Next == "" {
			break
		}
		k, err := page.ParseCursor(p.Next)
		if err != nil {
			t.Fatal(err)
		}
		f.Page.After = &k
	}
	if strings.Join(seen, " ") != ids[2]+" "+ids[1]+" "+ids[0] {
		t.Fatalf("pages gave %v, want %v newest first", seen, ids)
	}
	_, err = custosmail.List(ctx, w.env.App.DB.Read(), w.env.App.Mail.Key, custosmail.Filter{State: "lost"})
	if e, ok := errs.As(err); !ok || e.Rule != "enum" || e.Field != "state" {
		t.Fatalf("an unknown state: %v", err)
	}
	if _, err := custosmail.FilterOf(map[string][]string{"status": {"sent"}}); err == nil {
		t.Fatal("an unknown parameter passed")
	}
}

// TestTestMail sends the test e-mail of custos mail test at once, in the
// language asked.
func TestTestMail(t *testing.T) {
	w := start(t, storetest.SQLite(t), mailtest.Options{}, nil)
	if err := w.env.App.Mail.Test(context.Background(), "operator@registry.example", "ru"); err != nil {
		t.Fatal(err)
	}
	r := w.smtp.Wait(t, 1, 5*time.Second)
	m, _, _ := read(t, r[0])
	if r[0].To[0] != "operator@registry.example" || m.Header.Get("Content-Language") != "ru" {
		t.Fatalf("received %+v", r[0])
	}
	if err := w.env.App.Mail.Test(context.Background(), "nobody", ""); err == nil {
		t.Fatal("a test e-mail to no address")
	}
}

// FuzzParseAddress: whatever it accepts is one address SMTP needs no
// quoting for, and reads back as itself.
func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"a@b.example", "Name <a@b.example>", `"a b"@c.example`, "a@b, c@d", "=?utf-8?q?x?= <a@b>", "a@[127.0.0.1]", "é@b.example", "a\r\n@b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := custosmail.ParseAddress("to", s)
		if err != nil {
			if e, ok := errs.As(err); !ok || e.Field != "to" {
				t.Fatalf("refusal %v", err)
			}
			return
		}
		if strings.ContainsAny(a, " \r\n\t<>\"") || !strings.Contains(a, "@") || len(a) > 254 {
			t.Fatalf("%q gave %q", s, a)
		}
		again, err := custosmail.ParseAddress("to", a)
		if err != nil || again != a {
			t.Fatalf("%q gave %q, which reads as %q, %v", s, a, again, err)
		}
	})
}

// TestOutboxAPI: GET /api/v1/mail/outbox answers the administrator the
// outbox as the web page and custos mail outbox show it, newest first, a
// page at a time with the next page's link, filtered by state (an unknown
// state refused on its field), each e-mail's address and whether it is
// tampered, and the e-mails deleted from it behind custos's back; a
// regulator, who does not administer e-mail, is refused and reads no
// address.
func TestOutboxAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := start(t, dsn, mailtest.Options{}, nil)
		e := w.env
		empty := e.Must(t, 200, "GET", "/api/v1/mail/outbox", e.Admin, nil)
		if string(empty.Raw) == "" || !strings.Contains(string(empty.Raw), `"emails": []`) || !strings.Contains(string(empty.Raw), `"missing": []`) || empty.Body["missing_count"] != float64(0) {
			t.Fatalf("the empty outbox: %s", empty.Raw)
		}
		ids, err := w.notify(t, msg(custosmail.Recipient{Address: "first@centre.example"}, custosmail.Recipient{Address: "second@centre.example"},
			custosmail.Recipient{Address: "third@centre.example"}), "")
		if err != nil {
			t.Fatal(err)
		}
		w.env.Tamper(t, "UPDATE mail_outbox SET state = 'sent' WHERE id = ?", ids[1])
		w.env.Tamper(t, "DELETE FROM mail_outbox WHERE id = ?", ids[0])

		emails := func(r *apptest.Response) []map[string]any {
			var out []map[string]any
			for _, i := range r.Body["emails"].([]any) {
				out = append(out, i.(map[string]any))
			}
			return out
		}
		first := e.Must(t, 200, "GET", "/api/v1/mail/outbox?limit=1", e.Admin, nil)
		got := emails(first)
		if len(got) != 1 || got[0]["id"] != ids[2] || got[0]["address"] != "third@centre.example" || got[0]["state"] != custosmail.Pending || got[0]["tampered"] != nil {
			t.Fatalf("the first page: %s", first.Raw)
		}
		if first.Body["missing_count"] != float64(1) || first.Body["missing"].([]any)[0] != ids[0] {
			t.Fatalf("the first page does not name the deleted e-mail: %s", first.Raw)
		}
		next := first.Str("next")
		if !strings.HasPrefix(next, "/api/v1/mail/outbox?") {
			t.Fatalf("next %q", next)
		}
		second := e.Must(t, 200, "GET", next, e.Admin, nil)
		if got := emails(second); len(got) != 1 || got[0]["id"] != ids[1] || got[0]["tampered"] != true || second.Str("next") != "" {
			t.Fatalf("the second page: %s", second.Raw)
		}
		if got := emails(e.Must(t, 200, "GET", "/api/v1/mail/outbox?state=sent", e.Admin, nil)); len(got) != 1 || got[0]["id"] != ids[1] {
			t.Fatalf("sent: %v", got)
		}
		r := e.Must(t, 422, "GET", "/api/v1/mail/outbox?state=lost", e.Admin, nil)
		if r.Str("error.rule") != "enum" || r.Str("error.field") != "state" {
			t.Fatalf("an unknown state: %s", r.Raw)
		}

		authority := e.Must(t, 200, "GET", "/api/v1/me", e.Admin, nil).Str("authority_id")
		regulator := e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Regulator", "role": "regulator", "authority_id": authority}).Str("token")
		r = e.Must(t, 403, "GET", "/api/v1/mail/outbox", regulator, nil)
		if strings.Contains(string(r.Raw), "centre.example") {
			t.Fatalf("the refusal holds an address: %s", r.Raw)
		}
	})
}
