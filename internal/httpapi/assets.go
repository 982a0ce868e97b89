package httpapi

import (
	"net/http"
	"reflect"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
)

// Bodies of the asset-recovery routes that are not domain types.
type (
	assetsDirectoryOut struct {
		Entries []assets.ContactPoint `json:"entries"`
	}
	assetsDirectoryRefused struct {
		Error   *errs.Error        `json:"error"`
		Refused []assets.LineError `json:"refused"`
	}
	assetsCasesOut struct {
		Cases []assets.Case `json:"cases"`
	}
	assetsPersonsOut struct {
		Persons []assets.Person `json:"persons"`
	}
	assetsLinkIn struct {
		OtherID string `json:"other_id" api:"required"`
		Reason  string `json:"reason" api:"required"`
	}
	assetsPurposeIn struct {
		Purpose string `json:"purpose"`
	}
	assetsRatesOut struct {
		Rates []assets.Rate `json:"rates"`
	}
)

// MaxDirectoryFile is the largest directory file the API takes.
const MaxDirectoryFile = 8 << 20

// Assets lists the routes of the asset-recovery registry, under
// /api/v1/assets/.
func Assets(env Env, s *assets.Service) []Route {
	created := func(v any, err error) (int, any, error) { return http.StatusCreated, v, err }
	// The closed lists the service checks, from the lists it checks them
	// against; each output type says the same of what it holds.
	directoryEnums := []Enum{{reflect.TypeFor[assets.ContactPoint](), "Kind", assets.EntryKinds},
		{reflect.TypeFor[assets.ContactPoint](), "LegalBases", assets.LegalBases}, {reflect.TypeFor[assets.ContactPoint](), "Channels", assets.Channels}}
	caseEnums := []Enum{{reflect.TypeFor[assets.NewCase](), "Kind", assets.CaseKinds}, {reflect.TypeFor[assets.Case](), "Kind", assets.CaseKinds}}
	var personEnums []Enum
	for _, t := range []reflect.Type{reflect.TypeFor[assets.NewPerson](), reflect.TypeFor[assets.Person]()} {
		personEnums = append(personEnums, Enum{t, "Kind", assets.PersonKinds}, Enum{t, "Role", assets.PersonRoles})
	}
	assetEnums := []Enum{{reflect.TypeFor[assets.NewAsset](), "Type", assets.AssetTypes}, {reflect.TypeFor[assets.Asset](), "Type", assets.AssetTypes},
		{reflect.TypeFor[assets.Asset](), "Status", assets.Steps}}
	measureEnums := []Enum{{reflect.TypeFor[assets.NewMeasure](), "Step", assets.Steps[1:]}, {reflect.TypeFor[assets.Measure](), "Step", assets.Steps},
		{reflect.TypeFor[assets.NewMeasure](), "Confiscation", assets.ConfiscationTypes}, {reflect.TypeFor[assets.Measure](), "Confiscation", assets.ConfiscationTypes}}
	return []Route{
		{Method: "GET", Path: "/api/v1/assets/directory", Allow: []auth.Action{assets.ReadDirectory}, Summary: "The directory of central authorities and contact points (query state, kind, basis, q)",
			Out: assetsDirectoryOut{},
			Query: []Param{{Name: "state", Doc: "an ISO 3166-1 alpha-2 code"}, {Name: "kind", Doc: "the kind of entry", Values: assets.EntryKinds},
				{Name: "basis", Doc: "a legal basis the entry is designated under", Values: assets.LegalBases}, {Name: "q", Doc: "a text of its name, treaty or notes"}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				q := r.URL.Query()
				es, err := s.Directory(r.Context(), p, assets.DirectoryFilter{State: q.Get("state"), Kind: q.Get("kind"), Basis: q.Get("basis"), Q: q.Get("q")})
				return http.StatusOK, assetsDirectoryOut{Entries: es}, err
			}},
		{Method: "POST", Path: "/api/v1/assets/directory", Allow: []auth.Action{assets.ManageDirectory}, Summary: "Record a central authority or contact point, or a new version of the entry whose id is given (central authority officer: its own state's entries; regulator, admin)",
			In: assets.ContactPoint{}, Out: assets.ContactPoint{}, Status: 201, Enums: directoryEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[assets.ContactPoint](r)
				if err != nil {
					return 0, nil, err
				}
				return created(s.RecordContact(r.Context(), p, in))
			}},
		{Method: "POST", Path: "/api/v1/assets/directory/import", Allow: []auth.Action{assets.ManageDirectory}, Summary: "Import a directory file (CSV in the body, query source): every entry, or nothing and every refused line (422, refused) (central authority officer: its own state's entries; regulator, admin)",
			In: fileBody{csvTypes, "the directory as CSV: state,kind,name,legal_bases,languages and optional columns"}, Out: assets.DirectoryImport{}, Status: 201, FileLimit: MaxDirectoryFile,
			Query: []Param{{Name: "source", Doc: "the file's name, recorded with its entries (required)"}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				if err := csvUpload(r); err != nil {
					return 0, nil, err
				}
				im, err := s.ImportDirectory(r.Context(), p, r.URL.Query().Get("source"), http.MaxBytesReader(nil, r.Body, MaxDirectoryFile))
				if e, ok := errs.As(err); ok && im != nil && len(im.Refused) > 0 {
					return http.StatusUnprocessableEntity, assetsDirectoryRefused{Error: e, Refused: im.Refused}, nil
				}
				return http.StatusCreated, im, err
			}},
		{Method: "GET", Path: "/api/v1/assets/cases", Allow: []auth.Action{assets.ReadCases}, Summary: "The cases the principal may see, newest first: a central authority's and a prosecutor's state's, every state's for the regulator and the auditor (query state, kind, iccs, status, q)",
			Out: assetsCasesOut{},
			Query: []Param{{Name: "state", Doc: "the state (regulator, auditor)"}, {Name: "kind", Doc: "the kind of case", Values: assets.CaseKinds},
				{Name: "iccs", Doc: "an ICCS category the offences fall under"}, {Name: "status", Doc: "a step some asset of the case is at", Values: assets.Steps},
				{Name: "q", Doc: "a text of the reference or title"},
				{Name: "format", Doc: "a file's format: the cases with each asset's measure ledger, a line per step", Values: export.Formats}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				q := r.URL.Query()
				f := assets.CaseFilter{State: q.Get("state"), Kind: q.Get("kind"), ICCS: q.Get("iccs"), Status: q.Get("status"), Q: q.Get("q")}
				if q.Has("format") {
					return serveExport(env, r, p, func(format export.Format) (export.Request, error) { return s.CasesExport(p, f, format) })
				}
				cs, err := s.Cases(r.Context(), p, f)
				return http.StatusOK, assetsCasesOut{Cases: cs}, err
			}},
		{Method: "POST", Path: "/api/v1/assets/cases", Allow: []auth.Action{assets.RecordCases}, Summary: "Open a case of the principal's state, its offences ICCS codes (prosecutor, central authority officer)",
			In: assets.NewCase{}, Out: assets.Case{}, Status: 201, Enums: caseEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[assets.NewCase](r)
				if err != nil {
					return 0, nil, err
				}
				return created(s.OpenCase(r.Context(), p, in))
			}},
		{Method: "GET", Path: "/api/v1/assets/cases/{id}", Allow: []auth.Action{assets.ReadCases}, Summary: "A case with its persons, links and assets, each asset with its measures in order",
			Out: assets.CaseFile{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				f, err := s.CaseFile(r.Context(), p, r.PathValue("id"))
				return http.StatusOK, f, err
			}},
		{Method: "POST", Path: "/api/v1/assets/cases/{id}/persons", Allow: []auth.Action{assets.RecordCases}, Summary: "Add a natural person (personal data sealed) or a legal person to a case (prosecutor, central authority officer)",
			In: assets.NewPerson{}, Out: assets.Person{}, Status: 201, Enums: personEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[assets.NewPerson](r)
				if err != nil {
					return 0, nil, err
				}
				return created(s.AddPerson(r.Context(), p, r.PathValue("id"), in))
			}},
		{Method: "GET", Path: "/api/v1/assets/persons", Allow: []auth.Action{assets.ReadCases}, Summary: "The persons of the cases the principal may see, by case and id (at most 500): a central authority's and a prosecutor's state's, every state's for the regulator and the auditor (query state, kind, role, q); a natural person's data stays sealed",
			Out: assetsPersonsOut{}, Enums: personEnums,
			Query: []Param{{Name: "state", Doc: "the state (regulator, auditor)"}, {Name: "kind", Doc: "natural or legal", Values: assets.PersonKinds},
				{Name: "role", Doc: "the person's role in the case", Values: assets.PersonRoles},
				{Name: "q", Doc: "a text of a legal person's name or registration, or of an id"}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				q := r.URL.Query()
				ps, err := s.Persons(r.Context(), p, assets.PersonFilter{State: q.Get("state"), Kind: q.Get("kind"), Role: q.Get("role"), Q: q.Get("q")})
				return http.StatusOK, assetsPersonsOut{Persons: ps}, err
			}},
		{Method: "POST", Sealed: true, Path: "/api/v1/assets/persons/{id}/open", Allow: []auth.Action{assets.OpenPersonalData}, Summary: "Open a natural person's sealed data, the read logged with its purpose (prosecutor, central authority officer)",
			In: assetsPurposeIn{}, Out: assets.NaturalPerson{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[assetsPurposeIn](r)
				if err != nil {
					return 0, nil, err
				}
				np, err := s.OpenPerson(r.Context(), p, r.PathValue("id"), in.Purpose)
				return http.StatusOK, np, err
			}},
		{Method: "POST", Path: "/api/v1/assets/cases/{id}/links", Allow: []auth.Action{assets.RecordCases}, Summary: "Link the case to another, both ways (prosecutor, central authority officer)",
			In: assetsLinkIn{}, Out: assets.Link{}, Status: 201,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[assetsLinkIn](r)
				if err != nil {
					return 0, nil, err
				}
				return created(s.LinkCases(r.Context(), p, r.PathValue("id"), in.OtherID, in.Reason))
			}},
		{Method: "POST", Path: "/api/v1/assets/cases/{id}/assets", Allow: []auth.Action{assets.RecordCases}, Summary: "Record an asset identified in the case (prosecutor, central authority officer)",
			In: assets.NewAsset{}, Out: assets.Asset{}, Status: 201, Enums: assetEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[assets.NewAsset](r)
				if err != nil {
					return 0, nil, err
				}
				return created(s.IdentifyAsset(r.Context(), p, r.PathValue("id"), in))
			}},
		{Method: "POST", Path: "/api/v1/assets/assets/{id}/measures", Allow: []auth.Action{assets.RecordCases}, Summary: "Record the next step of an asset's ledger: frozen, seized, confiscated, returned, disposed or released; an illegal step is refused (409, rule measure_transition) (prosecutor, central authority officer)",
			In: assets.NewMeasure{}, Out: assets.Measure{}, Status: 201, Enums: measureEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[assets.NewMeasure](r)
				if err != nil {
					return 0, nil, err
				}
				return created(s.RecordMeasure(r.Context(), p, r.PathValue("id"), in))
			}},
		{Method: "GET", Path: "/api/v1/assets/rates", Allow: []auth.Action{assets.ReadStatistics}, Summary: "The exchange rates recorded for the statistics",
			Out: assetsRatesOut{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				rs, err := s.Rates(r.Context(), p)
				return http.StatusOK, assetsRatesOut{Rates: rs}, err
			}},
		{Method: "POST", Path: "/api/v1/assets/rates", Allow: []auth.Action{assets.RecordRates}, Summary: "Record a year's exchange rate of a currency to another (central authority officer, regulator): one rate a pair of currencies a year, the opposite direction being its inverse (rate_inverse)",
			In: assets.Rate{}, Out: assets.Rate{}, Status: 201,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[assets.Rate](r)
				if err != nil {
					return 0, nil, err
				}
				return created(s.RecordRate(r.Context(), p, in))
			}},
		{Method: "GET", Path: "/api/v1/assets/statistics", Allow: []auth.Action{assets.ReadStatistics}, Summary: "Cases and amounts frozen, seized, confiscated and returned by year and kind of case, in a currency at the recorded rates, after disclosure control; as CSV or XLSX with format",
			Out: assets.Figures{},
			Query: []Param{{Name: "currency", Doc: "the currency of the amounts (required)"}, {Name: "from", Doc: "the first year"}, {Name: "to", Doc: "the last year"},
				{Name: "state", Doc: "the state (regulator, auditor)"}, {Name: "format", Doc: "a file's format", Values: export.Formats}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				q, err := assets.ParseStatsQuery(r.URL.Query())
				if err != nil {
					return 0, nil, err
				}
				if r.URL.Query().Get("format") != "" {
					return serveExport(env, r, p, func(format export.Format) (export.Request, error) { return s.StatisticsExport(p, q, format) })
				}
				fig, err := s.Statistics(r.Context(), p, q)
				return http.StatusOK, fig, err
			}},
	}
}
