package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/web"
)

// TestOversightPages: a coordinator records a reimbursement and is refused
// a gift, with the rule and the field; the regulator plans an audit, records
// a finding and an action, refused a past deadline; the audit pack shows
// the refusal and offers its files, the CSV holding the same; a payer's
// home offers the payer check only, which answers, and every other page
// refuses them.
func TestOversightPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		living := apptest.DeceasedDonor(w.CentreA)
		living["kind"], living["cause_of_death"], living["date_of_death"] = "living", "", ""
		donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, living).Str("id")

		c := newBrowser(t, w.URL)
		c.signIn(w.CoordA)
		mustContain(t, "the coordinator's navigation", c.get("/"), `href="/transplant/reimbursements"`)
		form := url.Values{"donor_id": {donor}, "payee": {"donor"}, "category": {"travel"}, "amount": {"84.50"}, "currency": {"EUR"},
			"incurred_on": {yesterday()}, "evidence_ref": {"Rail tickets"}}
		p := c.post("/transplant/reimbursements", form)
		wantStatus(t, "a reimbursement", p, http.StatusSeeOther)
		mustContain(t, "the reimbursements", c.get("/transplant/reimbursements"), "84.50 EUR", "Rail tickets")
		form.Set("category", "gift")
		p = c.post("/transplant/reimbursements", form)
		wantStatus(t, "a gift", p, http.StatusForbidden)
		mustContain(t, "a gift", p, `<strong>reimbursable_expense</strong>`, `<code>category</code>`, `value="Rail tickets"`)

		r := newBrowser(t, w.URL)
		r.signIn(w.Regulator)
		mustContain(t, "the regulator's navigation", r.get("/"), `href="/transplant/oversight"`)
		p = r.post("/transplant/audits", url.Values{"centre_id": {w.CentreA}, "planned_on": {yesterday()}, "scope": {""}})
		wantStatus(t, "an audit without scope", p, http.StatusUnprocessableEntity)
		mustContain(t, "an audit without scope", p, `id="audit-scope-error"`)
		p = r.post("/transplant/audits", url.Values{"centre_id": {w.CentreA}, "planned_on": {yesterday()}, "scope": {"Living donation files"}})
		wantStatus(t, "an audit", p, http.StatusSeeOther)
		audit := regexp.MustCompile(`AD-[0-9A-Z]{10}`).FindString(p.Header.Get("Location"))
		p = r.post("/transplant/audits/"+audit+"/findings", url.Values{"severity": {"major"}, "description": {"Consent forms unsigned"}})
		wantStatus(t, "a finding", p, http.StatusSeeOther)
		finding := regexp.MustCompile(`AF-[0-9A-Z]{10}`).FindString(p.Header.Get("Location"))
		p = r.post("/transplant/audit-findings/"+finding+"/actions", url.Values{"action": {"Sign them"}, "due_on": {"2001-01-01"}})
		wantStatus(t, "an action due in the past", p, http.StatusUnprocessableEntity)
		mustContain(t, "an action due in the past", p, "dates_in_order", `value="Sign them"`)
		p = r.post("/transplant/audit-findings/"+finding+"/actions", url.Values{"action": {"Sign them"}, "due_on": {todayDate()}})
		wantStatus(t, "an action", p, http.StatusSeeOther)
		p = r.get("/transplant/oversight")
		// The date inputs offer what the rules take: an action due from
		// today to two years ahead, done from the audit's day to today.
		mustContain(t, "the oversight page's date inputs", p,
			`name="due_on" type="date" value="" min="`+todayDate()+`" max="`+time.Now().UTC().AddDate(2, 0, 0).Format("2006-01-02")+`"`,
			`name="done_on" type="date" value="" min="`+yesterday()+`" max="`+todayDate()+`"`)
		mustContain(t, "the oversight page", p, `id="standing-`+w.CentreA+`"`, `id="audit-`+audit+`"`, "Consent forms unsigned", "Sign them",
			`href="/transplant/oversight/pack?centre_id=`+w.CentreA)
		pack := "/transplant/oversight/pack?centre_id=" + w.CentreA + "&from=" + yesterday() + "&to=" + todayDate()
		p = r.get(pack)
		wantStatus(t, "the pack", p, http.StatusOK)
		mustContain(t, "the pack", p, `class="audit-pack"`, "reimbursable_expense", "84.50", "Living donation files",
			`href="/transplant/oversight/pack/export?centre_id=`+w.CentreA)
		p = r.get("/transplant/oversight/pack/export?centre_id=" + w.CentreA + "&from=" + yesterday() + "&to=" + todayDate() + "&format=csv")
		wantStatus(t, "the pack's CSV", p, http.StatusOK)
		if !strings.Contains(p.Body, "refusal,") || !strings.Contains(p.Body, "reimbursements,EUR,,,,84.50,1") || !strings.Contains(p.Body, "list,audit_pack") {
			t.Errorf("the pack's CSV:\n%s", p.Body)
		}
		wantStatus(t, "a coordinator's pack", c.get(pack), http.StatusForbidden)

		ins := w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "Insurance fund", "kind": "payer"}).Str("id")
		payer := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Claims officer", "role": "payer", "authority_id": ins}).Str("token")
		y := newBrowser(t, w.URL)
		y.signIn(payer)
		p = y.get("/")
		mustContain(t, "the payer's home", p, `href="/transplant/payer"`)
		for _, not := range []string{`href="/transplant/donors"`, `href="/alerts"`, `href="/transplant/oversight"`, `href="/transplant/trace"`} {
			if strings.Contains(p.Body, not) {
				t.Errorf("the payer's home links %s", not)
			}
		}
		p = y.post("/transplant/payer", url.Values{"transplant_id": {"TX-0000000000"}})
		wantStatus(t, "a question about nothing", p, http.StatusNotFound)
		mustContain(t, "a question about nothing", p, `<code>transplant_id</code>`)
		param := regexp.MustCompile(`\{[^}]+\}`)
		tried := 0
		paths := []string{"/alerts", "/alerts/x", "/people", "/authorities", "/log", "/log/verify", "/exchange/inbox", "/exchange/outbox", "/exchange/peers"}
		for _, pg := range web.Transplant(w.App.Transplant, nil).Pages {
			if pg.Method == http.MethodGet && pg.Path != "/payer" {
				paths = append(paths, "/transplant"+param.ReplaceAllString(pg.Path, "x"))
			}
		}
		for _, path := range paths {
			tried++
			if p := y.get(path); p.Status != http.StatusForbidden {
				t.Errorf("GET %s answers a payer %d", path, p.Status)
			}
		}
		if tried < 40 {
			t.Errorf("only %d pages tried", tried)
		}
	})
}

