package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// traffickingWorld is a World with a designated authority for trafficking
// reports and its assessor, whose server logs into buf.
type traffickingWorld struct {
	*apptest.World
	Assessor, Authority string
	Log                 *apptest.LogBuffer
}

func newTraffickingWorld(t *testing.T, dsn string) *traffickingWorld {
	t.Helper()
	buf := &apptest.LogBuffer{}
	w := apptest.NewWorldWith(t, dsn, func(cfg *server.Config) {
		cfg.Logger = slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	da := w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "National Rapporteur on Organ Trafficking", "kind": "trafficking_authority"}).Str("id")
	assessor := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Assessor", "role": "trafficking_assessor", "authority_id": da}).Str("token")
	return &traffickingWorld{World: w, Assessor: assessor, Authority: da, Log: buf}
}

func (w *traffickingWorld) me(t *testing.T, token string) (id, name string) {
	r := w.Must(t, 200, "GET", "/api/v1/me", token, nil)
	return r.Str("id"), r.Str("name")
}

// TestTraffickingReportConfidential files reports as coordinator A and
// checks that nothing the regulator, an auditor or coordinator B can read
// names the reporter or holds what they wrote: the API's answers, the log's
// raw leaves (and the leaves the API serves), the alerts, the exports and
// the server log; that the designated authority opens the text and the
// identity, each a read in the log; that a reporter follows their own
// reports only; and the statuses in order.
func TestTraffickingReportConfidential(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newTraffickingWorld(t, dsn)
		base := "/api/v1/transplant/trafficking"
		coordID, coordName := w.me(t, w.CoordA)
		donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
		before := len(leavesFrom(t, w.World, 0))

		const secret = "Broker called Zed-4471 (synthetic) arranged the donor's visa"
		report := map[string]any{"indicators": []string{"recruitment.intermediary", "travel.donor_brought"}, "text": secret,
			"donor_ids": []string{strings.ToLower(donor)}}
		ref := w.Must(t, 201, "POST", base+"/reports", w.CoordA, report).Str("reference")
		if !strings.HasPrefix(ref, "TR-") {
			t.Fatalf("reference %q", ref)
		}
		ref2 := w.Must(t, 201, "POST", base+"/reports", w.CoordA, map[string]any{"indicators": []string{"finance.payment_to_donor"}, "text": "second report"}).Str("reference")
		refB := w.Must(t, 201, "POST", base+"/reports", w.CoordB, map[string]any{"indicators": []string{"documents.false"}, "text": "B's report"}).Str("reference")

		// Refusals: rule and field named, nothing written.
		n := len(leavesFrom(t, w.World, 0))
		for _, c := range []struct {
			name, token string
			body        any
			status      int
			rule, field string
		}{
			{"no indicator", w.CoordA, map[string]any{"indicators": []string{}, "text": "x"}, 422, "required", "indicators"},
			{"unknown indicator", w.CoordA, map[string]any{"indicators": []string{"travel.for_transplant", "travel.unknown"}, "text": "x"}, 422, "enum", "indicators[1]"},
			{"indicator twice", w.CoordA, map[string]any{"indicators": []string{"documents.false", "documents.false"}, "text": "x"}, 422, "duplicate", "indicators[1]"},
			{"no text", w.CoordA, map[string]any{"indicators": []string{"documents.false"}, "text": "  "}, 422, "required", "text"},
			{"text with a bidi override", w.CoordA, map[string]any{"indicators": []string{"documents.false"}, "text": "a\u202eb"}, 422, "bidi_character", "text"},
			{"unknown donor", w.CoordA, map[string]any{"indicators": []string{"documents.false"}, "text": "x", "donor_ids": []string{donor, "DN-0000000000"}}, 404, "reference", "donor_ids[1]"},
			{"bad organ id", w.CoordA, map[string]any{"indicators": []string{"documents.false"}, "text": "x", "organ_ids": []string{"XA-26-12"}}, 422, "organ_id", "organ_ids[0]"},
			{"regulator files", w.Regulator, map[string]any{"indicators": []string{"documents.false"}, "text": "x"}, 403, "role", ""},
			{"assessor files", w.Assessor, map[string]any{"indicators": []string{"documents.false"}, "text": "x"}, 403, "role", ""},
			{"unknown field", w.CoordA, map[string]any{"indicators": []string{"documents.false"}, "text": "x", "reporter": "me"}, 400, "", ""},
		} {
			r := w.Do(t, "POST", base+"/reports", c.token, c.body)
			if r.Status != c.status || c.rule != "" && (r.Str("error.rule") != c.rule || r.Str("error.field") != c.field) {
				t.Errorf("%s: %d %s, want %d rule %s field %s", c.name, r.Status, r.Raw, c.status, c.rule, c.field)
			}
		}
		if got := len(leavesFrom(t, w.World, 0)); got != n {
			t.Errorf("refusals wrote %d leaves", got-n)
		}

		// The leaves of the reports: by a pseudonym, no authority, nothing
		// of the reporter or the text; the two reports of A have unrelated
		// pseudonyms.
		leaves := leavesFrom(t, w.World, before)
		var pseudonyms []string
		for _, l := range leaves {
			for _, bad := range []string{coordID, coordName, w.CentreA, "Centre A", secret, "Zed-4471"} {
				if strings.Contains(l, bad) {
					t.Errorf("a leaf holds %q: %s", bad, l)
				}
			}
			var e struct {
				Type, By, Authority string
			}
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatal(err)
			}
			if e.Type == "transplant.trafficking_report_filed" {
				if !strings.HasPrefix(e.By, "PS-") || e.Authority != "" {
					t.Errorf("a report's leaf is by %q for %q: %s", e.By, e.Authority, l)
				}
				pseudonyms = append(pseudonyms, e.By)
			}
		}
		if len(pseudonyms) != 3 || pseudonyms[0] == pseudonyms[1] {
			t.Errorf("the reports' pseudonyms: %v; want three, A's two unrelated", pseudonyms)
		}

		// What the other roles can read.
		for _, tok := range []string{w.Regulator, w.Auditor, w.CoordB} {
			for _, path := range []string{base + "/reports", base + "/reports/" + ref, base + "/reports/mine/" + ref} {
				if r := w.Do(t, "GET", path, tok, nil); r.Status != 403 && r.Status != 404 {
					t.Errorf("GET %s by another role: %d %s", path, r.Status, r.Raw)
				}
			}
			for _, path := range []string{"/content", "/reporter"} {
				if r := w.Do(t, "POST", base+"/reports/"+ref+path, tok, map[string]any{"purpose": "curiosity"}); r.Status != 403 {
					t.Errorf("POST %s by another role: %d %s", path, r.Status, r.Raw)
				}
			}
		}
		mineB := w.Must(t, 200, "GET", base+"/reports/mine", w.CoordB, nil)
		if got := len(mineB.Body["reports"].([]any)); got != 1 || !strings.Contains(string(mineB.Raw), refB) {
			t.Errorf("coordinator B's reports: %s; want B's one", mineB.Raw)
		}
		for i := before; i < before+len(leaves); i++ {
			r := w.Must(t, 200, "GET", "/api/v1/log/entries/"+itoa(uint64(i)), w.Auditor, nil)
			if strings.Contains(string(r.Raw), coordID) || strings.Contains(string(r.Raw), w.CentreA) {
				t.Errorf("the leaf %d the auditor reads names the reporter: %s", i, r.Raw)
			}
		}
		for _, path := range []string{"/api/v1/alerts", "/api/v1/alerts?format=csv", "/api/v1/authorities?format=csv", base + "/screenings"} {
			r := w.Must(t, 200, "GET", path, w.Regulator, nil)
			if strings.Contains(string(r.Raw), ref) || strings.Contains(string(r.Raw), secret) {
				t.Errorf("%s names the report: %s", path, r.Raw)
			}
		}

		// The reporter follows their own.
		mine := w.Must(t, 200, "GET", base+"/reports/mine", w.CoordA, nil)
		if got := string(mine.Raw); !strings.Contains(got, ref) || !strings.Contains(got, ref2) || strings.Contains(got, refB) || strings.Contains(got, secret) {
			t.Errorf("A's reports: %s", got)
		}
		if r := w.Do(t, "GET", base+"/reports/mine/"+refB, w.CoordA, nil); r.Status != 404 || r.Str("error.rule") != "reference" {
			t.Errorf("A follows B's report: %d %s", r.Status, r.Raw)
		}

		// The designated authority: the queue names no reporter; it opens
		// the text and the identity, each a read in the log.
		q := w.Must(t, 200, "GET", base+"/reports", w.Assessor, nil)
		if got := string(q.Raw); !strings.Contains(got, ref) || strings.Contains(got, coordID) || strings.Contains(got, secret) {
			t.Errorf("the queue: %s", got)
		}
		// A page at a time, newest first; a filter the queue lacks is refused.
		p1 := w.Must(t, 200, "GET", base+"/reports?limit=2", w.Assessor, nil)
		next := p1.Str("next")
		p2 := w.Must(t, 200, "GET", next, w.Assessor, nil)
		if got := string(p1.Raw) + string(p2.Raw); len(p1.Body["reports"].([]any)) != 2 || len(p2.Body["reports"].([]any)) != 1 ||
			strings.Index(got, refB) > strings.Index(got, ref2) || strings.Index(got, ref2) > strings.Index(got, ref) || p2.Str("next") != "" {
			t.Errorf("the queue's pages: %s then %s", p1.Raw, p2.Raw)
		}
		if r := w.Do(t, "GET", base+"/reports?centre_id="+w.CentreA, w.Assessor, nil); r.Status != 422 || r.Str("error.rule") != "query" {
			t.Errorf("a filter the queue lacks: %d %s", r.Status, r.Raw)
		}
		if r := w.Do(t, "GET", base+"/reports?status=open", w.Assessor, nil); r.Status != 422 || r.Str("error.field") != "status" {
			t.Errorf("an unknown status: %d %s", r.Status, r.Raw)
		}
		if r := w.Do(t, "POST", base+"/reports/"+ref+"/reporter", w.Assessor, map[string]any{"purpose": ""}); r.Status != 422 || r.Str("error.field") != "purpose" {
			t.Errorf("opening without a purpose: %d %s", r.Status, r.Raw)
		}
		at := len(leavesFrom(t, w.World, 0))
		c := w.Must(t, 200, "POST", base+"/reports/"+ref+"/content", w.Assessor, map[string]any{"purpose": "initial assessment"})
		if c.Str("text") != secret || !strings.Contains(string(c.Raw), donor) {
			t.Errorf("the content: %s", c.Raw)
		}
		who := w.Must(t, 200, "POST", base+"/reports/"+ref+"/reporter", w.Assessor, map[string]any{"purpose": "ask the reporter for the broker's number"})
		if who.Str("principal_id") != coordID || who.Str("name") != coordName || who.Str("authority_id") != w.CentreA || who.Str("authority") != "Centre A" {
			t.Errorf("the reporter: %s", who.Raw)
		}
		reads := leavesFrom(t, w.World, at)
		if len(reads) != 2 || !strings.Contains(reads[1], `"type":"privacy.personal_data_read"`) || !strings.Contains(reads[1], ref) ||
			!strings.Contains(reads[1], "trafficking reporter identity: ask the reporter") || strings.Contains(reads[1], coordID) {
			t.Errorf("the reads' leaves: %v", reads)
		}

		// Statuses, in order, each a leaf by the assessor.
		for _, c := range []struct {
			status string
			want   int
		}{{"referred_to_law_enforcement", 409}, {"under_assessment", 200}, {"received", 409}, {"referred_to_law_enforcement", 200}, {"closed_unfounded", 409}, {"open", 422}} {
			r := w.Do(t, "POST", base+"/reports/"+ref+"/status", w.Assessor, map[string]any{"status": c.status})
			if r.Status != c.want || c.want != 200 && r.Str("error.field") != "status" {
				t.Errorf("status %s: %d %s, want %d", c.status, r.Status, r.Raw, c.want)
			}
		}
		if r := w.Do(t, "POST", base+"/reports/"+ref2+"/status", w.Regulator, map[string]any{"status": "under_assessment"}); r.Status != 403 {
			t.Errorf("the regulator moves a report: %d", r.Status)
		}
		got := w.Must(t, 200, "GET", base+"/reports/"+ref, w.Assessor, nil)
		if got.Str("status") != "referred_to_law_enforcement" || len(got.Body["history"].([]any)) != 2 {
			t.Errorf("the report: %s", got.Raw)
		}
		if s := w.Must(t, 200, "GET", base+"/reports/mine/"+ref, w.CoordA, nil).Str("status"); s != "referred_to_law_enforcement" {
			t.Errorf("A sees the status %q", s)
		}

		// The server log never named the reporter nor held the text. A web
		// sign-in is logged, so the capture is shown to work.
		form := strings.NewReader("token=" + w.Assessor)
		if resp, err := http.Post(w.URL+"/signin", "application/x-www-form-urlencoded", form); err != nil {
			t.Fatal(err)
		} else {
			resp.Body.Close()
		}
		if !strings.Contains(w.Log.String(), "web sign-in") {
			t.Fatalf("the server log holds no sign-in: %q", w.Log.String())
		}
		for _, bad := range []string{secret, "Zed-4471", ref, ref2, coordName} {
			if strings.Contains(w.Log.String(), bad) {
				t.Errorf("the server log holds %q", bad)
			}
		}
		verifyOK(t, w.Env)
	})
}

