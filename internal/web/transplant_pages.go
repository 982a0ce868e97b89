package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/transplant"
)

// ---- Organ donation and transplantation (resolution VI): the section's pages ----

// ownCentre is the centre whose records a coordinator's lists show; empty
// (all centres) for every other role.
func ownCentre(p *auth.Principal) string {
	if p.Role == auth.Coordinator {
		return p.AuthorityID
	}
	return ""
}

// canOpen tells whether p may open the personal data of a donor or recipient
// of centre: a coordinator of that centre, or the regulator. The registry
// decides again when the form is posted.
func canOpen(p *auth.Principal, centre string) bool {
	return p.Can(auth.ReadPersonalData) && (p.Role != auth.Coordinator || p.AuthorityID == centre)
}

// ---- Donors ----

type donorsData struct {
	Donors    []transplant.Donor
	Centres   map[string]string
	Own       bool
	CanRecord bool
}

func (t *transplantPages) donors(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showDonors(w, r, s, nil)
}

func (t *transplantPages) showDonors(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	ctx := r.Context()
	ds, err := t.svc.Donors(ctx, s.P, transplant.ListFilter{CentreID: ownCentre(s.P), Limit: 200})
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	names, err := authorityNames(ctx, t.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Donors")
	pg.Data = donorsData{Donors: ds, Centres: names, Own: ownCentre(s.P) != "", CanRecord: s.P.Can(auth.Record)}
	s.Show(w, r, "donors", pg, ref)
}

func donorInput(v url.Values) (transplant.NewDonor, error) {
	in := transplant.NewDonor{Kind: v.Get("kind"), Name: v.Get("name"), NationalID: v.Get("national_id"), Sex: v.Get("sex"),
		BloodGroup: v.Get("blood_group"), DateOfBirth: strings.TrimSpace(v.Get("date_of_birth")), CauseOfDeath: v.Get("cause_of_death"),
		DateOfDeath: strings.TrimSpace(v.Get("date_of_death")), IVDrugUse: v.Get("iv_drug_use"), Malignancy: v.Get("malignancy"),
		TransmissibleDisease: v.Get("transmissible_disease"), HIV: v.Get("hiv"), HCV: v.Get("hcv"), HBV: v.Get("hbv"),
		OrganFunction: v.Get("organ_function")}
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
	Redirect(w, r, "/transplant/donors/"+d.ID, url.Values{"done": {"donor"}})
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
}

var donorFlash = map[string]string{
	"donor":       "Donor registered. Record the consent or authorization of donation next.",
	"consent":     "Consent recorded.",
	"procurement": "Procurement recorded: each organ has its identifier below.",
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
	pg := s.View(r, "Donor "+d.ID)
	data := donorData{Donor: d, Consents: cs, Centres: names, Organ: transplant.OrganTypes,
		CanRecord: s.P.Can(auth.Record) && s.P.AuthorityID == d.CentreID, CanOpen: canOpen(s.P, d.CentreID)}
	if len(tr.Donors) == 1 {
		data.Organs = tr.Donors[0].Organs
	}
	pg.Data = data
	pg.Flash = donorFlash[r.URL.Query().Get("done")]
	kind := transplant.ConsentFamily
	if d.Kind == transplant.DonorLiving {
		kind = transplant.ConsentLiving
	}
	pg.SetForm("consent", url.Values{"kind": {kind}, "given_on": {today()}})
	pg.SetForm("procurement", url.Values{"procured_at": {nowLocal()}})
	s.Show(w, r, "donor", pg, ref)
}

func (t *transplantPages) recordConsent(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	in := transplant.NewConsent{Kind: v.Get("kind"), GivenOn: strings.TrimSpace(v.Get("given_on")), AssessedBy: v.Get("assessed_by"),
		AssessorIndependent: checked(v, "assessor_independent"), Voluntary: checked(v, "voluntary"), Informed: checked(v, "informed")}
	id := r.PathValue("id")
	if _, err := t.svc.RecordConsent(r.Context(), s.P, id, in); err != nil {
		t.showDonor(w, r, s, &Refusal{Form: "consent", Values: v, Err: err})
		return
	}
	Redirect(w, r, "/transplant/donors/"+id, url.Values{"done": {"consent"}})
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
		at, err = localTime("procured_at", v.Get("procured_at"))
	}
	if err == nil {
		_, err = t.svc.RecordProcurement(r.Context(), s.P, transplant.NewProcurement{DonorID: id, ProcuredAt: at, Organs: organs})
	}
	if err != nil {
		ref := &Refusal{Form: "procurement", Values: v, Err: err}
		// The registry names organs[i]; the form has one count per organ type.
		if e, ok := errs.As(err); ok && strings.HasPrefix(e.Field, "organs[") {
			if i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(e.Field, "organs["), "]")); err == nil && i >= 0 && i < len(organs) {
				ref.Highlight = "count_" + organs[i]
			}
		}
		t.showDonor(w, r, s, ref)
		return
	}
	Redirect(w, r, "/transplant/donors/"+id, url.Values{"done": {"procurement"}})
}

