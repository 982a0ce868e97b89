package assets_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/storetest"
)

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestRequestPages: the central authority drafts a request with the form
// (a wrong field comes back named, with what was typed), sees on its page
// what it lacks, has its sending refused naming the missing items,
// completes and sends it, records Otherland's acknowledgement; the list
// filters it, and the timeline shows each step in order.
func TestRequestPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w, caseID, central, _ := requestWorld(t, dsn)
		browser := w.signin(t, w.CAToken)
		read := func(resp *http.Response, err error) (int, string) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		page := func(path string) string {
			t.Helper()
			code, b := read(browser.Get(w.URL + path))
			if code != 200 {
				t.Fatalf("GET %s: %d %s", path, code, b)
			}
			return b
		}
		form := page("/assets/requests/new")
		m := csrfRE.FindStringSubmatch(form)
		if m == nil || !strings.Contains(form, `name="assistance" value="documents_and_records"`) || !strings.Contains(form, `value="`+central+`"`) {
			t.Fatalf("the request form lacks its token, its assistance or Otherland's central authority:\n%s", form)
		}
		csrf := m[1]
		post := func(path string, v url.Values) (int, string, string) {
			t.Helper()
			v.Set("csrf", csrf)
			resp, err := browser.PostForm(w.URL+path, v)
			code, b := read(resp, err)
			return code, b, resp.Request.URL.Path
		}
		// A wrong requested state: the form again, the field named, what was typed kept.
		_, b, _ := post("/assets/requests", url.Values{"type": {"mla"}, "requested_state": {"XA"}, "facts": {"Typed facts."}})
		if !strings.Contains(b, "requested_state") || !strings.Contains(b, "Typed facts.") || !strings.Contains(b, `class="form-error"`) {
			t.Fatalf("a refused draft:\n%s", b)
		}
		_, b, at := post("/assets/requests", url.Values{"type": {"mla"}, "requested_state": {"XB"}, "requested_authority": {central}})
		id := strings.TrimPrefix(at, "/assets/requests/")
		if !strings.HasPrefix(id, "RQ-") || !strings.Contains(b, `id="request-missing"`) || !strings.Contains(b, "<code>legal_basis</code>") {
			t.Fatalf("the draft's page (%s):\n%s", at, b)
		}
		// Sending it is refused, naming the first missing item.
		_, b, _ = post("/assets/requests/"+id+"/send", url.Values{})
		if !strings.Contains(b, "incomplete") || !strings.Contains(b, `class="form-error"`) {
			t.Fatalf("an incomplete request sent:\n%s", b)
		}
		// Completed (through the service), sent and acknowledged with the forms.
		if _, err := w.S.DraftRequest(ctx, w.CA, id, complete(caseID, central)); err != nil {
			t.Fatal(err)
		}
		if _, b, _ = post("/assets/requests/"+id+"/send", url.Values{}); !strings.Contains(b, `id="status"`) {
			t.Fatalf("after sending, the page lacks the step form:\n%s", b)
		}
		_, b, _ = post("/assets/requests/"+id+"/status", url.Values{"status": {"executed"}})
		if !strings.Contains(b, "request_transition") {
			t.Errorf("an illegal step from the form is not refused by its rule:\n%s", b)
		}
		post("/assets/requests/"+id+"/status", url.Values{"status": {"acknowledged"}, "note": {"By e-mail."}})
		if r, _ := w.S.Request(ctx, w.CA, id); r.Status != assets.StatusAcknowledged {
			t.Fatalf("status %s after the form, want acknowledged", r.Status)
		}
		// A 403 from a form is shown as a 422 is: the request's page with
		// the refusal beside the form, not the general "Refused" page.
		code, b, _ := post("/assets/requests/"+id+"/uses", url.Values{"purpose": {"investigation"}, "note": {"Kept as typed."}})
		if code != 403 || !strings.Contains(b, "purpose_limitation") || !strings.Contains(b, `id="use"`) || !strings.Contains(b, "Kept as typed.") {
			t.Errorf("a use beyond the request's purposes from its form: %d\n%s", code, b)
		}
		body := page("/assets/requests/" + id)
		tl := body[strings.Index(body, `id="request-timeline"`):]
		last := -1
		for _, step := range []string{"Draft request", "Request sent", "Request acknowledged: By e-mail."} {
			j := strings.Index(tl, step)
			if j <= last {
				t.Errorf("the timeline lacks %q after the step before:\n%s", step, tl)
			}
			last = j
		}
		if l := page("/assets/requests?status=acknowledged"); !strings.Contains(l, `id="request-`+id+`"`) {
			t.Errorf("the list of acknowledged requests lacks %s", id)
		}
		if l := page("/assets/requests?status=draft"); strings.Contains(l, `id="request-`+id+`"`) {
			t.Errorf("the list of drafts holds %s", id)
		}
		// overdue is 1 or nothing, as the API takes it: another value is refused, not read as "overdue only".
		for _, o := range []string{"2", "yes", "0"} {
			code, l := read(browser.Get(w.URL + "/assets/requests?overdue=" + o))
			if code != 422 || !strings.Contains(l, "enum") || !strings.Contains(l, "overdue must be 1 when given") || strings.Contains(l, `id="request-`+id+`"`) {
				t.Errorf("the list with overdue=%s: %d\n%s", o, code, l)
			}
		}
		if r := w.Do(t, "GET", "/api/v1/assets/requests?overdue=2", w.CAToken, nil); r.Status != 422 || !strings.Contains(string(r.Raw), "overdue") {
			t.Errorf("the API with overdue=2: %d %s", r.Status, r.Raw)
		}
		if l := page("/assets/requests?overdue=1"); strings.Contains(l, `id="request-`+id+`"`) {
			t.Errorf("the overdue list holds %s, whose deadline is to come", id)
		}
	})
}

