package web

import (
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/transplant"
	"github.com/custos-project/custos/internal/zone"
)

// ---- Suspected-trafficking reports (docs/trafficking.md) ----
//
// A health professional of a transplant centre files a report and follows
// their own; the designated authority works the queue, opens a report's
// text and its reporter's identity (each a read recorded in the log, shown
// on the answer to the POST, never kept by the browser) and moves it on.

func (t *transplantPages) traffickingPages() []Page {
	return []Page{
		get("/trafficking/report", t.traffickingForm).Allowed(transplant.ReportTrafficking),
		post("/trafficking/reports", t.fileTrafficking).Allowed(transplant.ReportTrafficking),
		get("/trafficking/mine", t.traffickingMine).Allowed(transplant.ReportTrafficking),
		get("/trafficking/queue", t.traffickingQueue).Allowed(transplant.WorkTraffickingReports),
		post("/trafficking/screenings", t.screenTrafficking).Allowed(transplant.WorkTraffickingReports, auth.WorkAlerts),
		get("/trafficking/reports/{id}", t.traffickingCase).Allowed(transplant.WorkTraffickingReports),
		post("/trafficking/reports/{id}/status", t.traffickingStatus).Allowed(transplant.WorkTraffickingReports),
		post("/trafficking/reports/{id}/content", t.traffickingContent).Allowed(transplant.WorkTraffickingReports),
		post("/trafficking/reports/{id}/reporter", t.traffickingReporter).Allowed(transplant.WorkTraffickingReports),
		post("/trafficking/reports/{id}/transplants", t.traffickingLink).Allowed(transplant.WorkTraffickingReports),
		post("/trafficking/reports/{id}/transplants/withdraw", t.traffickingWithdrawLink).Allowed(transplant.WorkTraffickingReports),
	}
}

// traffickingLabels are the words for the statuses and the categories.
var traffickingLabels = map[string]string{
	transplant.TraffickingReceived:        i18n.M("Received"),
	transplant.TraffickingUnderAssessment: i18n.M("Under assessment"),
	transplant.TraffickingReferred:        i18n.M("Referred to law enforcement"),
	transplant.TraffickingUnfounded:       i18n.M("Closed as unfounded"),
	"recruitment":                         i18n.M("Recruitment"),
	"travel":                              i18n.M("Travel"),
	"documents":                           i18n.M("Documents"),
	"finance":                             i18n.M("Finance"),
	"aftercare":                           i18n.M("Aftercare"),
}

// traffickingNav: a reporter files and follows; the authority works the queue.
func traffickingNav(p *auth.Principal) []Link {
	switch {
	case p.Can(transplant.ReportTrafficking):
		return []Link{{"/transplant/trafficking/report", i18n.M("Report suspected trafficking")}}
	case p.Can(transplant.WorkTraffickingReports):
		return []Link{{"/transplant/trafficking/queue", i18n.M("Trafficking reports")}}
	}
	return unodcNav(p)
}

// traffickingHome is the authority's card: its queue.
func traffickingHome(p *auth.Principal) *Card {
	if !p.Can(transplant.WorkTraffickingReports) {
		return nil
	}
	return &Card{Template: "trafficking_home", Data: nil}
}

// indicatorGroup is a category of indicators, for the form.
type indicatorGroup struct {
	Category   string
	Indicators []transplant.Indicator
}

func indicatorGroups() []indicatorGroup {
	var out []indicatorGroup
	for _, c := range transplant.TraffickingCategories {
		g := indicatorGroup{Category: c}
		for _, ind := range transplant.TraffickingIndicators {
			if ind.Category == c {
				g.Indicators = append(g.Indicators, ind)
			}
		}
		out = append(out, g)
	}
	return out
}

type traffickingFormData struct {
	Groups  []indicatorGroup
	Checked map[string]bool
}

func (t *transplantPages) traffickingForm(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showTraffickingForm(w, r, s, nil)
}

func (t *transplantPages) showTraffickingForm(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	pg := s.View(r, "Report suspected trafficking")
	d := traffickingFormData{Groups: indicatorGroups(), Checked: map[string]bool{}}
	if ref != nil {
		for _, c := range ref.Values["indicators"] {
			d.Checked[c] = true
		}
	}
	pg.Data = d
	w.Header().Set("Cache-Control", "no-store")
	s.Show(w, r, "trafficking_report", pg, ref)
}

// SplitIDs reads a list of record identifiers typed in one field, separated
// by commas, semicolons, spaces or new lines; empty items are dropped.
func SplitIDs(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) })
}