// ---- Recipients ----

type recipientsData struct {
	Recipients []transplant.Recipient
	Centres    map[string]string
	Own        bool
	CanRecord  bool
}

func (t *transplantPages) recipients(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showRecipients(w, r, s, nil)
}

func (t *transplantPages) showRecipients(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	ctx := r.Context()
	rs, err := t.svc.Recipients(ctx, s.P, transplant.ListFilter{CentreID: ownCentre(s.P), Limit: 200})
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	names, err := authorityNames(ctx, t.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Recipients")
	pg.Data = recipientsData{Recipients: rs, Centres: names, Own: ownCentre(s.P) != "", CanRecord: s.P.Can(auth.Record)}
	if q := r.URL.Query(); q.Get("done") == "recipient" && idRE.MatchString(q.Get("id")) {
		pg.Flash = "Recipient " + q.Get("id") + " is on the waiting list."
	}
	j, err := t.svc.Jurisdiction(ctx)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg.SetForm("recipient", url.Values{"residence": {j}, "listed_on": {today()}})
	s.Show(w, r, "recipients", pg, ref)
}

func (t *transplantPages) registerRecipient(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	in := transplant.NewRecipient{Name: v.Get("name"), NationalID: v.Get("national_id"), Sex: v.Get("sex"), BloodGroup: v.Get("blood_group"),
		DateOfBirth: strings.TrimSpace(v.Get("date_of_birth")), Residence: strings.ToUpper(strings.TrimSpace(v.Get("residence"))),
		OrganNeeded: v.Get("organ_needed"), ListedOn: strings.TrimSpace(v.Get("listed_on"))}
	rc, err := t.svc.RegisterRecipient(r.Context(), s.P, in)
	if err != nil {
		t.showRecipients(w, r, s, &Refusal{Form: "recipient", Values: v, Err: err})
		return
	}
	Redirect(w, r, "/transplant/recipients", url.Values{"done": {"recipient"}, "id": {rc.ID}})
}

// ---- One recipient ----

type recipientData struct {
	Recipient *transplant.Recipient
	Centres   map[string]string
	CanOpen   bool // the principal may open the recipient's personal data
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
	pg := s.View(r, "Recipient "+rc.ID)
	pg.Data = recipientData{Recipient: rc, Centres: names, CanOpen: canOpen(s.P, rc.CentreID)}
	s.Show(w, r, "recipient", pg, ref)
}

// ---- Organs available: authorize, then transplant ----

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
}

func (t *transplantPages) organs(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showOrgans(w, r, s, nil)
}

