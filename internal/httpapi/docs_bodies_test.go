package httpapi_test

import (
	"fmt"
	"mime"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/docstest"
	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/storetest"
)

// TestDocBodies reads every JSON request body the README and docs/ tell a
// user to send (docstest.Bodies: the -d of a curl line, a ```json block
// introduced as an operation's body) and checks it against the API as the
// served OpenAPI document describes it: the operation exists for the
// method, takes a JSON body, and the body meets its requestBody schema
// (field names, types, enumerations and required fields; the schemas
// refuse unknown fields as the decoder does, additionalProperties false),
// after the API's own reading of a body (httpapi.DecodeBytes: one object,
// UTF-8, no key given twice). A shell variable in a string ("$ORGAN")
// stands for a string. An integrator copies these bodies: a field renamed
// must not leave them behind.
func TestDocBodies(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	r := e.Must(t, 200, "GET", "/api/v1/openapi.json", "", nil)
	check := docBodyChecker(t, r.Raw, r.Body["paths"].(map[string]any))
	bodies := docstest.Bodies(t)
	for _, b := range bodies {
		if err := check(b); err != nil {
			t.Errorf("%s:%d: %s %s: %v", b.Doc, b.Line, b.Method, b.Path, err)
		}
	}
	// The docs show a score of bodies: finding few means the reading
	// broke, not that the docs are right.
	if len(bodies) < 25 {
		t.Fatalf("only %d request bodies found in README.md and docs/", len(bodies))
	}
}

// TestDocBodiesRefuse checks that TestDocBodies's check fails a body that
// the API refuses: a field name the request does not have, a value of the
// wrong type, a required field left out, a key given twice, an operation
// that takes no JSON body, a method the path does not serve.
func TestDocBodiesRefuse(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	r := e.Must(t, 200, "GET", "/api/v1/openapi.json", "", nil)
	check := docBodyChecker(t, r.Raw, r.Body["paths"].(map[string]any))
	const consents = "/api/v1/transplant/donors/$DONOR/consents"
	good := `{"kind": "donor_registry_authorization", "given_on": "2026-11-30", "assessed_by": "registry check",
	  "assessor_independent": true, "voluntary": true, "informed": true}`
	if err := check(docstest.Body{Method: "POST", Path: consents, JSON: good}); err != nil {
		t.Fatalf("a right body refused: %v", err)
	}
	for _, c := range []struct{ name, method, path, body, want string }{
		{"unknown field", "POST", consents, strings.Replace(good, `"given_on"`, `"given_at"`, 1), "given_at"},
		{"wrong type", "POST", consents, strings.Replace(good, `"voluntary": true`, `"voluntary": "yes"`, 1), "voluntary"},
		{"missing required field", "POST", consents, strings.Replace(good, `"kind": "donor_registry_authorization", `, "", 1), "kind"},
		{"enum", "POST", "/api/v1/transplant/procurements", `{"donor_id": "$DONOR", "procured_at": "2026-12-06T01:40:00Z", "organs": ["kidneys"]}`, "organs"},
		{"duplicate key", "POST", consents, strings.Replace(good, `"informed": true`, `"informed": true, "informed": false`, 1), "duplicate_key"},
		{"not JSON", "POST", consents, `{"kind": $KIND}`, "json"},
		{"file body", "POST", "/api/v1/hashmatch/match/image", `{"pdq": "00"}`, "no JSON body"},
		{"method", "PUT", consents, good, "PUT"},
		{"path", "POST", "/api/v1/transplant/donor/$DONOR/consents", good, "no operation"},
	} {
		err := check(docstest.Body{Method: c.method, Path: c.path, JSON: c.body})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a failure naming %q", c.name, err, c.want)
		}
	}
	// A curl line whose -d goes without a JSON Content-Type, read from a
	// document as the docs' are.
	for _, c := range []struct{ name, line, want string }{
		{"no Content-Type", `curl -H "Authorization: Bearer $TOKEN" -d '` + good + `' https://registry.example` + consents, "x-www-form-urlencoded"},
		{"another media type", `curl -H 'Content-Type: text/plain' -d '` + good + `' https://registry.example` + consents, "text/plain"},
	} {
		bodies := docstest.DocBodies(docstest.Doc{Name: "test.md", Lines: []string{"```sh", c.line, "```"}})
		if len(bodies) != 1 {
			t.Fatalf("%s: %d bodies read from %q", c.name, len(bodies), c.line)
		}
		if err := check(bodies[0]); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a failure naming %q", c.name, err, c.want)
		}
	}
	for _, line := range []string{
		`curl -H 'Content-Type: application/json' -d '` + good + `' https://registry.example` + consents,
		`curl --json '` + good + `' https://registry.example` + consents,
	} {
		if bodies := docstest.DocBodies(docstest.Doc{Name: "test.md", Lines: []string{"```sh", line, "```"}}); len(bodies) != 1 || check(bodies[0]) != nil {
			t.Errorf("a right curl line refused: %q: %v", line, bodies)
		}
	}
}

