package httpapi

import (
	"math"
	"net/http"
	"reflect"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/stats"
)

// Bodies of the statistics routes that are not domain types.
type statsMappingsOut struct {
	Mappings []stats.Mapping `json:"mappings"`
}

type statsImportsOut struct {
	Imports []stats.Import `json:"imports"`
}

type statsICCSOut struct {
	Version    string           `json:"version"`
	Source     string           `json:"source"`
	Categories []stats.Category `json:"categories"`
}

type statsDimensionsOut struct {
	Dimensions []stats.Dimension    `json:"dimensions"`
	Columns    []stats.ImportColumn `json:"columns"`
	Tables     []string             `json:"uncts_tables"`
}

// MaxStatsFile is the largest records file the API takes (streamed, never
// held in memory).
const MaxStatsFile = 8 << 30

var csvTypes = []string{"text/csv", "application/octet-stream"}

// statsQueryParams documents the parameters of a statistics query.
func statsQueryParams() []Param {
	ps := []Param{
		{Name: "stage", Doc: "the stage counted (required)", Values: stats.DimStage.Codes()[1:]},
		{Name: "unit", Doc: "the unit counted (required)", Values: stats.DimUnit.Codes()[1:]},
		{Name: "level", Doc: "the ICCS level of the breakdown, 1 to 4; 0 or absent for none"},
		{Name: "iccs", Doc: "keep the records under these ICCS categories (repeated or comma-separated)", Multi: true},
		{Name: "by", Doc: "the dimensions to break down by (repeated or comma-separated; GET /api/v1/stats/dimensions lists them)", Multi: true},
		{Name: "period", Doc: "count by period", Values: stats.Periods},
		{Name: "from", Doc: "first date counted: YYYY, YYYY-MM or YYYY-MM-DD"},
		{Name: "to", Doc: "last date counted: YYYY, YYYY-MM or YYYY-MM-DD"},
		{Name: "totals", Doc: "add the totals (_T)", Values: []string{"true", "false"}},
		{Name: "sources", Doc: "the sources counted: import and the registries' (transplant); all when absent", Multi: true},
		{Name: "filter.", Doc: "filter.<dimension>: keep the records of these codes of the dimension (repeated or comma-separated), e.g. filter.sex=F", Multi: true, Prefix: true},
	}
	return ps
}

// csvUpload checks a request whose body is a CSV file (fileContentType)
// and limits the body to MaxStatsFile.
func csvUpload(r *http.Request) error {
	if err := fileContentType(r, "CSV", csvTypes); err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(nil, r.Body, MaxStatsFile)
	return nil
}

func intParam(r *http.Request, name string) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	n, ok := check.Whole(s, math.MaxInt32) // digits alone: +5 or " 5" is refused, not read as 5
	if !ok {
		return 0, errs.Invalidf("range", name, "%s must be a whole number, 0 or more, written in digits alone", name)
	}
	return n, nil
}

