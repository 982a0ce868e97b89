package httpapi_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/storetest"
)

// TestMain checks every JSON answer the tests of this package get through
// apptest against the schema the server's own OpenAPI document gives it
// (checkAnswer): a list answered as null where the document says array, a
// field the document does not name, a refusal not in the shape of Error,
// fail the test that met it.
func TestMain(m *testing.M) {
	apptest.CheckAnswer = checkAnswer
	os.Exit(m.Run())
}

// served holds the compiled document of each server the tests started, by
// the test's *apptest.Env: not by its URL, since a port a closed test server
// had may be given to the next one, whose document differs.
var served sync.Map // *apptest.Env -> *apiDoc

// checkAnswer checks r, the answer to method and path from e, against the
// schema e's document gives the operation's answer of r's status (its
// success's, 4XX or 5XX); a request no operation takes must be refused in
// the shape of Error. Answers that are not JSON (files, exports) and empty
// answers are not looked at.
func checkAnswer(t testing.TB, e *apptest.Env, method, path string, r *apptest.Response) {
	t.Helper()
	if len(bytes.TrimSpace(r.Raw)) == 0 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return
	}
	d, err := docOf(e)
	if err != nil {
		t.Errorf("the OpenAPI document of %s: %v", e.URL, err)
		return
	}
	if err := d.checkAnswer(method, path, r.Status, r.Raw); err != nil {
		t.Errorf("%s %s answered %d: %v", method, path, r.Status, err)
	}
}

// apiDoc is a served OpenAPI document, its schemas compiled as they are
// asked for.
type apiDoc struct {
	doc      map[string]any
	c        *jsonschema.Compiler
	mux      *http.ServeMux // routes a request to its documented operation
	mu       sync.Mutex
	compiled map[string]*jsonschema.Schema // by JSON pointer
}

func docOf(e *apptest.Env) (*apiDoc, error) {
	if d, ok := served.Load(e); ok {
		return d.(*apiDoc), nil
	}
	res, err := http.Get(e.URL + "/api/v1/openapi.json")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	d, err := newAPIDoc(raw)
	if err != nil {
		return nil, err
	}
	got, _ := served.LoadOrStore(e, d)
	return got.(*apiDoc), nil
}

func newAPIDoc(raw []byte) (*apiDoc, error) {
	d := &apiDoc{c: jsonschema.NewCompiler(), mux: http.NewServeMux(), compiled: map[string]*jsonschema.Schema{}}
	if err := json.Unmarshal(raw, &d.doc); err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	if err := d.c.AddResource("custos.json", doc); err != nil {
		return nil, err
	}
	paths, _ := d.doc["paths"].(map[string]any)
	for path, item := range paths {
		for method := range item.(map[string]any) {
			d.mux.Handle(strings.ToUpper(method)+" "+path, http.NotFoundHandler())
		}
	}
	return d, nil
}

// pointer escapes a name for a JSON pointer.
func pointer(name string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(name)
}

// operation returns the operation of the document the request method and
// path (its query ignored) is routed to, and its path pattern; nil when
// none.
func (d *apiDoc) operation(method, path string) (map[string]any, string) {
	path, _, _ = strings.Cut(path, "?")
	req, err := http.NewRequest(method, "http://custos"+path, nil)
	if err != nil {
		return nil, ""
	}
	_, pattern := d.mux.Handler(req)
	m, p, ok := strings.Cut(pattern, " ")
	if !ok {
		return nil, ""
	}
	op, _ := d.doc["paths"].(map[string]any)[p].(map[string]any)[strings.ToLower(m)].(map[string]any)
	return op, p
}

