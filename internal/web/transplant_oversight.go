package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/chart"
	"github.com/custos-project/custos/internal/disclosure"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/transplant"
)

// ---- Organ donation and transplantation: oversight (docs/oversight.md) ----
//
// The follow-up worklist and its form, the residents treated abroad and the
// per-country report of travel for transplantation, a registration's
// waiting-list status, and the equity report with its chart.

func (t *transplantPages) oversightPages() []Page {
	return []Page{
		get("/followups", t.followups).Allowed(transplant.Read),
		post("/followups", t.recordFollowUp).Allowed(transplant.Record),
		get("/followups/export", t.followupsExport).Allowed(transplant.Read),
		get("/travel", t.travel).Allowed(transplant.Read, transplant.ReadOversight),
		post("/travel", t.recordAbroad).Allowed(transplant.Record),
		get("/travel/export", t.travelExport).Allowed(transplant.ReadOversight),
		get("/waitlist/{id}", t.waitlist).Allowed(transplant.Read),
		post("/waitlist/{id}", t.changeWaitlist).Allowed(transplant.Record),
		get("/equity", t.equity).Allowed(transplant.ReadOversight),
		get("/equity/export", t.equityExport).Allowed(transplant.ReadOversight),
	}
}

// withOversight adds the pages, lists, words and navigation of oversight to
// the section.
func withOversight(sec *Section, t *transplantPages) {
	sec.Pages = append(sec.Pages, t.oversightPages()...)
	sec.Lists = withVigilance(sec.Lists, map[string][]string{
		"vital_status": transplant.VitalStatuses, "graft_status": transplant.GraftStatuses, "complication": transplant.Complications,
		"psychosocial_care": transplant.PsychosocialCare, "abroad_kind": transplant.AbroadKinds, "known_through": transplant.KnownThrough,
		"abroad_donor_type": transplant.AbroadDonorTypes, "donor_relation": transplant.DonorRelations,
		"waitlist_status": transplant.WaitlistStatuses, "waitlist_reason": transplant.WaitlistReasons,
	})
	sec.Labels = withVigilance(sec.Labels, oversightLabels)
	nav := sec.Nav
	sec.Nav = func(p *auth.Principal) []Link {
		links := nav(p)
		if p.Can(transplant.Record) {
			links = append(links, Link{"/transplant/followups", i18n.M("Follow-ups")}, Link{"/transplant/travel", i18n.M("Treated abroad")})
		} else if p.Can(transplant.ReadOversight) {
			links = append(links, Link{"/transplant/followups", i18n.M("Follow-ups")}, Link{"/transplant/travel", i18n.M("Treated abroad")},
				Link{"/transplant/equity", i18n.M("Equity of access")})
		}
		return links
	}
}

