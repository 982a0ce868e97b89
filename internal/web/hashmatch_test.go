package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// hmNear flips the lowest bit of the first n hex digits of h.
func hmNear(h string, n int) string {
	b := []byte(h)
	for i := range n {
		var d int
		fmt.Sscanf(string(b[i]), "%x", &d)
		b[i] = "0123456789abcdef"[d^1]
	}
	return string(b)
}

// postFile submits a multipart form with one file (none when content is
// nil), and the session's CSRF token unless the form has one.
func (b *browser) postFile(path string, form url.Values, field, name string, content []byte) *page {
	b.t.Helper()
	var files []upFile
	if content != nil {
		files = append(files, upFile{name, content})
	}
	return b.postFiles(path, form, field, files...)
}

// upFile is a file of a multipart form: its name and bytes.
type upFile struct {
	name    string
	content []byte
}

// postFiles submits a multipart form with the files as input field, and the
// session's CSRF token unless the form has one.
func (b *browser) postFiles(path string, form url.Values, field string, files ...upFile) *page {
	b.t.Helper()
	if form.Get("csrf") == "" {
		form.Set("csrf", b.csrf())
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for _, f := range files {
		fw, err := mw.CreateFormFile(field, f.name)
		if err != nil {
			b.t.Fatal(err)
		}
		fw.Write(f.content)
	}
	mw.Close()
	req, err := http.NewRequest("POST", b.base+path, &body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(b.cookie)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	p := &page{Status: resp.StatusCode, Header: resp.Header, Body: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") && resp.StatusCode/100 != 3 {
		checkPage(b.t, "POST "+path, p.Body)
	}
	return p
}

func mustNotContain(t *testing.T, what string, p *page, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(p.Body, s) {
			t.Errorf("%s: page shows %q", what, s)
		}
	}
}

var (
	bankCreated = regexp.MustCompile(`^/hashmatch/banks/(HB-[0-9A-Z]{10})\?notice=[^&#]+$`)
	reportLink  = regexp.MustCompile(`href="/hashmatch/reports/(HR-[0-9A-Z]{10})" id="case-report"`)
)

// TestHashmatchPages: an analyst creates a bank and publishes it (pasted and
// uploaded lists); a service matches a planted hash; the reviewer confirms,
// reports and records the removal; the analyst acknowledges. Hashes are
// shown to the owner's analysts only; others' cases and reports do not exist
// for a principal.
func TestHashmatchPages(t *testing.T) {
	w := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{QuarantineLimit: 2})
	hotline, provider := w.Names[w.Authority], w.Names[w.Provider]
	if hotline == "" || provider == "" {
		t.Fatalf("the world names its authority %q and its provider %q", hotline, provider)
	}
	h1, h2, h3 := apptest.PDQHex(1), apptest.PDQHex(2), apptest.PDQHex(3)

	an := newBrowser(t, w.URL)
	an.signIn(w.Analyst)
	p := an.get("/")
	mustContain(t, "analyst home", p, hashmatch.Module.Title, `href="/hashmatch/banks"`, `href="/hashmatch/reports"`, `id="hashmatch"`)
	mustNotContain(t, "analyst home", p, `href="/transplant/donors"`, `href="/hashmatch/cases"`)

	// Create a bank: a refusal first, then the bank.
	p = an.get("/hashmatch/banks")
	wantStatus(t, "banks", p, http.StatusOK)
	mustContain(t, "banks", p, `<form method="post" action="/hashmatch/banks" id="bank" novalidate>`, "Your authority holds no bank yet.")
	p = an.post("/hashmatch/banks", url.Values{"name": {"Known images"}, "kind": {"known"}, "threshold": {"100"}})
	wantStatus(t, "threshold 100", p, http.StatusUnprocessableEntity)
	mustContain(t, "threshold 100", p, `id="refusal-rule">range<`, `id="refusal-field">threshold<`, `id="bank-threshold-error"`,
		`value="Known images"`, `<a href="#bank">Go to the form</a>`)
	p = an.post("/hashmatch/banks", url.Values{"name": {"Known images"}, "kind": {"known"}, "threshold": {"31"}})
	wantStatus(t, "create bank", p, http.StatusSeeOther)
	m := bankCreated.FindStringSubmatch(p.Header.Get("Location"))
	if m == nil {
		t.Fatalf("after creating a bank, redirect to %q", p.Header.Get("Location"))
	}
	bank := m[1]
	p = an.get(p.Header.Get("Location"))
	mustContain(t, "new bank", p, "Bank created.", `id="publish"`, `id="import"`, `enctype="multipart/form-data"`, "No version is published")

	// Publish by pasting: a malformed list is refused whole, on its field.
	p = an.post("/hashmatch/banks/"+bank+"/versions", url.Values{"format": {"hex"}, "content": {h1 + " A1 e1\nnot-a-hash\n"}})
	wantStatus(t, "bad list", p, http.StatusUnprocessableEntity)
	mustContain(t, "bad list", p, `id="refusal-field">content<`, "line 2", `id="publish-content-error"`, `aria-invalid="true"`)
	p = an.post("/hashmatch/banks/"+bank+"/versions", url.Values{"format": {"hex"}, "content": {h1 + " A1 e1\n" + h2 + " B1 e2\n"}})
	wantStatus(t, "paste", p, http.StatusSeeOther)
	p = an.get(p.Header.Get("Location"))
	mustContain(t, "pasted", p, "Version 1 published and signed: 2 added, 0 updated, 0 deleted.", h1, h2, `id="entries"`)
	// The same list again: nothing published, and said so.
	p = an.post("/hashmatch/banks/"+bank+"/versions", url.Values{"format": {"hex"}, "content": {h1 + " A1 e1\n" + h2 + " B1 e2\n"}})
	wantStatus(t, "paste again", p, http.StatusSeeOther)
	p = an.get(p.Header.Get("Location"))
	mustContain(t, "pasted again", p, "Nothing published: the bank holds the list already (version 1 stays the current one; 2 records not imported).")
	mustNotContain(t, "pasted again", p, "Version 2")

	// Publish by uploading an NCMEC-style list that adds e3 and deletes e2;
	// without a file, the file input is refused; a multipart form is read on
	// the upload route only.
	p = an.postFile("/hashmatch/banks/"+bank+"/import", url.Values{"format": {"ncmec"}}, "file", "", nil)
	wantStatus(t, "no file", p, http.StatusUnprocessableEntity)
	mustContain(t, "no file", p, `id="refusal-field">file<`, `id="import-file-error"`, `<option value="ncmec" selected>`)
	xml := `<queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2"><images><image><id>e3</id><classification>A2</classification><fingerprints><pdq>` + h3 +
		`</pdq></fingerprints></image><image><id>md5only</id><fingerprints><md5>` + strings.Repeat("a", 32) +
		`</md5></fingerprints></image><deletedImage><id>e2</id></deletedImage></images></queryResult>`
	p = an.postFile("/hashmatch/banks/"+bank+"/import", url.Values{"format": {"ncmec"}}, "file", "list.xml", []byte(xml))
	wantStatus(t, "upload", p, http.StatusSeeOther)
	p = an.get(p.Header.Get("Location"))
	mustContain(t, "uploaded", p, "Version 2 published and signed: 1 added, 0 updated, 1 deleted, 1 records not imported (the bank cannot hold them, or holds them already; the API and the command line name each one).", h3)
	mustNotContain(t, "uploaded", p, h2)
	p = an.postFile("/hashmatch/banks", url.Values{"name": {"Sneaky"}}, "file", "x", []byte("x"))
	wantStatus(t, "multipart elsewhere", p, http.StatusForbidden)
	mustContain(t, "multipart elsewhere", p, `id="refusal-rule">csrf<`)

	// The service subscribes and pulls (API); it matches a hash 3 bits from
	// e1, which opens a case, and e3 twice; another service's match of e3
	// quarantines it (the world's quarantine limit is 2, one service's
	// matches count up to half of it).
	w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/subscriptions", w.Service, nil)
	w.Must(t, 200, "POST", "/api/v1/hashmatch/banks/"+bank+"/pull", w.Service, map[string]any{"since": 0})
	uploadedAt := time.Now().UTC().Add(-2 * time.Hour).Format(time.RFC3339)
	res := w.Must(t, 200, "POST", "/api/v1/hashmatch/match", w.Service, map[string]any{"items": []map[string]any{
		{"pdq": hmNear(h1, 3), "quality": 90, "content_ref": "photo-4711", "user_id": "alice@example", "uploaded_at": uploadedAt}}})
	r0 := res.Body["results"].([]any)[0].(map[string]any)
	if r0["status"] != "match" {
		t.Fatalf("planted hash: %s", res.Raw)
	}
	caseID := r0["case_id"].(string)
	var rejectCase string
	for range 2 {
		res = w.Must(t, 200, "POST", "/api/v1/hashmatch/match", w.Service, map[string]any{"items": []map[string]any{{"pdq": h3, "quality": 80}}})
		rejectCase = res.Body["results"].([]any)[0].(map[string]any)["case_id"].(string)
	}
	w.SubscribeOther(t, bank)
	w.Must(t, 200, "POST", "/api/v1/hashmatch/match", w.OtherService, map[string]any{"items": []map[string]any{{"pdq": h3, "quality": 80}}})

	// The owner sees the quarantine and releases the entry.
	p = an.get("/hashmatch/banks")
	mustContain(t, "quarantine listed", p, `<strong class="quarantined">1</strong>`)
	p = an.get("/hashmatch/banks/" + bank)
	mustContain(t, "quarantined", p, `id="release-e3"`, `action="/hashmatch/banks/`+bank+`/entries/e3/release"`)
	p = an.post("/hashmatch/banks/"+bank+"/entries/e1/release", url.Values{})
	wantStatus(t, "release e1", p, http.StatusConflict)
	mustContain(t, "release e1", p, `id="refusal-rule">not_quarantined<`)
	p = an.post("/hashmatch/banks/"+bank+"/entries/e3/release", url.Values{})
	wantStatus(t, "release e3", p, http.StatusSeeOther)
	p = an.get(p.Header.Get("Location"))
	mustContain(t, "released", p, "Entry released from quarantine")
	mustNotContain(t, "released", p, `id="release-e3"`)

	// The reviewer's queue: pending cases, newest first, with what triage
	// needs, and the warning that a match is no accusation.
	rv := newBrowser(t, w.URL)
	rv.signIn(w.Reviewer)
	p = rv.get("/")
	mustContain(t, "reviewer home", p, `href="/hashmatch/cases"`, `href="/hashmatch/subscriptions"`, hashmatch.Module.Title)
	mustNotContain(t, "reviewer home", p, `href="/hashmatch/banks"`)
	p = rv.get("/hashmatch/cases")
	wantStatus(t, "queue", p, http.StatusOK)
	mustContain(t, "queue", p, "never an automatic accusation", `id="case-`+caseID+`"`, `id="case-`+rejectCase+`"`, "Known images", "e1", "A1", ">3<", ">90<")
	if strings.Index(p.Body, rejectCase) > strings.Index(p.Body, caseID) {
		t.Error("the queue is not newest first")
	}
	mustNotContain(t, "queue", p, h1, h3, "alice@example")
	p = rv.get("/hashmatch/subscriptions")
	wantStatus(t, "subscriptions", p, http.StatusOK)
	mustContain(t, "subscriptions", p, "Known images", hotline, "(up to date)")

	// Another service's reviewer: the case does not exist.
	ov := newBrowser(t, w.URL)
	ov.signIn(w.OtherReviewer)
	wantStatus(t, "other reviewer's case", ov.get("/hashmatch/cases/"+caseID), http.StatusNotFound)
	wantStatus(t, "other reviewer confirms", ov.post("/hashmatch/cases/"+caseID+"/review", url.Values{"decision": {"confirm"}}), http.StatusNotFound)
	mustNotContain(t, "other queue", ov.get("/hashmatch/cases?status=all"), caseID)
	// Its service subscribed (its match quarantined e3) and never pulled.
	mustContain(t, "other subscriptions", ov.get("/hashmatch/subscriptions"), "Known images", "(newer versions to pull)")

	// The service's system principal reads the case, and may not review it.
	sv := newBrowser(t, w.URL)
	sv.signIn(w.Service)
	p = sv.get("/hashmatch/cases/" + caseID)
	wantStatus(t, "service reads case", p, http.StatusOK)
	mustNotContain(t, "service reads case", p, `id="confirm"`, `id="reject"`)
	p = sv.post("/hashmatch/cases/"+caseID+"/review", url.Values{"decision": {"confirm"}})
	wantStatus(t, "service confirms", p, http.StatusForbidden)
	mustContain(t, "service confirms", p, `id="refusal-rule">role<`)

	// The reviewer confirms the case; a report cannot precede confirmation.
	p = rv.get("/hashmatch/cases/" + caseID)
	wantStatus(t, "case", p, http.StatusOK)
	mustContain(t, "case", p, "never an automatic accusation", `id="confirm"`, `id="reject"`, `name="suppress"`, "photo-4711", "A1")
	mustNotContain(t, "case", p, `id="report"`, `id="removal"`, h1)
	p = rv.post("/hashmatch/cases/"+caseID+"/report", url.Values{"incident_type": {"child_sexual_abuse_material"}})
	wantStatus(t, "report before review", p, http.StatusConflict)
	mustContain(t, "report before review", p, `id="refusal-rule">not_confirmed<`)
	p = rv.post("/hashmatch/cases/"+caseID+"/review", url.Values{"decision": {"confirm"}, "note": {"checked the photo"}})
	wantStatus(t, "confirm", p, http.StatusSeeOther)
	p = rv.get(p.Header.Get("Location"))
	mustContain(t, "confirmed", p, "Match confirmed by review.", `id="report"`, `id="removal"`, "checked the photo",
		`<option value="`+w.Authority+`" selected>`+hotline+`</option>`, `value="photo-4711"`)
	mustNotContain(t, "confirmed", p, `id="confirm"`)

	// Report: refusals on their fields, then the report.
	p = rv.post("/hashmatch/cases/"+caseID+"/report", url.Values{"incident_type": {"child_sexual_abuse_material"}, "incident_at": {"yesterday"}})
	wantStatus(t, "bad incident time", p, http.StatusUnprocessableEntity)
	mustContain(t, "bad incident time", p, `id="refusal-rule">time_format<`, `id="refusal-field">incident_at<`, `id="report-incident_at-error"`)
	p = rv.post("/hashmatch/cases/"+caseID+"/report", url.Values{"incident_type": {""}, "notes": {"kept"}})
	wantStatus(t, "no incident type", p, http.StatusUnprocessableEntity)
	mustContain(t, "no incident type", p, `id="refusal-field">incident_type<`, `id="report-incident_type-error"`, ">kept</textarea>")
	p = rv.post("/hashmatch/cases/"+caseID+"/report", url.Values{"incident_type": {"child_sexual_abuse_material"}, "authority_id": {w.Authority},
		"notes": {"account suspended"}})
	wantStatus(t, "report", p, http.StatusSeeOther)
	p = rv.get(p.Header.Get("Location"))
	mustContain(t, "reported", p, "Report sent to the competent authority.")
	m = reportLink.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("the case page links no report:\n%s", p.Body)
	}
	report := m[1]
	p = rv.post("/hashmatch/cases/"+caseID+"/removal", url.Values{"action": {"disabled_and_preserved"}, "removed_at": {time.Now().UTC().Add(-time.Minute).Format("2006-01-02T15:04")},
		"content_ref": {"photo-4711"}})
	wantStatus(t, "removal", p, http.StatusSeeOther)
	p = rv.get(p.Header.Get("Location"))
	mustContain(t, "removal", p, "Removal recorded.", `id="case-removal"`, "Disabled and preserved")
	p = rv.post("/hashmatch/cases/"+caseID+"/removal", url.Values{"action": {"removed"}})
	wantStatus(t, "second removal", p, http.StatusConflict)

	// The other case is rejected into the suppression list.
	p = rv.post("/hashmatch/cases/"+rejectCase+"/review", url.Values{"decision": {"reject"}, "note": {"a logo"}, "suppress": {"yes"}})
	wantStatus(t, "reject", p, http.StatusSeeOther)
	p = rv.get(p.Header.Get("Location"))
	mustContain(t, "rejected", p, "Match rejected", `id="case-status">Rejected<`)
	mustNotContain(t, "rejected", p, `id="report"`)
	mustNotContain(t, "queue after review", rv.get("/hashmatch/cases"), `id="case-`+caseID+`"`, `id="case-`+rejectCase+`"`)
	mustContain(t, "reports sent", rv.get("/hashmatch/reports"), report, hotline)

	// The analyst receives the report and acknowledges it.
	p = an.get("/hashmatch/reports")
	wantStatus(t, "reports", p, http.StatusOK)
	mustContain(t, "reports", p, `id="report-`+report+`"`, provider, "awaiting")
	p = an.get("/hashmatch/reports/" + report)
	mustContain(t, "report", p, `id="acknowledge"`, hmNear(h1, 3), "photo-4711", "account suspended", "Child sexual abuse material")
	mustNotContain(t, "report", p, "alice@example")
	p = an.post("/hashmatch/reports/"+report+"/acknowledge", url.Values{"reference": {strings.Repeat("x", 201)}})
	wantStatus(t, "long reference", p, http.StatusUnprocessableEntity)
	mustContain(t, "long reference", p, `id="refusal-field">reference<`, `id="acknowledge-reference-error"`)
	p = an.post("/hashmatch/reports/"+report+"/acknowledge", url.Values{"reference": {"HL-2026-17"}})
	wantStatus(t, "acknowledge", p, http.StatusSeeOther)
	p = an.get(p.Header.Get("Location"))
	mustContain(t, "acknowledged", p, "Report acknowledged.", `id="report-ack"`, "HL-2026-17")
	mustNotContain(t, "acknowledged", p, `id="acknowledge"`)
	wantStatus(t, "acknowledge twice", an.post("/hashmatch/reports/"+report+"/acknowledge", url.Values{"reference": {"again"}}), http.StatusConflict)

	// The other authority's analyst: no report, and the bank's metadata only.
	oa := newBrowser(t, w.URL)
	oa.signIn(w.OtherAnalyst)
	mustNotContain(t, "other analyst reports", oa.get("/hashmatch/reports"), report)
	wantStatus(t, "other analyst's report", oa.get("/hashmatch/reports/"+report), http.StatusNotFound)
	wantStatus(t, "other analyst acknowledges", oa.post("/hashmatch/reports/"+report+"/acknowledge", url.Values{"reference": {"x"}}), http.StatusNotFound)
	mustNotContain(t, "other analyst banks", oa.get("/hashmatch/banks"), "Known images")
	p = oa.get("/hashmatch/banks/" + bank)
	wantStatus(t, "other analyst's bank", p, http.StatusOK)
	// a message is text, its apostrophes escaped
	mustContain(t, "other analyst's bank", p, "Known images", `id="versions"`, "Only the owner&#39;s analysts see this bank&#39;s hashes.")
	mustNotContain(t, "other analyst's bank", p, h1, h3, `id="entries"`, `id="publish"`, `id="import"`)
	p = oa.post("/hashmatch/banks/"+bank+"/versions", url.Values{"format": {"hex"}, "content": {apptest.PDQHex(9)}})
	wantStatus(t, "other analyst publishes", p, http.StatusForbidden)
	mustContain(t, "other analyst publishes", p, `id="refusal-rule">own_bank<`)
	wantStatus(t, "analyst reads cases", oa.get("/hashmatch/cases"), http.StatusForbidden)

	// Oversight reads metadata, never hashes, and none of the workflow.
	rg := newBrowser(t, w.URL)
	rg.signIn(w.Regulator)
	p = rg.get("/")
	mustContain(t, "regulator home", p, `href="/hashmatch/banks"`, `href="/transplant/`)
	mustNotContain(t, "regulator home", p, `class="registry"`) // oversight of several registries: none named in the header
	p = rg.get("/hashmatch/banks")
	wantStatus(t, "regulator banks", p, http.StatusOK)
	mustContain(t, "regulator banks", p, "Known images", hotline)
	mustNotContain(t, "regulator banks", p, `id="bank"`, h1)
	p = rg.get("/hashmatch/banks/" + bank)
	mustNotContain(t, "regulator bank", p, h1, h3, `id="entries"`, `id="publish"`)
	wantStatus(t, "regulator creates bank", rg.post("/hashmatch/banks", url.Values{"name": {"x"}}), http.StatusForbidden)
	wantStatus(t, "regulator cases", rg.get("/hashmatch/cases"), http.StatusForbidden)
	wantStatus(t, "regulator report", rg.get("/hashmatch/reports/"+report), http.StatusForbidden)
}

