package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
)

// ---- Asset recovery: the recording forms (a case, its persons, assets and links, a step of an asset's measure ledger, exchange rates) ----

// assetsFormPages are the forms' routes, beside the section's pages.
func assetsFormPages(h *assetsPages) []Page {
	return []Page{
		post("/cases", h.openCase).Allowed(assets.RecordCases),
		post("/cases/{id}/measures", h.recordMeasure).Allowed(assets.RecordCases),
		post("/cases/{id}/persons", h.addPerson).Allowed(assets.RecordCases),
		post("/cases/{id}/assets", h.identifyAsset).Allowed(assets.RecordCases),
		post("/cases/{id}/links", h.linkCase).Allowed(assets.RecordCases),
		get("/rates", h.rates).Allowed(assets.ReadStatistics),
		post("/rates", h.recordRate).Allowed(assets.RecordRates),
	}
}

// assetsDone are the flash messages after each form.
var assetsDone = map[string]i18n.Msg{
	"case":    i18n.M("The case is opened."),
	"measure": i18n.M("The step is recorded on the asset's ledger."),
	"person":  i18n.M("The person is added to the case."),
	"asset":   i18n.M("The asset is recorded."),
	"link":    i18n.M("The cases are linked."),
	"rate":    i18n.M("The rate is recorded."),
}

func assetsFlash(s *Session, r *http.Request) string {
	if m, ok := assetsDone[s.Notice(r).Get("done")]; ok {
		return s.T(m)
	}
	return ""
}

// assetsRefusal is a refused form, the input its refusal names highlighted
// (offences[1] is the input offences).
func assetsRefusal(form string, v url.Values, err error) *Refusal {
	ref := &Refusal{Form: form, Values: v, Err: err}
	if e, ok := errs.As(err); ok {
		ref.Highlight, _, _ = strings.Cut(e.Field, "[")
	}
	return ref
}

func (h *assetsPages) openCase(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	c, err := h.svc.OpenCase(r.Context(), s.P, assets.NewCase{Reference: v.Get("reference"), Title: v.Get("title"), Kind: v.Get("kind"),
		Offences: names(v.Get("offences")), OpenedOn: v.Get("opened_on")})
	if err != nil {
		if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
			h.showCases(w, r, s, assetsRefusal("case", v, err))
			return
		}
		s.Fail(w, r, err)
		return
	}
	s.RedirectDone(w, r, "/assets/cases/"+c.ID, url.Values{"done": {"case"}})
}

// caseForm runs a form of a case's page: a refusal (invalid, or a
// conflict such as a link recorded already) is shown on the form, form,
// with its input highlighted; done is the flash after it.
func (h *assetsPages) caseForm(w http.ResponseWriter, r *http.Request, s *Session, form, done string, err error) {
	if err != nil {
		if e, ok := errs.As(err); ok && (e.Code == errs.Invalid || e.Code == errs.Conflict) {
			h.showCase(w, r, s, assetsRefusal(form, r.PostForm, err))
			return
		}
		s.Fail(w, r, err)
		return
	}
	s.RedirectDone(w, r, "/assets/cases/"+r.PathValue("id"), url.Values{"done": {done}})
}

func (h *assetsPages) addPerson(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	_, err := h.svc.AddPerson(r.Context(), s.P, r.PathValue("id"), assets.NewPerson{Kind: v.Get("kind"), Role: v.Get("role"),
		Country: strings.ToUpper(strings.TrimSpace(v.Get("country"))), Name: v.Get("name"), BirthDate: v.Get("birth_date"), Document: v.Get("document"),
		Registration: v.Get("registration")})
	h.caseForm(w, r, s, "person", "person", err)
}

func (h *assetsPages) identifyAsset(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	_, err := h.svc.IdentifyAsset(r.Context(), s.P, r.PathValue("id"), assets.NewAsset{Type: v.Get("type"),
		Jurisdiction: strings.ToUpper(strings.TrimSpace(v.Get("jurisdiction"))), Description: v.Get("description"), Value: v.Get("value"),
		Currency: strings.ToUpper(strings.TrimSpace(v.Get("currency"))), HolderID: v.Get("holder_id"), IdentifiedOn: v.Get("identified_on"),
		Instrument: v.Get("instrument"), Authority: v.Get("authority")})
	h.caseForm(w, r, s, "asset", "asset", err)
}