var oversightLabels = map[string]string{
	"alive":                         i18n.M("Alive"),
	"died":                          i18n.M("Died"),
	"lost_to_follow_up":             i18n.M("Lost to follow-up"),
	"functioning":                   i18n.M("Functioning"),
	"failed":                        i18n.M("Failed"),
	"not_applicable":                i18n.M("Not applicable"),
	"none":                          i18n.M("None"),
	"surgical":                      i18n.M("Surgical"),
	"infection":                     i18n.M("Infection"),
	"rejection":                     i18n.M("Rejection"),
	"renal_impairment":              i18n.M("Renal impairment"),
	"hypertension":                  i18n.M("Hypertension"),
	"diabetes":                      i18n.M("Diabetes"),
	"malignancy":                    i18n.M("Malignancy"),
	"psychological":                 i18n.M("Psychological"),
	"other":                         i18n.M("Other"),
	"provided":                      i18n.M("Provided"),
	"offered_declined":              i18n.M("Offered, declined"),
	"not_needed":                    i18n.M("Not needed"),
	"not_assessed":                  i18n.M("Not assessed"),
	transplant.AbroadTransplant:     i18n.M("Transplant received abroad"),
	transplant.AbroadLivingDonation: i18n.M("Living donation abroad"),
	// The travel report's columns (transplant.TravelMeasures): a
	// transplant abroad by organ, and the payments reported.
	"transplant_kidney":                  i18n.M("Kidney transplants"),
	"transplant_liver":                   i18n.M("Liver transplants"),
	"transplant_heart":                   i18n.M("Heart transplants"),
	"transplant_lung":                    i18n.M("Lung transplants"),
	"transplant_pancreas":                i18n.M("Pancreas transplants"),
	"transplant_intestine":               i18n.M("Intestine transplants"),
	"payment_reported":                   i18n.M("Payment reported"),
	"returning_patient":                  i18n.M("Returning patient"),
	"foreign_registry":                   i18n.M("Foreign registry"),
	"insurer":                            i18n.M("Insurer"),
	"living":                             i18n.M("Living"),
	"deceased":                           i18n.M("Deceased"),
	"related":                            i18n.M("Related"),
	"unrelated":                          i18n.M("Unrelated"),
	transplant.WaitlistActive:            i18n.M("Active"),
	transplant.WaitlistSuspended:         i18n.M("Suspended"),
	transplant.WaitlistDiedWaiting:       i18n.M("Died waiting"),
	transplant.WaitlistRemoved:           i18n.M("Removed"),
	"temporarily_unfit":                  i18n.M("Temporarily unfit"),
	"condition_improved":                 i18n.M("Condition improved"),
	"too_ill":                            i18n.M("Too ill"),
	"transferred":                        i18n.M("Transferred"),
	"patient_choice":                     i18n.M("Patient's choice"),
	transplant.FollowUpDue:               i18n.M("Due"),
	transplant.FollowUpOverdue:           i18n.M("Overdue"),
	transplant.SubjectLivingDonor:        i18n.M("Living donor"),
	transplant.SubjectAbroad:             i18n.M("Treated abroad"),
	transplant.OutcomeTransplantedAbroad: i18n.M("Transplanted abroad"),
	transplant.Resident:                  i18n.M("Resident"),
	transplant.NonResident:               i18n.M("Non-resident"),
}

// worklistShown is how many items of a worklist the page shows; the export
// holds them all.
const worklistShown = 200

type followupsData struct {
	List    *transplant.Worklist
	Shown   []transplant.Occasion
	More    int
	Centres map[string]string
	Centre  string
	// CanRecord: a coordinator records on this page.
	CanRecord bool
	Downloads []Link
	// Timeliness is the share on time per centre over the last twelve
	// months, for the regulator and the auditor.
	Timeliness *transplant.Timeliness
}

func (t *transplantPages) followups(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showFollowups(w, r, s, nil)
}

