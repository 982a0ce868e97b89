package assets_test

import (
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/storetest"
)

// TestRequestSideBeforeInput sends, through the API, commands on a request
// whose id (or its question's) tells they are the other side's: the
// requested state sending or replacing the requesting state's request, a
// state answering its own question. Each is refused for the side (403, with
// an alert) whatever the body and the request's state, so that the side
// refused learns nothing from their rules; the side whose command it is gets
// the body's refusal (422) or the state's (409). A third state's authority
// is answered as for a request that does not exist, 422 for a bad body
// and 404 for a good one (docs/assets.md, "Whose request, first").
func TestRequestSideBeforeInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w, caseID, central, _ := requestWorld(t, dsn)
		auth := w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "Central Authority of Thirdland", "kind": "central_authority", "jurisdiction": "XC"}).Str("id")
		third := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Officer", "role": "central_authority_officer", "authority_id": auth}).Str("token")

		rq := "/api/v1/assets/requests/"
		sent := w.Must(t, 201, "POST", "/api/v1/assets/requests", w.CAToken, complete(caseID, central)).Str("id")
		w.Must(t, 200, "POST", rq+sent+"/send", w.CAToken, nil)
		draft := w.Must(t, 201, "POST", "/api/v1/assets/requests", w.ProsecToken, complete(caseID, central)).Str("id")
		// Otherland's question, not answered; Demoland's, answered.
		asked := w.Must(t, 201, "POST", rq+sent+"/questions", w.CABToken, map[string]any{"question": "Give the account's number."}).Str("id")
		answered := w.Must(t, 201, "POST", rq+sent+"/questions", w.CAToken, map[string]any{"question": "Is the account still open?"}).Str("id")
		w.Must(t, 200, "POST", rq+sent+"/questions/"+answered+"/answer", w.CABToken, map[string]any{"answer": "It is (synthetic)."})

		// refusals counts the refusals of rule recorded for oversight: the
		// alerts and their repeats.
		refusals := func(rule string) int {
			n := 0
			for _, a := range w.Must(t, 200, "GET", "/api/v1/alerts?limit=1000", w.Admin, nil).Body["alerts"].([]any) {
				if a := a.(map[string]any); a["rule"] == rule {
					n += 1 + int(a["repeats"].(float64))
				}
			}
			return n
		}
		wrongType := map[string]any{"type": "letter_rogatory", "requested_state": "XA"}
		noAnswer := map[string]any{"answer": " "}
		for _, c := range []struct {
			name, token, method, path string
			body                      any
			status                    int
			rule, field               string
		}{
			// The other side: refused for the side, first.
			{"Otherland sends Demoland's request", w.CABToken, "POST", rq + sent + "/send", nil, 403, "requesting_side", "id"},
			{"Otherland replaces Demoland's request with a wrong type", w.CABToken, "PUT", rq + sent, wrongType, 403, "requesting_side", "id"},
			{"Otherland replaces Demoland's request", w.CABToken, "PUT", rq + sent, complete(caseID, central), 403, "requesting_side", "id"},
			{"Otherland answers its own question with no answer", w.CABToken, "POST", rq + sent + "/questions/" + asked + "/answer", noAnswer, 403, "answering_side", "question_id"},
			{"Demoland answers its own question, answered, with no answer", w.CAToken, "POST", rq + sent + "/questions/" + answered + "/answer", noAnswer, 403, "answering_side", "question_id"},
			// The side whose command it is: the body's or the state's rule.
			{"Demoland sends its request sent", w.CAToken, "POST", rq + sent + "/send", nil, 409, "request_transition", "status"},
			{"Demoland replaces its request sent with a wrong type", w.CAToken, "PUT", rq + sent, wrongType, 409, "request_transition", "status"},
			{"Demoland answers Otherland's question with no answer", w.CAToken, "POST", rq + sent + "/questions/" + asked + "/answer", noAnswer, 422, "required", "answer"},
			{"Otherland answers Demoland's question again with no answer", w.CABToken, "POST", rq + sent + "/questions/" + answered + "/answer", noAnswer, 422, "required", "answer"},
			{"Otherland answers Demoland's question again", w.CABToken, "POST", rq + sent + "/questions/" + answered + "/answer", map[string]any{"answer": "Again."}, 409, "answered", "question_id"},
			{"Demoland uses what its draft brought", w.ProsecToken, "POST", rq + draft + "/uses", map[string]any{"purpose": "prosecution"}, 409, "request_transition", "status"},
			// A third state: as for a request that does not exist.
			{"Thirdland answers with no answer", third, "POST", rq + sent + "/questions/" + asked + "/answer", noAnswer, 422, "required", "answer"},
			{"Thirdland answers", third, "POST", rq + sent + "/questions/" + asked + "/answer", map[string]any{"answer": "From Thirdland."}, 404, "reference", "id"},
			{"Thirdland uses for no purpose", third, "POST", rq + sent + "/uses", map[string]any{"purpose": "curiosity"}, 422, "enum", "purpose"},
			{"Thirdland uses", third, "POST", rq + sent + "/uses", map[string]any{"purpose": "prosecution"}, 404, "reference", "id"},
			{"Thirdland asks with no question", third, "POST", rq + sent + "/questions", map[string]any{"question": ""}, 422, "required", "question"},
			{"Thirdland asks", third, "POST", rq + sent + "/questions", map[string]any{"question": "Why?"}, 404, "reference", "id"},
			{"Thirdland sends", third, "POST", rq + sent + "/send", nil, 404, "reference", "id"},
			{"Thirdland replaces with a wrong type", third, "PUT", rq + sent, wrongType, 404, "reference", "id"},
		} {
			before := 0
			if c.status == 403 {
				before = refusals(c.rule)
			}
			r := w.Do(t, c.method, c.path, c.token, c.body)
			e, _ := r.Body["error"].(map[string]any)
			if r.Status != c.status || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field || (e["alert"] == true) != (c.status == 403) {
				t.Errorf("%s: %d %s, want %d %s on %s (alert %v)", c.name, r.Status, r.Raw, c.status, c.rule, c.field, c.status == 403)
			}
			if c.token == third {
				// As for a request that does not exist.
				m := w.Do(t, c.method, strings.Replace(c.path, sent, "RQ-NONE", 1), c.token, c.body)
				if m.Status != r.Status || m.Str("error.rule") != r.Str("error.rule") || m.Str("error.field") != r.Str("error.field") {
					t.Errorf("%s: %d %s; on a request that does not exist %d %s", c.name, r.Status, r.Raw, m.Status, m.Raw)
				}
			}
			if c.status == 403 {
				if n := refusals(c.rule) - before; n != 1 {
					t.Errorf("%s: %d refusals of %s recorded for oversight, want 1", c.name, n, c.rule)
				}
			}
		}
		// Nothing changed.
		f := w.Must(t, 200, "GET", rq+sent, w.CAToken, nil)
		qs := f.Body["questions"].([]any)
		if f.Str("status") != "sent" || f.Str("type") != "mla" || len(qs) != 2 || len(f.Body["uses"].([]any)) != 0 {
			t.Errorf("the request after the refusals: %s", f.Raw)
		}
		for _, q := range qs {
			q := q.(map[string]any)
			if q["id"] == asked && q["answer"] != nil && q["answer"] != "" || q["id"] == answered && q["answer"] != "It is (synthetic)." {
				t.Errorf("a question after the refusals: %v", q)
			}
		}
	})
}