// answerSchema is the JSON pointer of the schema of the JSON answer of
// status to method on the documented path pattern: the status's own
// answer, else its class's (4XX); an error when the document has none.
func (d *apiDoc) answerSchema(method, pattern string, status int) (string, error) {
	op, _ := d.doc["paths"].(map[string]any)[pattern].(map[string]any)[strings.ToLower(method)].(map[string]any)
	if op == nil {
		return "", fmt.Errorf("%s %s is not in the document", method, pattern)
	}
	responses, _ := op["responses"].(map[string]any)
	for _, code := range []string{strconv.Itoa(status), fmt.Sprintf("%dXX", status/100)} {
		resp, ok := responses[code].(map[string]any)
		if !ok {
			continue
		}
		content, _ := resp["content"].(map[string]any)
		if _, ok := content["application/json"]; !ok {
			return "", fmt.Errorf("the document gives its %s answer no JSON", code)
		}
		return "#/paths/" + pointer(pattern) + "/" + strings.ToLower(method) + "/responses/" + code + "/content/application~1json/schema", nil
	}
	return "", fmt.Errorf("the document gives %s %s no answer of status %d", method, pattern, status)
}

// requestSchema is the JSON pointer of the schema of the JSON request body
// of method on pattern.
func (d *apiDoc) requestSchema(method, pattern string) (string, error) {
	op, _ := d.doc["paths"].(map[string]any)[pattern].(map[string]any)[strings.ToLower(method)].(map[string]any)
	rb, _ := op["requestBody"].(map[string]any)
	content, _ := rb["content"].(map[string]any)
	if _, ok := content["application/json"]; !ok {
		return "", fmt.Errorf("%s %s has no JSON request body in the document", method, pattern)
	}
	return "#/paths/" + pointer(pattern) + "/" + strings.ToLower(method) + "/requestBody/content/application~1json/schema", nil
}

// checkAnswer checks the raw answer of status to method and path.
func (d *apiDoc) checkAnswer(method, path string, status int, raw []byte) error {
	ptr := "#/components/schemas/Error"
	if strings.HasPrefix(path, httpapi.HMAPrefix+"/") {
		ptr = "#/components/schemas/HmaRefusal" // HMA's addresses refuse in HMA's shape
	}
	if _, pattern := d.operation(method, path); pattern != "" {
		var err error
		if ptr, err = d.answerSchema(method, pattern, status); err != nil {
			return err
		}
	} else if status < 400 {
		return fmt.Errorf("no operation of the document takes it")
	}
	return d.validate(ptr, raw)
}

// validate checks raw JSON against the schema at the JSON pointer ptr of
// the document.
func (d *apiDoc) validate(ptr string, raw []byte) error {
	d.mu.Lock()
	sch, ok := d.compiled[ptr]
	if !ok {
		var err error
		if sch, err = d.c.Compile("custos.json" + ptr); err != nil {
			d.mu.Unlock()
			return fmt.Errorf("compile %s: %v", ptr, err)
		}
		d.compiled[ptr] = sch
	}
	d.mu.Unlock()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("does not match %s: %v", ptr, err)
	}
	return nil
}

// successSchema is the JSON pointer of the schema of the success answer of
// method on pattern.
func (d *apiDoc) successSchema(method, pattern string) (string, error) {
	op, _ := d.doc["paths"].(map[string]any)[pattern].(map[string]any)[strings.ToLower(method)].(map[string]any)
	responses, _ := op["responses"].(map[string]any)
	for code := range responses {
		if strings.HasPrefix(code, "2") {
			n, _ := strconv.Atoi(code)
			return d.answerSchema(method, pattern, n)
		}
	}
	return "", fmt.Errorf("%s %s has no success answer in the document", method, pattern)
}

