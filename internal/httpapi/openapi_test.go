package httpapi_test

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestOpenAPIMatchesHandlers checks the served document lists exactly the
// routes the server handles, and that real requests and responses validate
// against the schemas it gives for them.
func TestOpenAPIMatchesHandlers(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	r := w.Must(t, 200, "GET", "/api/v1/openapi.json", "", nil)
	if v, _ := r.Body["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Fatalf("openapi version %q", v)
	}
	var served []string
	for path, item := range r.Body["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			served = append(served, strings.ToUpper(method)+" "+path)
		}
	}
	var handled []string
	for _, rt := range (&httpapi.API{}).Routes() {
		handled = append(handled, rt.Method+" "+rt.Path)
	}
	sort.Strings(served)
	sort.Strings(handled)
	if strings.Join(served, "\n") != strings.Join(handled, "\n") {
		t.Fatalf("document paths:\n%s\n\nhandled routes:\n%s", strings.Join(served, "\n"), strings.Join(handled, "\n"))
	}
	// Every route the issue names is there.
	for _, want := range []string{"POST /api/v1/centres", "POST /api/v1/centres/{id}/authorizations", "POST /api/v1/donors",
		"POST /api/v1/recipients", "POST /api/v1/procurements", "POST /api/v1/transplant-authorizations", "POST /api/v1/transplants",
		"GET /api/v1/trace/organs/{id}", "GET /api/v1/trace/donors/{id}", "GET /api/v1/trace/recipients/{id}", "GET /api/v1/alerts",
		"GET /api/v1/log/checkpoint"} {
		if sort.SearchStrings(handled, want) >= len(handled) || handled[sort.SearchStrings(handled, want)] != want {
			t.Errorf("route %s is missing", want)
		}
	}

	validate := openAPIValidator(t, w.Env)
	call := func(method, pattern, path, token string, body any, status int) *apptest.Response {
		t.Helper()
		if body != nil {
			validate(method, pattern, "request", body)
		}
		res := w.Must(t, status, method, path, token, body)
		validate(method, pattern, "response", res.Body)
		return res
	}
	centre := map[string]any{"name": "Centre C", "city": "Eastfield"}
	cid := call("POST", "/api/v1/centres", "/api/v1/centres", w.Admin, centre, 201).Str("id")
	call("POST", "/api/v1/centres/{id}/authorizations", "/api/v1/centres/"+cid+"/authorizations", w.Regulator,
		map[string]any{"activity": "procurement", "organ": "kidney", "valid_from": "2020-01-01", "valid_to": "2030-12-31"}, 201)
	call("POST", "/api/v1/principals", "/api/v1/principals", w.Admin, map[string]any{"name": "C", "role": "coordinator", "authority_id": cid}, 201)
	donor := call("POST", "/api/v1/donors", "/api/v1/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA), 201).Str("id")
	call("POST", "/api/v1/donors/{id}/consents", "/api/v1/donors/"+donor+"/consents", w.CoordA, map[string]any{
		"kind": "donor_registry_authorization", "given_on": time.Now().UTC().AddDate(0, 0, -2).Format("2006-01-02"), "assessed_by": "registry check",
		"assessor_independent": true, "voluntary": true, "informed": true}, 201)
	pr := call("POST", "/api/v1/procurements", "/api/v1/procurements", w.CoordA, map[string]any{"donor_id": donor, "procured_at": apptest.Hours(5), "organs": []string{"kidney"}}, 201)
	organ := pr.Body["organs"].([]any)[0].(map[string]any)["id"].(string)
	rc := call("POST", "/api/v1/recipients", "/api/v1/recipients", w.CoordA, apptest.Recipient(w.CentreA, "kidney"), 201).Str("id")
	ta := call("POST", "/api/v1/transplant-authorizations", "/api/v1/transplant-authorizations", w.CoordA, map[string]any{"organ_id": organ, "recipient_id": rc,
		"centre_id": w.CentreA, "authorized_by": "Dr. M", "compatibility_documented": true, "consent_verified": true, "no_payment_declared": true}, 201).Str("id")
	call("POST", "/api/v1/transplants", "/api/v1/transplants", w.CoordA, map[string]any{"organ_id": organ, "recipient_id": rc, "centre_id": w.CentreA,
		"performed_at": apptest.Hours(0), "authorization_id": ta}, 201)
	call("GET", "/api/v1/trace/donors/{id}", "/api/v1/trace/donors/"+donor, w.Auditor, nil, 200)
	call("GET", "/api/v1/trace/organs/{id}", "/api/v1/trace/organs/"+organ, w.Auditor, nil, 200)
	call("GET", "/api/v1/me", "/api/v1/me", w.CoordA, nil, 200)
}

// FuzzDecode feeds arbitrary bodies to the JSON command decoding: it must never
// panic, and must either fill the command or refuse with a named rule.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"kind":"living","name":"x","sex":"female","blood_group":"O"}`))
	f.Add([]byte(`{"organs":["kidney","liver"],"donor_id":"DN-1","procured_at":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"estimated_age": 1e400}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"weight_kg": "12"}`))
	f.Add([]byte(`{} x`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, target := range []any{new(transplant.NewDonor), new(transplant.NewProcurement), new(transplant.NewTransplant), new(transplant.NewConsent)} {
			err := httpapi.DecodeBytes(b, target)
			if err == nil {
				continue
			}
			e, ok := errs.As(err)
			if !ok || e.Rule == "" || e.Message == "" || (e.Code != errs.Malformed && e.Code != errs.TooLarge) {
				t.Fatalf("decoding %q: refusal without code, rule and message: %#v", b, err)
			}
		}
	})
}

// openAPIValidator reads the served OpenAPI document and returns a check that
// a request or response body (where: "request" or "response") of the route
// method+path matches the schema the document gives for it.
func openAPIValidator(t *testing.T, e *apptest.Env) func(method, path, where string, body any) {
	t.Helper()
	r := e.Must(t, 200, "GET", "/api/v1/openapi.json", "", nil)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.Raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("custos.json", doc); err != nil {
		t.Fatal(err)
	}
	paths := r.Body["paths"].(map[string]any)
	schemaRef := func(method, path, where string) string {
		op := paths[path].(map[string]any)[strings.ToLower(method)].(map[string]any)
		var content map[string]any
		if where == "request" {
			rb, ok := op["requestBody"].(map[string]any)
			if !ok {
				t.Fatalf("%s %s has no request body in the document", method, path)
			}
			content = rb["content"].(map[string]any)
		} else {
			for code, resp := range op["responses"].(map[string]any) {
				if strings.HasPrefix(code, "2") {
					content = resp.(map[string]any)["content"].(map[string]any)
				}
			}
		}
		ref, _ := content["application/json"].(map[string]any)["schema"].(map[string]any)["$ref"].(string)
		return ref
	}
	return func(method, path, where string, body any) {
		t.Helper()
		ref := schemaRef(method, path, where)
		if ref == "" {
			return // a free-form object
		}
		sch, err := c.Compile("custos.json" + ref)
		if err != nil {
			t.Fatalf("compile %s: %v", ref, err)
		}
		b, _ := json.Marshal(body)
		v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err := sch.Validate(v); err != nil {
			t.Errorf("%s %s %s does not match %s: %v", method, path, where, ref, err)
		}
	}
}
