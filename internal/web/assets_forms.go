package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
)

// ---- Asset recovery: the recording forms (a case, a step of an asset's measure ledger) ----

// assetsFormPages are the forms' routes, beside the section's pages.
func assetsFormPages(h *assetsPages) []Page {
	return []Page{
		post("/cases", h.openCase),
		post("/cases/{id}/measures", h.recordMeasure),
	}
}

// assetsDone are the flash messages after each form.
var assetsDone = map[string]i18n.Msg{
	"case":    i18n.M("The case is opened."),
	"measure": i18n.M("The step is recorded on the asset's ledger."),
}

func assetsFlash(s *Session, r *http.Request) string {
	if m, ok := assetsDone[r.URL.Query().Get("done")]; ok {
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
	Redirect(w, r, "/assets/cases/"+c.ID, url.Values{"done": {"case"}})
}

func (h *assetsPages) recordMeasure(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	assetID := v.Get("asset_id")
	_, err := h.svc.RecordMeasure(r.Context(), s.P, assetID, assets.NewMeasure{Step: v.Get("step"), Confiscation: v.Get("confiscation"),
		DecidedOn: v.Get("decided_on"), Instrument: v.Get("instrument"), Amount: v.Get("amount"), Currency: strings.ToUpper(strings.TrimSpace(v.Get("currency"))),
		Authority: v.Get("authority"), ReturnedTo: strings.ToUpper(strings.TrimSpace(v.Get("returned_to"))), Notes: v.Get("notes")})
	if err != nil {
		if e, ok := errs.As(err); ok && (e.Code == errs.Invalid || e.Code == errs.Conflict) {
			h.showCase(w, r, s, assetsRefusal("measure-"+assetID, v, err))
			return
		}
		s.Fail(w, r, err)
		return
	}
	Redirect(w, r, "/assets/cases/"+r.PathValue("id"), url.Values{"done": {"measure"}})
}

// caseForms is what the case page needs to record a step on each asset:
// the steps that may follow its status, and the types of confiscation.
type caseForms struct {
	CanRecord     bool
	Next          map[string][]Option // asset id -> the steps that may follow
	Confiscations []Option
	Flash         string
}

func (h *assetsPages) caseForms(s *Session, r *http.Request, f *assets.CaseFile) caseForms {
	cf := caseForms{CanRecord: s.P.Can(assets.RecordCases), Next: map[string][]Option{}, Flash: assetsFlash(s, r)}
	if !cf.CanRecord {
		return cf
	}
	labels := assets.Labels()
	for _, a := range f.Assets {
		cf.Next[a.ID] = localOptions(s.l, labels, assets.Next(a.Status))
	}
	cf.Confiscations = append([]Option{{"", s.T(i18n.M("(not a confiscation)"))}}, localOptions(s.l, labels, assets.ConfiscationTypes)...)
	return cf
}
