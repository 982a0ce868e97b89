package web_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/web"
)

var sessionRowRE = regexp.MustCompile(`<tr id="session-([0-9a-f]+)">`)

// TestSessions checks the server-side sessions of the pages: the cookie
// holds a session secret, not the token, HttpOnly and SameSite=Strict;
// My account lists each browser's session; ending another one signs that
// browser out, and a copy of a signed-out cookie signs nobody in; "sign
// out of all my sessions" ends them all; a session ends after the idle
// timeout without a page, and at the absolute timeout however busy.
func TestSessions(t *testing.T) {
	storetest.Each(t, testSessions)
}

func testSessions(t *testing.T, dsn string) {
	clk := &clock{}
	w := apptest.NewWorldWith(t, dsn, func(cfg *server.Config) {
		cfg.Now = clk.Now
		cfg.SessionIdle = 10 * time.Minute
		cfg.SessionMax = time.Hour
	})
	one := newBrowser(t, w.URL)
	one.signIn(w.CoordA)
	if c := one.cookie; !strings.HasPrefix(c.Value, auth.SessionPrefix) || strings.Contains(c.Value, w.CoordA) || !c.HttpOnly ||
		c.SameSite != http.SameSiteStrictMode || c.Secure || c.MaxAge != 3600 {
		t.Errorf("session cookie %+v: want a session secret, HttpOnly, SameSite=Strict, not Secure over plain HTTP, for the absolute timeout", c)
	}
	// The database keeps neither the secret nor its plain hash, but its
	// HMAC under a key from the key file: a session added by whoever can
	// write the database without the key file (its secret's plain hash,
	// which is all they could compute) signs nobody in.
	var rows0 int
	if err := w.App.DB.Read().QueryRow(context.Background(), "SELECT COUNT(*) FROM web_sessions WHERE secret_hash IN (?, ?)", auth.HashToken(one.cookie.Value), one.cookie.Value).Scan(&rows0); err != nil || rows0 != 0 {
		t.Fatalf("the session's secret or its plain SHA-256 is in web_sessions %d times (%v), want none", rows0, err)
	}
	forged := auth.SessionPrefix + "forgedsecret0123456789abcdef"
	var principal string
	if err := w.App.DB.Read().QueryRow(context.Background(), "SELECT principal_id FROM web_sessions").Scan(&principal); err != nil {
		t.Fatal(err)
	}
	tx, err := w.App.DB.BeginWrite(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), `INSERT INTO web_sessions (secret_hash, ref, principal_id, method, created_at, last_seen_at, expires_at, network, agent)
		SELECT ?, 'forged', principal_id, method, created_at, last_seen_at, expires_at, network, agent FROM web_sessions`, auth.HashToken(forged)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	intruder := newBrowser(t, w.URL)
	intruder.cookie = &http.Cookie{Name: web.CookieName, Value: forged}
	if p := intruder.get("/account"); p.Status == http.StatusOK && strings.Contains(p.Body, principal) {
		t.Fatalf("a session row forged in the database signed its bearer in: %d", p.Status)
	}
	two := newBrowser(t, w.URL)
	two.signIn(w.CoordA)
	p := one.get("/account")
	rows := sessionRowRE.FindAllStringSubmatch(p.Body, -1)
	if len(rows) != 2 {
		t.Fatalf("My account lists %d sessions, want 2:\n%s", len(rows), p.Body)
	}
	mustContain(t, "sessions", p, "Sign out (this browser)", "127.0.0.0/24", `id="end-all"`)
	if strings.Count(p.Body, "Sign out (this browser)") != 1 {
		t.Error("not exactly one session is marked as this browser's")
	}
	// The session of the other browser: the one not marked current.
	var other string
	for _, m := range rows {
		i := strings.Index(p.Body, m[0])
		if !strings.Contains(p.Body[i:i+strings.Index(p.Body[i:], "</tr>")], "this browser") {
			other = m[1]
		}
	}
	p = one.post("/account/sessions/"+other+"/end", url.Values{})
	wantStatus(t, "end the other session", p, http.StatusSeeOther)
	wantStatus(t, "the other browser after its session ended", two.get("/account"), http.StatusSeeOther)
	wantStatus(t, "this browser after ending the other", one.get("/account"), http.StatusOK)
	p = one.post("/account/sessions/"+other+"/end", url.Values{})
	wantStatus(t, "end an ended session (TestEndSessionTwice)", p, http.StatusSeeOther)

	// Sign out: the cookie is cleared, and a copy of it signs nobody in.
	kept := *one.cookie
	wantStatus(t, "sign out", one.post("/signout", url.Values{}), http.StatusSeeOther)
	copied := newBrowser(t, w.URL)
	copied.cookie = &kept
	p = copied.get("/account")
	wantStatus(t, "a copy of a signed-out cookie", p, http.StatusSeeOther)
	if loc := p.Header.Get("Location"); signInReason(p) != "expired" {
		t.Errorf("a signed-out cookie: redirect to %s", loc)
	}

	// Sign out of all sessions, from one of three browsers.
	bs := []*browser{newBrowser(t, w.URL), newBrowser(t, w.URL), newBrowser(t, w.URL)}
	for _, b := range bs {
		b.signIn(w.CoordA)
	}
	p = bs[0].post("/account/sessions/end-all", url.Values{})
	wantStatus(t, "sign out of all", p, http.StatusSeeOther)
	if p.Header.Get("Location") != "/" || signInReason(p) != "allout" {
		t.Errorf("after sign-out of all, redirect to %q, reason %q", p.Header.Get("Location"), signInReason(p))
	}
	bs[0].cookie = nil // cleared by the answer
	mustContain(t, "signed out of all", bs[0].get("/"), "You are signed out of all your sessions")
	for _, b := range bs {
		wantStatus(t, "browser after sign-out of all", b.get("/account"), http.StatusSeeOther)
	}

	// The idle timeout: a page within it keeps the session; none for the
	// whole of it ends it.
	b := newBrowser(t, w.URL)
	b.signIn(w.CoordA)
	clk.advance(8 * time.Minute)
	wantStatus(t, "8 minutes idle", b.get("/account"), http.StatusOK)
	clk.advance(8 * time.Minute)
	wantStatus(t, "8 more minutes, with a page between", b.get("/account"), http.StatusOK)
	clk.advance(11 * time.Minute)
	p = b.get("/account")
	wantStatus(t, "11 minutes idle", p, http.StatusSeeOther)
	if loc := p.Header.Get("Location"); signInReason(p) != "expired" {
		t.Errorf("idle session: redirect to %s", loc)
	}

	// The absolute timeout: busy all along, the session ends after an hour.
	b.signIn(w.CoordA)
	for range 6 {
		clk.advance(9 * time.Minute)
		wantStatus(t, "busy session", b.get("/account"), http.StatusOK)
	}
	clk.advance(7 * time.Minute)
	wantStatus(t, "an hour and a minute after the sign-in", b.get("/account"), http.StatusSeeOther)
}