// TestRequestSideField: a request answers its reader's side, in the list
// and alone (API) and on the pages: requesting for the requesting state's
// authorities, requested for the requested state's, other for the
// regulator, who is neither; direction stays the registry's (outgoing for
// all three).
func TestRequestSideField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w, caseID, central, _ := requestWorld(t, dsn)
		rq := w.Must(t, 201, "POST", "/api/v1/assets/requests", w.CAToken, complete(caseID, central)).Str("id")
		w.Must(t, 200, "POST", "/api/v1/assets/requests/"+rq+"/send", w.CAToken, nil)
		me := w.Must(t, 200, "GET", "/api/v1/me", w.Admin, nil)
		reg := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Regulator", "role": "regulator", "authority_id": me.Str("authority_id")}).Str("token")
		for _, c := range []struct {
			who, token, side, page string
		}{{"Demoland's prosecutor", w.ProsecToken, "requesting", "Sent by us"}, {"Otherland's officer", w.CABToken, "requested", "Received"},
			{"the regulator", reg, "other", "Made in this registry"}} {
			one := w.Must(t, 200, "GET", "/api/v1/assets/requests/"+rq, c.token, nil)
			list := w.Must(t, 200, "GET", "/api/v1/assets/requests", c.token, nil).Body["requests"].([]any)
			if one.Str("side") != c.side || one.Str("direction") != "outgoing" || len(list) != 1 || list[0].(map[string]any)["side"] != c.side {
				t.Errorf("%s reads the request's side as %q and in the list %v, want %s", c.who, one.Str("side"), list, c.side)
			}
			b := w.signin(t, c.token)
			for _, p := range []struct{ path, re string }{{"/assets/requests/" + rq, `<dd id="request-side">([^<]*)</dd>`}, {"/assets/requests", `<td class="side">([^<]*)</td>`}} {
				resp, err := b.Get(w.URL + p.path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if m := regexp.MustCompile(p.re).FindStringSubmatch(string(body)); resp.StatusCode != 200 || m == nil || m[1] != c.page {
					t.Errorf("%s on %s: %d %v, want %s", c.who, p.path, resp.StatusCode, m, c.page)
				}
			}
		}
	})
}