func (t *transplantPages) showOrgans(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	ctx := r.Context()
	os, err := t.svc.AvailableOrgans(ctx, s.P, 500)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	names, err := authorityNames(ctx, t.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	as, err := t.svc.PendingAuthorizations(ctx, s.P, 1000)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pending := map[string][]transplant.TransplantAuthorization{}
	for _, a := range as {
		pending[a.OrganID] = append(pending[a.OrganID], a)
	}
	canRecord := s.P.Can(auth.Record)
	waiting := map[string][]Option{}
	if canRecord {
		rs, err := t.svc.Recipients(ctx, s.P, transplant.ListFilter{CentreID: s.P.AuthorityID, Status: "waiting", Limit: 500})
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		for _, rc := range rs {
			waiting[rc.OrganNeeded] = append(waiting[rc.OrganNeeded], Option{Value: rc.ID,
				Label: rc.ID + " · blood group " + rc.BloodGroup + " · listed " + rc.ListedOn})
		}
	}
	pg := s.View(r, "Organs available")
	data := organsData{Centres: names, CanRecord: canRecord, Centre: s.P.AuthorityID}
	for _, o := range os {
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
	Redirect(w, r, "/transplant/transplants/new", url.Values{"organ_id": {a.OrganID}, "recipient_id": {a.RecipientID},
		"authorization_id": {a.ID}, "done": {"authorized"}})
}

type transplantData struct {
	Organ      *transplant.Organ // the organ the form is about, when its identifier is known
	Recipients []Option
}

func (t *transplantPages) transplantForm(w http.ResponseWriter, r *http.Request, s *Session) {
	q := r.URL.Query()
	vals := url.Values{"performed_at": {nowLocal()}}
	for _, k := range []string{"organ_id", "recipient_id", "authorization_id"} {
		vals.Set(k, q.Get(k))
	}
	t.showTransplant(w, r, s, vals, nil)
}

func (t *transplantPages) showTransplant(w http.ResponseWriter, r *http.Request, s *Session, vals url.Values, ref *Refusal) {
	ctx := r.Context()
	if err := s.P.Require(auth.Record); err != nil {
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
	rs, err := t.svc.Recipients(ctx, s.P, transplant.ListFilter{CentreID: s.P.AuthorityID, Status: "waiting", Limit: 500})
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	for _, rc := range rs {
		if data.Organ != nil && rc.OrganNeeded != data.Organ.Organ {
			continue
		}
		data.Recipients = append(data.Recipients, Option{Value: rc.ID, Label: labelOf(transplantLabels, rc.OrganNeeded) + ", blood group " + rc.BloodGroup})
	}
	pg := s.View(r, "Record transplantation")
	pg.Data = data
	if q := r.URL.Query(); q.Get("done") == "authorized" && idRE.MatchString(q.Get("authorization_id")) {
		pg.Flash = "Transplantation authorized (" + q.Get("authorization_id") + "). Record it below once it is performed."
	}
	pg.SetForm("transplant", vals)
	s.Show(w, r, "transplant", pg, ref)
}

func (t *transplantPages) recordTransplant(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	at, err := localTime("performed_at", v.Get("performed_at"))
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
	Redirect(w, r, "/transplant/trace", url.Values{"q": {done.OrganID}, "done": {"transplant"}})
}

// ---- Trace ----

type traceData struct {
	Q       string
	Trace   *transplant.Trace
	Centres map[string]string
}

// traceQuery runs the trace a search asks for: a donor id (DN-...), a
// recipient id (RC-...) or an organ identifier, in any case, with spaces.
func (t *transplantPages) traceQuery(ctx context.Context, p *auth.Principal, q string) (*transplant.Trace, error) {
	compact := strings.ToUpper(strings.Join(strings.Fields(q), ""))
	switch {
	case strings.HasPrefix(compact, "DN-"):
		return t.svc.TraceDonor(ctx, p, compact)
	case strings.HasPrefix(compact, "RC-"):
		return t.svc.TraceRecipient(ctx, p, compact)
	}
	return t.svc.TraceOrgan(ctx, p, q)
}

func (t *transplantPages) trace(w http.ResponseWriter, r *http.Request, s *Session) {
	ctx := r.Context()
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
			pg.Title = "Trace " + tr.ID
		}
	}
	if r.URL.Query().Get("done") == "transplant" && data.Trace != nil {
		pg.Flash = "Transplantation recorded."
	}
	pg.Data = data
	s.Show(w, r, "trace", pg, ref)
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
}

var centresFlash = map[string]string{
	"grant":  "Authorization granted.",
	"revoke": "Authorization revoked.",
	"centre": "Centre registered. It holds no authorization until the regulator grants one.",
}

func (t *transplantPages) centres(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showCentres(w, r, s, nil)
}

func (t *transplantPages) showCentres(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	ctx := r.Context()
	if err := s.P.Require(auth.Read); err != nil {
		s.Fail(w, r, err)
		return
	}
	cs, err := auth.ListAuthorities(ctx, t.svc.DB.Read(), auth.KindCentre)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Centres")
	data := centresData{CanGrant: s.P.Can(auth.AuthorizeCentres), CanRegister: s.P.Can(auth.ManageAuthorities)}
	for _, c := range cs {
		as, err := t.svc.CentreAuthorizations(ctx, s.P, c.ID)
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		data.Centres = append(data.Centres, centreView{Centre: c, Authorizations: as})
		pg.SetForm("grant-"+c.ID, url.Values{"valid_from": {today()}})
	}
	pg.Data = data
	pg.Flash = centresFlash[r.URL.Query().Get("done")]
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
	http.Redirect(w, r, "/transplant/centres?done=grant#centre-"+url.PathEscape(id), http.StatusSeeOther)
}

func (t *transplantPages) revokeCentre(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	id, aid := r.PathValue("id"), r.PathValue("aid")
	if _, err := t.svc.RevokeCentreAuthorization(r.Context(), s.P, id, aid, v.Get("reason")); err != nil {
		t.showCentres(w, r, s, &Refusal{Form: "revoke-" + aid, Values: v, Err: err})
		return
	}
	http.Redirect(w, r, "/transplant/centres?done=revoke#centre-"+url.PathEscape(id), http.StatusSeeOther)
}

// ---- Centres (administrator): register ----

func (t *transplantPages) registerCentre(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	a, err := t.createCentre(r, s, v)
	if err != nil {
		t.showCentres(w, r, s, &Refusal{Form: "centre", Values: v, Err: err})
		return
	}
	http.Redirect(w, r, "/transplant/centres?done=centre#centre-"+url.PathEscape(a.ID), http.StatusSeeOther)
}

// createCentre creates a transplant centre in the registry's jurisdiction,
// as POST /api/v1/centres does.
func (t *transplantPages) createCentre(r *http.Request, s *Session, v url.Values) (*auth.Authority, error) {
	return t.authorities.CreateAuthority(r.Context(), s.P, auth.NewAuthority{Name: v.Get("name"), City: v.Get("city"), Kind: auth.KindCentre})
}