// TestSessionRowChanged checks that a session's row changed in the
// database by whoever can write it without the key file resumes nothing:
// an auditor's row given the administrator's principal and a distant
// expiry (the auditor's F1) does not open the administrator's pages to the
// auditor's cookie, which is signed out, and the server log says so at
// warn level without the secret; a row whose expiry alone was moved ends
// too; the administrator's My account does not list the changed row.
func TestSessionRowChanged(t *testing.T) {
	storetest.Each(t, testSessionRowChanged)
}

func testSessionRowChanged(t *testing.T, dsn string) {
	logs := &apptest.LogBuffer{}
	w := apptest.NewWorldWith(t, dsn, func(cfg *server.Config) {
		cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	})
	admin, auditor := w.Principal(t, w.Admin), w.Principal(t, w.Auditor)
	adm := newBrowser(t, w.URL)
	adm.signIn(w.Admin)
	wantStatus(t, "the administrator's People page", adm.get("/people"), http.StatusOK)
	aud := newBrowser(t, w.URL)
	aud.signIn(w.Auditor)
	wantStatus(t, "the auditor's account", aud.get("/account"), http.StatusOK)
	if p := aud.get("/people"); p.Status == http.StatusOK {
		t.Fatalf("the auditor reads the People page before any change: %d", p.Status)
	}
	w.Tamper(t, "UPDATE web_sessions SET principal_id = ?, expires_at = '2099-01-01T00:00:00.000Z' WHERE principal_id = ?", admin.ID, auditor.ID)
	for _, path := range []string{"/people", "/account"} {
		p := aud.get(path)
		wantStatus(t, "GET "+path+" with the auditor's cookie after its row named the administrator", p, http.StatusSeeOther)
		if loc := p.Header.Get("Location"); signInReason(p) != "expired" {
			t.Errorf("GET %s, the changed session: redirect to %s, want the sign-in form", path, loc)
		}
	}
	if p := aud.get("/"); strings.Contains(p.Body, admin.Name) {
		t.Errorf("the home page names the administrator to the auditor's cookie: %d", p.Status)
	}
	log := logs.String()
	if !strings.Contains(log, `"level":"WARN","msg":"web session refused: its row does not carry the registry's MAC`) {
		t.Errorf("the server log does not report the changed row at warn level:\n%s", log)
	}
	if strings.Contains(log, aud.cookie.Value) || strings.Contains(log, aud.cookie.Value[len(auth.SessionPrefix):]) {
		t.Error("the server log holds the session's secret")
	}
	// The administrator's own session goes on, and lists only itself.
	if rows := sessionRowRE.FindAllStringSubmatch(adm.get("/account").Body, -1); len(rows) != 1 {
		t.Errorf("the administrator's My account lists %d sessions, want 1 (not the changed row)", len(rows))
	}

	// The expiry alone moved: the session ends all the same.
	aud.signIn(w.Auditor)
	w.Tamper(t, "UPDATE web_sessions SET expires_at = '2099-01-01T00:00:00.000Z' WHERE principal_id = ?", auditor.ID)
	wantStatus(t, "a session whose expiry was moved", aud.get("/account"), http.StatusSeeOther)
	wantStatus(t, "the administrator's session after all this", adm.get("/people"), http.StatusOK)
}