// TestRequestWhatEachSideReads: a request of Demoland to Otherland in one
// registry, redrafted, sent, acknowledged, and used by both states. Otherland's
// officer reads it, in the API (alone and in the list) and on its page, as
// an exchange message carries it with Otherland's own records: none of
// Demoland's drafts, principals' ids, authority id or uses (their notes
// neither), and not at all a draft Demoland withdrew before sending it.
// Demoland's officer reads all of Demoland's own, not Otherland's use nor
// its principal; the regulator reads all (docs/assets.md, "What each side
// reads").
func TestRequestWhatEachSideReads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w, caseID, central, _ := requestWorld(t, dsn)
		rq := "/api/v1/assets/requests/"
		id := w.Must(t, 201, "POST", "/api/v1/assets/requests", w.ProsecToken, complete(caseID, central)).Str("id")
		w.Must(t, 200, "PUT", rq+id, w.ProsecToken, complete(caseID, central))
		w.Must(t, 200, "POST", rq+id+"/send", w.CAToken, nil)
		w.Must(t, 200, "POST", rq+id+"/status", w.CABToken, map[string]any{"status": "acknowledged"})
		w.Must(t, 201, "POST", rq+id+"/uses", w.ProsecToken, map[string]any{"purpose": "confiscation", "note": "Demoland's own note (synthetic)."})
		w.Must(t, 201, "POST", rq+id+"/uses", w.CABToken, map[string]any{"purpose": "prosecution", "note": "Otherland's own note (synthetic)."})
		withdrawn := w.Must(t, 201, "POST", "/api/v1/assets/requests", w.CAToken, complete(caseID, central)).Str("id")
		w.Must(t, 200, "POST", rq+withdrawn+"/status", w.CAToken, map[string]any{"status": "withdrawn"})
		me := w.Must(t, 200, "GET", "/api/v1/me", w.Admin, nil)
		reg := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Regulator", "role": "regulator", "authority_id": me.Str("authority_id")}).Str("token")

		demoland := []string{w.Prosecutor.ID, w.CA.ID, w.Prosecutor.AuthorityID, "Demoland's own note"}
		otherland := []string{w.CAB.ID, "Otherland's own note"}
		for _, c := range []struct {
			who, token   string
			timeline     string // kind:status, with by where it is shown
			uses         string
			hidden       []string
			withdrawnTo  int
			authority    string
			timelineLine int
		}{
			{"Otherland's officer", w.CABToken, "status:sent status:acknowledged:" + w.CAB.ID + " use::" + w.CAB.ID, "prosecution", demoland, 404, "", 3},
			{"Demoland's officer", w.CAToken, "drafted:draft:" + w.Prosecutor.ID + " drafted:draft:" + w.Prosecutor.ID + " status:sent:" + w.CA.ID +
				" status:acknowledged use::" + w.Prosecutor.ID, "confiscation", otherland, 200, w.Prosecutor.AuthorityID, 5},
			{"the regulator", reg, "drafted:draft:" + w.Prosecutor.ID + " drafted:draft:" + w.Prosecutor.ID + " status:sent:" + w.CA.ID +
				" status:acknowledged:" + w.CAB.ID + " use::" + w.Prosecutor.ID + " use::" + w.CAB.ID, "confiscation prosecution", nil, 200, w.Prosecutor.AuthorityID, 6},
		} {
			f := w.Must(t, 200, "GET", rq+id, c.token, nil)
			var timeline, uses []string
			for _, e := range f.Body["events"].([]any) {
				e := e.(map[string]any)
				status, _ := e["status"].(string)
				s := e["kind"].(string) + ":" + status
				if by, _ := e["by"].(string); by != "" {
					s += ":" + by
				}
				timeline = append(timeline, s)
			}
			for _, u := range f.Body["uses"].([]any) {
				uses = append(uses, u.(map[string]any)["purpose"].(string))
			}
			if got := strings.Join(timeline, " "); got != c.timeline {
				t.Errorf("%s reads the timeline\n%s\nwant\n%s", c.who, got, c.timeline)
			}
			if got := strings.Join(uses, " "); got != c.uses {
				t.Errorf("%s reads the uses %q, want %q", c.who, got, c.uses)
			}
			if f.Str("authority_id") != c.authority || (f.Str("drafted_at") == "") != (c.authority == "") {
				t.Errorf("%s reads authority_id %q, drafted_at %q", c.who, f.Str("authority_id"), f.Str("drafted_at"))
			}
			list := w.Must(t, 200, "GET", "/api/v1/assets/requests", c.token, nil)
			for _, h := range c.hidden {
				if strings.Contains(string(f.Raw), h) || strings.Contains(string(list.Raw), h) {
					t.Errorf("%s reads %q in the request or the list: %s", c.who, h, f.Raw)
				}
			}
			if n := len(list.Body["requests"].([]any)); (n == 2) != (c.withdrawnTo == 200) || n < 1 || n > 2 {
				t.Errorf("%s lists %d requests: %s", c.who, n, list.Raw)
			}
			if r := w.Do(t, "GET", rq+withdrawn, c.token, nil); r.Status != c.withdrawnTo {
				t.Errorf("%s reads the draft withdrawn before it was sent: %d", c.who, r.Status)
			}
			// The page: its timeline, and the uses listed beside the form.
			resp, err := w.signin(t, c.token).Get(w.URL + "/assets/requests/" + id)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			page := string(body)
			tl := regexp.MustCompile(`(?s)<ol class="timeline">(.*?)</ol>`).FindStringSubmatch(page)
			if resp.StatusCode != 200 || tl == nil || strings.Count(tl[1], "<li>") != c.timelineLine {
				t.Errorf("%s's page: %d, timeline %v, want %d steps", c.who, resp.StatusCode, tl, c.timelineLine)
			}
			for _, h := range c.hidden {
				if strings.Contains(page, h) {
					t.Errorf("%s's page shows %q", c.who, h)
				}
			}
		}
	})
}
