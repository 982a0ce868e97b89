package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/transplant"
)

// idRE is how record ids look (DN-7K2M9QX4AB); flash messages show only ids
// that match it.
var idRE = regexp.MustCompile(`^[A-Z]{2}-[0-9A-Z]{10}$`)

// ownCentre is the centre whose records a coordinator's lists show; empty
// (all centres) for every other role.
func ownCentre(p *auth.Principal) string {
	if p.Role == auth.Coordinator {
		return p.AuthorityID
	}
	return ""
}

// centreNames maps authority ids to names.
func (u *UI) centreNames(ctx context.Context) (map[string]string, error) {
	as, err := auth.ListAuthorities(ctx, u.DB.Read(), "")
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(as))
	for _, a := range as {
		m[a.ID] = a.Name
	}
	return m, nil
}

// canOpen tells whether p may open the personal data of a donor or recipient
// of centre: a coordinator of that centre, or the regulator. The registry
// decides again when the form is posted.
func canOpen(p *auth.Principal, centre string) bool {
	return p.Can(auth.ReadPersonalData) && (p.Role != auth.Coordinator || p.AuthorityID == centre)
}

func optInt(v url.Values, name string) (*int, error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, errs.Invalidf("integer", name, "%s must be a whole number", name)
	}
	return &n, nil
}

// localTime reads a datetime-local value, taken as UTC, and writes it in RFC
// 3339. An empty value stays empty, for the registry to refuse as required.
func localTime(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format(time.RFC3339), nil
		}
	}
	return "", errs.Invalidf("time_format", field, "%s must be a date and time in UTC, such as 2026-03-01T14:30", field)
}

// ---- Donors ----

type donorsData struct {
	Donors    []transplant.Donor
	Centres   map[string]string
	Own       bool
	CanRecord bool
}

func (u *UI) donors(w http.ResponseWriter, r *http.Request, s *session) { u.showDonors(w, r, s, nil) }

