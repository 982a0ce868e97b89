package web

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/transplant"
)

// ---- Organ donation and transplantation (resolution VI): the section's pages ----

// ownCentre is the centre whose records a coordinator's lists show; empty
// (all centres) for every other role.
func ownCentre(p *auth.Principal) string {
	if p.Role == transplant.RoleCoordinator {
		return p.AuthorityID
	}
	return ""
}

// canOpen tells whether p may open the personal data of a donor or recipient
// of centre: a coordinator of that centre, or the regulator. The registry
// decides again when the form is posted.
func canOpen(p *auth.Principal, centre string) bool {
	return p.Can(transplant.ReadPersonalData) && (p.Role != transplant.RoleCoordinator || p.AuthorityID == centre)
}

// ---- Donors ----

type donorsData struct {
	Donors    []transplant.Donor
	Centres   map[string]string
	Own       bool
	CanRecord bool
	Next      string   // the link to the next page; empty on the last
	CentreOpt []Option // the centres, for the filter form
	Downloads []Link   // the list as files; none for who may not export it
	// Duplicates are the records a registration refused as a likely
	// duplicate looks like.
	Duplicates []transplant.PersonMatch
}

// centreChoices reads the authorities once for a list page: every
// authority's name by id, and the transplant centres, by name, as the
// options of the filter form's select.
func centreChoices(ctx context.Context, db *store.DB) (map[string]string, []Option, error) {
	return authorityChoices(ctx, db, transplant.KindCentre)
}

// authorityChoices reads the authorities once for a list page: every
// authority's name by id, and those of kind, by name, as the options of a
// select of the filter form.
func authorityChoices(ctx context.Context, db *store.DB, kind string) (map[string]string, []Option, error) {
	as, err := auth.ListAuthorities(ctx, db.Read(), "")
	if err != nil {
		return nil, nil, err
	}
	names := make(map[string]string, len(as))
	var opts []Option
	for _, a := range as {
		names[a.ID] = a.Name
		if a.Kind == kind {
			opts = append(opts, Option{Value: a.ID, Label: a.Name})
		}
	}
	return names, opts, nil
}

// listFilter reads the filters and page of a list page from its query,
// less its notice (what a form just did) and extra; a coordinator's list is of
// their own centre whatever the query says. A refused filter comes back as
// the filter form's refusal, with the list's first page unfiltered.
func listFilter(r *http.Request, p *auth.Principal, size page.Size, filters []string, extra ...string) (transplant.ListFilter, *Refusal) {
	q := r.URL.Query()
	for _, e := range append([]string{noticeParam}, extra...) {
		q.Del(e)
	}
	f, err := transplant.FilterOf(q, size, filters)
	if err != nil {
		return f, &Refusal{Form: "filter", Values: q, Err: err}
	}
	if c := ownCentre(p); c != "" {
		f.CentreID = c
	}
	return f, nil
}

// nextPage is the link to the page after the one r shows, with the same
// filters (not its notice, nor extra); empty on the last page.
func nextPage(r *http.Request, cursor string, extra ...string) string {
	q := r.URL.Query()
	for _, e := range append([]string{noticeParam}, extra...) {
		q.Del(e)
	}
	return page.Next(r.URL.Path, q, cursor)
}

// listed reads the page of a list that f (read from the query by
// listFilter, or a registry's FilterOf) asks for. A refusal of the filter
// (fref, or the list's own) is shown on the filter form, over base, the
// list's first page unfiltered; a refusal of another form (ref) stays the one
// shown.
func listed[F, T any](r *http.Request, s *Session, pg *View, ref **Refusal, f F, fref *Refusal, base F,
	list func(context.Context, *auth.Principal, F) (page.Of[T], error)) (page.Of[T], error) {
	pg.SetForm("filter", r.URL.Query())
	if fref != nil {
		if *ref == nil {
			*ref = fref
		}
		return list(r.Context(), s.P, base)
	}
	out, err := list(r.Context(), s.P, f)
	if _, ok := errs.As(err); ok {
		if *ref == nil {
			*ref = &Refusal{Form: "filter", Values: r.URL.Query(), Err: err}
		}
		return list(r.Context(), s.P, base)
	}
	return out, err
}

