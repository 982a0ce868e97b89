package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestAbroadPage: a coordinator finds Across borders in the navigation; the
// page offers the registered peers; sending an organ to no peer, or an
// organ that does not exist, is refused on the form with rule and field; an
// organ sent is listed with its country.
func TestAbroadPage(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	id, err := w.App.Exchange.Identity(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// The registry registers itself as the peer XB (a key is a key): nothing is delivered in this test.
	w.Must(t, 201, "POST", "/api/v1/exchange/peers", w.Admin, map[string]any{"name": "Registry of XB", "jurisdiction": "XB",
		"url": "https://peer.invalid", "public_key": id.PublicKey, "send_purposes": []string{"traceability"}, "receive_purposes": []string{"traceability"}})
	donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
	w.Must(t, 201, "POST", "/api/v1/transplant/donors/"+donor+"/consents", w.CoordA, map[string]any{"kind": "family_authorization",
		"given_on": yesterday(), "assessed_by": "Dr Test", "voluntary": true, "informed": true})
	pr := w.Must(t, 201, "POST", "/api/v1/transplant/procurements", w.CoordA, map[string]any{"donor_id": donor, "procured_at": apptest.Hours(6),
		"organs": []string{"kidney"}})
	organ := pr.Body["organs"].([]any)[0].(map[string]any)["id"].(string)

	b := newBrowser(t, w.URL)
	b.signIn(w.CoordA)
	p := b.get("/transplant/abroad")
	wantStatus(t, "abroad", p, http.StatusOK)
	mustContain(t, "abroad", p, `href="/transplant/abroad"`, `id="export"`, "Registry of XB (XB)", "No organ was sent abroad.")
	p = b.post("/transplant/exports", url.Values{"organ_id": {organ}, "peer_id": {""}})
	wantStatus(t, "export to no peer", p, http.StatusUnprocessableEntity)
	mustContain(t, "export to no peer", p, `id="refusal-rule">required<`, `id="refusal-field">peer_id<`)
	peers := w.Must(t, 200, "GET", "/api/v1/exchange/peers", w.Admin, nil).Body["peers"].([]any)
	peer := peers[0].(map[string]any)["id"].(string)
	p = b.post("/transplant/exports", url.Values{"organ_id": {"XA-26-999999-01-X"}, "peer_id": {peer}})
	if p.Status < 400 {
		t.Fatalf("an organ identifier that does not verify: %d", p.Status)
	}
	p = b.post("/transplant/exports", url.Values{"organ_id": {organ}, "peer_id": {peer}, "destination_centre": {"Centre 9"}})
	wantStatus(t, "export", p, http.StatusSeeOther)
	p = b.get(p.Header.Get("Location"))
	mustContain(t, "abroad after export", p, organ, "<td>XB</td>", "Awaiting the destination&#39;s answer")

	// A report on the donor shows the foreign registry among the notified,
	// with no button: the registry acknowledges by its message.
	sae := w.Must(t, 201, "POST", "/api/v1/transplant/sae", w.Regulator, map[string]any{"kind": "event", "donor_id": donor, "contact": "Desk",
		"started_at": apptest.Hours(2), "detected_at": apptest.Hours(1), "description": "Synthetic.", "immediate_measures": "None."})
	reg := newBrowser(t, w.URL)
	reg.signIn(w.Regulator)
	p = reg.get("/transplant/sae/" + sae.Str("id"))
	wantStatus(t, "report", p, http.StatusOK)
	mustContain(t, "report", p, "Foreign registry <span class=\"id\">"+peer+"</span>")
	if strings.Contains(p.Body, "/acknowledge") {
		t.Fatalf("the regulator is offered to acknowledge a notification")
	}
}

// abroadOrigin has a second registry (SQLite) send w the organs of one
// donor (two kidneys at most), the i-th to destinations[i] (a centre of w by
// its identifier or name, or "" for none), and returns their identifiers.
func abroadOrigin(t *testing.T, w *apptest.World, organs []string, destinations []string) []string {
	t.Helper()
	origin := apptest.NewWorld(t, storetest.SQLite(t))
	toW := origin.Peer(t, w.Env, "traceability")
	w.Peer(t, origin.Env, "traceability")
	donor := origin.Must(t, 201, "POST", "/api/v1/transplant/donors", origin.CoordA, apptest.DeceasedDonor(origin.CentreA)).Str("id")
	origin.Must(t, 201, "POST", "/api/v1/transplant/donors/"+donor+"/consents", origin.CoordA, map[string]any{"kind": "family_authorization",
		"given_on": yesterday(), "assessed_by": "Dr Test", "voluntary": true, "informed": true})
	var ids []string
	for i, o := range origin.Must(t, 201, "POST", "/api/v1/transplant/procurements", origin.CoordA, map[string]any{"donor_id": donor,
		"procured_at": apptest.Hours(3), "organs": organs}).Body["organs"].([]any) {
		id := o.(map[string]any)["id"].(string)
		origin.Must(t, 201, "POST", "/api/v1/transplant/exports", origin.CoordA, map[string]any{"organ_id": id, "peer_id": toW, "destination_centre": destinations[i]})
		ids = append(ids, id)
	}
	w.ReceiveOutbox(t, origin.Env)
	return ids
}

// TestAbroadAssignForm: of three organs another registry sent, the one
// with no receiving centre named is offered to the regulator to assign;
// those sent to centre A by its name and by its identifier are not (a
// centre holds them: the assignment is refused organ_assigned, as the post
// of one shows). A coordinator is not offered the form and is refused its
// post; the regulator assigns the organ to centre B and the list shows it
// so, with when and by whom (their id); the organ is then no longer offered,
// and a second assignment is refused on the form with rule and field.
func TestAbroadAssignForm(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		organs := abroadOrigin(t, w, []string{"kidney", "kidney", "liver"}, []string{"", "Centre A", w.CentreA})
		organ, byName, byID := organs[0], organs[1], organs[2]

		coord := newBrowser(t, w.URL)
		coord.signIn(w.CoordA)
		p := coord.get("/transplant/abroad")
		wantStatus(t, "abroad for a coordinator", p, http.StatusOK)
		mustContain(t, "abroad for a coordinator", p, organ)
		if strings.Contains(p.Body, `id="assign"`) {
			t.Fatalf("a coordinator is offered to assign an organ")
		}
		p = coord.post("/transplant/imports/assignment", url.Values{"organ_id": {organ}, "centre_id": {w.CentreA}})
		wantStatus(t, "an assignment by a coordinator", p, http.StatusForbidden)

		reg := newBrowser(t, w.URL)
		reg.signIn(w.Regulator)
		p = reg.get("/transplant/abroad")
		wantStatus(t, "abroad for the regulator", p, http.StatusOK)
		mustContain(t, "abroad for the regulator", p, `id="assign"`, `<option value="`+organ+`"`, `<option value="`+w.CentreB+`"`)
		// (The reassignment's form offers them.)
		assign := regexp.MustCompile(`(?s)<form[^>]*id="assign".*?</form>`).FindString(p.Body)
		for _, held := range []string{byName, byID} {
			if strings.Contains(assign, `<option value="`+held+`"`) {
				t.Errorf("the assignment form offers %s, which a centre holds (sent to it by name or identifier)", held)
			}
		}
		p = reg.post("/transplant/imports/assignment", url.Values{"organ_id": {byName}, "centre_id": {w.CentreB}})
		wantStatus(t, "the assignment of an organ sent to centre A by name", p, http.StatusConflict)
		mustContain(t, "the assignment of an organ sent to centre A by name", p, `id="refusal-rule">organ_assigned<`)

		regulator := w.Must(t, 200, "GET", "/api/v1/me", w.Regulator, nil).Str("id")
		p = reg.post("/transplant/imports/assignment", url.Values{"organ_id": {organ}, "centre_id": {w.CentreB}})
		wantStatus(t, "the assignment", p, http.StatusSeeOther)
		p = reg.get(p.Header.Get("Location"))
		mustContain(t, "abroad after the assignment", p, "Organ assigned", "<td>Centre B, ", ` by <span class="principal" title="`+regulator+`">Regulator</span></td>`)
		if strings.Contains(p.Body, `id="assign"`) {
			t.Fatalf("the organ assigned is still offered to assign")
		}
		p = reg.post("/transplant/imports/assignment", url.Values{"organ_id": {organ}, "centre_id": {w.CentreA}})
		wantStatus(t, "a second assignment", p, http.StatusConflict)
		mustContain(t, "a second assignment", p, `id="refusal-rule">organ_assigned<`, `id="refusal-field">organ_id<`)
	})
}