// Stats lists the routes of the statistics registry, under /api/v1/stats/.
func Stats(env Env, s *stats.Service) []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/stats/iccs", Public: true, Summary: "The ICCS (v1.0) as custos ships it: every category with its level, parent and official titles (English, Spanish)",
			Out: statsICCSOut{},
			Handler: func(r *http.Request, _ *auth.Principal) (int, any, error) {
				return http.StatusOK, statsICCSOut{Version: stats.ICCS.Version, Source: stats.ICCS.Source, Categories: stats.ICCS.Categories}, nil
			}},
		{Method: "GET", Path: "/api/v1/stats/dimensions", Public: true, Summary: "The dimensions statistics break down by, with their codes and SDMX codes; the columns of a records file; the UN-CTS tables",
			Out: statsDimensionsOut{},
			Handler: func(r *http.Request, _ *auth.Principal) (int, any, error) {
				return http.StatusOK, statsDimensionsOut{Dimensions: stats.Dimensions, Columns: stats.ImportColumns, Tables: stats.UNCTSTables}, nil
			}},
		{Method: "POST", Path: "/api/v1/stats/mappings", Allow: []auth.Action{stats.ManageMappings}, Summary: "Publish the next version of a mapping of national offence codes to the ICCS (statistician)",
			In: stats.NewMapping{}, Out: stats.Mapping{}, Status: 201, BodyLimit: LargeBody,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[stats.NewMapping](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.PublishMapping(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},
		{Method: "POST", Path: "/api/v1/stats/mappings/{id}/file", Allow: []auth.Action{stats.ManageMappings}, Summary: "Publish the next version of a mapping from a CSV file in the body (national_code,national_label,iccs); query name (statistician)",
			In: fileBody{csvTypes, "the mapping table as CSV"}, Out: stats.Mapping{}, Status: 201, FileLimit: LargeBody,
			Query: []Param{{Name: "name", Doc: "the mapping's name for people (required)"}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				if err := csvUpload(r); err != nil {
					return 0, nil, err
				}
				rows, err := stats.ParseMapping(http.MaxBytesReader(nil, r.Body, LargeBody))
				if err != nil {
					return 0, nil, err
				}
				out, err := s.PublishMapping(r.Context(), p, stats.NewMapping{ID: r.PathValue("id"), Name: r.URL.Query().Get("name"), Rows: rows})
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/stats/mappings", Allow: []auth.Action{stats.ReadStatistics}, Summary: "The mappings, each at its latest version",
			Out: statsMappingsOut{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := s.Mappings(r.Context(), p)
				return http.StatusOK, statsMappingsOut{Mappings: out}, err
			}},
		{Method: "GET", Path: "/api/v1/stats/mappings/{id}", Allow: []auth.Action{stats.ReadStatistics}, Summary: "A mapping with its rows and its ambiguous codes (query version; the latest when absent)",
			Out: stats.Mapping{}, Query: []Param{{Name: "version", Doc: "the version"}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				v, err := intParam(r, "version")
				if err != nil {
					return 0, nil, err
				}
				out, err := s.Mapping(r.Context(), p, r.PathValue("id"), v)
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/stats/mappings/{id}/check", Allow: []auth.Action{stats.ImportRecords}, Summary: "Check the national codes of a records file (CSV body) against a mapping: those it does not map, those it maps ambiguously; nothing is imported (statistician)",
			In: fileBody{csvTypes, "a national records file as CSV"}, Out: stats.MappingReport{}, Reads: true, Query: []Param{{Name: "version", Doc: "the mapping's version; the latest when absent"}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				v, err := intParam(r, "version")
				if err != nil {
					return 0, nil, err
				}
				if err := csvUpload(r); err != nil {
					return 0, nil, err
				}
				out, err := s.CheckCodes(r.Context(), p, r.PathValue("id"), v, r.Body)
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/stats/imports", Allow: []auth.Action{stats.ImportRecords}, Summary: "Import a national records file (CSV body), validated in full first: a bad row refuses the file, naming its line, field and rule (statistician); a file imported already with the same mapping version and still counted is not imported again: 200 with that import and \"unchanged\":true",
			In: fileBody{csvTypes, "the records file as CSV, at most 8 GiB"}, Out: stats.Import{}, Status: 201, Also: http.StatusOK, FileLimit: MaxStatsFile,
			Query: []Param{{Name: "mapping", Doc: "the mapping that reads the file's offence_code (absent for a file that gives iccs)"},
				{Name: "mapping_version", Doc: "its version; the latest when absent"}, {Name: "source", Doc: "the file's name, for the log"}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				v, err := intParam(r, "mapping_version")
				if err != nil {
					return 0, nil, err
				}
				if err := csvUpload(r); err != nil {
					return 0, nil, err
				}
				q := r.URL.Query()
				out, err := s.Import(r.Context(), p, stats.ImportRequest{Source: q.Get("source"), Mapping: q.Get("mapping"), MappingVersion: v}, r.Body, r.ContentLength, nil)
				if err == nil && out.Unchanged {
					return http.StatusOK, out, nil
				}
				return http.StatusCreated, out, err
			}},
		{Method: "POST", Path: "/api/v1/stats/imports/{id}/withdraw", Allow: []auth.Action{stats.WithdrawImports}, Summary: "Withdraw an import, with a reason: its records are no longer counted; it stays listed, withdrawn (statistician)",
			In: stats.Withdrawal{}, Out: stats.Import{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[stats.Withdrawal](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.Withdraw(r.Context(), p, r.PathValue("id"), in)
				return http.StatusOK, out, err
			}},
		{Method: "GET", Path: "/api/v1/stats/imports", Allow: []auth.Action{stats.ReadStatistics}, Summary: "The imports of national records, newest first, the withdrawn ones shown so (withdrawn_at)",
			Out: statsImportsOut{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := s.Imports(r.Context(), p)
				return http.StatusOK, statsImportsOut{Imports: out}, err
			}},
		{Method: "POST", Path: "/api/v1/stats/aggregate", Allow: []auth.Action{stats.ReadStatistics}, Summary: "Count records at an ICCS level by any dimensions, period and region, with totals (for the registry's own users: not disclosure-controlled; publish through the exports)",
			In: stats.Query{}, Out: stats.Result{}, Reads: true,
			Enums: []Enum{{reflect.TypeFor[stats.Query](), "Stage", stats.DimStage.Codes()[1:]}, {reflect.TypeFor[stats.Query](), "Unit", stats.DimUnit.Codes()[1:]},
				{reflect.TypeFor[stats.Query](), "Period", stats.Periods}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[stats.Query](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.Aggregate(r.Context(), p, in)
				return http.StatusOK, out, err
			}},
		{Method: "GET", Path: "/api/v1/stats/sdmx", Allow: []auth.Action{stats.PublishTables}, Summary: "A query's counts as SDMX-CSV after disclosure control, with _T totals (a time range in TIME_PERIOD for a total over periods) (statistician, regulator)",
			Query: statsQueryParams(), Out: fileBody{Media: []string{"text/csv"}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				q, err := stats.ParseQuery(r.URL.Query())
				if err != nil {
					return 0, nil, err
				}
				req, err := s.SDMX(p, q)
				if err != nil {
					return 0, nil, err
				}
				return serveFile(env, r, p, req)
			}},
		{Method: "GET", Path: "/api/v1/stats/sdmx/structure", Public: true, Summary: "The SDMX-ML 2.1 Structure message the SDMX-CSV files name (dataflow AGENCY:ICCS_STATS(1.0), the agency --sdmx-agency names, CUSTOS by default): its data structure definition, codelists and concepts",
			Out: fileBody{Media: []string{"application/xml"}},
			Handler: func(r *http.Request, _ *auth.Principal) (int, any, error) {
				return http.StatusOK, Stream(func(w http.ResponseWriter) error {
					w.Header().Set("Content-Type", "application/xml; charset=utf-8")
					w.Header().Set("Content-Disposition", `attachment; filename="custos-ICCS_STATS-1.0-structure.xml"`)
					return s.WriteSDMXStructure(w)
				}), nil
			}},
		{Method: "GET", Path: "/api/v1/stats/uncts/{table}", Allow: []auth.Action{stats.PublishTables}, Summary: "A UN-CTS table for a year as CSV or XLSX, after disclosure control (query year, format; statistician, regulator)",
			Query: []Param{{Name: "year", Doc: "the year (required)"}, {Name: "format", Doc: "the file's format", Values: export.Formats}}, Out: exportFile,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				year, err := intParam(r, "year")
				if err != nil {
					return 0, nil, err
				}
				return serveExport(env, r, p, func(format export.Format) (export.Request, error) {
					return s.UNCTS(p, r.PathValue("table"), year, format)
				})
			}},
	}
}