func todayDate() string { return time.Now().UTC().Format("2006-01-02") }

// TestAuditPackOfOrgansFromAbroad has centre A transplant an organ received
// from abroad and checks that its audit pack, the page and the CSV, counts
// it among the centre's transplantations and lists it with its identifier.
func TestAuditPackOfOrgansFromAbroad(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		im := apptest.ImportedOrgans(t, w, dsn)
		r := newBrowser(t, w.URL)
		r.signIn(w.Regulator)
		query := "centre_id=" + w.CentreA + "&from=" + yesterday() + "&to=" + todayDate()
		p := r.get("/transplant/oversight/pack?" + query)
		wantStatus(t, "the pack", p, http.StatusOK)
		mustContain(t, "the pack", p, "of which organs from abroad</th><td>1</td>", `id="pack-imports"`, im.Held, im.Recipient)
		p = r.get("/transplant/oversight/pack/export?" + query + "&format=csv")
		wantStatus(t, "the pack's CSV", p, http.StatusOK)
		for _, l := range []string{"activity,transplants,,,,1,", "activity,transplants_from_abroad,,,,1,", "transplant_from_abroad," + im.Held + "," + todayDate() + ",kidney,," + im.Recipient + ","} {
			if !strings.Contains(p.Body, l) {
				t.Errorf("the pack's CSV lacks %q:\n%s", l, p.Body)
			}
		}
	})
}