func (u *UI) showDonors(w http.ResponseWriter, r *http.Request, s *session, ref *refusal) {
	ctx := r.Context()
	ds, err := u.Transplant.Donors(ctx, s.P, transplant.ListFilter{CentreID: ownCentre(s.P), Limit: 200})
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	names, err := u.centreNames(ctx)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	pg := u.newPage(r, s, "Donors")
	pg.Data = donorsData{Donors: ds, Centres: names, Own: ownCentre(s.P) != "", CanRecord: s.P.Can(auth.Record)}
	u.show(w, r, "donors", pg, ref)
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

func (u *UI) registerDonor(w http.ResponseWriter, r *http.Request, s *session) {
	in, err := donorInput(r.PostForm)
	var d *transplant.Donor
	if err == nil {
		d, err = u.Transplant.RegisterDonor(r.Context(), s.P, in)
	}
	if err != nil {
		u.showDonors(w, r, s, &refusal{form: "donor", values: r.PostForm, err: err})
		return
	}
	redirect(w, r, "/donors/"+d.ID, url.Values{"done": {"donor"}})
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

func (u *UI) donor(w http.ResponseWriter, r *http.Request, s *session) { u.showDonor(w, r, s, nil) }

func (u *UI) showDonor(w http.ResponseWriter, r *http.Request, s *session, ref *refusal) {
	ctx := r.Context()
	id := r.PathValue("id")
	d, err := u.Transplant.Donor(ctx, s.P, id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	cs, err := u.Transplant.Consents(ctx, s.P, d.ID)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	tr, err := u.Transplant.TraceDonor(ctx, s.P, d.ID)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	names, err := u.centreNames(ctx)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	pg := u.newPage(r, s, "Donor "+d.ID)
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
	pg.setForm("consent", url.Values{"kind": {kind}, "given_on": {today()}})
	pg.setForm("procurement", url.Values{"procured_at": {nowLocal()}})
	u.show(w, r, "donor", pg, ref)
}

func (u *UI) recordConsent(w http.ResponseWriter, r *http.Request, s *session) {
	v := r.PostForm
	in := transplant.NewConsent{Kind: v.Get("kind"), GivenOn: strings.TrimSpace(v.Get("given_on")), AssessedBy: v.Get("assessed_by"),
		AssessorIndependent: checked(v, "assessor_independent"), Voluntary: checked(v, "voluntary"), Informed: checked(v, "informed")}
	id := r.PathValue("id")
	if _, err := u.Transplant.RecordConsent(r.Context(), s.P, id, in); err != nil {
		u.showDonor(w, r, s, &refusal{form: "consent", values: v, err: err})
		return
	}
	redirect(w, r, "/donors/"+id, url.Values{"done": {"consent"}})
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

func (u *UI) recordProcurement(w http.ResponseWriter, r *http.Request, s *session) {
	v := r.PostForm
	id := r.PathValue("id")
	organs, err := procurementOrgans(v)
	var at string
	if err == nil {
		at, err = localTime("procured_at", v.Get("procured_at"))
	}
	if err == nil {
		_, err = u.Transplant.RecordProcurement(r.Context(), s.P, transplant.NewProcurement{DonorID: id, ProcuredAt: at, Organs: organs})
	}
	if err != nil {
		ref := &refusal{form: "procurement", values: v, err: err}
		// The registry names organs[i]; the form has one count per organ type.
		if e, ok := errs.As(err); ok && strings.HasPrefix(e.Field, "organs[") {
			if i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(e.Field, "organs["), "]")); err == nil && i >= 0 && i < len(organs) {
				ref.highlight = "count_" + organs[i]
			}
		}
		u.showDonor(w, r, s, ref)
		return
	}
	redirect(w, r, "/donors/"+id, url.Values{"done": {"procurement"}})
}

// ---- Recipients ----

type recipientsData struct {
	Recipients []transplant.Recipient
	Centres    map[string]string
	Own        bool
	CanRecord  bool
}

func (u *UI) recipients(w http.ResponseWriter, r *http.Request, s *session) {
	u.showRecipients(w, r, s, nil)
}

func (u *UI) showRecipients(w http.ResponseWriter, r *http.Request, s *session, ref *refusal) {
	ctx := r.Context()
	rs, err := u.Transplant.Recipients(ctx, s.P, transplant.ListFilter{CentreID: ownCentre(s.P), Limit: 200})
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	names, err := u.centreNames(ctx)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	pg := u.newPage(r, s, "Recipients")
	pg.Data = recipientsData{Recipients: rs, Centres: names, Own: ownCentre(s.P) != "", CanRecord: s.P.Can(auth.Record)}
	if q := r.URL.Query(); q.Get("done") == "recipient" && idRE.MatchString(q.Get("id")) {
		pg.Flash = "Recipient " + q.Get("id") + " is on the waiting list."
	}
	j, err := u.Transplant.Jurisdiction(ctx)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	pg.setForm("recipient", url.Values{"residence": {j}, "listed_on": {today()}})
	u.show(w, r, "recipients", pg, ref)
}

func (u *UI) registerRecipient(w http.ResponseWriter, r *http.Request, s *session) {
	v := r.PostForm
	in := transplant.NewRecipient{Name: v.Get("name"), NationalID: v.Get("national_id"), Sex: v.Get("sex"), BloodGroup: v.Get("blood_group"),
		DateOfBirth: strings.TrimSpace(v.Get("date_of_birth")), Residence: strings.ToUpper(strings.TrimSpace(v.Get("residence"))),
		OrganNeeded: v.Get("organ_needed"), ListedOn: strings.TrimSpace(v.Get("listed_on"))}
	rc, err := u.Transplant.RegisterRecipient(r.Context(), s.P, in)
	if err != nil {
		u.showRecipients(w, r, s, &refusal{form: "recipient", values: v, err: err})
		return
	}
	redirect(w, r, "/recipients", url.Values{"done": {"recipient"}, "id": {rc.ID}})
}

// ---- One recipient ----

type recipientData struct {
	Recipient *transplant.Recipient
	Centres   map[string]string
	CanOpen   bool // the principal may open the recipient's personal data
}

func (u *UI) recipient(w http.ResponseWriter, r *http.Request, s *session) {
	u.showRecipient(w, r, s, nil)
}

func (u *UI) showRecipient(w http.ResponseWriter, r *http.Request, s *session, ref *refusal) {
	ctx := r.Context()
	rc, err := u.Transplant.Recipient(ctx, s.P, r.PathValue("id"))
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	names, err := u.centreNames(ctx)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	pg := u.newPage(r, s, "Recipient "+rc.ID)
	pg.Data = recipientData{Recipient: rc, Centres: names, CanOpen: canOpen(s.P, rc.CentreID)}
	u.show(w, r, "recipient", pg, ref)
}

// ---- Organs available: authorize, then transplant ----

type organRow struct {
	ID         string
	Organ      string
	DonorID    string
	ProcuredAt string
	Recipients []option // the principal's centre's recipients waiting for this organ type
	Pending    []transplant.TransplantAuthorization
}

type organsData struct {
	Organs    []organRow
	Centres   map[string]string
	CanRecord bool
	Centre    string // the principal's centre
}

func (u *UI) organs(w http.ResponseWriter, r *http.Request, s *session) { u.showOrgans(w, r, s, nil) }

func (u *UI) showOrgans(w http.ResponseWriter, r *http.Request, s *session, ref *refusal) {
	ctx := r.Context()
	os, err := u.Transplant.AvailableOrgans(ctx, s.P, 500)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	names, err := u.centreNames(ctx)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	as, err := u.Transplant.PendingAuthorizations(ctx, s.P, 1000)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	pending := map[string][]transplant.TransplantAuthorization{}
	for _, a := range as {
		pending[a.OrganID] = append(pending[a.OrganID], a)
	}
	canRecord := s.P.Can(auth.Record)
	waiting := map[string][]option{}
	if canRecord {
		rs, err := u.Transplant.Recipients(ctx, s.P, transplant.ListFilter{CentreID: s.P.AuthorityID, Status: "waiting", Limit: 500})
		if err != nil {
			u.fail(w, r, s, err)
			return
		}
		for _, rc := range rs {
			waiting[rc.OrganNeeded] = append(waiting[rc.OrganNeeded], option{Value: rc.ID,
				Label: rc.ID + " · blood group " + rc.BloodGroup + " · listed " + rc.ListedOn})
		}
	}
	pg := u.newPage(r, s, "Organs available")
	data := organsData{Centres: names, CanRecord: canRecord, Centre: s.P.AuthorityID}
	for _, o := range os {
		row := organRow{ID: o.ID, Organ: o.Organ, DonorID: o.DonorID, ProcuredAt: o.ProcuredAt, Recipients: waiting[o.Organ], Pending: pending[o.ID]}
		data.Organs = append(data.Organs, row)
		pg.setForm("authorize-"+o.ID, url.Values{"organ_id": {o.ID}, "authorized_by": {s.P.Name}})
	}
	pg.Data = data
	u.show(w, r, "organs", pg, ref)
}

func (u *UI) authorizeTransplant(w http.ResponseWriter, r *http.Request, s *session) {
	v := r.PostForm
	in := transplant.NewTransplantAuthorization{OrganID: v.Get("organ_id"), RecipientID: strings.TrimSpace(v.Get("recipient_id")),
		AuthorizedBy: v.Get("authorized_by"), CompatibilityDocumented: checked(v, "compatibility_documented"),
		ConsentVerified: checked(v, "consent_verified"), NoPaymentDeclared: checked(v, "no_payment_declared")}
	a, err := u.Transplant.AuthorizeTransplant(r.Context(), s.P, in)
	if err != nil {
		u.showOrgans(w, r, s, &refusal{form: "authorize-" + v.Get("organ_id"), values: v, err: err})
		return
	}
	redirect(w, r, "/transplants/new", url.Values{"organ_id": {a.OrganID}, "recipient_id": {a.RecipientID},
		"authorization_id": {a.ID}, "done": {"authorized"}})
}

type transplantData struct {
	Organ      *transplant.Organ // the organ the form is about, when its identifier is known
	Recipients []option
}

func (u *UI) transplantForm(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	vals := url.Values{"performed_at": {nowLocal()}}
	for _, k := range []string{"organ_id", "recipient_id", "authorization_id"} {
		vals.Set(k, q.Get(k))
	}
	u.showTransplant(w, r, s, vals, nil)
}

func (u *UI) showTransplant(w http.ResponseWriter, r *http.Request, s *session, vals url.Values, ref *refusal) {
	ctx := r.Context()
	if err := s.P.Require(auth.Record); err != nil {
		u.fail(w, r, s, err)
		return
	}
	var data transplantData
	if id := strings.TrimSpace(vals.Get("organ_id")); id != "" {
		// An identifier mistyped or unknown is the form's to refuse when it
		// is posted; until then the form is about no organ in particular.
		switch o, err := u.Transplant.Organ(ctx, s.P, id); {
		case err == nil:
			data.Organ = o
		case errs.CodeOf(err) == errs.Internal:
			u.fail(w, r, s, err)
			return
		}
	}
	rs, err := u.Transplant.Recipients(ctx, s.P, transplant.ListFilter{CentreID: s.P.AuthorityID, Status: "waiting", Limit: 500})
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	for _, rc := range rs {
		if data.Organ != nil && rc.OrganNeeded != data.Organ.Organ {
			continue
		}
		data.Recipients = append(data.Recipients, option{Value: rc.ID, Label: label(rc.OrganNeeded) + ", blood group " + rc.BloodGroup})
	}
	pg := u.newPage(r, s, "Record transplantation")
	pg.Data = data
	if q := r.URL.Query(); q.Get("done") == "authorized" && idRE.MatchString(q.Get("authorization_id")) {
		pg.Flash = "Transplantation authorized (" + q.Get("authorization_id") + "). Record it below once it is performed."
	}
	pg.setForm("transplant", vals)
	u.show(w, r, "transplant", pg, ref)
}

func (u *UI) recordTransplant(w http.ResponseWriter, r *http.Request, s *session) {
	v := r.PostForm
	at, err := localTime("performed_at", v.Get("performed_at"))
	var t *transplant.Transplant
	if err == nil {
		t, err = u.Transplant.RecordTransplant(r.Context(), s.P, transplant.NewTransplant{OrganID: v.Get("organ_id"),
			RecipientID: strings.ToUpper(strings.TrimSpace(v.Get("recipient_id"))), PerformedAt: at,
			AuthorizationID: strings.TrimSpace(v.Get("authorization_id"))})
	}
	if err != nil {
		u.showTransplant(w, r, s, v, &refusal{form: "transplant", values: v, err: err})
		return
	}
	redirect(w, r, "/trace", url.Values{"q": {t.OrganID}, "done": {"transplant"}})
}

// ---- Trace ----

type traceData struct {
	Q       string
	Trace   *transplant.Trace
	Centres map[string]string
}

// traceQuery runs the trace a search asks for: a donor id (DN-...), a
// recipient id (RC-...) or an organ identifier, in any case, with spaces.
func (u *UI) traceQuery(ctx context.Context, p *auth.Principal, q string) (*transplant.Trace, error) {
	compact := strings.ToUpper(strings.Join(strings.Fields(q), ""))
	switch {
	case strings.HasPrefix(compact, "DN-"):
		return u.Transplant.TraceDonor(ctx, p, compact)
	case strings.HasPrefix(compact, "RC-"):
		return u.Transplant.TraceRecipient(ctx, p, compact)
	}
	return u.Transplant.TraceOrgan(ctx, p, q)
}

func (u *UI) trace(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	names, err := u.centreNames(ctx)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	pg := u.newPage(r, s, "Trace")
	data := traceData{Q: q, Centres: names}
	pg.setForm("trace", url.Values{"q": {q}})
	var ref *refusal
	if q != "" {
		tr, err := u.traceQuery(ctx, s.P, q)
		if err != nil {
			ref = &refusal{form: "trace", values: url.Values{"q": {q}}, err: err, highlight: "q"}
		} else {
			data.Trace = tr
			pg.Title = "Trace " + tr.ID
		}
	}
	if r.URL.Query().Get("done") == "transplant" && data.Trace != nil {
		pg.Flash = "Transplantation recorded."
	}
	pg.Data = data
	u.show(w, r, "trace", pg, ref)
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

func (u *UI) centres(w http.ResponseWriter, r *http.Request, s *session) { u.showCentres(w, r, s, nil) }

func (u *UI) showCentres(w http.ResponseWriter, r *http.Request, s *session, ref *refusal) {
	ctx := r.Context()
	if err := s.P.Require(auth.Read); err != nil {
		u.fail(w, r, s, err)
		return
	}
	cs, err := auth.ListAuthorities(ctx, u.DB.Read(), auth.KindCentre)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	pg := u.newPage(r, s, "Centres")
	data := centresData{CanGrant: s.P.Can(auth.AuthorizeCentres), CanRegister: s.P.Can(auth.ManageAuthorities)}
	for _, c := range cs {
		as, err := u.Transplant.CentreAuthorizations(ctx, s.P, c.ID)
		if err != nil {
			u.fail(w, r, s, err)
			return
		}
		data.Centres = append(data.Centres, centreView{Centre: c, Authorizations: as})
		pg.setForm("grant-"+c.ID, url.Values{"valid_from": {today()}})
	}
	pg.Data = data
	pg.Flash = centresFlash[r.URL.Query().Get("done")]
	u.show(w, r, "centres", pg, ref)
}

func (u *UI) grantCentre(w http.ResponseWriter, r *http.Request, s *session) {
	v := r.PostForm
	id := r.PathValue("id")
	in := transplant.NewCentreAuthorization{Activity: v.Get("activity"), Organ: v.Get("organ"),
		ValidFrom: strings.TrimSpace(v.Get("valid_from")), ValidTo: strings.TrimSpace(v.Get("valid_to"))}
	if _, err := u.Transplant.AuthorizeCentre(r.Context(), s.P, id, in); err != nil {
		u.showCentres(w, r, s, &refusal{form: "grant-" + id, values: v, err: err})
		return
	}
	http.Redirect(w, r, "/centres?done=grant#centre-"+url.PathEscape(id), http.StatusSeeOther)
}

func (u *UI) revokeCentre(w http.ResponseWriter, r *http.Request, s *session) {
	v := r.PostForm
	id, aid := r.PathValue("id"), r.PathValue("aid")
	if _, err := u.Transplant.RevokeCentreAuthorization(r.Context(), s.P, id, aid, v.Get("reason")); err != nil {
		u.showCentres(w, r, s, &refusal{form: "revoke-" + aid, values: v, err: err})
		return
	}
	http.Redirect(w, r, "/centres?done=revoke#centre-"+url.PathEscape(id), http.StatusSeeOther)
}

// ---- Alerts ----

func (u *UI) alerts(w http.ResponseWriter, r *http.Request, s *session) {
	err := s.P.Require(auth.ReadAlerts)
	var as []ledger.RaisedAlert
	if err == nil {
		as, err = ledger.Alerts(r.Context(), u.DB.Read(), 500)
	}
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	pg := u.newPage(r, s, "Alerts")
	pg.Data = as
	u.show(w, r, "alerts", pg, nil)
}
