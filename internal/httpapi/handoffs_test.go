package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestHandoffAPI walks the routes of labels and hand-offs as a client
// would, validated against the OpenAPI document: a kidney of centre A
// allocated to centre B, its label as a PDF in both sizes, its hand-offs
// scanned at each step, its custody and its trace, and the refusals.
func TestHandoffAPI(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	validate := openAPIValidator(t, w.Env)
	call := func(method, pattern, path, token string, body any, status int) *apptest.Response {
		t.Helper()
		if body != nil {
			validate(method, pattern, "request", body)
		}
		res := w.Must(t, status, method, path, token, body)
		if status < 300 {
			validate(method, pattern, "response", res.Body)
		}
		return res
	}
	refused := func(method, path, token string, body any, status int, rule, field string) {
		t.Helper()
		r := w.Do(t, method, path, token, body)
		if r.Status != status || r.Str("error.rule") != rule || r.Str("error.field") != field {
			t.Errorf("%s %s: %d %s, want %d %s on %q", method, path, r.Status, r.Raw, status, rule, field)
		}
	}
	donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
	w.Must(t, 201, "POST", "/api/v1/transplant/donors/"+donor+"/consents", w.CoordA, map[string]any{
		"kind": "family_authorization", "given_on": time.Now().UTC().AddDate(0, 0, -2).Format("2006-01-02"), "assessed_by": "coordinator",
		"assessor_independent": true, "voluntary": true, "informed": true})
	pr := w.Must(t, 201, "POST", "/api/v1/transplant/procurements", w.CoordA, map[string]any{"donor_id": donor, "procured_at": apptest.Hours(8),
		"organs": []string{"kidney"}})
	kidney := pr.Body["organs"].([]any)[0].(map[string]any)["id"].(string)
	rc := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordB, apptest.Recipient(w.CentreB, "kidney")).Str("id")
	w.Must(t, 201, "POST", "/api/v1/transplant/transplant-authorizations", w.CoordB, map[string]any{"organ_id": kidney, "recipient_id": rc,
		"centre_id": w.CentreB, "authorized_by": "Dr. M", "compatibility_documented": true, "consent_verified": true, "no_payment_declared": true})

	// The label, as a PDF, in both sizes and in a language the PDF does
	// not write (English then).
	for _, q := range []string{"", "?size=4x6", "?sample=blood&size=100x150"} {
		req, _ := http.NewRequest("GET", w.URL+"/api/v1/transplant/organs/"+strings.ToLower(kidney)+"/label"+q, nil)
		req.Header.Set("Authorization", "Bearer "+w.Auditor)
		req.Header.Set("Accept-Language", "ar")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(b.Bytes(), []byte("%PDF-")) ||
			!strings.Contains(res.Header.Get("Content-Disposition"), kidney) {
			t.Errorf("label%s: %d %s %q", q, res.StatusCode, res.Header.Get("Content-Type"), truncate(b.Bytes()))
		}
	}
	label := "/api/v1/transplant/organs/" + kidney + "/label"
	refused("GET", label+"?size=A4", w.Auditor, nil, 422, "enum", "size")
	refused("GET", label+"?sample=urine", w.Auditor, nil, 422, "enum", "sample")
	refused("GET", label+"?copies=2", w.Auditor, nil, 422, "query", "copies")
	refused("GET", label+"?size=4x6&size=4x6", w.Auditor, nil, 422, "query", "size")
	refused("GET", "/api/v1/transplant/organs/"+kidney[:len(kidney)-1]+otherChar(kidney[len(kidney)-1])+"/label", w.Auditor, nil, 422, "organ_id_check", "organ_id")

	// The hand-offs, then the custody and the trace.
	handoff := func(step string) map[string]any {
		return map[string]any{"organ_id": kidney, "step": step, "place": "Theatre 1"}
	}
	refused("POST", "/api/v1/transplant/handoffs", w.CoordB, handoff("procurement_theatre"), 403, "organ_holder", "organ_id")
	refused("POST", "/api/v1/transplant/handoffs", w.CoordA, handoff("boarding"), 422, "enum", "step")
	call("POST", "/api/v1/transplant/handoffs", "/api/v1/transplant/handoffs", w.CoordA, handoff("procurement_theatre"), 201)
	h := call("POST", "/api/v1/transplant/handoffs", "/api/v1/transplant/handoffs", w.CoordB, handoff("arrival"), 201)
	if h.Str("step") != "arrival" || h.Str("centre_id") != w.CentreB || h.Str("organ_id") != kidney || h.Str("handed_at") == "" {
		t.Errorf("hand-off: %s", h.Raw)
	}
	refused("POST", "/api/v1/transplant/handoffs", w.CoordA, handoff("transport"), 409, "handoff_order", "step")
	c := call("GET", "/api/v1/transplant/organs/{id}/custody", "/api/v1/transplant/organs/"+kidney+"/custody", w.Regulator, nil, 200)
	if c.Str("location.step") != "arrival" || len(c.Body["handoffs"].([]any)) != 2 || c.Str("status") != "procured" {
		t.Errorf("custody: %s", c.Raw)
	}
	tr := call("GET", "/api/v1/transplant/trace/organs/{id}", "/api/v1/transplant/trace/organs/"+kidney, w.Auditor, nil, 200)
	if !strings.Contains(string(tr.Raw), `"custody"`) || !strings.Contains(string(tr.Raw), `"location"`) {
		t.Errorf("the trace shows no custody: %s", truncate(tr.Raw))
	}
}
