package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/transplant"
)

// ---- Organ donation and transplantation: vigilance (docs/vigilance.md) ----
//
// The organs awaiting a final disposition and the form that records one;
// the reports of serious adverse events and reactions, the form of the
// initial report, each report's page with its notifications and its final
// report; the notifications, which a centre's coordinator acknowledges.

// vigilancePages are the section's vigilance pages.
func (t *transplantPages) vigilancePages() []Page {
	return []Page{
		get("/awaiting-disposition", t.awaiting).Allowed(transplant.Read),
		get("/awaiting-disposition/export", t.export(transplant.ListAwaitingDisposition)).Allowed(transplant.Read),
		post("/dispositions", t.recordDisposition).Allowed(transplant.Record),
		get("/sae", t.saes).Allowed(transplant.Read),
		post("/sae", t.reportSAE).Allowed(transplant.ReportVigilance),
		get("/sae/export", t.export(transplant.ListSAEs)).Allowed(transplant.Read),
		get("/sae/{id}", t.sae).Allowed(transplant.Read),
		post("/sae/{id}/final-report", t.finalReport).Allowed(transplant.ReportVigilance),
		get("/notifications", t.notifications).Allowed(transplant.Read),
		get("/notifications/export", t.export(transplant.ListNotifications)).Allowed(transplant.Read),
		post("/notifications/{id}/acknowledge", t.acknowledge).Allowed(transplant.Acknowledge),
	}
}

// vigilanceLists are the value lists of the vigilance forms.
var vigilanceLists = map[string][]string{
	"disposition_outcome": transplant.DispositionOutcomes,
	"disposition_reason":  transplant.DispositionReasons,
	"sae_kind":            transplant.SAEKinds,
	"sae_conclusion":      transplant.SAEConclusions,
	"sae_status":          transplant.SAEStates,
	"notification_status": transplant.NotificationStates,
}

// withVigilance adds the vigilance lists and labels to the section's.
func withVigilance[V any](m map[string]V, add map[string]V) map[string]V {
	out := make(map[string]V, len(m)+len(add))
	for k, v := range m {
		out[k] = v
	}
	for k, v := range add {
		out[k] = v
	}
	return out
}

var vigilanceLabels = map[string]string{
	transplant.DispositionDiscarded: i18n.M("Discarded"),
	transplant.DispositionResearch:  i18n.M("Used for research"),
	"organ_quality":                 i18n.M("Organ quality or function"),
	"damaged_in_procurement":        i18n.M("Damaged in procurement"),
	"prolonged_ischaemia":           i18n.M("Prolonged ischaemia"),
	"donor_malignancy":              i18n.M("Malignancy found in the donor"),
	"donor_infection":               i18n.M("Infection found in the donor"),
	"no_suitable_recipient":         i18n.M("No suitable recipient"),
	"transport_failure":             i18n.M("Transport or logistics failure"),
	"recipient_unfit":               i18n.M("Recipient no longer fit"),
	"other":                         i18n.M("Other"),
	transplant.SAEEvent:             i18n.M("Serious adverse event"),
	transplant.SAEReaction:          i18n.M("Serious adverse reaction"),
	"confirmed":                     i18n.M("Confirmed"),
	"not_confirmed":                 i18n.M("Not confirmed"),
	"inconclusive":                  i18n.M("Inconclusive"),
	"open":                          i18n.M("Open"),
	"overdue":                       i18n.M("Final report overdue"),
	"closed":                        i18n.M("Closed"),
	"escalated":                     i18n.M("Escalated"),
	"acknowledged":                  i18n.M("Acknowledged"),
}

// vigilanceNav are the vigilance entries of the navigation of p.
func vigilanceNav(p *auth.Principal) []Link {
	links := []Link{{"/transplant/sae", i18n.M("Vigilance")}, {"/transplant/notifications", i18n.M("Notifications")},
		{"/transplant/abroad", i18n.M("Across borders")}}
	if p.Can(transplant.Record) || p.Can(transplant.AuthorizeCentres) {
		links = append(links, Link{"/transplant/awaiting-disposition", i18n.M("Awaiting disposition")})
	}
	return links
}

// vigilanceCard is what the home card shows a coordinator: their centre's
// notifications not yet acknowledged. It is read when the card is drawn.
type vigilanceCard struct {
	svc *transplant.Service
	p   *auth.Principal
}

