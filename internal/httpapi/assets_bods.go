package httpapi

import (
	"io"
	"net/http"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/privacy"
)

// MaxBODSFile is the largest BODS file the API imports.
const MaxBODSFile = 8 << 30

var bodsTypes = []string{"application/json", "application/x-ndjson", "application/jsonl", "application/octet-stream"}

// bodsImportsOut is the answer of the list of BODS imports.
type bodsImportsOut struct {
	Imports []assets.BODSImport `json:"imports"`
}

// AssetsBODS lists the beneficial-ownership routes of the asset-recovery
// registry, under /api/v1/assets/bods/.
func AssetsBODS(env Env, s *assets.Service) []Route {
	lookup := func(question string) Handler {
		return func(r *http.Request, p *auth.Principal) (int, any, error) {
			out, err := s.Ownership(r.Context(), p, question, r.PathValue("id"), "api")
			return http.StatusOK, out, err
		}
	}
	return []Route{
		{Method: "POST", Path: "/api/v1/assets/bods/imports", Allow: []auth.Action{assets.ImportOwnership}, Summary: "Import a file of BODS 0.4 statements (a JSON array or JSON Lines, the body), validated in full against the official schema first: a bad statement refuses the file, naming its JSON path and rule (central authority)",
			In: fileBody{bodsTypes, "BODS 0.4 statements, at most 8 GiB"}, Out: assets.BODSImport{}, Status: 201, FileLimit: MaxBODSFile,
			Query: []Param{{Name: "source", Doc: "the file's name, for the log"}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				if err := fileContentType(r, "BODS", bodsTypes); err != nil {
					return 0, nil, err
				}
				r.Body = http.MaxBytesReader(nil, r.Body, MaxBODSFile)
				out, err := s.ImportBODS(r.Context(), p, r.URL.Query().Get("source"), r.Body, r.ContentLength, nil)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/assets/bods/imports", Allow: []auth.Action{assets.ReadOwnership}, Summary: "The imports of BODS statements, oldest first, each with the SHA-256 of its stored chunks",
			Out: bodsImportsOut{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := s.BODSImports(r.Context(), p)
				return http.StatusOK, bodsImportsOut{Imports: out}, err
			}},
		{Method: "GET", Path: "/api/v1/assets/bods/owners/{id}", Allow: []auth.Action{assets.ReadOwnership}, Summary: "Who ultimately owns or controls the entity with this recordId, through chains of any depth, with shares multiplied along each chain and summed over chains; the lookup is logged with its source and retrieval time",
			Out: assets.OwnershipAnswer{}, Handler: lookup(assets.QuestionOwners)},
		{Method: "GET", Path: "/api/v1/assets/bods/controls/{id}", Allow: []auth.Action{assets.ReadOwnership}, Summary: "Which entities the person or entity with this recordId holds interests in, directly or through chains; the lookup is logged with its source and retrieval time",
			Out: assets.OwnershipAnswer{}, Handler: lookup(assets.QuestionControls)},
		{Method: "POST", Path: "/api/v1/assets/bods/persons/{id}/erasure", Allow: []auth.Action{assets.EraseOwnershipPerson}, Summary: "Erase the personal data of the person with this recordId from every statement imported, on a ground of GDPR art. 17(1) and the reference of the decision; lookups then name the person as erased and exports leave their data out (regulator); a person with a statement imported before persons were sealed has no key to shred and is refused (409, imported_before_sealing), nothing erased",
			In: assets.Erase{}, Out: privacy.Erasure{}, Status: 201,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[assets.Erase](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.EraseBODSPerson(r.Context(), p, r.PathValue("id"), in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/assets/bods/export", Allow: []auth.Action{assets.ReadOwnership}, Summary: "Every statement of the asker's state's register as given, in log order: a BODS 0.4 package (JSON array), or JSON Lines with format=jsonl; logged (export.made); headers Custos-Log-Size, Custos-Log-Root and Custos-Export-Log-Entry (the checkpoint it reflects, its log entry)",
			Query: []Param{{Name: "format", Doc: "json (default) or jsonl", Values: []string{"json", "jsonl"}}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				format := assets.BODSJSON
				if f := r.URL.Query().Get("format"); f != "" {
					format = export.Format(f)
				}
				return http.StatusOK, Stream(func(w http.ResponseWriter) error { return serveBODS(w, r, s, p, format) }), nil
			}},
	}
}

// serveBODS answers with the BODS export of p in format, headed as every
// export's answer is (serveFile).
func serveBODS(w http.ResponseWriter, r *http.Request, s *assets.Service, p *auth.Principal, format export.Format) error {
	return export.ServeFile(w, r, func(start func(func(http.Header)), out io.Writer) error {
		return s.ExportBODS(r.Context(), p, format, func(m export.Meta) {
			start(func(h http.Header) {
				export.SetHeaders(h, assets.BODSMediaType(m.Format), m.FileName(), m.Checkpoint, m.Entry)
			})
		}, out)
	})
}