// TestSessionRevived: a signed-out session's row put back in the database
// with the MAC it had (by whoever kept the cookie and can write the
// database, within the idle timeout) resumes nothing. Sign-out is a
// session.ended leaf, projected into web_sessions_ended, which Resume
// reads: the kept cookie goes back to the sign-in form, the server log
// says so at error level (without the secret), an alert session_revived is
// raised, and the row is deleted again. Signing out of one session from My
// account, and of all sessions, logs their refs too. log verify passes,
// and names web_sessions_ended when a row of it is deleted.
func TestSessionRevived(t *testing.T) {
	storetest.Each(t, testSessionRevived)
}

func testSessionRevived(t *testing.T, dsn string) {
	ctx := context.Background()
	logs := &apptest.LogBuffer{}
	w := apptest.NewWorldWith(t, dsn, func(cfg *server.Config) {
		cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	})
	b := newBrowser(t, w.URL)
	b.signIn(w.CoordA)
	wantStatus(t, "the account page, signed in", b.get("/account"), http.StatusOK)
	type row struct{ hash, ref, principal, method, created, seen, expires, network, agent, mac string }
	var kept row
	if err := w.App.DB.Read().QueryRow(ctx, `SELECT secret_hash, ref, principal_id, method, created_at, last_seen_at, expires_at, network, agent, mac FROM web_sessions`).
		Scan(&kept.hash, &kept.ref, &kept.principal, &kept.method, &kept.created, &kept.seen, &kept.expires, &kept.network, &kept.agent, &kept.mac); err != nil {
		t.Fatal(err)
	}
	cookie := *b.cookie
	before := w.LogSize(t)
	wantStatus(t, "sign out", b.post("/signout", url.Values{}), http.StatusSeeOther)
	if n := w.LogSize(t); n != before+1 {
		t.Fatalf("the sign-out added %d leaves, want 1", n-before)
	}
	var typ, data string
	if err := w.App.DB.Read().QueryRow(ctx, "SELECT data FROM log_leaves WHERE idx = ?", before).Scan(&data); err != nil {
		t.Fatal(err)
	}
	if typ = `"type":"session.ended"`; !strings.Contains(data, typ) || !strings.Contains(data, `"refs":["`+kept.ref+`"]`) ||
		strings.Contains(data, kept.hash) || strings.Contains(data, cookie.Value[len(auth.SessionPrefix):]) {
		t.Errorf("the sign-out's leaf: %s, want %s naming the session's ref %s and nothing of its secret", data, typ, kept.ref)
	}

	// The row put back, with the MAC it had.
	w.Tamper(t, `INSERT INTO web_sessions (secret_hash, ref, principal_id, method, created_at, last_seen_at, expires_at, network, agent, mac)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, kept.hash, kept.ref, kept.principal, kept.method, kept.created, kept.seen, kept.expires, kept.network, kept.agent, kept.mac)
	thief := newBrowser(t, w.URL)
	thief.cookie = &cookie
	p := thief.get("/account")
	wantStatus(t, "the signed-out cookie, its row put back", p, http.StatusSeeOther)
	if loc := p.Header.Get("Location"); signInReason(p) != "expired" {
		t.Errorf("the revived session: redirect to %s, want the sign-in form", loc)
	}
	log := logs.String()
	if want := `"level":"ERROR","msg":"web session refused: it was signed out, and its row was put back in the database behind custos's back","session":"` + kept.ref + `"`; !strings.Contains(log, want) {
		t.Errorf("the server log lacks %s:\n%s", want, log)
	}
	if strings.Contains(log, cookie.Value[len(auth.SessionPrefix):]) || strings.Contains(log, kept.hash) {
		t.Error("the server log holds the session's secret or its hash")
	}
	var alerts, rows int
	if err := w.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM alerts WHERE rule = ? AND field = 'session' AND message LIKE ?", auth.RuleSessionRevived, "%"+kept.ref+"%").Scan(&alerts); err != nil || alerts != 1 {
		t.Errorf("%d alerts %s naming the session (%v), want 1", alerts, auth.RuleSessionRevived, err)
	}
	if err := w.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM web_sessions WHERE ref = ?", kept.ref).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("the revived row is still in web_sessions (%d, %v)", rows, err)
	}
	wantStatus(t, "the signed-out cookie again", thief.get("/account"), http.StatusSeeOther)

	// One session ended from My account, then all: each ref logged.
	one, two, three := newBrowser(t, w.URL), newBrowser(t, w.URL), newBrowser(t, w.URL)
	for _, x := range []*browser{one, two, three} {
		x.signIn(w.CoordA)
	}
	acct := one.get("/account").Body
	refs := sessionRowRE.FindAllStringSubmatch(acct, -1)
	if len(refs) != 3 {
		t.Fatalf("My account lists %d sessions, want 3", len(refs))
	}
	other := ""
	for _, m := range refs {
		i := strings.Index(acct, m[0])
		if !strings.Contains(acct[i:i+strings.Index(acct[i:], "</tr>")], "this browser") {
			other = m[1]
		}
	}
	wantStatus(t, "end another session from My account", one.post("/account/sessions/"+other+"/end", url.Values{}), http.StatusSeeOther)
	wantStatus(t, "sign out of all", one.post("/account/sessions/end-all", url.Values{}), http.StatusSeeOther)
	var ended int
	if err := w.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM web_sessions_ended").Scan(&ended); err != nil || ended != 4 {
		t.Errorf("web_sessions_ended holds %d refs (%v), want the 4 signed out", ended, err)
	}
	if rep := w.Verify(t); !rep.OK() {
		t.Fatalf("log verify after the sign-outs: %v", rep.Problems)
	}
	w.Tamper(t, "DELETE FROM web_sessions_ended WHERE ref = ?", kept.ref)
	rep := w.Verify(t)
	if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "web_sessions_ended") || !strings.Contains(rep.Problems[0], kept.ref) {
		t.Errorf("log verify after a sign-out's row was deleted: %v, want web_sessions_ended naming %s", rep.Problems, kept.ref)
	}
}

// TestSignOutTwice: signing out a session already ended (a second
// click, another tab, signing out of all after one) answers as a sign-out
// does, takes no turn of the writer, adds no leaf and counts no refused
// command; the session still resumes nothing. Sign-outs racing for one
// session add one leaf between them and count no refusal either.
func TestSignOutTwice(t *testing.T) {
	storetest.Each(t, testSignOutTwice)
}

func testSignOutTwice(t *testing.T, dsn string) {
	ctx := context.Background()
	w := apptest.NewWorld(t, dsn)
	p := w.Principal(t, w.CoordA)
	s := &auth.Sessions{DB: w.App.DB, W: w.App.Writer}
	refusedRE := regexp.MustCompile(`(?m)^custos_commands_refused_total ([0-9]+)$`)
	type counts struct {
		leaves, refused int
		batches         int64
	}
	now := func() counts {
		t.Helper()
		body := apptest.Metrics(t, w.URL)
		m := refusedRE.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("/metrics has no custos_commands_refused_total:\n%s", body)
		}
		n, _ := strconv.Atoi(m[1])
		return counts{leaves: w.LogSize(t), refused: n, batches: w.App.Writer.Counts().Batches}
	}
	unchanged := func(what string, before counts) {
		t.Helper()
		if after := now(); after != before {
			t.Errorf("%s: leaves %d → %d, refused commands %d → %d, writer batches %d → %d; want none changed",
				what, before.leaves, after.leaves, before.refused, after.refused, before.batches, after.batches)
		}
	}
	st, err := s.Start(ctx, p, auth.MethodToken, "", "")
	if err != nil {
		t.Fatal(err)
	}
	before := now()
	if ref, err := s.End(ctx, p, st.Secret); err != nil || ref != st.Ref {
		t.Fatalf("sign out: %q, %v; want %q", ref, err, st.Ref)
	}
	if after := now(); after.leaves != before.leaves+1 || after.refused != before.refused {
		t.Fatalf("the sign-out: leaves %d → %d, refused %d → %d; want one leaf, no refusal", before.leaves, after.leaves, before.refused, after.refused)
	}
	before = now()
	if ref, err := s.End(ctx, p, st.Secret); err != nil || ref != "" {
		t.Errorf("the second sign-out: %q, %v; want \"\" and no error, as a sign-out", ref, err)
	}
	unchanged("the second sign-out", before)
	if n, err := s.EndAll(ctx, p); err != nil || n != 0 {
		t.Errorf("sign out of all after the sign-out: %d, %v; want 0 and no error", n, err)
	}
	unchanged("sign out of all after the sign-out", before)
	if ended, err := s.EndRef(ctx, p, st.Ref); ended || err != nil {
		t.Errorf("end the ended session from My account: %v, %v; want not ended now and no error, as the first end", ended, err)
	}
	unchanged("end the ended session from My account", before)
	if _, _, err := s.Resume(ctx, st.Secret); !isRule(err, auth.RuleSessionEnded) {
		t.Errorf("resume after two sign-outs: %v, want rule %s", err, auth.RuleSessionEnded)
	}

	// Through the pages: the second click of Sign out, its form kept,
	// with the dead cookie (the back button) and with none (another tab,
	// once the first cleared it), lands where the first did, on the
	// sign-in form that says so.
	b := newBrowser(t, w.URL)
	b.signIn(w.CoordA)
	form := url.Values{"csrf": {b.csrf()}}
	first := b.do("POST", "/signout", form)
	wantStatus(t, "sign out", first, http.StatusSeeOther)
	dead := b.cookie
	for _, c := range []*http.Cookie{dead, nil} {
		b.cookie = c
		before = now()
		p := b.do("POST", "/signout", form)
		wantStatus(t, fmt.Sprintf("the second click of Sign out (cookie %v)", c != nil), p, http.StatusSeeOther)
		if loc := p.Header.Get("Location"); loc != first.Header.Get("Location") || loc != "/" || signInReason(p) != "signedout" {
			t.Errorf("the second click of Sign out (cookie %v) goes to %q (reason %q), the first to %q; want / saying signed out",
				c != nil, loc, signInReason(p), first.Header.Get("Location"))
		}
		unchanged("the second click of Sign out", before)
	}
	b.cookie = nil
	mustContain(t, "after the second click", b.get("/"), "You are signed out.")
	b.cookie = dead
	wantStatus(t, "the signed-out cookie", b.get("/account"), http.StatusSeeOther)

	// A live session is still signed out only by a form of its own pages:
	// without their CSRF token, or from another site, it is refused (403)
	// and stays open.
	b.signIn(w.CoordA)
	before = now()
	if p := b.do("POST", "/signout", url.Values{"csrf": {"a forged token"}}); p.Status != http.StatusForbidden {
		t.Errorf("a sign-out without the session's CSRF token: %d, want 403", p.Status)
	}
	req, err := http.NewRequest("POST", w.URL+"/signout", strings.NewReader(url.Values{"csrf": {b.csrf()}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.AddCookie(b.cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a sign-out posted from another site: %d, want 403", resp.StatusCode)
	}
	unchanged("the forged sign-outs", before)
	wantStatus(t, "the session after the forged sign-outs", b.get("/account"), http.StatusOK)

	// Sign-outs racing for one session: one ends it, the others find it
	// ended, before the writer or in it.
	st, err = s.Start(ctx, p, auth.MethodToken, "", "")
	if err != nil {
		t.Fatal(err)
	}
	before = now()
	refs := make([]string, 8)
	failed := make([]error, len(refs))
	var wg sync.WaitGroup
	for i := range refs {
		wg.Go(func() { refs[i], failed[i] = s.End(ctx, p, st.Secret) })
	}
	wg.Wait()
	ended := 0
	for i := range refs {
		if failed[i] != nil {
			t.Errorf("racing sign-out %d: %v", i, failed[i])
		}
		if refs[i] != "" {
			ended++
		}
	}
	if after := now(); ended != 1 || after.leaves != before.leaves+1 || after.refused != before.refused {
		t.Errorf("%d racing sign-outs: %d ended the session, leaves %d → %d, refused %d → %d; want 1, one leaf, no refusal",
			len(refs), ended, before.leaves, after.leaves, before.refused, after.refused)
	}
	if _, _, err := s.Resume(ctx, st.Secret); !isRule(err, auth.RuleSessionEnded) {
		t.Errorf("resume after the racing sign-outs: %v, want rule %s", err, auth.RuleSessionEnded)
	}
}

// TestEndSessionTwice: ending from My account a session that has ended
// already (a double click of its Sign out, two clicks at once, a session
// timed out, its row cleared since by another sign-in) answers as the
// first end did, 303 back to My account without it, and writes nothing: no
// leaf, no writer turn. Another principal's session, open or signed out,
// is refused as before (404, rule reference) and stays as it was.
func TestEndSessionTwice(t *testing.T) {
	storetest.Each(t, testEndSessionTwice)
}

func testEndSessionTwice(t *testing.T, dsn string) {
	clk := &clock{}
	w := apptest.NewWorldWith(t, dsn, func(cfg *server.Config) {
		cfg.Now = clk.Now
		cfg.SessionIdle = 10 * time.Minute
	})
	type counts struct {
		leaves  int
		batches int64
	}
	now := func() counts { return counts{w.LogSize(t), w.App.Writer.Counts().Batches} }
	unchanged := func(what string, before counts) {
		t.Helper()
		if after := now(); after != before {
			t.Errorf("%s: leaves %d → %d, writer batches %d → %d; want none", what, before.leaves, after.leaves, before.batches, after.batches)
		}
	}
	end := func(b *browser, ref string) *page {
		t.Helper()
		return b.post("/account/sessions/"+ref+"/end", url.Values{})
	}
	one, two := newBrowser(t, w.URL), newBrowser(t, w.URL)
	one.signIn(w.CoordA)
	two.signIn(w.CoordA)
	ref := ownSession(t, two)

	// The double click: one leaf, the same answer twice.
	before := now()
	first := end(one, ref)
	wantStatus(t, "end the other session", first, http.StatusSeeOther)
	if after := now(); after.leaves != before.leaves+1 {
		t.Fatalf("ending a session: leaves %d → %d, want one more", before.leaves, after.leaves)
	}
	before = now()
	second := end(one, ref)
	wantStatus(t, "end it again", second, http.StatusSeeOther)
	if second.Header.Get("Location") != first.Header.Get("Location") {
		t.Errorf("the second end goes to %q, the first to %q", second.Header.Get("Location"), first.Header.Get("Location"))
	}
	unchanged("the second end", before)
	p := one.get(second.Header.Get("Location"))
	mustContain(t, "My account after the second end", p, "The session is ended: its browser is signed out.")
	if strings.Contains(p.Body, `id="session-`+ref+`"`) {
		t.Errorf("My account still lists the session ended")
	}
	wantStatus(t, "the browser of the session ended", two.get("/account"), http.StatusSeeOther)

	// Two clicks at once: both answered so, one leaf between them.
	two.signIn(w.CoordA)
	ref = ownSession(t, two)
	form := url.Values{"csrf": {one.csrf()}}
	before = now()
	statuses := make([]int, 2)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			req, err := http.NewRequest("POST", w.URL+"/account/sessions/"+ref+"/end", strings.NewReader(form.Encode()))
			if err != nil {
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(one.cookie)
			resp, err := one.c.Do(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	if after := now(); statuses[0] != http.StatusSeeOther || statuses[1] != http.StatusSeeOther || after.leaves != before.leaves+1 {
		t.Errorf("two ends at once: %v, leaves %d → %d; want 303 twice and one leaf", statuses, before.leaves, after.leaves)
	}

	// A session timed out a moment ago: ended already, nothing to write.
	three := newBrowser(t, w.URL)
	three.signIn(w.CoordA)
	ref = ownSession(t, three)
	clk.advance(6 * time.Minute)
	wantStatus(t, "a page of this browser", one.get("/account"), http.StatusOK)
	clk.advance(5 * time.Minute) // the other browser: 11 minutes without a page
	before = now()
	p = end(one, ref)
	wantStatus(t, "end a session timed out", p, http.StatusSeeOther)
	unchanged("ending a session timed out", before)
	// Its row cleared by another sign-in: the same.
	newBrowser(t, w.URL).signIn(w.CoordB)
	var rows int
	if err := w.App.DB.Read().QueryRow(context.Background(), "SELECT COUNT(*) FROM web_sessions WHERE ref = ?", ref).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("the timed-out session's row: %d (%v), want cleared by the sign-in", rows, err)
	}
	before = now()
	wantStatus(t, "end a session timed out and cleared", end(one, ref), http.StatusSeeOther)
	unchanged("ending a session timed out and cleared", before)

	// Another principal's session, open and then signed out: refused.
	b := newBrowser(t, w.URL)
	b.signIn(w.CoordB)
	ref = ownSession(t, b)
	before = now()
	p = end(one, ref)
	wantStatus(t, "end another's session", p, http.StatusNotFound)
	mustContain(t, "end another's session", p, "you have no open session "+ref)
	unchanged("ending another's session", before)
	wantStatus(t, "the other principal's session", b.get("/account"), http.StatusOK)
	wantStatus(t, "the other principal signs out", b.post("/signout", url.Values{}), http.StatusSeeOther)
	before = now()
	wantStatus(t, "end another's session signed out", end(one, ref), http.StatusNotFound)
	unchanged("ending another's session signed out", before)
}

// ownSession is the ref of b's session, as its My account shows it.
func ownSession(t *testing.T, b *browser) string {
	t.Helper()
	p := b.get("/account")
	for _, m := range sessionRowRE.FindAllStringSubmatch(p.Body, -1) {
		i := strings.Index(p.Body, m[0])
		if strings.Contains(p.Body[i:i+strings.Index(p.Body[i:], "</tr>")], "this browser") {
			return m[1]
		}
	}
	t.Fatalf("My account marks no session as this browser's:\n%s", p.Body)
	return ""
}

func isRule(err error, rule string) bool {
	e, ok := errs.As(err)
	return ok && e.Rule == rule
}

// TestSessionCookieSecure checks that the session cookie (and the sign-in
// form's reason cookie) is marked Secure when the request came over TLS, and when the operator says a TLS proxy
// is in front (BehindTLSProxy), whose X-Forwarded-For then gives the
// session's coarse network.
func TestSessionCookieSecure(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	srv := httptest.NewTLSServer(w.App.Handler())
	t.Cleanup(srv.Close)
	b := newBrowser(t, srv.URL)
	b.c.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	b.signIn(w.CoordA)
	if !b.cookie.Secure {
		t.Errorf("over TLS, the session cookie is not Secure: %+v", b.cookie)
	}
	if p := b.get("/account"); p.Header.Get("Strict-Transport-Security") == "" {
		t.Error("over TLS, no Strict-Transport-Security header")
	}
	// The sign-in form's reason cookie, set by Sign out, is Secure too.
	if p := b.post("/signout", url.Values{}); signInReason(p) != "signedout" || !b.reason.Secure {
		t.Errorf("over TLS, Sign out's reason cookie is %+v, want signedout, Secure", b.reason)
	}

	proxied := apptest.NewWorldWith(t, storetest.SQLite(t), func(cfg *server.Config) { cfg.BehindTLSProxy = true })
	pb := newBrowser(t, proxied.URL)
	req, _ := http.NewRequest("POST", proxied.URL+"/signin", strings.NewReader(url.Values{"token": {proxied.CoordA}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", "198.51.100.7, 203.0.113.45")
	resp, err := pb.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var c *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == web.CookieName {
			c = ck
		}
	}
	if c == nil || !c.Secure {
		t.Fatalf("behind a TLS proxy, the session cookie is not Secure: %+v", c)
	}
	pb.cookie = c
	mustContain(t, "network behind the proxy", pb.get("/account"), "203.0.113.0/24")
}

// TestSubscriptionsCommandScheme checks that the pull command the
// subscriptions page gives a service names the registry over https when
// custos is behind a TLS proxy (it sees plain HTTP), so that the service's
// token is not sent in clear text; directly over plain HTTP it stays http.
func TestSubscriptionsCommandScheme(t *testing.T) {
	for _, c := range []struct {
		proxied bool
		scheme  string
	}{{true, "https"}, {false, "http"}} {
		w := apptest.NewHashmatchWorldWith(t, storetest.SQLite(t), func(cfg *server.Config) { cfg.BehindTLSProxy = c.proxied })
		b := newBrowser(t, w.URL)
		b.signIn(w.Service)
		host := strings.TrimPrefix(w.URL, "http://")
		p := b.get("/hashmatch/subscriptions")
		mustContain(t, "subscriptions", p, "custos hashmatch pull --url "+c.scheme+"://"+host+" ")
	}
}
