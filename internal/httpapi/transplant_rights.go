package httpapi

import (
	"net/http"
	"reflect"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/transplant"
)

// subjectAccessIn is the body of a subject-access export.
type subjectAccessIn struct {
	Purpose string `json:"purpose"`
}

// subjectRightsRoutes are the data subjects' rights of the transplant
// registry (docs/personal-data.md): erasure, subject access,
// rectification of a donor's or recipient's personal data.
func subjectRightsRoutes(t *transplant.Service) []Route {
	grounds := []Enum{{reflect.TypeFor[transplant.Erase](), "Ground", privacy.GroundNames()},
		{reflect.TypeFor[privacy.Erasure](), "Ground", privacy.GroundNames()}}
	return []Route{
		{Method: "POST", Path: "/api/v1/transplant/subjects/{id}/erasure", Allow: []auth.Action{transplant.ErasePersonalData}, Summary: "Erase a donor's or recipient's personal data on a legal ground; refused while traceability retention applies unless the ground overrides it; logged (regulator)",
			In: transplant.Erase{}, Out: privacy.Erasure{}, Enums: grounds,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.Erase](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.EraseSubject(r.Context(), p, r.PathValue("id"), in)
				return http.StatusOK, out, err
			}},
		{Method: "POST", Sealed: true, Path: "/api/v1/transplant/subjects/{id}/access", Allow: []auth.Action{transplant.ExportSubjectData}, Summary: "Export everything the registry holds about a donor or recipient (GDPR art. 15): records, personal data, trace, corrections and who read it; the export is logged",
			In: subjectAccessIn{}, Out: transplant.SubjectReport{}, Enums: grounds,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[subjectAccessIn](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.SubjectAccess(r.Context(), p, r.PathValue("id"), transplant.AccessJSON, in.Purpose)
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/transplant/subjects/{id}/rectification", Allow: []auth.Action{transplant.RectifyPersonalData}, Summary: "Correct a donor's or recipient's name or national identifier (GDPR art. 16): the new value is sealed, the old one stays sealed, the log records what was corrected and why",
			In: transplant.Rectification{}, Out: privacy.Correction{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[transplant.Rectification](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := t.Rectify(r.Context(), p, r.PathValue("id"), in)
				return http.StatusOK, out, err
			}},
	}
}