// TestBrowserHashmatch drives the hash-matching pages in headless Chromium:
// the analyst creates a bank and publishes it by pasting and by uploading a
// file; the reviewer confirms a match and reports it; the analyst
// acknowledges the report.
func TestBrowserHashmatch(t *testing.T) {
	path := findChromium()
	if path == "" {
		t.Skip("no Chromium found: set CUSTOS_CHROMIUM to a Chromium or Chrome binary, or install chromium, to run the browser test")
	}
	w := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{})
	b := newTabFor(t, path, w.URL, 60*time.Second)
	h1, h2 := apptest.PDQHex(1), apptest.PDQHex(2)

	b.signIn(w.Analyst)
	b.open("/hashmatch/banks", 200)
	b.fill(map[string]string{"bank-name": "Browser bank"})
	b.click("create bank", `#bank button[type="submit"]`, 200)
	if f := b.text("#flash"); !strings.Contains(f, "Bank created") {
		t.Fatalf("flash %q", f)
	}
	b.fill(map[string]string{"publish-content": h1 + " A1 e1\n"})
	b.click("paste", `#publish button[type="submit"]`, 200)
	if f := b.text("#flash"); !strings.Contains(f, "Version 1 published") {
		t.Fatalf("flash %q", f)
	}
	list := filepath.Join(t.TempDir(), "vics.json")
	if err := os.WriteFile(list, []byte(`{"value":[{"MediaID":17,"Category":2,"PDQ":"`+h2+`"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	b.fill(map[string]string{"import-format": "projectvic"})
	b.do("choose file", chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{list}))
	b.click("upload", `#import button[type="submit"]`, 200)
	if f := b.text("#flash"); !strings.Contains(f, "Version 2 published") {
		t.Fatalf("flash %q", f)
	}
	bank := strings.TrimSpace(b.text("#bank-id"))
	if e := b.text("#entries"); !strings.Contains(e, "vic-2") || !strings.Contains(e, h2) {
		t.Errorf("entries: %q", e)
	}

	w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/subscriptions", w.Service, nil)
	res := w.Must(t, 200, "POST", "/api/v1/hashmatch/match", w.Service, map[string]any{"items": []map[string]any{
		{"pdq": hmNear(h1, 2), "quality": 77, "content_ref": "img-9"}}})
	caseID := res.Body["results"].([]any)[0].(map[string]any)["case_id"].(string)

	b.click("sign out", `.signout button[type="submit"]`, 200)
	b.signIn(w.Reviewer)
	b.open("/hashmatch/cases", 200)
	b.click("open case", `#case-`+caseID+` a`, 200)
	b.fill(map[string]string{"confirm-note": "looked at img-9"})
	b.click("confirm", `#confirm button[type="submit"]`, 200)
	if s := b.text("#case-status"); s != "Confirmed" {
		t.Fatalf("case status %q", s)
	}
	b.click("report", `#report button[type="submit"]`, 200)
	report := strings.TrimSpace(b.text("#case-report"))

	b.click("sign out", `.signout button[type="submit"]`, 200)
	b.signIn(w.Analyst)
	b.open("/hashmatch/reports", 200)
	b.click("open report", `#report-`+report+` a`, 200)
	b.fill(map[string]string{"acknowledge-reference": "REF-1"})
	b.click("acknowledge", `#acknowledge button[type="submit"]`, 200)
	if a := b.text("#report-ack"); !strings.Contains(a, "REF-1") {
		t.Errorf("acknowledgement %q", a)
	}
	b.screenshot("hashmatch-report.png")
}

// TestHashmatchVideoPages: an analyst publishes a video entry by pasting
// custos JSON, sees it listed by its frame count (a video known by its MD5
// alone by its MD5), updates one, and a reviewer's case page
// for a matching video shows vPDQ's percentages and the time of the match.
func TestHashmatchVideoPages(t *testing.T) {
	w := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{})
	an := newBrowser(t, w.URL)
	an.signIn(w.Analyst)
	p := an.post("/hashmatch/banks", url.Values{"name": {"Known videos"}, "kind": {"known"}, "threshold": {"31"}})
	wantStatus(t, "create bank", p, http.StatusSeeOther)
	bank := bankCreated.FindStringSubmatch(p.Header.Get("Location"))[1]
	var frames, query []map[string]any
	for i := range 3 {
		frames = append(frames, map[string]any{"pdq": apptest.PDQHex(40 + i), "quality": 90, "seconds": i})
		query = append(query, map[string]any{"pdq": hmNear(apptest.PDQHex(40+i), 2), "quality": 90, "seconds": 10 + i})
	}
	md5a, md5b := strings.Repeat("a1", 16), strings.Repeat("b2", 16)
	list, _ := json.Marshal(map[string]any{"adds": []any{map[string]any{"entry_id": "vid-1", "classification": "B2", "video": map[string]any{"frames": frames}},
		map[string]any{"entry_id": "vid-md5", "md5": md5a, "video": map[string]any{}}}})
	p = an.post("/hashmatch/banks/"+bank+"/versions", url.Values{"format": {"json"}, "content": {string(list)}})
	wantStatus(t, "paste video", p, http.StatusSeeOther)
	mustContain(t, "video entry", an.get(p.Header.Get("Location")), "Version 1 published and signed: 2 added, 0 updated, 0 deleted.", "vid-1", "video, 3 frames",
		`video known by its MD5 alone: <code class="small hash">`+md5a+`</code>`)

	// A version that updates the MD5-only video's MD5: the flash and the
	// versions table count the update, and the page shows the new MD5.
	list, _ = json.Marshal(map[string]any{"updates": []any{map[string]any{"entry_id": "vid-md5", "md5": md5b, "video": map[string]any{}}}})
	p = an.post("/hashmatch/banks/"+bank+"/versions", url.Values{"format": {"json"}, "content": {string(list)}})
	wantStatus(t, "update video", p, http.StatusSeeOther)
	p = an.get(p.Header.Get("Location"))
	mustContain(t, "updated video", p, "Version 2 published and signed: 0 added, 1 updated, 0 deleted.", `video known by its MD5 alone: <code class="small hash">`+md5b+`</code>`,
		`<th scope="col">Added</th><th scope="col">Updated</th><th scope="col">Deleted</th>`, `<td>0</td><td>1</td><td>0</td>`, `<td>2</td><td>0</td><td>0</td>`)
	mustNotContain(t, "updated video", p, md5a)

	w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/subscriptions", w.Service, nil)
	res := w.Must(t, 200, "POST", "/api/v1/hashmatch/match/video", w.Service, map[string]any{"frames": query[:2]})
	if res.Str("status") != "match" {
		t.Fatalf("video match: %s", res.Raw)
	}
	rv := newBrowser(t, w.URL)
	rv.signIn(w.Reviewer)
	caseFrames := res.Str("case_id")
	p = rv.get("/hashmatch/cases/" + caseFrames)
	wantStatus(t, "video case", p, http.StatusOK)
	mustContain(t, "video case", p, "video frame hashes computed by the service", `id="matches"`, "100% / 67%", "10.0 s", "B2")

	// A video matched by its file's MD5 (no frame of it near the entry's) is
	// the same file, not a known image seen in it.
	res = w.Must(t, 200, "POST", "/api/v1/hashmatch/match/video", w.Service, map[string]any{"frames": []any{map[string]any{"pdq": apptest.PDQHex(90), "quality": 90, "seconds": 0}}, "md5": md5b})
	if res.Str("status") != "match" {
		t.Fatalf("video match by MD5: %s", res.Raw)
	}
	p = rv.get("/hashmatch/cases/" + res.Str("case_id"))
	mustContain(t, "MD5 case", p, "vid-md5", "the same file (MD5)")
	mustNotContain(t, "MD5 case", p, "image in the video")
	// Its rejection cannot suppress (no frame of it matched; the refusal is
	// suppress_md5), so the form does not offer it; a case with a hash does.
	mustNotContain(t, "MD5 case", p, `name="suppress"`)
	mustContain(t, "frames case", rv.get("/hashmatch/cases/"+caseFrames), `name="suppress"`)
}