// TestImportTracePages: a recipient of centre A who received a kidney from
// abroad. Their trace and the organ's show it (country of origin, the
// origin's donor id, the outcome), not that no organ is on file. Their
// subject-access page and JSON name the organ, its country and day, and not
// the origin's donor id; the erasure page says the law keeps the data 30
// years after the transplantation.
func TestImportTracePages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		organ := abroadOrigin(t, w, []string{"kidney"}, []string{w.CentreA})[0]
		today := time.Now().UTC().Format("2006-01-02")
		rc := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreA, "kidney")).Str("id")
		im := w.Must(t, 201, "POST", "/api/v1/transplant/imports/"+organ+"/outcome", w.CoordA, map[string]any{"outcome": "transplanted",
			"recipient_id": rc, "on": today})
		donorRef, country := im.Str("donor_ref"), im.Str("origin_country")
		if donorRef == "" || country == "" {
			t.Fatalf("the import: %s", im.Raw)
		}

		coord := newBrowser(t, w.URL)
		coord.signIn(w.CoordA)
		for _, q := range []string{rc, organ} {
			p := coord.get("/transplant/trace?q=" + url.QueryEscape(q))
			wantStatus(t, "trace of "+q, p, http.StatusOK)
			mustContain(t, "trace of "+q, p, `id="trace-imported"`, `id="imported-`+organ+`"`, "<td>"+country+"</td>", donorRef,
				`href="/transplant/trace?q=`+rc+`"`, today)
			if strings.Contains(p.Body, "No organ transplanted into this recipient is on file.") {
				t.Errorf("the trace of %s says no organ is on file", q)
			}
		}

		p := coord.post("/transplant/subjects/"+rc+"/access", url.Values{"purpose": {"request of 2 December"}, "format": {"page"}})
		wantStatus(t, "access page", p, http.StatusOK)
		mustContain(t, "access page", p, `id="report-imported"`, organ, country+", "+today+", "+w.CentreA)
		if strings.Contains(p.Body, donorRef) || strings.Contains(p.Body, "No organ recorded.") {
			t.Errorf("the access page names the origin's donor id %s, or no organ", donorRef)
		}
		p = coord.post("/transplant/subjects/"+rc+"/access", url.Values{"purpose": {"request of 2 December"}, "format": {"json"}})
		var acc struct {
			Imported []transplant.SubjectImport `json:"imported_organs"`
		}
		if err := json.Unmarshal([]byte(p.Body), &acc); err != nil || len(acc.Imported) != 1 || acc.Imported[0] != (transplant.SubjectImport{OrganID: organ,
			Organ: "kidney", OriginCountry: country, On: today, CentreID: w.CentreA}) || strings.Contains(p.Body, donorRef) {
			t.Errorf("access JSON: want the organ from abroad without the origin's donor id %s: %v %+v\n%.3000s", donorRef, err, acc.Imported, p.Body)
		}

		// A resident's transplant abroad is on their trace too.
		person := apptest.Recipient(w.CentreA, "kidney")
		waiting := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, person).Str("id")
		ab := w.Must(t, 201, "POST", "/api/v1/transplant/abroad", w.CoordA, map[string]any{"recipient_id": waiting, "kind": transplant.AbroadTransplant,
			"name": person["name"], "national_id": person["national_id"], "sex": person["sex"], "date_of_birth": person["date_of_birth"],
			"country": "XB", "foreign_centre": "Hospital <Aster> (synthetic)", "organ": "kidney", "performed_on": today, "known_through": "returning_patient",
			"donor_type": "deceased", "donor_relation": "not_applicable", "donor_nationality": "XB", "payment_reported": "no", "medical_records": "yes"}).Str("id")
		p = coord.get("/transplant/trace?q=" + waiting)
		wantStatus(t, "trace of a resident treated abroad", p, http.StatusOK)
		mustContain(t, "trace of a resident treated abroad", p, `id="trace-abroad"`, `id="abroad-`+ab+`"`, "<td>XB</td>", "Hospital &lt;Aster&gt; (synthetic)")

		reg := newBrowser(t, w.URL)
		reg.signIn(w.Regulator)
		p = reg.get("/transplant/subjects/" + rc + "/erase")
		wantStatus(t, "erasure page", p, http.StatusOK)
		mustContain(t, "erasure page", p, `id="retention"`, time.Now().UTC().AddDate(30, 0, 0).Format("2006-01-02"))
	})
}

