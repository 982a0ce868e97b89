package httpapi_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestRequiredFields checks that each field the OpenAPI document says a
// request body requires (a field tagged api:"required") is one the API
// refuses a body without, naming it, and changing nothing; and that the
// body with all of them is accepted. Every operation whose schema
// requires a field has a valid body here: tagging another type's fields
// needs one, so that the document cannot claim what the API does not do.
func TestRequiredFields(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		r := w.Must(t, 200, "GET", "/api/v1/openapi.json", "", nil)
		doc := r.Body
		// The operations whose body requires fields, and those fields.
		want := map[string][]string{}
		for path, item := range doc["paths"].(map[string]any) {
			for method, op := range item.(map[string]any) {
				op := op.(map[string]any)
				if op["deprecated"] == true {
					continue
				}
				if req := requiredOf(doc, op); len(req) > 0 {
					want[strings.ToUpper(method)+" "+path] = req
				}
			}
		}
		given := time.Now().UTC().AddDate(0, 0, -2).Format("2006-01-02")
		// steps are the operations in an order that makes each one's
		// references; body builds the valid body from the ids before.
		ids := map[string]string{}
		steps := []struct {
			op, path, token, id string
			body                func() map[string]any
		}{
			{"POST /api/v1/transplant/donors", "/api/v1/transplant/donors", w.CoordA, "donor", func() map[string]any { return apptest.DeceasedDonor(w.CentreA) }},
			{"POST /api/v1/transplant/donors/{id}/consents", "/api/v1/transplant/donors/{donor}/consents", w.CoordA, "", func() map[string]any {
				return map[string]any{"kind": "donor_registry_authorization", "given_on": given, "assessed_by": "registry check",
					"assessor_independent": true, "voluntary": true, "informed": true}
			}},
			{"POST /api/v1/transplant/procurements", "/api/v1/transplant/procurements", w.CoordA, "organ", func() map[string]any {
				return map[string]any{"donor_id": ids["donor"], "centre_id": w.CentreA, "procured_at": apptest.Hours(5), "organs": []string{"kidney"}}
			}},
			{"POST /api/v1/transplant/recipients", "/api/v1/transplant/recipients", w.CoordA, "recipient", func() map[string]any { return apptest.Recipient(w.CentreA, "kidney") }},
			{"POST /api/v1/transplant/transplant-authorizations", "/api/v1/transplant/transplant-authorizations", w.CoordA, "authorization", func() map[string]any {
				return map[string]any{"organ_id": ids["organ"], "recipient_id": ids["recipient"], "centre_id": w.CentreA, "authorized_by": "Dr. M",
					"compatibility_documented": true, "consent_verified": true, "no_payment_declared": true}
			}},
			{"POST /api/v1/transplant/transplants", "/api/v1/transplant/transplants", w.CoordA, "", func() map[string]any {
				return map[string]any{"organ_id": ids["organ"], "recipient_id": ids["recipient"], "centre_id": w.CentreA,
					"performed_at": apptest.Hours(1), "authorization_id": ids["authorization"]}
			}},
		}
		for _, s := range steps {
			path := strings.ReplaceAll(s.path, "{donor}", ids["donor"])
			req, ok := want[s.op]
			if !ok {
				t.Errorf("%s requires no field in the document", s.op)
			}
			delete(want, s.op)
			for _, f := range req {
				body := s.body()
				if _, ok := body[f]; !ok {
					t.Fatalf("%s: the valid body has no %s", s.op, f)
				}
				delete(body, f)
				res := w.Do(t, "POST", path, s.token, body)
				if res.Status/100 != 4 || res.Str("error.field") != f {
					t.Errorf("%s without %s: %d %s, want a refusal naming %s", s.op, f, res.Status, res.Raw, f)
				}
			}
			res := w.Must(t, 201, "POST", path, s.token, s.body())
			switch s.id {
			case "organ":
				ids["organ"] = res.Body["organs"].([]any)[0].(map[string]any)["id"].(string)
			case "":
			default:
				ids[s.id] = res.Str("id")
			}
		}
		for _, op := range slices.Sorted(maps.Keys(want)) {
			t.Errorf("%s requires %v in the document, and this test has no valid body to check it by", op, want[op])
		}
	})
}

// requiredOf returns the fields the request body schema of op requires.
func requiredOf(doc, op map[string]any) []string {
	rb, _ := op["requestBody"].(map[string]any)
	content, _ := rb["content"].(map[string]any)
	media, _ := content["application/json"].(map[string]any)
	schema, _ := media["schema"].(map[string]any)
	ref, _ := schema["$ref"].(string)
	name, ok := strings.CutPrefix(ref, "#/components/schemas/")
	if !ok {
		return nil
	}
	s := doc["components"].(map[string]any)["schemas"].(map[string]any)[name].(map[string]any)
	var out []string
	req, _ := s["required"].([]any)
	for _, f := range req {
		out = append(out, f.(string))
	}
	return out
}