// TestHashmatchPagesInArabic: the registry's pages speak the reader's
// language, right to left for Arabic: titles, text, labels of the lists,
// flash messages and refusals are the catalogue's, while a bank's id and
// its hashes stay left to right.
func TestHashmatchPagesInArabic(t *testing.T) {
	w := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{})
	h1 := apptest.PDQHex(1)
	an := newBrowser(t, w.URL)
	an.signIn(w.Analyst)
	p := an.post("/language", url.Values{"language": {"ar"}, "next": {"/hashmatch/banks"}})
	wantStatus(t, "choose Arabic", p, http.StatusSeeOther)

	p = an.get("/hashmatch/banks")
	wantStatus(t, "banks", p, http.StatusOK)
	mustContain(t, "banks", p, `lang="ar" dir="rtl"`, "<title>بنوك التجزئات · custos</title>", "<h1>بنوك التجزئات</h1>",
		"لا تحتفظ سلطتك بأي بنك بعد.", `<option value="known" selected>مواد معروفة</option>`)
	mustNotContain(t, "banks", p, "Your authority holds no bank yet.", "Create bank")

	// A refusal in Arabic; its rule and field stay as they are.
	p = an.post("/hashmatch/banks", url.Values{"name": {"Known images"}, "kind": {"known"}, "threshold": {"100"}})
	wantStatus(t, "threshold 100", p, http.StatusUnprocessableEntity)
	mustContain(t, "threshold 100", p, "threshold مسافة هامينغ من 0 إلى 64 (القيمة المعتادة في PDQ هي 31)", `id="refusal-rule">range<`)

	p = an.post("/hashmatch/banks", url.Values{"name": {"Known images"}, "kind": {"known"}, "threshold": {"31"}})
	m := bankCreated.FindStringSubmatch(p.Header.Get("Location"))
	if m == nil {
		t.Fatalf("after creating a bank, redirect to %q", p.Header.Get("Location"))
	}
	bank := m[1]
	p = an.get(p.Header.Get("Location"))
	mustContain(t, "new bank", p, "أُنشئ البنك. انشر إصداره الأول أدناه.", `<title>البنك Known images · custos</title>`,
		`id="bank-id" dir="ltr">`+bank+`<`, "البيانات الوصفية", "31 بتًا (مسافة هامينغ)")

	p = an.post("/hashmatch/banks/"+bank+"/versions", url.Values{"format": {"hex"}, "content": {h1 + " A1 e1\n"}})
	wantStatus(t, "paste", p, http.StatusSeeOther)
	p = an.get(p.Header.Get("Location"))
	mustContain(t, "published", p, "نُشر الإصدار 1 ووُقِّع: المُضاف 1، المُحدَّث 0، المحذوف 0.", `<code class="small hash">`+h1+`</code>`,
		`<span class="id" dir="ltr">e1</span>`)
}