// TestAbroadReassignForm: the regulator is offered to reassign the organs a
// centre holds with no outcome, each with the centre that holds it, not one
// no centre holds nor one with an outcome; a reassignment to the centre that holds it is refused on the form
// with rule and field, one without a reason too; one to centre B, with a
// reason, says so and the list shows centre B, and the organ's trace and
// the list of imports show the centre the origin named, then the move, by
// whom and why, to the regulator and a coordinator, the same list on both
// pages (one template writes it); the organ transplanted
// shows the centre the origin named on its trace and its recipient's. A
// coordinator is not offered the form and is refused its post. On SQLite
// and PostgreSQL.
func TestAbroadReassignForm(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		im := apptest.ImportedOrgans(t, w, dsn)
		coord := newBrowser(t, w.URL)
		coord.signIn(w.CoordA)
		p := coord.get("/transplant/abroad")
		if strings.Contains(p.Body, `id="reassign"`) {
			t.Fatalf("a coordinator is offered to reassign an organ")
		}
		p = coord.post("/transplant/imports/reassignment", url.Values{"organ_id": {im.Named}, "centre_id": {w.CentreA}, "reason": {"x"}})
		wantStatus(t, "a reassignment by a coordinator", p, http.StatusForbidden)

		reg := newBrowser(t, w.URL)
		reg.signIn(w.Regulator)
		p = reg.get("/transplant/abroad")
		wantStatus(t, "abroad for the regulator", p, http.StatusOK)
		form := regexp.MustCompile(`(?s)<form[^>]*id="reassign".*?</form>`).FindString(p.Body)
		if !strings.Contains(form, `<option value="`+im.Named+`"`) || strings.Contains(form, `<option value="`+im.Unnamed+`"`) || strings.Contains(form, `<option value="`+im.Held+`"`) {
			t.Fatalf("the reassignment form offers other organs than %s, held by centre A with no outcome:\n%s", im.Named, form)
		}
		// The organ offered says which centre holds it (its last assignment).
		if !regexp.MustCompile(`<option value="` + im.Named + `"[^>]*>` + im.Named + ` \([A-Z]{2}\), held by Centre A</option>`).MatchString(form) {
			t.Errorf("the reassignment form does not say that centre A holds %s:\n%s", im.Named, form)
		}
		p = reg.post("/transplant/imports/reassignment", url.Values{"organ_id": {im.Named}, "centre_id": {w.CentreA}, "reason": {"Moved."}})
		wantStatus(t, "a reassignment to the centre that holds it", p, http.StatusConflict)
		mustContain(t, "a reassignment to the centre that holds it", p, `id="refusal-rule">organ_assigned<`, `id="refusal-field">centre_id<`)
		p = reg.post("/transplant/imports/reassignment", url.Values{"organ_id": {im.Named}, "centre_id": {w.CentreB}, "reason": {""}})
		wantStatus(t, "a reassignment with no reason", p, http.StatusUnprocessableEntity)
		mustContain(t, "a reassignment with no reason", p, `id="refusal-rule">required<`, `id="refusal-field">reason<`)
		p = reg.post("/transplant/imports/reassignment", url.Values{"organ_id": {im.Named}, "centre_id": {w.CentreB}, "reason": {"Moved."}})
		wantStatus(t, "the reassignment", p, http.StatusSeeOther)
		p = reg.get(p.Header.Get("Location"))
		mustContain(t, "abroad after the reassignment", p, "Organ reassigned", "<td>Centre B, ")
		// The organ's trace, the import's page, and the list of imports
		// show who held it: centre A, which the origin named, then the
		// move, when, by whom and why, to the regulator and to a
		// coordinator.
		regID := w.Principal(t, w.Regulator).ID
		moved := func(what, organ, body, prefix string) {
			t.Helper()
			history := regexp.MustCompile(`(?s)<tr class="custody-row" id="` + prefix + organ + `">.*?</tr>`).FindString(body)
			first := regexp.MustCompile(`(?s)<li class="assignment by-origin">.*?</li>`).FindString(history)
			if strings.Count(history, `<li class="assignment">`) != 1 || !strings.Contains(history, "Moved from Centre A to Centre B") ||
				!strings.Contains(history, ` title="`+regID+`">`) || !strings.Contains(history, "<q>Moved.</q>") ||
				!strings.Contains(first, "Sent to Centre A by the registry of origin") || strings.Contains(first, `class="id"`) ||
				strings.Index(history, "by-origin") > strings.Index(history, "Moved from") {
				t.Errorf("%s: history of %s %q, want centre A named by the origin (no principal), then one move from Centre A to Centre B by %s, with the reason\n%s",
					what, organ, history, regID, body)
			}
		}
		// One template (import-holders) writes the history on both pages:
		// the same list, byte for byte.
		holders := regexp.MustCompile(`(?s)<ol class="custody" aria-label="Centres that held ` + im.Named + `">.*?</ol>`)
		for who, b := range map[string]*browser{"the regulator": reg, "a coordinator": coord} {
			p = b.get("/transplant/trace?q=" + im.Named)
			wantStatus(t, "the trace of the organ reassigned for "+who, p, http.StatusOK)
			moved("the trace for "+who, im.Named, p.Body, "assignments-")
			onTrace := holders.FindString(p.Body)
			p = b.get("/transplant/abroad")
			wantStatus(t, "abroad for "+who, p, http.StatusOK)
			moved("the list of imports for "+who, im.Named, p.Body, "import-assignments-")
			mustNotContain(t, "the list of imports for "+who, p, `id="import-assignments-`+im.Unnamed+`"`)
			if onAbroad := holders.FindString(p.Body); onTrace == "" || onTrace != onAbroad {
				t.Errorf("for %s, the history of %s on the trace %q and on the Across borders page %q differ", who, im.Named, onTrace, onAbroad)
			}
		}
		// The organ transplanted, never moved, shows the centre the origin
		// named, on its trace and on its recipient's.
		for _, q := range []string{im.Held, im.Recipient} {
			p = reg.get("/transplant/trace?q=" + q)
			history := regexp.MustCompile(`(?s)<tr class="custody-row" id="assignments-` + im.Held + `">.*?</tr>`).FindString(p.Body)
			if strings.Count(history, `<li class="assignment by-origin">`) != 1 || strings.Count(history, "<li") != 1 || !strings.Contains(history, "Sent to Centre A by the registry of origin") {
				t.Errorf("the trace of %s: history of %s %q, want centre A, named by the origin, alone\n%s", q, im.Held, history, p.Body)
			}
		}
	})
}

