package web

import (
	"embed"
	"net/http"
	"net/url"
	"strings"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/i18n"
)

// ---- Asset recovery: the section ----

//go:embed templates/assets/*.html
var assetsFS embed.FS

// assetsPages are the section's handlers.
type assetsPages struct {
	svc *assets.Service
}

// Assets returns the section of the asset-recovery registry, served by svc.
func Assets(svc *assets.Service) Section {
	h := &assetsPages{svc: svc}
	return Section{
		Name:  assets.Module.Name,
		Title: assets.Module.Title,
		Roles: rolesOf(assets.Module.Roles),
		Nav:   assetsNav,
		Home:  assetsHome,
		Pages: append([]Page{
			get("/cases", h.cases).Allowed(assets.ReadCases),
			get("/cases/{id}", h.caseFile).Allowed(assets.ReadCases),
			get("/persons", h.persons).Allowed(assets.ReadCases),
			get("/directory", h.directory).Allowed(assets.ReadDirectory),
			get("/statistics", h.statistics).Allowed(assets.ReadStatistics),
		}, assetsFormPages(h)...),
		Templates: subFS(assetsFS, "templates/assets"),
		Lists:     assetsLists,
		Labels:    assets.Labels(),
	}
}

// assetsLists are the value lists of the section's selects.
var assetsLists = map[string][]string{
	"case_kind": assets.CaseKinds, "person_kind": assets.PersonKinds, "person_role": assets.PersonRoles,
	"confiscation_type": assets.ConfiscationTypes, "asset_type": assets.AssetTypes, "step": assets.Steps,
	"request_type": assets.RequestTypes, "request_status": assets.RequestStatuses, "legal_basis": assets.LegalBases,
	"confidentiality": assets.Confidentialities, "assistance": assets.AssistanceKinds, "use_purpose": assets.UsePurposes,
	"refusal_ground": assets.RefusalGrounds,
}

// assetsNav: the cases, the directory and the statistics for whoever reads
// them.
func assetsNav(p *auth.Principal) []Link {
	var links []Link
	if p.Can(assets.ReadCases) {
		links = append(links, Link{"/assets/cases", i18n.M("Asset-recovery cases")}, Link{"/assets/persons", i18n.M("Persons of the cases")})
	}
	if p.Can(assets.ReadDirectory) {
		links = append(links, Link{"/assets/directory", i18n.M("Central authorities")})
	}
	if p.Can(assets.ReadStatistics) {
		links = append(links, Link{"/assets/statistics", i18n.M("Asset-recovery statistics")}, Link{"/assets/rates", i18n.M("Exchange rates")})
	}
	return links
}

// assetsHome is the card of whoever reads the cases or the directory.
func assetsHome(p *auth.Principal) *Card {
	if !p.Can(assets.ReadCases) && !p.Can(assets.ReadDirectory) {
		return nil
	}
	return &Card{Template: "home", Data: struct{ CanCases, CanDirectory, CanStatistics bool }{p.Can(assets.ReadCases), p.Can(assets.ReadDirectory), p.Can(assets.ReadStatistics)}}
}

// typedState is the state a filter's text input was given, written as
// ISO 3166-1 writes it (xb is XB), as the forms read a country: the
// registry refuses any other spelling (rule country).
func typedState(q url.Values) string {
	return strings.ToUpper(strings.TrimSpace(q.Get("state")))
}

// assetsExport answers the file of the export exp makes in the format the
// query names (csv or xlsx): the cases', the requests' and the statistics'
// downloads.
func assetsExport(w http.ResponseWriter, r *http.Request, s *Session, exp func(export.Format) (export.Request, error)) {
	format, err := export.ParseFormat(r.URL.Query().Get("format"))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	req, err := exp(format)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.Export(w, r, req)
}

func (h *assetsPages) cases(w http.ResponseWriter, r *http.Request, s *Session) {
	h.showCases(w, r, s, nil)
}