func (h *assetsPages) linkCase(w http.ResponseWriter, r *http.Request, s *Session) {
	_, err := h.svc.LinkCases(r.Context(), s.P, r.PathValue("id"), strings.TrimSpace(r.PostForm.Get("other_id")), r.PostForm.Get("reason"))
	h.caseForm(w, r, s, "link", "link", err)
}

func (h *assetsPages) rates(w http.ResponseWriter, r *http.Request, s *Session) {
	h.showRates(w, r, s, nil)
}

// showRates is the list of exchange rates, with the form to record one
// (ref: that form refused).
func (h *assetsPages) showRates(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	rs, err := h.svc.Rates(r.Context(), s.P)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	q := strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("currency")))
	shown := rs[:0:0]
	for _, x := range rs {
		if q == "" || x.Currency == q || x.To == q {
			shown = append(shown, x)
		}
	}
	v := s.View(r, i18n.M("Exchange rates"))
	v.Data = struct {
		Rates     []assets.Rate
		Currency  string
		CanRecord bool
	}{shown, q, s.P.Can(assets.RecordRates)}
	if ref == nil {
		v.Flash = assetsFlash(s, r)
	}
	s.Show(w, r, "rates", v, ref)
}

func (h *assetsPages) recordRate(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	// The year as written: a word or +2024 is refused naming it, never
	// read as 0 or 2024 (the rate, an amount, is checked as written too).
	year, err := assets.ParseYear("year", v.Get("year"))
	if err == nil {
		_, err = h.svc.RecordRate(r.Context(), s.P, assets.Rate{Currency: strings.ToUpper(strings.TrimSpace(v.Get("currency"))),
			To: strings.ToUpper(strings.TrimSpace(v.Get("to"))), Year: year, Rate: v.Get("rate"), Source: v.Get("source")})
	}
	if err != nil {
		if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
			h.showRates(w, r, s, assetsRefusal("rate", v, err))
			return
		}
		s.Fail(w, r, err)
		return
	}
	s.RedirectDone(w, r, "/assets/rates", url.Values{"done": {"rate"}})
}

func (h *assetsPages) recordMeasure(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	assetID := v.Get("asset_id")
	_, err := h.svc.RecordCaseMeasure(r.Context(), s.P, r.PathValue("id"), assetID, assets.NewMeasure{Step: v.Get("step"), Confiscation: v.Get("confiscation"),
		DecidedOn: v.Get("decided_on"), Instrument: v.Get("instrument"), Amount: v.Get("amount"), Currency: strings.ToUpper(strings.TrimSpace(v.Get("currency"))),
		Authority: v.Get("authority"), ReturnedTo: strings.ToUpper(strings.TrimSpace(v.Get("returned_to"))), Notes: v.Get("notes")})
	h.caseForm(w, r, s, "measure-"+assetID, "measure", err)
}

// caseForms is what the case page needs to record a step on each asset:
// the steps that may follow its status, and the types of confiscation.
type caseForms struct {
	CanRecord     bool
	Next          map[string][]Option // asset id -> the steps that may follow
	Confiscations []Option
	// The choices of the forms that add a person and an asset.
	PersonKinds, PersonRoles, AssetTypes, Holders []Option
	Flash                                         string
}

func (h *assetsPages) caseForms(s *Session, r *http.Request, f *assets.CaseFile) caseForms {
	cf := caseForms{CanRecord: s.P.Can(assets.RecordCases), Next: map[string][]Option{}, Flash: assetsFlash(s, r)}
	if !cf.CanRecord {
		return cf
	}
	for _, a := range f.Assets {
		cf.Next[a.ID] = s.options(assets.Next(a.Status))
	}
	cf.Confiscations = append([]Option{{"", s.T(i18n.M("(not a confiscation)"))}}, s.list("confiscation_type")...)
	cf.PersonKinds = s.list("person_kind")
	cf.PersonRoles = s.list("person_role")
	cf.AssetTypes = s.list("asset_type")
	cf.Holders = []Option{{"", s.T(i18n.M("(no holder among the persons)"))}}
	for _, p := range f.Persons {
		name := p.Name
		if p.Sealed {
			name = s.T(i18n.M("personal data sealed"))
		}
		cf.Holders = append(cf.Holders, Option{p.ID, p.ID + ": " + name})
	}
	return cf
}