// TestEmptyListsAnswered checks that an empty list is answered as [], never
// null, where the document says array: a peer registered without purposes
// to receive, the peer read back, an empty page. The leaf of the peer's
// registration keeps the null it was signed with: only the answer's form
// changed, not the log.
func TestEmptyListsAnswered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		pub, _, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		peer := w.Must(t, 201, "POST", "/api/v1/exchange/peers", w.Admin, map[string]any{"name": "Registry of Otherland", "jurisdiction": "XB",
			"url": "https://registry.otherland.example", "public_key": base64.StdEncoding.EncodeToString(pub), "send_purposes": []string{"legal_assistance"}})
		if got, ok := peer.Body["receive_purposes"].([]any); !ok || len(got) != 0 {
			t.Errorf("a peer registered without purposes to receive: receive_purposes %#v, want []: %s", peer.Body["receive_purposes"], peer.Raw)
		}
		leaf := w.Must(t, 200, "GET", "/api/v1/log/entries/"+strconv.Itoa(w.LogSize(t)-1), w.Auditor, nil)
		if data := leaf.Str("data"); !strings.Contains(data, `"receive_purposes":null`) {
			t.Errorf("the registration's leaf: %s, want receive_purposes null as it was signed", data)
		}
		got := w.Must(t, 200, "GET", "/api/v1/exchange/peers/"+peer.Str("id"), w.Admin, nil)
		if got, ok := got.Body["receive_purposes"].([]any); !ok || len(got) != 0 {
			t.Errorf("the peer read back: receive_purposes %#v, want []", got)
		}
		out := w.Must(t, 200, "GET", "/api/v1/exchange/outbox", w.Admin, nil)
		if msgs, ok := out.Body["messages"].([]any); !ok || len(msgs) != 0 {
			t.Errorf("an empty outbox: %s, want messages []", out.Raw)
		}
	})
}

// TestAnswerCheck checks the check of every answer (checkAnswer) refuses
// what the document does not allow, in a named schema and in an inline
// one: null for an array, a field no schema names, a refusal not in the
// shape of Error; and takes what it allows.
func TestAnswerCheck(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	d, err := docOf(e)
	if err != nil {
		t.Fatal(err)
	}
	peer := `{"id":"PX-1","name":"n","jurisdiction":"XB","url":"https://x.example","tls_ca":"","public_key":"k","fingerprint":"f","send_purposes":["legal_assistance"],"receive_purposes":%s}`
	for _, c := range []struct {
		method, path string
		status       int
		body         string
		ok           bool
	}{
		{"POST", "/api/v1/exchange/peers", 201, fmt.Sprintf(peer, "[]"), true},
		{"POST", "/api/v1/exchange/peers", 201, fmt.Sprintf(peer, "null"), false},
		{"POST", "/api/v1/exchange/peers", 201, strings.Replace(fmt.Sprintf(peer, "[]"), `"id"`, `"ids"`, 1), false},
		{"GET", "/api/v1/log/witnesses", 200, `[]`, true}, // an inline array
		{"GET", "/api/v1/log/witnesses", 200, `null`, false},
		{"GET", "/api/v1/log/witnesses", 200, `[{"unknown":1}]`, false},
		{"GET", "/api/v1/exchange/peers", 200, `null`, false}, // an inline object
		{"GET", "/api/v1/exchange/peers/PX-1", 404, `{"error":{"code":"not_found","message":"no peer"}}`, true},
		{"GET", "/api/v1/exchange/peers/PX-1", 404, `{"message":"no peer"}`, false},
		{"GET", "/hma/m/lookup?signal=x", 400, `{"message":"bad signal","rule":"hma"}`, true}, // HMA's shape, documented
		{"GET", "/api/v1/no/such/route", 404, `{"error":{"code":"not_found","message":"no API route"}}`, true},
		{"GET", "/api/v1/no/such/route", 200, `{}`, false},
		{"POST", "/api/v1/exchange/peers", 200, fmt.Sprintf(peer, "[]"), false}, // not the documented status
	} {
		err := d.checkAnswer(c.method, c.path, c.status, []byte(c.body))
		if (err == nil) != c.ok {
			t.Errorf("%s %s %d %s: %v, want ok %v", c.method, c.path, c.status, c.body, err, c.ok)
		}
	}
}