// TestTraceShowsMoveByOrigin: the registry of origin sends again the
// characterization of an organ centre A holds by its word, naming centre B
// (as TestCharacterizationMovesHolderInHistory in internal/transplant, here
// through the origin's API: moveByOrigin); the
// organ's trace shows, to the regulator and to centre B's coordinator, the
// centre the origin named, then "Moved from Centre A to Centre B by the
// registry of origin", with no principal and no reason: the origin's move
// is nobody's here. On SQLite and PostgreSQL.
func TestTraceShowsMoveByOrigin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		im := apptest.ImportedOrgans(t, w, dsn)
		moveByOrigin(t, w, im, im.Named, w.CentreB)
		row := regexp.MustCompile(`(?s)<tr class="custody-row" id="assignments-` + im.Named + `">.*?</tr>`)
		item := regexp.MustCompile(`(?s)<li class="assignment[^"]*">.*?</li>`)
		for _, who := range []string{w.Regulator, w.CoordB} {
			b := newBrowser(t, w.URL)
			b.signIn(who)
			p := b.get("/transplant/trace?q=" + im.Named)
			wantStatus(t, "the trace of the organ moved by the origin for "+who, p, http.StatusOK)
			items := item.FindAllString(row.FindString(p.Body), -1)
			if len(items) != 2 ||
				!strings.HasPrefix(items[0], `<li class="assignment by-origin">`) || !strings.Contains(items[0], "Sent to Centre A by the registry of origin") ||
				!strings.HasPrefix(items[1], `<li class="assignment by-origin">`) || !strings.Contains(items[1], "Moved from Centre A to Centre B by the registry of origin") ||
				strings.Contains(items[1], `class="id"`) || strings.Contains(items[1], "<q>") {
				t.Errorf("for %s, the history of %s %q, want centre A named by the origin, then the origin's move from Centre A to Centre B, with no principal and no reason\n%s",
					who, im.Named, items, p.Body)
			}
		}
	})
}