// downloads are the links that export the list of the page r shows, with
// its filters, at /transplant/<list>/export; none when p may not export it
// (a personal list, for whoever may not open personal data).
func downloads(r *http.Request, p *auth.Principal, list string, drop ...string) []Link {
	if transplant.PersonalExport(list) && !p.Can(transplant.ReadPersonalData) {
		return nil
	}
	return Downloads(r, "/transplant/"+list+"/export", drop...)
}

// export answers a list page's download link: the whole list the page
// shows, with its filters, as a file. A coordinator's donors and recipients
// are their own centre's, as on the page.
func (t *transplantPages) export(list string) Handler {
	return func(w http.ResponseWriter, r *http.Request, s *Session) {
		q := r.URL.Query()
		if c := ownCentre(s.P); c != "" && transplant.PersonalExport(list) {
			q.Set("centre_id", c)
		}
		req, err := t.svc.Export(s.P, list, q)
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		s.Export(w, r, req)
	}
}

func (t *transplantPages) donors(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showDonors(w, r, s, nil)
}

func (t *transplantPages) showDonors(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	ctx := r.Context()
	pg := s.View(r, "Donors")
	f, fref := listFilter(r, s.P, page.Lists, transplant.DonorFilters)
	ds, err := listed(r, s, pg, &ref, f, fref, transplant.ListFilter{CentreID: ownCentre(s.P)}, t.svc.Donors)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	names, opts, err := centreChoices(ctx, t.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg.Data = donorsData{Donors: ds.Items, Centres: names, Own: ownCentre(s.P) != "", CanRecord: s.P.Can(transplant.Record),
		Next: nextPage(r, ds.Next), CentreOpt: opts, Downloads: downloads(r, s.P, transplant.ListDonors), Duplicates: duplicatesOf(ref)}
	s.Show(w, r, "donors", pg, ref)
}

func donorInput(v url.Values) (transplant.NewDonor, error) {
	in := transplant.NewDonor{Kind: v.Get("kind"), Name: v.Get("name"), NationalID: v.Get("national_id"), Sex: v.Get("sex"),
		BloodGroup: v.Get("blood_group"), DateOfBirth: strings.TrimSpace(v.Get("date_of_birth")), CauseOfDeath: v.Get("cause_of_death"),
		DateOfDeath: strings.TrimSpace(v.Get("date_of_death")), IVDrugUse: v.Get("iv_drug_use"), Malignancy: v.Get("malignancy"),
		TransmissibleDisease: v.Get("transmissible_disease"), HIV: v.Get("hiv"), HCV: v.Get("hcv"), HBV: v.Get("hbv"),
		OrganFunction: v.Get("organ_function"), DuplicateOf: strings.TrimSpace(v.Get("duplicate_of")), NotDuplicateReason: v.Get("not_duplicate_reason")}
	var err error
	if in.EstimatedAge, err = optInt(v, "estimated_age"); err != nil {
		return in, err
	}
	if in.WeightKg, err = optInt(v, "weight_kg"); err != nil {
		return in, err
	}
	if in.HeightCm, err = optInt(v, "height_cm"); err != nil {
		return in, err
	}
	return in, nil
}

func (t *transplantPages) registerDonor(w http.ResponseWriter, r *http.Request, s *Session) {
	in, err := donorInput(r.PostForm)
	var d *transplant.Donor
	if err == nil {
		d, err = t.svc.RegisterDonor(r.Context(), s.P, in)
	}
	if err != nil {
		t.showDonors(w, r, s, &Refusal{Form: "donor", Values: r.PostForm, Err: err})
		return
	}
	s.RedirectDone(w, r, "/transplant/donors/"+d.ID, url.Values{"done": {"donor"}})
}

// ---- One donor: consent and procurement ----

type donorData struct {
	Donor     *transplant.Donor
	Consents  []transplant.Consent
	Organs    []transplant.TraceOrgan
	Centres   map[string]string
	CanRecord bool // the principal records for the donor's centre
	CanOpen   bool // the principal may open the donor's personal data
	Organ     []string
	Rights    subjectRights
}

var donorFlash = map[string]string{
	"donor":       i18n.M("Donor registered. Record the consent or authorization of donation next."),
	"consent":     i18n.M("Consent recorded."),
	"procurement": i18n.M("Procurement recorded: each organ has its identifier below."),
}

func (t *transplantPages) donor(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showDonor(w, r, s, nil)
}

func (t *transplantPages) showDonor(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	ctx := r.Context()
	id := r.PathValue("id")
	d, err := t.svc.Donor(ctx, s.P, id)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	cs, err := t.svc.Consents(ctx, s.P, d.ID)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	tr, err := t.svc.TraceDonor(ctx, s.P, d.ID)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	names, err := authorityNames(ctx, t.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Donor")
	pg.Title = s.T("Donor %s", d.ID)
	data := donorData{Donor: d, Consents: cs, Centres: names, Organ: transplant.OrganTypes,
		CanRecord: s.P.Can(transplant.Record) && s.P.AuthorityID == d.CentreID, CanOpen: canOpen(s.P, d.CentreID)}
	if len(tr.Donors) == 1 {
		data.Organs = tr.Donors[0].Organs
	}
	if data.Rights, err = t.rightsOf(ctx, s.P, d.ID, d.CentreID); err != nil {
		s.Fail(w, r, err)
		return
	}
	pg.Data = data
	// The notice is this donor's page's: the donor is the one just read.
	done := s.Notice(r).Get("done")
	pg.Flash = s.T(cmp.Or(donorFlash[done], rightsFlash[done]))
	kind := transplant.ConsentFamily
	if d.Kind == transplant.DonorLiving {
		kind = transplant.ConsentLiving
	}
	pg.SetForm("consent", url.Values{"kind": {kind}, "given_on": {today(s.Now())}})
	pg.SetForm("procurement", url.Values{"procured_at": {nowLocal(s)}})
	s.Show(w, r, "donor", pg, ref)
}

func (t *transplantPages) recordConsent(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	in := transplant.NewConsent{Kind: v.Get("kind"), GivenOn: strings.TrimSpace(v.Get("given_on")), AssessedBy: v.Get("assessed_by"),
		AssessorIndependent: checked(v, "assessor_independent"), Voluntary: checked(v, "voluntary"), Informed: checked(v, "informed")}
	id := r.PathValue("id")
	if _, err := t.svc.RecordConsent(r.Context(), s.P, id, in); err != nil {
		t.showDonor(w, r, s, &Refusal{Form: "consent", Values: v, Err: err, Highlight: minorOnDay(err, "given_on")})
		return
	}
	s.RedirectDone(w, r, "/transplant/donors/"+id, url.Values{"done": {"consent"}})
}

// minorOnDay is the input that shows a refusal of a living minor
// (living_donor_minor), which the registry names at donor_id, the donor of
// the page, which the consent and procurement forms have no input for: the
// day (day, the form's input) on which the donor is under 18, the one thing
// on the form the refusal turns on. "" for any other refusal: its own field.
func minorOnDay(err error, day string) string {
	if e, ok := errs.As(err); ok && e.Rule == "living_donor_minor" {
		return day
	}
	return ""
}

// procurementOrgans lists the organs of the procurement form: count_<organ>
// inputs, in the order of transplant.OrganTypes.
func procurementOrgans(v url.Values) ([]string, error) {
	var organs []string
	for _, o := range transplant.OrganTypes {
		name := "count_" + o
		s := strings.TrimSpace(v.Get(name))
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 10 {
			return nil, errs.Invalidf("organ_count", name, "the number of %s organs must be a whole number from 0 to 10", o)
		}
		for range n {
			organs = append(organs, o)
		}
	}
	return organs, nil
}

func (t *transplantPages) recordProcurement(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	id := r.PathValue("id")
	organs, err := procurementOrgans(v)
	var at string
	if err == nil {
		at, err = localTime(s, "procured_at", v.Get("procured_at"))
	}
	if err == nil {
		_, err = t.svc.RecordProcurement(r.Context(), s.P, transplant.NewProcurement{DonorID: id, ProcuredAt: at, Organs: organs})
	}
	if err != nil {
		ref := &Refusal{Form: "procurement", Values: v, Err: err, Highlight: minorOnDay(err, "procured_at")}
		// The registry names organs[i]; the form has one count per organ type.
		if e, ok := errs.As(err); ok && strings.HasPrefix(e.Field, "organs[") {
			if i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(e.Field, "organs["), "]")); err == nil && i >= 0 && i < len(organs) {
				ref.Highlight = "count_" + organs[i]
			}
		}
		t.showDonor(w, r, s, ref)
		return
	}
	s.RedirectDone(w, r, "/transplant/donors/"+id, url.Values{"done": {"procurement"}})
}