// TestRequestDirectionOfViewer: a request of Demoland (XA) to Otherland
// (XB), both states of this registry, is "Sent by us" on Demoland's
// officer's page and "Received" on Otherland's: the direction is the
// viewer's, not the registry's.
func TestRequestDirectionOfViewer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w, caseID, central, _ := requestWorld(t, dsn)
		r, err := w.S.DraftRequest(ctx, w.CA, "", complete(caseID, central))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.S.SendRequest(ctx, w.CA, r.ID); err != nil {
			t.Fatal(err)
		}
		direction := func(token string) string {
			t.Helper()
			resp, err := w.signin(t, token).Get(w.URL + "/assets/requests/" + r.ID)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			m := regexp.MustCompile(`<dt>Direction</dt><dd[^>]*>([^<]*)</dd>`).FindStringSubmatch(string(b))
			if resp.StatusCode != 200 || m == nil {
				t.Fatalf("the request's page: %d\n%s", resp.StatusCode, b)
			}
			return m[1]
		}
		if d := direction(w.CAToken); d != "Sent by us" {
			t.Errorf("Demoland's officer sees its request as %q, want Sent by us", d)
		}
		if d := direction(w.CABToken); d != "Received" {
			t.Errorf("Otherland's officer sees Demoland's request to it as %q, want Received", d)
		}
	})
}

// TestRequestStepsOffered: the step form of a request's page offers the
// steps the reader's side may record, not every step of the lifecycle: the
// requested state's officer is not offered withdrawn (the requesting side's,
// refused with an alert against whoever takes it); the requesting state's
// officer, for a request no peer answers, records what the requested state
// reported and withdraws.
func TestRequestStepsOffered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w, caseID, central, _ := requestWorld(t, dsn)
		r, err := w.S.DraftRequest(ctx, w.CA, "", complete(caseID, central))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.S.SendRequest(ctx, w.CA, r.ID); err != nil {
			t.Fatal(err)
		}
		option := regexp.MustCompile(`<option value="([a-z_]+)"`)
		offered := func(token string) string {
			t.Helper()
			resp, err := w.signin(t, token).Get(w.URL + "/assets/requests/" + r.ID)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			body := string(b)
			i := strings.Index(body, `id="status"`)
			if resp.StatusCode != 200 || i < 0 {
				t.Fatalf("the request's page has no step form: %d\n%s", resp.StatusCode, body)
			}
			form, _, _ := strings.Cut(body[i:], "</form>")
			var steps []string
			for _, m := range option.FindAllStringSubmatch(form, -1) {
				if slices.Contains(assets.StepStatuses, m[1]) {
					steps = append(steps, m[1])
				}
			}
			return strings.Join(steps, " ")
		}
		if got := offered(w.CABToken); got != "acknowledged refused" {
			t.Errorf("Otherland's officer is offered %q, want acknowledged refused", got)
		}
		if got := offered(w.CAToken); got != "acknowledged refused withdrawn" {
			t.Errorf("Demoland's officer is offered %q, want acknowledged refused withdrawn", got)
		}
		if got := strings.Join(assets.StepsOf(r, w.CAB), " "); got != "" {
			t.Errorf("the steps of a draft for Otherland: %q, want none", got)
		}
		// The API's next is the same as the page's: the steps the reader
		// may record, none for a reader who records none.
		next := func(token string) string {
			t.Helper()
			var steps []string
			for _, n := range w.Must(t, 200, "GET", "/api/v1/assets/requests/"+r.ID, token, nil).Body["next"].([]any) {
				steps = append(steps, n.(string))
			}
			return strings.Join(steps, " ")
		}
		for _, c := range []struct{ who, token, want string }{
			{"Otherland's officer", w.CABToken, "acknowledged refused"},
			{"Demoland's officer", w.CAToken, "acknowledged refused withdrawn"},
			{"Demoland's prosecutor", w.ProsecToken, ""},
		} {
			if got := next(c.token); got != c.want {
				t.Errorf("the API offers %s %q, want %q", c.who, got, c.want)
			}
		}
	})
}