// TestTraffickingScreening records a living donation to a recipient who
// resides abroad and a second living donation by the same person, and finds
// the screening's alerts on the regulator's list and the authority's.
func TestTraffickingScreening(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newTraffickingWorld(t, dsn)
		living := func(nationalID, sameAs string) []string {
			d := apptest.DeceasedDonor(w.CentreA)
			d["kind"] = "living"
			d["national_id"] = nationalID
			if sameAs != "" {
				d["duplicate_of"] = sameAs
			}
			delete(d, "cause_of_death")
			delete(d, "date_of_death")
			id := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, d).Str("id")
			w.Must(t, 201, "POST", "/api/v1/transplant/donors/"+id+"/consents", w.CoordA, map[string]any{"kind": "living_informed_consent",
				"given_on": time.Now().UTC().AddDate(0, 0, -2).Format("2006-01-02"), "assessed_by": "Independent advocate", "assessor_independent": true, "voluntary": true, "informed": true})
			pr := w.Must(t, 201, "POST", "/api/v1/transplant/procurements", w.CoordA, map[string]any{"donor_id": id, "centre_id": w.CentreA,
				"procured_at": apptest.Hours(5), "organs": []string{"kidney"}})
			return []string{id, pr.Body["organs"].([]any)[0].(map[string]any)["id"].(string)}
		}
		transplant := func(organ, residence string) {
			rc := apptest.Recipient(w.CentreA, "kidney")
			rc["residence"] = residence
			rid := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, rc).Str("id")
			ta := w.Must(t, 201, "POST", "/api/v1/transplant/transplant-authorizations", w.CoordA, map[string]any{"organ_id": organ, "recipient_id": rid,
				"centre_id": w.CentreA, "authorized_by": "Medical director", "compatibility_documented": true, "consent_verified": true, "no_payment_declared": true}).Str("id")
			w.Must(t, 201, "POST", "/api/v1/transplant/transplants", w.CoordA, map[string]any{"organ_id": organ, "recipient_id": rid, "centre_id": w.CentreA,
				"performed_at": apptest.Hours(1), "authorization_id": ta})
		}
		first := living("XA-777-000-001", "")
		transplant(first[1], "XA") // resident: no alert
		if n := alertCount(t, w.World); n != 0 {
			t.Fatalf("a resident's living donation raised %d alerts", n)
		}
		second := living("xa-777 000-001", first[0]) // the same person, typed another way
		transplant(second[1], "XB")
		deceased, organs := procured(t, w.World)
		_ = deceased
		transplanted(t, w.World, w.CoordA, w.CentreA, organs[0], "kidney") // deceased donation: no alert

		r := w.Must(t, 200, "GET", "/api/v1/alerts", w.Regulator, nil)
		rules := map[string]string{}
		for _, a := range r.Body["alerts"].([]any) {
			a := a.(map[string]any)
			rules[a["rule"].(string)] = a["field"].(string) + " " + a["authority_id"].(string)
		}
		want := map[string]string{"trafficking_nonresident_recipient": "recipient_id " + w.CentreA, "trafficking_repeat_living_donor": "donor_id " + w.CentreA}
		if len(rules) != 2 || rules["trafficking_nonresident_recipient"] != want["trafficking_nonresident_recipient"] || rules["trafficking_repeat_living_donor"] != want["trafficking_repeat_living_donor"] {
			t.Errorf("alerts %v, want %v", rules, want)
		}
		hs := w.Must(t, 200, "GET", "/api/v1/transplant/trafficking/screenings", w.Assessor, nil)
		if got := string(hs.Raw); len(hs.Body["alerts"].([]any)) != 2 || !strings.Contains(got, second[0]) || !strings.Contains(got, first[0]) {
			t.Errorf("the authority's screening alerts: %s", got)
		}
		if r := w.Do(t, "GET", "/api/v1/transplant/trafficking/screenings", w.CoordA, nil); r.Status != 403 {
			t.Errorf("a coordinator reads the screening: %d", r.Status)
		}
		// Screening the whole registry again raises nothing already raised.
		for _, tok := range []string{w.Assessor, w.Regulator} {
			if r := w.Must(t, 200, "POST", "/api/v1/transplant/trafficking/screenings", tok, nil); r.Body["raised"] != float64(0) {
				t.Errorf("screening again raised %v", r.Body["raised"])
			}
		}
		if r := w.Do(t, "POST", "/api/v1/transplant/trafficking/screenings", w.Auditor, nil); r.Status != 403 {
			t.Errorf("an auditor runs the screening: %d", r.Status)
		}
		if n := alertCount(t, w.World); n != 2 {
			t.Errorf("%d alerts after screening again, want 2", n)
		}
		verifyOK(t, w.Env)
	})
}

// TestOneDesignatedAuthority checks that the registry holds one designated
// authority for trafficking reports: reports are not addressed to an
// authority, so the assessors of a second would read, move on and open the
// reporters of every report. A second is refused, naming the rule and the
// field, and nothing is written.
func TestOneDesignatedAuthority(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newTraffickingWorld(t, dsn)
		n := len(leavesFrom(t, w.World, 0))
		r := w.Do(t, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "Second Rapporteur", "kind": "trafficking_authority"})
		if r.Status != 409 || r.Str("error.rule") != "designated_authority" || r.Str("error.field") != "kind" {
			t.Errorf("a second designated authority: %d %s; want 409 rule designated_authority field kind", r.Status, r.Raw)
		}
		if got := len(leavesFrom(t, w.World, 0)); got != n {
			t.Errorf("the refusal wrote %d leaves", got-n)
		}
		// Other kinds are not limited.
		w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "Second Insurer", "kind": "payer"})
		w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "Third Insurer", "kind": "payer"})
	})
}