// ---- Recipients ----

type recipientsData struct {
	Recipients []transplant.Recipient
	Centres    map[string]string
	Own        bool
	CanRecord  bool
	Next       string
	CentreOpt  []Option
	Downloads  []Link
	Duplicates []transplant.PersonMatch // as donorsData's
}

func (t *transplantPages) recipients(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showRecipients(w, r, s, nil)
}

func (t *transplantPages) showRecipients(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	ctx := r.Context()
	pg := s.View(r, "Recipients")
	f, fref := listFilter(r, s.P, page.Lists, transplant.RecipientFilters)
	rs, err := listed(r, s, pg, &ref, f, fref, transplant.ListFilter{CentreID: ownCentre(s.P)}, t.svc.Recipients)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	names, opts, err := centreChoices(ctx, t.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg.Data = recipientsData{Recipients: rs.Items, Centres: names, Own: ownCentre(s.P) != "", CanRecord: s.P.Can(transplant.Record),
		Next: nextPage(r, rs.Next), CentreOpt: opts, Downloads: downloads(r, s.P, transplant.ListRecipients),
		Duplicates: duplicatesOf(ref)}
	if n := s.Notice(r); n.Get("done") == "recipient" {
		// the recipient the notice names, if the reader may still read them
		if rc, err := t.svc.Recipient(ctx, s.P, n.Get("id")); err == nil {
			pg.Flash = s.T("Recipient %s is on the waiting list.", rc.ID)
		}
	}
	j, err := t.svc.Jurisdiction(ctx)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg.SetForm("recipient", url.Values{"residence": {j}, "listed_on": {today(s.Now())}})
	s.Show(w, r, "recipients", pg, ref)
}

func (t *transplantPages) registerRecipient(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	in := transplant.NewRecipient{Name: v.Get("name"), NationalID: v.Get("national_id"), Sex: v.Get("sex"), BloodGroup: v.Get("blood_group"),
		DateOfBirth: strings.TrimSpace(v.Get("date_of_birth")), Residence: strings.ToUpper(strings.TrimSpace(v.Get("residence"))),
		OrganNeeded: v.Get("organ_needed"), ListedOn: strings.TrimSpace(v.Get("listed_on")),
		DuplicateOf: strings.TrimSpace(v.Get("duplicate_of")), NotDuplicateReason: v.Get("not_duplicate_reason")}
	rc, err := t.svc.RegisterRecipient(r.Context(), s.P, in)
	if err != nil {
		t.showRecipients(w, r, s, &Refusal{Form: "recipient", Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/transplant/recipients", url.Values{"done": {"recipient"}, "id": {rc.ID}})
}

// ---- One recipient ----

type recipientData struct {
	Recipient *transplant.Recipient
	Centres   map[string]string
	CanOpen   bool // the principal may open the recipient's personal data
	Rights    subjectRights
}

func (t *transplantPages) recipient(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showRecipient(w, r, s, nil)
}

func (t *transplantPages) showRecipient(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	ctx := r.Context()
	rc, err := t.svc.Recipient(ctx, s.P, r.PathValue("id"))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	names, err := authorityNames(ctx, t.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Recipient")
	pg.Title = s.T("Recipient %s", rc.ID)
	rights, err := t.rightsOf(ctx, s.P, rc.ID, rc.CentreID)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg.Data = recipientData{Recipient: rc, Centres: names, CanOpen: canOpen(s.P, rc.CentreID), Rights: rights}
	if f := rightsFlash[s.Notice(r).Get("done")]; f != "" {
		pg.Flash = s.T(f)
	}
	s.Show(w, r, "recipient", pg, ref)
}

// ---- Organs available: authorize, then transplant ----

// waiting lists the recipients of p's centre who wait for an organ, for the
// forms that choose one: the newest page.Lists.Max of them.
func (t *transplantPages) waiting(ctx context.Context, p *auth.Principal) (page.Of[transplant.Recipient], error) {
	return t.svc.Recipients(ctx, p, transplant.ListFilter{CentreID: p.AuthorityID, Status: "waiting", Request: page.Request{Limit: page.Lists.Max}})
}

type organRow struct {
	ID         string
	Organ      string
	DonorID    string
	ProcuredAt string
	Recipients []Option // the principal's centre's recipients waiting for this organ type
	Pending    []transplant.TransplantAuthorization
}

type organsData struct {
	Organs    []organRow
	Centres   map[string]string
	CanRecord bool
	Centre    string // the principal's centre
	Next      string
	CentreOpt []Option
	Downloads []Link
}

func (t *transplantPages) organs(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showOrgans(w, r, s, nil)
}

func (t *transplantPages) showOrgans(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	ctx := r.Context()
	pg := s.View(r, "Organs available")
	var fref *Refusal
	f, err := transplant.FilterOf(r.URL.Query(), page.Lists, transplant.OrganFilters)
	if err != nil {
		fref = &Refusal{Form: "filter", Values: r.URL.Query(), Err: err}
	}
	os, err := listed(r, s, pg, &ref, f, fref, transplant.ListFilter{}, t.svc.AvailableOrgans)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	names, opts, err := centreChoices(ctx, t.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	as, err := t.svc.PendingAuthorizations(ctx, s.P, transplant.ListFilter{Request: page.Request{Limit: transplant.PendingSize.Max}})
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pending := map[string][]transplant.TransplantAuthorization{}
	for _, a := range as.Items {
		pending[a.OrganID] = append(pending[a.OrganID], a)
	}
	canRecord := s.P.Can(transplant.Record)
	waiting := map[string][]Option{}
	if canRecord {
		rs, err := t.waiting(ctx, s.P)
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		for _, rc := range rs.Items {
			waiting[rc.OrganNeeded] = append(waiting[rc.OrganNeeded], Option{Value: rc.ID,
				Label: s.T("%s · blood group %s · listed %s", rc.ID, rc.BloodGroup, rc.ListedOn)})
		}
	}
	data := organsData{Centres: names, CanRecord: canRecord, Centre: s.P.AuthorityID, Next: nextPage(r, os.Next), CentreOpt: opts,
		Downloads: downloads(r, s.P, transplant.ListOrgans)}
	for _, o := range os.Items {
		row := organRow{ID: o.ID, Organ: o.Organ, DonorID: o.DonorID, ProcuredAt: o.ProcuredAt, Recipients: waiting[o.Organ], Pending: pending[o.ID]}
		data.Organs = append(data.Organs, row)
		pg.SetForm("authorize-"+o.ID, url.Values{"organ_id": {o.ID}, "authorized_by": {s.P.Name}})
	}
	pg.Data = data
	s.Show(w, r, "organs", pg, ref)
}

func (t *transplantPages) authorizeTransplant(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	in := transplant.NewTransplantAuthorization{OrganID: v.Get("organ_id"), RecipientID: strings.TrimSpace(v.Get("recipient_id")),
		AuthorizedBy: v.Get("authorized_by"), CompatibilityDocumented: checked(v, "compatibility_documented"),
		ConsentVerified: checked(v, "consent_verified"), NoPaymentDeclared: checked(v, "no_payment_declared")}
	a, err := t.svc.AuthorizeTransplant(r.Context(), s.P, in)
	if err != nil {
		t.showOrgans(w, r, s, &Refusal{Form: "authorize-" + v.Get("organ_id"), Values: v, Err: err})
		return
	}
	// The form's values are the page's query; what was authorized, the
	// notice's.
	s.RedirectDone(w, r, "/transplant/transplants/new?"+url.Values{"organ_id": {a.OrganID}, "recipient_id": {a.RecipientID},
		"authorization_id": {a.ID}}.Encode(), url.Values{"done": {"authorized"}, "id": {a.ID}})
}

type transplantData struct {
	Organ      *transplant.Organ // the organ the form is about, when its identifier is known
	Recipients []Option
}

func (t *transplantPages) transplantForm(w http.ResponseWriter, r *http.Request, s *Session) {
	q := r.URL.Query()
	vals := url.Values{"performed_at": {nowLocal(s)}}
	for _, k := range []string{"organ_id", "recipient_id", "authorization_id"} {
		vals.Set(k, q.Get(k))
	}
	t.showTransplant(w, r, s, vals, nil)
}

func (t *transplantPages) showTransplant(w http.ResponseWriter, r *http.Request, s *Session, vals url.Values, ref *Refusal) {
	ctx := r.Context()
	if err := s.P.Require(transplant.Record); err != nil {
		s.Fail(w, r, err)
		return
	}
	var data transplantData
	if id := strings.TrimSpace(vals.Get("organ_id")); id != "" {
		// An identifier mistyped or unknown is the form's to refuse when it
		// is posted; until then the form is about no organ in particular.
		switch o, err := t.svc.Organ(ctx, s.P, id); {
		case err == nil:
			data.Organ = o
		case errs.CodeOf(err) == errs.Internal:
			s.Fail(w, r, err)
			return
		}
	}
	rs, err := t.waiting(ctx, s.P)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	for _, rc := range rs.Items {
		if data.Organ != nil && rc.OrganNeeded != data.Organ.Organ {
			continue
		}
		data.Recipients = append(data.Recipients, Option{Value: rc.ID,
			Label: s.T("%s, blood group %s", s.T(labelOf(transplantLabels, rc.OrganNeeded)), rc.BloodGroup)})
	}
	pg := s.View(r, "Record transplantation")
	pg.Data = data
	if n := s.Notice(r); n.Get("done") == "authorized" && n.Get("id") != "" {
		// the authorization the notice names, still pending as the registry
		// holds it now
		if as, err := t.svc.PendingAuthorizations(ctx, s.P, transplant.ListFilter{ID: n.Get("id")}); err == nil && len(as.Items) == 1 {
			pg.Flash = s.T("Transplantation authorized (%s). Record it below once it is performed.", as.Items[0].ID)
		}
	}
	pg.SetForm("transplant", vals)
	s.Show(w, r, "transplant", pg, ref)
}

func (t *transplantPages) recordTransplant(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	at, err := localTime(s, "performed_at", v.Get("performed_at"))
	var done *transplant.Transplant
	if err == nil {
		done, err = t.svc.RecordTransplant(r.Context(), s.P, transplant.NewTransplant{OrganID: v.Get("organ_id"),
			RecipientID: strings.ToUpper(strings.TrimSpace(v.Get("recipient_id"))), PerformedAt: at,
			AuthorizationID: strings.TrimSpace(v.Get("authorization_id"))})
	}
	if err != nil {
		t.showTransplant(w, r, s, v, &Refusal{Form: "transplant", Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/transplant/trace?"+url.Values{"q": {done.OrganID}}.Encode(), url.Values{"done": {"transplant"}, "id": {done.OrganID}})
}

// ---- Trace ----

type traceData struct {
	Q       string
	Trace   *transplant.Trace
	Centres map[string]string
	People  people // who recorded the hand-offs and assigned the imports (who)
}

// traceQuery runs the trace a search asks for: a donor id (DN-...), a
// recipient id (RC-...), an organ identifier or a donation number (its
// first ten characters, XA-26-000123), in any case, with spaces.
func (t *transplantPages) traceQuery(ctx context.Context, p *auth.Principal, q string) (*transplant.Trace, error) {
	compact := strings.ToUpper(strings.Join(strings.Fields(q), ""))
	switch {
	case strings.HasPrefix(compact, "DN-"):
		return t.svc.TraceDonor(ctx, p, compact)
	case strings.HasPrefix(compact, "RC-"):
		return t.svc.TraceRecipient(ctx, p, compact)
	}
	if _, err := transplant.ParseDonation(q); err == nil {
		return t.svc.TraceDonation(ctx, p, q)
	}
	return t.svc.TraceOrgan(ctx, p, q)
}

func (t *transplantPages) trace(w http.ResponseWriter, r *http.Request, s *Session) {
	ctx := r.Context()
	// Whoever may not read the registry is refused the page, not shown an
	// empty search (a payer sees nothing but the payer check).
	if err := s.P.Require(transplant.Read); err != nil {
		s.Fail(w, r, err)
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	names, err := authorityNames(ctx, t.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Trace")
	data := traceData{Q: q, Centres: names}
	pg.SetForm("trace", url.Values{"q": {q}})
	var ref *Refusal
	if q != "" {
		tr, err := t.traceQuery(ctx, s.P, q)
		if err != nil {
			ref = &Refusal{Form: "trace", Values: url.Values{"q": {q}}, Err: err, Highlight: "q"}
		} else {
			data.Trace = tr
			pg.Title = s.T("Trace %s", tr.ID)
			var ids []string
			for _, d := range tr.Donors {
				for _, o := range d.Organs {
					ids = append(ids, recorders(o.Custody)...)
				}
			}
			if data.People, err = principalNames(ctx, t.svc.DB.Read(), s.P, append(ids, assigners(tr.Imported)...)...); err != nil {
				s.Fail(w, r, err)
				return
			}
		}
	}
	// the organ the notice names, as the trace the reader searched shows it
	if n := s.Notice(r); n.Get("id") == q && data.Trace != nil {
		switch n.Get("done") {
		case "transplant":
			pg.Flash = s.T("Transplantation recorded.")
		case "disposition":
			pg.Flash = s.T("Final disposition recorded.")
		case "procedure":
			if organs := procedureOrgans(data.Trace, n.Get("procedure")); organs > 0 {
				pg.Flash = s.l.N("Procedure %[2]s recorded: %[1]d organ(s) transplanted.", organs, n.Get("procedure"))
			}
		}
	}
	pg.Data = data
	s.Show(w, r, "trace", pg, ref)
}

// procedureOrgans counts the organs of tr transplanted in procedure id: the
// procedure a notice names, as the trace the reader searched shows it (none
// when it shows no such procedure).
func procedureOrgans(tr *transplant.Trace, id string) int {
	n := 0
	for _, d := range tr.Donors {
		for _, o := range d.Organs {
			if o.Transplant != nil && o.Transplant.Procedure != nil && id != "" && o.Transplant.Procedure.ID == id {
				n++
			}
		}
	}
	return n
}

// ---- Centres (regulator) ----

type centreView struct {
	Centre         auth.Authority
	Authorizations []transplant.CentreAuthorization
}

type centresData struct {
	Centres     []centreView
	CanGrant    bool
	CanRegister bool // the principal registers centres
	// ValidFromMax and ValidToMax are the last days an authorization
	// granted today may start and end (transplant.AuthorizationBounds).
	ValidFromMax, ValidToMax string
}

var centresFlash = map[string]string{
	"grant":  i18n.M("Authorization granted."),
	"revoke": i18n.M("Authorization revoked."),
	"centre": i18n.M("Centre registered. It holds no authorization until the regulator grants one."),
}

func (t *transplantPages) centres(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showCentres(w, r, s, nil)
}

func (t *transplantPages) showCentres(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	ctx := r.Context()
	if err := s.P.Require(transplant.Read); err != nil {
		s.Fail(w, r, err)
		return
	}
	cs, err := auth.ListAuthorities(ctx, t.svc.DB.Read(), transplant.KindCentre)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Centres")
	data := centresData{CanGrant: s.P.Can(transplant.AuthorizeCentres), CanRegister: s.P.Can(auth.ManageAuthorities)}
	data.ValidFromMax, data.ValidToMax = transplant.AuthorizationBounds(s.Now())
	for _, c := range cs {
		as, err := t.svc.CentreAuthorizations(ctx, s.P, c.ID)
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		data.Centres = append(data.Centres, centreView{Centre: c, Authorizations: as})
		pg.SetForm("grant-"+c.ID, url.Values{"valid_from": {today(s.Now())}})
	}
	pg.Data = data
	// the centre the notice names, among those listed
	if n := s.Notice(r); centresFlash[n.Get("done")] != "" {
		for _, c := range cs {
			if c.ID == n.Get("id") {
				pg.Flash = s.T(centresFlash[n.Get("done")])
			}
		}
	}
	s.Show(w, r, "centres", pg, ref)
}

func (t *transplantPages) grantCentre(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	id := r.PathValue("id")
	in := transplant.NewCentreAuthorization{Activity: v.Get("activity"), Organ: v.Get("organ"),
		ValidFrom: strings.TrimSpace(v.Get("valid_from")), ValidTo: strings.TrimSpace(v.Get("valid_to"))}
	if _, err := t.svc.AuthorizeCentre(r.Context(), s.P, id, in); err != nil {
		t.showCentres(w, r, s, &Refusal{Form: "grant-" + id, Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/transplant/centres#centre-"+url.PathEscape(id), url.Values{"done": {"grant"}, "id": {id}})
}

func (t *transplantPages) revokeCentre(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	id, aid := r.PathValue("id"), r.PathValue("aid")
	if _, err := t.svc.RevokeCentreAuthorization(r.Context(), s.P, id, aid, v.Get("reason")); err != nil {
		t.showCentres(w, r, s, &Refusal{Form: "revoke-" + aid, Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/transplant/centres#centre-"+url.PathEscape(id), url.Values{"done": {"revoke"}, "id": {id}})
}

// ---- Centres (administrator): register ----

func (t *transplantPages) registerCentre(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	a, err := t.createCentre(r, s, v)
	if err != nil {
		t.showCentres(w, r, s, &Refusal{Form: "centre", Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/transplant/centres#centre-"+url.PathEscape(a.ID), url.Values{"done": {"centre"}, "id": {a.ID}})
}

// createCentre creates a transplant centre in the registry's jurisdiction,
// as POST /api/v1/centres does.
func (t *transplantPages) createCentre(r *http.Request, s *Session, v url.Values) (*auth.Authority, error) {
	return t.authorities.CreateAuthority(r.Context(), s.P, auth.NewAuthority{Name: v.Get("name"), City: v.Get("city"), Kind: transplant.KindCentre})
}