// TestPagesOfOrgansFromAbroadAwaitingOutcome has a registry receive organs
// from abroad and, four days later on its clock, past the disposition
// deadline, checks on SQLite and PostgreSQL that the oversight page counts
// the one centre A holds with no outcome in centre A's row and lists the
// one no centre holds, that centre A's audit pack, the page and the CSV,
// lists the first, and that the organs awaiting a disposition list it,
// marked from abroad under centre A, without the second, under a date
// column and filters that say procured or received, filtered by its donor's
// blood group exactly (a group not in the list refused with rule and
// field); before the deadline neither shows.
func TestPagesOfOrgansFromAbroadAwaitingOutcome(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		var ahead atomic.Int64
		w := apptest.NewWorldWith(t, dsn, func(c *server.Config) {
			c.Now = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
		})
		im := apptest.ImportedOrgans(t, w, dsn)
		r := newBrowser(t, w.URL)
		r.signIn(w.Regulator)
		row := regexp.MustCompile(`(?s)<tr id="standing-` + w.CentreA + `">.*?</tr>`)
		cells := func(p *page) string {
			return strings.Join(regexp.MustCompile(`<td>(\d+)</td>`).FindAllString(row.FindString(p.Body), -1), "")
		}
		query := "centre_id=" + w.CentreA + "&from=" + yesterday() + "&to=" + time.Now().UTC().AddDate(0, 0, 5).Format("2006-01-02")
		p := r.get("/transplant/oversight")
		wantStatus(t, "the oversight page", p, http.StatusOK)
		mustNotContain(t, "the oversight page within the deadline", p, `id="unheld-imports"`, im.Unnamed)
		if got := cells(p); got != "<td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td>" {
			t.Errorf("centre A's counts within the deadline: %s, want all 0", got)
		}

		ahead.Store(int64(4 * 24 * time.Hour))
		r.signIn(w.Regulator) // the session of four days ago has expired
		p = r.get("/transplant/oversight")
		mustContain(t, "the oversight page past the deadline", p, `id="unheld-imports"`, `id="unheld-`+im.Unnamed+`"`)
		mustNotContain(t, "the oversight page's unheld organs", p, `id="unheld-`+im.Named+`"`)
		// Authorizations lapsed, awaiting a final disposition, of which
		// from abroad, recorded late, overdue follow-ups, corrective
		// actions overdue.
		if got := cells(p); got != "<td>0</td><td>1</td><td>1</td><td>0</td><td>0</td><td>0</td>" {
			t.Errorf("centre A's counts past the deadline: %s, want 1 awaiting, 1 from abroad", got)
		}
		p = r.get("/transplant/oversight/pack?" + query)
		wantStatus(t, "the pack", p, http.StatusOK)
		mustContain(t, "the pack", p, `id="pack-unreconciled-imports"`, im.Named)
		p = r.get("/transplant/oversight/pack/export?" + query + "&format=csv")
		wantStatus(t, "the pack's CSV", p, http.StatusOK)
		if !regexp.MustCompile(`(?m)^unreconciled_import,` + im.Named + `,[0-9T:.-]+Z,kidney,,[A-Z]{2},no outcome recorded\r?$`).MatchString(p.Body) {
			t.Errorf("the pack's CSV lacks the organ from abroad with no outcome:\n%s", p.Body)
		}
		// The organs awaiting a disposition: the one centre A holds,
		// marked from abroad under centre A; not the one no centre holds.
		p = r.get("/transplant/awaiting-disposition")
		wantStatus(t, "the organs awaiting a disposition", p, http.StatusOK)
		awaiting := regexp.MustCompile(`(?s)<tr id="awaiting-` + im.Named + `" class="from-abroad">.*?</tr>`).FindString(p.Body)
		if !strings.Contains(awaiting, "From abroad: XA, registry "+im.ToOrigin) || !strings.Contains(awaiting, "<td>Centre A</td>") || !strings.Contains(awaiting, "Received ") {
			t.Errorf("the organs awaiting a disposition: the row of %s %q, want it from abroad (XA, %s), held by Centre A\n%s", im.Named, awaiting, im.ToOrigin, p.Body)
		}
		mustNotContain(t, "the organs awaiting a disposition", p, `id="awaiting-`+im.Unnamed+`"`)
		// Its dates are a procurement's or a receipt's: the column and the
		// date filters say so; and the page filters by the donor's blood
		// group, exactly.
		mustContain(t, "the organs awaiting a disposition", p, `<th scope="col">Procured or received</th>`, "Procured or received from",
			"Procured or received until", `name="blood_group"`)
		mustNotContain(t, "the organs awaiting a disposition", p, "Procured at", ">Procured from<", ">Procured until<")
		p = r.get("/transplant/awaiting-disposition?centre_id=" + w.CentreB)
		mustNotContain(t, "the organs awaiting a disposition at centre B", p, `id="awaiting-`+im.Named+`"`)
		p = r.get("/transplant/awaiting-disposition?blood_group=O")
		mustContain(t, "the organs awaiting a disposition of blood group O", p, `id="awaiting-`+im.Named+`"`)
		for _, other := range []string{"A", "AB"} {
			p = r.get("/transplant/awaiting-disposition?blood_group=" + other)
			wantStatus(t, "the organs awaiting a disposition of blood group "+other, p, http.StatusOK)
			mustNotContain(t, "the organs awaiting a disposition of blood group "+other, p, `id="awaiting-`+im.Named+`"`)
		}
		p = r.get("/transplant/awaiting-disposition?blood_group=o")
		wantStatus(t, "the organs awaiting a disposition of blood group o", p, http.StatusUnprocessableEntity)
		mustContain(t, "the organs awaiting a disposition of blood group o", p, `id="refusal-rule">enum<`, `id="refusal-field">blood_group<`)
	})
}