// Open lists the open notifications of the coordinator's centre, the newest
// page of them; none for any other principal.
func (c vigilanceCard) Open() ([]transplant.Notification, error) {
	if c.svc == nil || c.p.Role != transplant.RoleCoordinator {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pg, err := c.svc.Notifications(ctx, c.p, transplant.ListFilter{CentreID: c.p.AuthorityID, Status: "open"})
	return pg.Items, err
}

// ---- Organs awaiting a disposition ----

type awaitingData struct {
	Organs    []transplant.Organ
	Centres   map[string]string
	CentreOpt []Option
	CanRecord bool
	After     string // --disposition-after, as Go writes a duration
	Next      string
	Downloads []Link
}

func (t *transplantPages) awaiting(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showAwaiting(w, r, s, nil)
}

func (t *transplantPages) showAwaiting(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	pg := s.View(r, "Organs awaiting a final disposition")
	var fref *Refusal
	f, err := transplant.FilterOf(r.URL.Query(), page.Lists, transplant.OrganFilters)
	if err != nil {
		fref = &Refusal{Form: "filter", Values: r.URL.Query(), Err: err}
	}
	os, err := listed(r, s, pg, &ref, f, fref, transplant.ListFilter{}, t.svc.OrgansAwaitingDisposition)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	names, opts, err := centreChoices(r.Context(), t.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg.Data = awaitingData{Organs: os.Items, Centres: names, CentreOpt: opts, CanRecord: s.P.Can(transplant.Record),
		After: shortDuration(t.svc.DispositionAfter()), Next: nextPage(r, os.Next), Downloads: downloads(r, s.P, transplant.ListAwaitingDisposition)}
	pg.SetForm("disposition", url.Values{"disposed_at": {nowLocal(s)}, "outcome": {transplant.DispositionDiscarded}})
	s.Show(w, r, "awaiting", pg, ref)
}

func (t *transplantPages) recordDisposition(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	at, err := localTime(s, "disposed_at", v.Get("disposed_at"))
	var d *transplant.Disposition
	if err == nil {
		d, err = t.svc.RecordDisposition(r.Context(), s.P, transplant.NewDisposition{OrganID: v.Get("organ_id"), Outcome: v.Get("outcome"),
			Reason: v.Get("reason"), Note: v.Get("note"), DisposedAt: at})
	}
	if err != nil {
		t.showAwaiting(w, r, s, &Refusal{Form: "disposition", Values: v, Err: err})
		return
	}
	// The organ's trace, which shows the disposition, says it was recorded.
	s.RedirectDone(w, r, "/transplant/trace?"+url.Values{"q": {d.OrganID}}.Encode(), url.Values{"done": {"disposition"}, "id": {d.OrganID}})
}

// ---- Reports of serious adverse events and reactions ----

type saesData struct {
	Reports   []transplant.SAE
	Centres   map[string]string
	CentreOpt []Option
	CanReport bool
	Next      string
	Downloads []Link
}

func (t *transplantPages) saes(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showSAEs(w, r, s, nil)
}

func (t *transplantPages) showSAEs(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	pg := s.View(r, "Serious adverse events and reactions")
	var fref *Refusal
	f, err := transplant.FilterOf(r.URL.Query(), page.Lists, transplant.SAEFilters)
	if err != nil {
		fref = &Refusal{Form: "filter", Values: r.URL.Query(), Err: err}
	}
	rs, err := listed(r, s, pg, &ref, f, fref, transplant.ListFilter{}, t.svc.SAEs)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	names, _, err := centreChoices(r.Context(), t.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	var opts []Option
	for id, name := range names {
		opts = append(opts, Option{Value: id, Label: name})
	}
	pg.Data = saesData{Reports: rs.Items, Centres: names, CentreOpt: sortOptions(opts), CanReport: s.P.Can(transplant.ReportVigilance),
		Next: nextPage(r, rs.Next), Downloads: downloads(r, s.P, transplant.ListSAEs)}
	now := nowLocal(s)
	pg.SetForm("sae", url.Values{"kind": {transplant.SAEReaction}, "started_at": {now}, "detected_at": {now}})
	s.Show(w, r, "sae_list", pg, ref)
}

// shortDuration writes a deadline as its flag is written: 72h, 90m, not
// 72h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// sortOptions orders options by label.
func sortOptions(o []Option) []Option {
	slices.SortFunc(o, func(a, b Option) int { return strings.Compare(a.Label, b.Label) })
	return o
}

func (t *transplantPages) reportSAE(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	started, err := localTime(s, "started_at", v.Get("started_at"))
	var detected string
	if err == nil {
		detected, err = localTime(s, "detected_at", v.Get("detected_at"))
	}
	var sae *transplant.SAE
	if err == nil {
		in := transplant.NewSAE{Kind: v.Get("kind"), DonorID: strings.ToUpper(strings.TrimSpace(v.Get("donor_id"))), OrganID: strings.TrimSpace(v.Get("organ_id")),
			RecipientIDs: strings.Fields(strings.ToUpper(strings.ReplaceAll(v.Get("recipient_ids"), ",", " "))), Contact: v.Get("contact"),
			StartedAt: started, DetectedAt: detected, Description: v.Get("description"), ImmediateMeasures: v.Get("immediate_measures")}
		sae, err = t.svc.ReportSAE(r.Context(), s.P, in)
	}
	if err != nil {
		t.showSAEs(w, r, s, &Refusal{Form: "sae", Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/transplant/sae/"+sae.ID, url.Values{"done": {"reported"}})
}

type saeData struct {
	Report      *transplant.SAE
	Centres     map[string]string
	Centre      string // the principal's authority
	CanFinal    bool   // the principal may make the final report
	CanAckFor   string // the centre whose notifications the principal acknowledges
	Acknowledge string // how long a notification waits before escalation
}

var saeFlash = map[string]string{
	"reported":     i18n.M("Report recorded: every centre that received an organ of the donor is notified."),
	"final":        i18n.M("Final report recorded: the case is closed."),
	"acknowledged": i18n.M("Notification acknowledged."),
}

func (t *transplantPages) sae(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showSAE(w, r, s, nil)
}

func (t *transplantPages) showSAE(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	x, err := t.svc.SAE(r.Context(), s.P, r.PathValue("id"))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	names, err := authorityNames(r.Context(), t.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Serious adverse event or reaction")
	pg.Title = x.ReportID
	data := saeData{Report: x, Centres: names, Centre: s.P.AuthorityID, Acknowledge: shortDuration(t.svc.AcknowledgeWithin()),
		CanFinal: x.State == "open" && s.P.Can(transplant.ReportVigilance) && (s.P.Role != transplant.RoleCoordinator || s.P.AuthorityID == x.ReportingAuthorityID)}
	if s.P.Can(transplant.Acknowledge) {
		data.CanAckFor = s.P.AuthorityID
	}
	pg.Data = data
	if m, ok := saeFlash[s.Notice(r).Get("done")]; ok {
		pg.Flash = s.T(m)
	}
	s.Show(w, r, "sae", pg, ref)
}

func (t *transplantPages) finalReport(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	id := r.PathValue("id")
	if _, err := t.svc.RecordFinalReport(r.Context(), s.P, id, transplant.FinalReport{Conclusion: v.Get("conclusion"), Outcome: v.Get("outcome"),
		CorrectiveActions: v.Get("corrective_actions")}); err != nil {
		t.showSAE(w, r, s, &Refusal{Form: "final", Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/transplant/sae/"+id, url.Values{"done": {"final"}})
}

// ---- Notifications ----

type notificationsData struct {
	Notifications []transplant.Notification
	Centres       map[string]string
	CentreOpt     []Option
	Own           bool   // a coordinator's: their centre's only
	CanAckFor     string // the centre whose notifications the principal acknowledges
	Next          string
	Downloads     []Link
}

func (t *transplantPages) notifications(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showNotifications(w, r, s, nil)
}

func (t *transplantPages) showNotifications(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	pg := s.View(r, "Notifications")
	f, fref := listFilter(r, s.P, page.Lists, transplant.NotificationFilters)
	ns, err := listed(r, s, pg, &ref, f, fref, transplant.ListFilter{CentreID: ownCentre(s.P)}, t.svc.Notifications)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	names, opts, err := centreChoices(r.Context(), t.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	data := notificationsData{Notifications: ns.Items, Centres: names, CentreOpt: opts, Own: ownCentre(s.P) != "",
		Next: nextPage(r, ns.Next), Downloads: downloads(r, s.P, transplant.ListNotifications)}
	if s.P.Can(transplant.Acknowledge) {
		data.CanAckFor = s.P.AuthorityID
	}
	pg.Data = data
	if s.Notice(r).Get("done") == "acknowledged" {
		pg.Flash = s.T("Notification acknowledged.")
	}
	s.Show(w, r, "notifications", pg, ref)
}

func (t *transplantPages) acknowledge(w http.ResponseWriter, r *http.Request, s *Session) {
	n, err := t.svc.AcknowledgeNotification(r.Context(), s.P, r.PathValue("id"))
	if err != nil {
		t.showNotifications(w, r, s, &Refusal{Form: "ack-" + r.PathValue("id"), Values: r.PostForm, Err: err})
		return
	}
	if r.PostForm.Get("back") == "sae" {
		s.RedirectDone(w, r, "/transplant/sae/"+n.SAEID, url.Values{"done": {"acknowledged"}})
		return
	}
	s.RedirectDone(w, r, "/transplant/notifications", url.Values{"done": {"acknowledged"}})
}