func (t *transplantPages) showFollowups(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	q := r.URL.Query()
	list, err := t.svc.FollowUpWorklist(r.Context(), s.P, q.Get("centre_id"))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	names, err := authorityNames(r.Context(), t.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Follow-ups")
	d := followupsData{List: list, Shown: list.Items, Centres: names, Centre: list.CentreID, CanRecord: s.P.Can(transplant.Record),
		Downloads: Downloads(r, "/transplant/followups/export", "subject_id", "due_month")}
	if len(d.Shown) > worklistShown {
		d.Shown, d.More = d.Shown[:worklistShown], len(d.Shown)-worklistShown
	}
	if n := s.Notice(r); n.Get("done") == "followup" && ref == nil {
		// the follow-up the notice names, as the registry holds it now
		if fs, err := t.svc.FollowUps(r.Context(), s.P, n.Get("id")); err == nil {
			for _, f := range fs {
				if strconv.Itoa(f.DueMonth) == n.Get("due_month") {
					pg.Flash = s.T("Follow-up recorded: %s.", f.SubjectID+" · "+strconv.Itoa(f.DueMonth))
				}
			}
		}
	}
	if !d.CanRecord {
		// the twelve months before today
		y, _ := strconv.Atoi(list.Today[:4])
		if d.Timeliness, err = t.svc.FollowUpTimeliness(r.Context(), s.P, list.CentreID, strconv.Itoa(y-1)+list.Today[4:], list.Today); err != nil {
			s.Fail(w, r, err)
			return
		}
	}
	pg.SetForm("followup", url.Values{"subject_id": {q.Get("subject_id")}, "due_month": {q.Get("due_month")}, "followed_up_on": {today(s.Now())},
		"complications": {"none"}})
	pg.Data = d
	s.Show(w, r, "followups", pg, ref)
}

func (t *transplantPages) recordFollowUp(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	month, err := strconv.Atoi(strings.TrimSpace(v.Get("due_month")))
	if err != nil {
		month = -1 // refused as a month off the schedule
	}
	f, err := t.svc.RecordFollowUp(r.Context(), s.P, transplant.NewFollowUp{SubjectID: v.Get("subject_id"), DueMonth: month,
		FollowedUpOn: v.Get("followed_up_on"), VitalStatus: v.Get("vital_status"), GraftStatus: v.Get("graft_status"),
		Complications: v["complications"], PsychosocialCare: v.Get("psychosocial_care")})
	if err != nil {
		t.showFollowups(w, r, s, &Refusal{Form: "followup", Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/transplant/followups", url.Values{"done": {"followup"}, "id": {f.SubjectID}, "due_month": {strconv.Itoa(f.DueMonth)}})
}

func (t *transplantPages) followupsExport(w http.ResponseWriter, r *http.Request, s *Session) {
	req, err := t.svc.WorklistExport(s.P, r.URL.Query())
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.Export(w, r, req)
}

// ---- Treated abroad ----

type travelData struct {
	Records   []transplant.Abroad
	Centres   map[string]string
	CanRecord bool
	// The report, for the regulator and the auditor.
	Report    *transplant.TravelReport
	Last, Max int // the report's last year, the largest count suppressed
	Downloads []Link
}

func (t *transplantPages) travel(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showTravel(w, r, s, nil)
}

func (t *transplantPages) showTravel(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	recs, err := t.svc.AbroadRecords(r.Context(), s.P, r.URL.Query().Get("centre_id"))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	names, err := authorityNames(r.Context(), t.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Treated abroad")
	d := travelData{Records: recs, Centres: names, CanRecord: s.P.Can(transplant.Record)}
	if s.P.Can(transplant.ReadOversight) {
		y := 0
		if d := today(s.Now()); len(d) >= 4 {
			y, _ = strconv.Atoi(d[:4])
		}
		if d.Report, err = t.svc.TravelReport(r.Context(), s.P, y-4, y+1); err != nil {
			s.Fail(w, r, err)
			return
		}
		d.Last, d.Max = y, t.svc.DisclosureThreshold()-1
		d.Downloads = Downloads(r, "/transplant/travel/export", "centre_id")
	}
	if n := s.Notice(r); n.Get("done") == "abroad" && ref == nil {
		// the record the notice names, among those the reader may read
		for _, a := range recs {
			if a.ID == n.Get("id") {
				pg.Flash = s.T("Treatment abroad recorded: %s.", a.ID)
			}
		}
	}
	pg.SetForm("abroad", url.Values{"kind": {transplant.AbroadTransplant}, "known_through": {"returning_patient"}, "donor_nationality": {transplant.Unknown},
		"payment_reported": {transplant.Unknown}, "medical_records": {"no"}, "donor_type": {transplant.Unknown}, "donor_relation": {transplant.Unknown}})
	pg.Data = d
	s.Show(w, r, "travel", pg, ref)
}

func (t *transplantPages) recordAbroad(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	a, err := t.svc.RecordAbroad(r.Context(), s.P, transplant.NewAbroad{Kind: v.Get("kind"), CentreID: v.Get("centre_id"), RecipientID: strings.TrimSpace(v.Get("recipient_id")),
		Name: v.Get("name"), NationalID: v.Get("national_id"), Sex: v.Get("sex"), DateOfBirth: v.Get("date_of_birth"), Country: v.Get("country"),
		ForeignCentre: v.Get("foreign_centre"), Organ: v.Get("organ"), PerformedOn: v.Get("performed_on"), ReturnedOn: v.Get("returned_on"),
		KnownThrough: v.Get("known_through"), DonorType: v.Get("donor_type"), DonorRelation: v.Get("donor_relation"),
		DonorNationality: v.Get("donor_nationality"), PaymentReported: v.Get("payment_reported"), MedicalRecords: v.Get("medical_records")})
	if err != nil {
		t.showTravel(w, r, s, &Refusal{Form: "abroad", Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/transplant/travel", url.Values{"done": {"abroad"}, "id": {a.ID}})
}

func (t *transplantPages) travelExport(w http.ResponseWriter, r *http.Request, s *Session) {
	req, err := t.svc.TravelExport(s.P, r.URL.Query())
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.Export(w, r, req)
}

// ---- The waiting list of a registration ----

type waitlistData struct {
	Recipient *transplant.Recipient
	History   []transplant.WaitlistChange
	CanRecord bool
}

func (t *transplantPages) waitlist(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showWaitlist(w, r, s, nil)
}

func (t *transplantPages) showWaitlist(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	id := r.PathValue("id")
	rc, err := t.svc.Recipient(r.Context(), s.P, id)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	h, err := t.svc.WaitlistHistory(r.Context(), s.P, id)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Waiting list")
	pg.Title = s.T("Waiting list: %s", id)
	pg.SetForm("waitlist", url.Values{"changed_on": {today(s.Now())}, "reason": {"none"}})
	pg.Data = waitlistData{Recipient: rc, History: h, CanRecord: s.P.Can(transplant.Record)}
	s.Show(w, r, "waitlist", pg, ref)
}

func (t *transplantPages) changeWaitlist(w http.ResponseWriter, r *http.Request, s *Session) {
	v, id := r.PostForm, r.PathValue("id")
	if _, err := t.svc.ChangeWaitlistStatus(r.Context(), s.P, id, transplant.NewWaitlistChange{Status: v.Get("status"), Reason: v.Get("reason"),
		ChangedOn: v.Get("changed_on")}); err != nil {
		t.showWaitlist(w, r, s, &Refusal{Form: "waitlist", Values: v, Err: err})
		return
	}
	Redirect(w, r, "/transplant/waitlist/"+id, nil)
}

// ---- The equity report ----

type equityData struct {
	Report    *transplant.Equity
	Panels    []chart.Panel
	Max       int
	Downloads []Link
	// Suppressed is how a median not published shows.
	Suppressed string
}

func (t *transplantPages) equity(w http.ResponseWriter, r *http.Request, s *Session) {
	if err := s.P.Require(transplant.ReadOversight); err != nil {
		s.Fail(w, r, err)
		return
	}
	f, err := transplant.EquityQuery(r.URL.Query(), t.now())
	var e *transplant.Equity
	if err == nil {
		e, err = t.svc.EquityReport(r.Context(), s.P, f)
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Equity of access")
	d := equityData{Report: e, Max: t.svc.DisclosureThreshold() - 1, Downloads: Downloads(r, "/transplant/equity/export"), Suppressed: disclosure.Suppressed}
	for _, tb := range e.Tables {
		p := chart.Panel{ID: "equity-" + tb.Breakdown, Title: s.T("Outcomes by %s", s.T(labelOf(equityLabels, tb.Breakdown))),
			Desc: s.T("Registrations listed from %s to the day before %s, by outcome; suppressed counts are shown as zero in the chart and as x in the table.", f.From, f.End),
			Kind: chart.Bars, Category: s.T(labelOf(equityLabels, tb.Breakdown)), Unit: s.T("registrations")}
		for _, c := range tb.Counts.Rows {
			p.Categories = append(p.Categories, s.T(labelOf(withLabels(transplantLabels, oversightLabels), c)))
		}
		for j, o := range transplant.EquityOutcomes {
			sr := chart.Series{Name: s.T(labelOf(withLabels(transplantLabels, oversightLabels), o))}
			for i := range tb.Counts.Rows {
				sr.Values = append(sr.Values, float64(shown(tb.Counts.Cells[i][j])))
			}
			p.Series = append(p.Series, sr)
		}
		d.Panels = append(d.Panels, p)
	}
	pg.SetForm("equity", url.Values{"from": {f.From}, "end": {f.End}, "organ": {f.Organ}})
	pg.Data = d
	s.Show(w, r, "equity", pg, nil)
}

// shown is a published cell's value, 0 when suppressed.
func shown(c disclosure.Cell) int {
	if c.Suppressed {
		return 0
	}
	return c.Value
}

var equityLabels = map[string]string{
	"sex":       i18n.M("Sex"),
	"age_band":  i18n.M("Age band"),
	"region":    i18n.M("Region"),
	"residency": i18n.M("Residency"),
}

func (t *transplantPages) equityExport(w http.ResponseWriter, r *http.Request, s *Session) {
	req, err := t.svc.EquityExport(s.P, r.URL.Query())
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.Export(w, r, req)
}

func (t *transplantPages) now() time.Time {
	if t.svc.Now != nil {
		return t.svc.Now()
	}
	return time.Now().UTC()
}
