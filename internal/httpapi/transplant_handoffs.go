package httpapi

import (
	"net/http"
	"reflect"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/transplant"
)

// transplantHandoffs lists the routes of labels and hand-offs
// (docs/vigilance.md, "Labels and hand-offs"): an organ's or a sample's
// label as a PDF, the hand-off that scanning it records, and an organ's
// chain of custody. They are new, so they have no path from before the
// registries' prefix.
func transplantHandoffs(t *transplant.Service) []Route {
	stepEnums := []Enum{
		{reflect.TypeFor[transplant.NewHandoff](), "Step", transplant.HandoffSteps},
		{reflect.TypeFor[transplant.Handoff](), "Step", transplant.HandoffSteps},
	}
	return []Route{
		{Method: "POST", Path: "/api/v1/transplant/handoffs", Allow: []auth.Action{transplant.Record},
			Summary: "Record a hand-off of an organ, as scanning its label does: procurement theatre, transport, arrival or transplant theatre (coordinator of the centre that has the organ)",
			In:      transplant.NewHandoff{}, Out: transplant.Handoff{}, Status: 201, Enums: stepEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.NewHandoff](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.RecordHandoff(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/transplant/organs/{id}/custody", Allow: []auth.Action{transplant.Read},
			Summary: "An organ's chain of custody: its hand-offs in order and the last of them, where it is",
			Out:     transplant.Custody{}, Enums: stepEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := t.OrganCustody(r.Context(), p, r.PathValue("id"))
				return http.StatusOK, out, err
			}},
		{Method: "GET", Path: "/api/v1/transplant/organs/{id}/label", Allow: []auth.Action{transplant.Read},
			Summary: "The label of an organ, or of a donor sample travelling with it, as a one-page PDF for label printers, with a QR Code of the organ identifier; written in the Accept-Language when it is en, es, fr or ru, else in English (the web UI's HTML label prints in every language)",
			Query: []Param{{Name: "sample", Doc: "the sample's kind, for a sample's label; absent for the organ's", Values: transplant.SampleKinds},
				{Name: "size", Doc: "100x150 (mm, the default) or 4x6 (inches)", Values: transplant.LabelSizes}},
			Out: fileBody{Media: []string{"application/pdf"}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				sample, size, err := transplant.LabelQuery(r.URL.Query())
				if err != nil {
					return 0, nil, err
				}
				l, err := t.OrganLabel(r.Context(), p, r.PathValue("id"), sample)
				if err != nil {
					return 0, nil, err
				}
				return http.StatusOK, Stream(func(w http.ResponseWriter) error {
					return transplant.ServeLabel(w, l, size, i18n.FromContext(r.Context()))
				}), nil
			}},
	}
}