// docBodyChecker returns the check of TestDocBodies on the OpenAPI
// document raw (its paths decoded in paths).
func docBodyChecker(t testing.TB, raw []byte, paths map[string]any) func(docstest.Body) error {
	c := openAPICompiler(t, raw)
	return func(b docstest.Body) error {
		// curl's -d sends a form's media type unless told otherwise, and
		// the API reads a JSON body only as application/json.
		if b.Curl {
			sent := b.ContentType
			if sent == "" {
				sent = "application/x-www-form-urlencoded"
			}
			if mt, _, err := mime.ParseMediaType(sent); err != nil || mt != "application/json" {
				return fmt.Errorf("curl sends this body as %s, which the API refuses (415): add -H 'Content-Type: application/json'", sent)
			}
		}
		// The route the path names, the one with the most fixed segments
		// where several match (organs/awaiting-disposition, organs/{id}),
		// as the mux picks it.
		pattern, literal, methods := "", -1, []string{}
		for p, item := range paths {
			if !docstest.PathMatches(p, b.Path) {
				continue
			}
			ops := item.(map[string]any)
			if ops[strings.ToLower(b.Method)] == nil {
				for m := range ops {
					methods = append(methods, strings.ToUpper(m))
				}
				continue
			}
			if n := strings.Count(p, "/") - strings.Count(p, "{"); n > literal {
				pattern, literal = p, n
			}
		}
		if pattern == "" {
			if len(methods) > 0 {
				slices.Sort(methods)
				return fmt.Errorf("the path is served for %s, not %s", strings.Join(methods, ", "), b.Method)
			}
			return fmt.Errorf("no operation of the OpenAPI document has this path")
		}
		op := paths[pattern].(map[string]any)[strings.ToLower(b.Method)].(map[string]any)
		rb, _ := op["requestBody"].(map[string]any)
		content, _ := rb["content"].(map[string]any)
		media, _ := content["application/json"].(map[string]any)
		if media["schema"] == nil {
			return fmt.Errorf("%s %s takes no JSON body", b.Method, pattern)
		}
		if err := httpapi.DecodeBytes([]byte(b.JSON), new(any)); err != nil {
			return fmt.Errorf("the API refuses it before its schema: %w", err)
		}
		ptr := "custos.json#/paths/" + strings.ReplaceAll(strings.ReplaceAll(pattern, "~", "~0"), "/", "~1") +
			"/" + strings.ToLower(b.Method) + "/requestBody/content/application~1json/schema"
		sch, err := c.Compile(ptr)
		if err != nil {
			t.Fatalf("compile the schema of %s %s: %v", b.Method, pattern, err)
		}
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(b.JSON))
		if err != nil {
			return fmt.Errorf("not JSON: %v", err)
		}
		if err := sch.Validate(v); err != nil {
			return fmt.Errorf("does not meet the schema of %s %s: %v", b.Method, pattern, err)
		}
		return nil
	}
}