// showCases is the list of cases, with the form to open one (ref: that
// form refused).
func (h *assetsPages) showCases(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	q := r.URL.Query()
	f := assets.CaseFilter{State: typedState(q), Kind: q.Get("kind"), ICCS: q.Get("iccs"), Status: q.Get("status"), Q: q.Get("q")}
	if ref == nil && q.Get("format") != "" {
		assetsExport(w, r, s, func(format export.Format) (export.Request, error) { return h.svc.CasesExport(s.P, f, format) })
		return
	}
	cs, err := h.svc.Cases(r.Context(), s.P, f)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	v := s.View(r, i18n.M("Asset-recovery cases"))
	v.Data = struct {
		Cases        []assets.Case
		Filter       assets.CaseFilter
		Kinds, Steps []string
		AllStates    bool
		CanRecord    bool
		KindOptions  []Option
		Downloads    []Link
	}{cs, f, assets.CaseKinds, assets.Steps, s.P.Role == auth.Regulator || s.P.Role == auth.Auditor, s.P.Can(assets.RecordCases),
		s.list("case_kind"), Downloads(r, "/assets/cases")}
	if ref == nil {
		v.Flash = assetsFlash(s, r)
	}
	s.Show(w, r, "cases", v, ref)
}

// persons is the list of the persons of the cases, with filters.
func (h *assetsPages) persons(w http.ResponseWriter, r *http.Request, s *Session) {
	q := r.URL.Query()
	f := assets.PersonFilter{State: typedState(q), Kind: q.Get("kind"), Role: q.Get("role"), Q: q.Get("q")}
	ps, err := h.svc.Persons(r.Context(), s.P, f)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	v := s.View(r, i18n.M("Persons of the cases"))
	v.Data = struct {
		Persons      []assets.Person
		Filter       assets.PersonFilter
		Kinds, Roles []Option
		AllStates    bool
	}{ps, f, s.list("person_kind"), s.list("person_role"),
		s.P.Role == auth.Regulator || s.P.Role == auth.Auditor}
	s.Show(w, r, "persons", v, nil)
}

func (h *assetsPages) caseFile(w http.ResponseWriter, r *http.Request, s *Session) {
	h.showCase(w, r, s, nil)
}

// showCase is a case's page, with the form to record a step on each
// asset (ref: one of them refused).
func (h *assetsPages) showCase(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	f, err := h.svc.CaseFile(r.Context(), s.P, r.PathValue("id"))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	v := s.View(r, i18n.M("Asset-recovery case"))
	forms := h.caseForms(s, r, f)
	if ref == nil {
		v.Flash = forms.Flash
	}
	v.Data = struct {
		*assets.CaseFile
		Forms caseForms
	}{f, forms}
	s.Show(w, r, "case", v, ref)
}

func (h *assetsPages) directory(w http.ResponseWriter, r *http.Request, s *Session) {
	q := r.URL.Query()
	f := assets.DirectoryFilter{State: typedState(q), Kind: q.Get("kind"), Basis: q.Get("basis"), Q: q.Get("q")}
	es, err := h.svc.Directory(r.Context(), s.P, f)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	v := s.View(r, i18n.M("Central authorities and contact points"))
	v.Data = struct {
		Entries      []assets.ContactPoint
		Filter       assets.DirectoryFilter
		Kinds, Bases []string
	}{es, f, assets.EntryKinds, assets.LegalBases}
	s.Show(w, r, "directory", v, nil)
}

func (h *assetsPages) statistics(w http.ResponseWriter, r *http.Request, s *Session) {
	q, err := assets.ParseStatsQuery(r.URL.Query())
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	if q.Currency == "" {
		q.Currency = "USD"
	}
	if r.URL.Query().Get("format") != "" {
		assetsExport(w, r, s, func(format export.Format) (export.Request, error) { return h.svc.StatisticsExport(s.P, q, format) })
		return
	}
	fig, err := h.svc.Statistics(r.Context(), s.P, q)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	v := s.View(r, i18n.M("Asset-recovery statistics"))
	v.Data = struct {
		Figures   *assets.Figures
		Query     assets.StatsQuery
		Downloads []Link
	}{fig, q, Downloads(r, "/assets/statistics")}
	s.Show(w, r, "statistics", v, nil)
}