// moveByOrigin has im's Origin send w the characterization of organ again,
// naming destination (a centre of w, by id or name), as a registry of
// origin tells the destination another centre: through the origin's API,
// its regulator sends the characterization it sent with the organ, its
// destination_centre changed, and w receives it.
func moveByOrigin(t *testing.T, w *apptest.World, im apptest.Imported, organ, destination string) {
	t.Helper()
	o := im.Origin
	var out struct {
		Messages []exchange.OutboxMessage `json:"messages"`
	}
	if err := json.Unmarshal(o.Must(t, 200, "GET", "/api/v1/exchange/outbox", o.Regulator, nil).Raw, &out); err != nil {
		t.Fatal(err)
	}
	for _, m := range out.Messages {
		var msg exchange.Message
		if err := json.Unmarshal([]byte(m.Envelope.Message), &msg); err != nil {
			t.Fatal(err)
		}
		var c map[string]any
		if msg.Type != transplant.MsgCharacterization || json.Unmarshal(msg.Payload, &c) != nil || c["organ_id"] != organ {
			continue
		}
		c["destination_centre"] = destination
		o.Must(t, 201, "POST", "/api/v1/exchange/outbox", o.Regulator, map[string]any{"peer_id": m.PeerID, "type": msg.Type, "purpose": msg.Purpose,
			"legal_basis": msg.LegalBasis, "notice": msg.Notice, "readers": msg.Readers, "payload": c})
		w.ReceiveOutbox(t, o.Env)
		return
	}
	t.Fatalf("the registry of origin sent no characterization of %s", organ)
}
