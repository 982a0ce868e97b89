package httpapi

import (
	"net/http"
	"reflect"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/transplant"
)

// godtRoutes are the routes of procedures (several organs into one
// recipient, the domino liver) and of the GODT annual report
// (docs/transplant.md, docs/oversight.md).
func godtRoutes(env Env, t *transplant.Service) []Route {
	procEnums := []Enum{{reflect.TypeFor[transplant.NewProcedure](), "Kind", transplant.ProcedureKinds},
		{reflect.TypeFor[transplant.Procedure](), "Kind", transplant.ProcedureKinds}}
	return []Route{
		{Method: "POST", Path: "/api/v1/transplant/procedures", Allow: []auth.Action{transplant.Record}, Summary: "Record a procedure that transplants several organs of one donor into one recipient " +
			"(double kidney, en-bloc kidneys, double lung, kidney-pancreas, heart-lung, liver-kidney, liver-intestine), or one organ with the domino donation " +
			"of the recipient's explanted liver, which gets its own organ identifier (coordinator)",
			In: transplant.NewProcedure{}, Out: transplant.Procedure{}, Status: 201, Enums: procEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewProcedure](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.RecordProcedure(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/transplant/godt", Allow: []auth.Action{transplant.ReadFigures}, Summary: "The GODT annual report for the registry's country and a year: donors and transplants " +
			"under the GODT export's field names, absolute and per million population, as JSON, or as a file with format (regulator, auditor)",
			Out: transplant.GODTReport{},
			Query: []Param{
				{Name: "country", Doc: "the registry's country (its jurisdiction, ISO 3166-1 alpha-2)"},
				{Name: "year", Doc: "the year reported: donors by the day of their procurement, transplants by the day performed"},
				{Name: "population", Doc: "the country's population that year, for the figures per million population"},
				{Name: "format", Doc: "csv or xlsx: the report as a file, a row per field, with a header naming the log checkpoint it reflects; every export is a log entry", Values: export.Formats},
			},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				q := r.URL.Query()
				if q.Has("format") {
					req, err := t.GODTExport(p, q)
					if err != nil {
						return 0, nil, err
					}
					return serveFile(env, r, p, req)
				}
				g, err := transplant.GODTQueryOf(q)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.GODT(r.Context(), p, g)
				return http.StatusOK, out, err
			}},
	}
}