func (t *transplantPages) fileTrafficking(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	in := transplant.NewTraffickingReport{Indicators: v["indicators"], Text: v.Get("text"),
		DonorIDs: SplitIDs(v.Get("donor_ids")), RecipientIDs: SplitIDs(v.Get("recipient_ids")), OrganIDs: SplitIDs(v.Get("organ_ids"))}
	rc, err := t.svc.FileTraffickingReport(r.Context(), s.P, in)
	if err != nil {
		// A refusal of one linked id names it with its index (donor_ids[1]):
		// the form has one field per kind.
		field := ""
		if i := strings.IndexByte(errField(err), '['); i > 0 {
			field = errField(err)[:i]
		}
		t.showTraffickingForm(w, r, s, &Refusal{Form: "trafficking", Values: v, Err: err, Highlight: field})
		return
	}
	s.RedirectDone(w, r, "/transplant/trafficking/mine", url.Values{"done": {"received"}, "id": {rc.Reference}})
}

type traffickingMineData struct {
	Reports []transplant.TraffickingReceipt
}

func (t *transplantPages) traffickingMine(w http.ResponseWriter, r *http.Request, s *Session) {
	rs, err := t.svc.MyTraffickingReports(r.Context(), s.P)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "My trafficking reports")
	pg.Data = traffickingMineData{Reports: rs}
	// Only a report the server received from this reader, among those the
	// registry holds as theirs now: a crafted link must not tell a
	// whistle-blower that a report was received when it was not.
	if n := s.Notice(r); n.Get("done") == "received" {
		for _, rc := range rs {
			if rc.Reference == n.Get("id") {
				pg.Flash = s.T("Report %s was sent to the designated authority. Keep its reference to follow it.", rc.Reference)
			}
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	s.Show(w, r, "trafficking_mine", pg, nil)
}

type traffickingQueueData struct {
	Reports    []transplant.TraffickingReport
	Next       string // the queue's next page
	Screenings []transplant.TraffickingScreening
	Status     string
	Statuses   []Option
}

func (t *transplantPages) traffickingQueue(w http.ResponseWriter, r *http.Request, s *Session) {
	q := r.URL.Query()
	screened, screenedErr := strconv.Atoi(q.Get("screened")) // the flash of a screening: not a filter
	q.Del("screened")
	f, err := transplant.TraffickingFilterOf(q)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	rs, err := t.svc.TraffickingQueue(r.Context(), s.P, f)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	// The newest alerts of the screening; the API pages through them all.
	hs, err := t.svc.TraffickingScreenings(r.Context(), s.P, page.Request{Limit: page.Lists.Default})
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Trafficking reports")
	if screenedErr == nil {
		pg.Flash = s.L().N("The screening of every living donation raised %d new alerts.", screened)
	}
	opts := optionsOf(traffickingLabels, transplant.TraffickingStatuses)
	for i := range opts {
		opts[i].Label = s.T(opts[i].Label)
	}
	pg.Data = traffickingQueueData{Reports: rs.Items, Next: nextPage(r, rs.Next, "screened"), Screenings: hs.Items, Status: f.Status, Statuses: opts}
	s.Show(w, r, "trafficking_queue", pg, nil)
}

type traffickingCaseData struct {
	Report *transplant.TraffickingReport
	People people // who changed its status (who)
	Next   []Option
	// Opened is what the principal just opened (content or reporter),
	// shown on the answer to the POST only.
	Content  *transplant.TraffickingContent
	Reporter *transplant.TraffickingReporter
	Purpose  string
	OpenedAt string
	// Assessment is the assessment's form (transplant_unodc.go).
	Assessment assessmentForm
	// Linkable: the report takes a new link to a transplantation (under
	// assessment or referred); Linked are the links in force, the choices
	// of the withdrawal's form.
	Linkable bool
	Linked   []Option
}

func (t *transplantPages) traffickingCase(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showTraffickingCase(w, r, s, nil, traffickingCaseData{})
}

// nextStatuses are the statuses report r may move to, for its form.
func nextStatuses(s *Session, r *transplant.TraffickingReport) []Option {
	var next []string
	switch r.Status {
	case transplant.TraffickingReceived:
		next = []string{transplant.TraffickingUnderAssessment}
	case transplant.TraffickingUnderAssessment:
		next = []string{transplant.TraffickingReferred, transplant.TraffickingUnfounded}
	}
	opts := optionsOf(traffickingLabels, next)
	for i := range opts {
		opts[i].Label = s.T(opts[i].Label)
	}
	return opts
}

func (t *transplantPages) showTraffickingCase(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal, d traffickingCaseData) {
	rep, err := t.svc.GetTraffickingReport(r.Context(), s.P, r.PathValue("id"))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	d.Report, d.Next = rep, nextStatuses(s, rep)
	var changers []string
	for _, c := range rep.History {
		changers = append(changers, c.PrincipalID)
	}
	for _, l := range rep.Transplants {
		changers = append(changers, l.LinkedBy)
		d.Linked = append(d.Linked, Option{Value: l.TransplantID, Label: l.TransplantID})
	}
	for _, l := range rep.WithdrawnLinks {
		changers = append(changers, l.LinkedBy, l.WithdrawnBy)
	}
	d.Linkable = rep.Status == transplant.TraffickingUnderAssessment || rep.Status == transplant.TraffickingReferred
	if d.People, err = principalNames(r.Context(), t.svc.DB.Read(), s.P, changers...); err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Trafficking report "+rep.ID)
	if d.Assessment, err = t.assessment(r, s, rep, pg); err != nil {
		s.Fail(w, r, err)
		return
	}
	pg.Data = d
	switch s.Notice(r).Get("done") {
	case "status":
		pg.Flash = s.T("The report's status is now recorded in the log.")
	case "assessment":
		pg.Flash = s.T("The assessment is recorded in the log.")
	case "linked":
		pg.Flash = s.T("The link to the transplantation is recorded in the log.")
	case "withdrawn":
		pg.Flash = s.T("The link is withdrawn: the withdrawal and its reason are recorded in the log.")
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.Show(w, r, "trafficking_case", pg, ref)
}

func (t *transplantPages) traffickingStatus(w http.ResponseWriter, r *http.Request, s *Session) {
	id := r.PathValue("id")
	if _, err := t.svc.SetTraffickingStatus(r.Context(), s.P, id, r.PostForm.Get("status")); err != nil {
		t.showTraffickingCase(w, r, s, &Refusal{Form: "status", Values: r.PostForm, Err: err}, traffickingCaseData{})
		return
	}
	s.RedirectDone(w, r, "/transplant/trafficking/reports/"+id, url.Values{"done": {"status"}})
}

// traffickingLink links the report's case to a transplantation, as the
// API's route does, with the same rules.
func (t *transplantPages) traffickingLink(w http.ResponseWriter, r *http.Request, s *Session) {
	id := r.PathValue("id")
	if err := t.svc.LinkTraffickingCase(r.Context(), s.P, id, r.PostForm.Get("transplant_id")); err != nil {
		t.showTraffickingCase(w, r, s, &Refusal{Form: "link", Values: r.PostForm, Err: err}, traffickingCaseData{})
		return
	}
	s.RedirectDone(w, r, "/transplant/trafficking/reports/"+id, url.Values{"done": {"linked"}})
}

// traffickingWithdrawLink withdraws one of the report's links in force,
// with a reason, as the API's route does, with the same rules.
func (t *transplantPages) traffickingWithdrawLink(w http.ResponseWriter, r *http.Request, s *Session) {
	id := r.PathValue("id")
	if _, err := t.svc.WithdrawTraffickingCaseLink(r.Context(), s.P, id, r.PostForm.Get("transplant_id"),
		transplant.LinkWithdrawal{Reason: r.PostForm.Get("reason")}); err != nil {
		t.showTraffickingCase(w, r, s, &Refusal{Form: "withdraw", Values: r.PostForm, Err: err}, traffickingCaseData{})
		return
	}
	s.RedirectDone(w, r, "/transplant/trafficking/reports/"+id, url.Values{"done": {"withdrawn"}})
}

func (t *transplantPages) traffickingContent(w http.ResponseWriter, r *http.Request, s *Session) {
	purpose := r.PostForm.Get("purpose")
	c, err := t.svc.TraffickingReportContent(r.Context(), s.P, r.PathValue("id"), purpose)
	if err != nil {
		t.showTraffickingCase(w, r, s, &Refusal{Form: "content", Values: r.PostForm, Err: err}, traffickingCaseData{})
		return
	}
	t.showTraffickingCase(w, r, s, nil, traffickingCaseData{Content: c, Purpose: strings.TrimSpace(purpose), OpenedAt: zone.Format(s.Now(), s.Zone())})
}

func (t *transplantPages) traffickingReporter(w http.ResponseWriter, r *http.Request, s *Session) {
	purpose := r.PostForm.Get("purpose")
	who, err := t.svc.TraffickingReportReporter(r.Context(), s.P, r.PathValue("id"), purpose)
	if err != nil {
		t.showTraffickingCase(w, r, s, &Refusal{Form: "reporter", Values: r.PostForm, Err: err}, traffickingCaseData{})
		return
	}
	t.showTraffickingCase(w, r, s, nil, traffickingCaseData{Reporter: who, Purpose: strings.TrimSpace(purpose), OpenedAt: zone.Format(s.Now(), s.Zone())})
}

// errField is the field a refusal names, "" for another error.
func errField(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Field
	}
	return ""
}

// withLabels is the union of label maps.
func withLabels(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}

func (t *transplantPages) screenTrafficking(w http.ResponseWriter, r *http.Request, s *Session) {
	n, err := t.svc.ScreenTrafficking(r.Context(), s.P)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	Redirect(w, r, "/transplant/trafficking/queue", url.Values{"screened": {strconv.Itoa(n)}})
}
