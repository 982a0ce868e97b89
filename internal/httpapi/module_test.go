package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// An example registry that httpapi knows nothing of: it keeps seals, pieces
// of text of a few MiB, in memory, and brings its routes with their
// documentation, body limit and enumerations.

// sealColour is a named string type, enumerated wherever it appears.
type sealColour string

type newSeal struct {
	Colour sealColour `json:"colour"`
	Shape  string     `json:"shape"` // enumerated as the field Shape of newSeal
	Text   string     `json:"text"`
}

type seal struct {
	ID     string     `json:"id"`
	Colour sealColour `json:"colour"`
	Shape  string     `json:"shape"`
	Length int        `json:"length"`
	By     string     `json:"by"`
}

const sealBody = 4 << 20 // 4 MiB, more than httpapi.MaxBody

var sealShapes = []string{"round", "square"}

func sealRoutes(catalogue *auth.Catalogue) []httpapi.Route {
	var mu sync.Mutex
	seals := map[string]seal{}
	enums := []httpapi.Enum{
		{Type: reflect.TypeFor[sealColour](), Values: []string{"red", "green"}},
		{Type: reflect.TypeFor[newSeal](), Field: "Shape", Values: sealShapes},
	}
	return []httpapi.Route{
		{Method: "POST", Path: "/api/v1/seals/seals", Summary: "Keep a seal (admin)", In: newSeal{}, Out: seal{}, Status: 201,
			BodyLimit: sealBody, Enums: enums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := httpapi.DecodeRequest[newSeal](r)
				if err != nil {
					return 0, nil, err
				}
				if err := p.Require(auth.ManageAuthorities); err != nil {
					return 0, nil, err
				}
				if in.Colour != "red" && in.Colour != "green" {
					return 0, nil, errs.Invalidf("enum", "colour", "colour must be red or green")
				}
				mu.Lock()
				defer mu.Unlock()
				s := seal{ID: fmt.Sprintf("SE-%d", len(seals)+1), Colour: in.Colour, Shape: in.Shape, Length: len(in.Text), By: p.ID}
				seals[s.ID] = s
				return http.StatusCreated, s, nil
			}},
		{Method: "GET", Path: "/api/v1/seals/seals/{id}", Summary: "A seal", Out: seal{}, Enums: enums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				mu.Lock()
				defer mu.Unlock()
				s, ok := seals[r.PathValue("id")]
				if !ok {
					return 0, nil, errs.New(errs.NotFound, "reference", "id", "no seal %s", r.PathValue("id"))
				}
				return http.StatusOK, s, nil
			}},
	}
}

// TestModuleRoutes serves the core's routes and an example module's through
// a real server, and checks the module's routes are served with their body
// limit and documented with their enumerations: the seam a new registry
// plugs into, with no line of httpapi changed.
func TestModuleRoutes(t *testing.T) {
	app := apptest.Start(t, storetest.SQLite(t))
	env := httpapi.Env{DB: app.App.DB, Writer: app.App.Writer, Log: app.App.Log, Catalogue: catalogue(t), Authorities: app.App.Authorities}
	mux := http.NewServeMux()
	httpapi.New(httpapi.Config{Env: env}, httpapi.Core(env), sealRoutes(env.Catalogue)).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e := &apptest.Env{URL: srv.URL, Admin: app.Admin}

	doc := e.Must(t, 200, "GET", "/api/v1/openapi.json", "", nil)
	paths := doc.Body["paths"].(map[string]any)
	var served []string
	for p := range paths {
		served = append(served, p)
	}
	for _, want := range []string{"/api/v1/seals/seals", "/api/v1/seals/seals/{id}", "/api/v1/me", "/api/v1/log/checkpoint"} {
		if paths[want] == nil {
			t.Errorf("%s is not in the document: %v", want, served)
		}
	}
	if paths["/api/v1/transplant/donors"] != nil {
		t.Errorf("the document lists a route of a list that was not given")
	}
	post := paths["/api/v1/seals/seals"].(map[string]any)["post"].(map[string]any)
	if d := post["requestBody"].(map[string]any)["description"].(string); !strings.HasPrefix(d, fmt.Sprintf("At most %d bytes", sealBody)) {
		t.Errorf("request body: %q", d)
	}
	schemas := doc.Body["components"].(map[string]any)["schemas"].(map[string]any)
	enum := func(schema, prop string) string {
		s, _ := schemas[schema].(map[string]any)
		props, _ := s["properties"].(map[string]any)
		p, ok := props[prop].(map[string]any)
		if !ok {
			return "no property " + schema + "." + prop
		}
		return fmt.Sprint(p["enum"])
	}
	for _, c := range []struct{ schema, prop, want string }{
		{"HttpapiNewSeal", "colour", "[red green]"}, {"HttpapiSeal", "colour", "[red green]"},
		{"HttpapiNewSeal", "shape", "[round square]"},
		{"HttpapiSeal", "shape", "<nil>"}, // the Enum names newSeal's field only
		{"HttpapiNewSeal", "text", "<nil>"},
		{"AuthNewPrincipal", "role", fmt.Sprint(env.Catalogue.RoleNames())},
	} {
		if got := enum(c.schema, c.prop); got != c.want {
			t.Errorf("%s.%s: enum %s, want %s", c.schema, c.prop, got, c.want)
		}
	}

	validate := openAPIValidator(t, e)
	in := map[string]any{"colour": "green", "shape": "round", "text": strings.Repeat("x", 2<<20)}
	validate("POST", "/api/v1/seals/seals", "request", in)
	r := e.Must(t, 201, "POST", "/api/v1/seals/seals", e.Admin, in)
	validate("POST", "/api/v1/seals/seals", "response", r.Body)
	if r.Body["length"] != float64(2<<20) {
		t.Errorf("a body over MaxBody and within the route's limit: %s", r.Raw)
	}
	got := e.Must(t, 200, "GET", "/api/v1/seals/seals/"+r.Str("id"), e.Admin, nil)
	validate("GET", "/api/v1/seals/seals/{id}", "response", got.Body)
	if got.Str("colour") != "green" || got.Str("by") == "" {
		t.Errorf("the seal read back: %s", got.Raw)
	}

	over := e.Do(t, "POST", "/api/v1/seals/seals", e.Admin, map[string]any{"colour": "red", "text": strings.Repeat("x", sealBody)})
	if over.Status != 413 || over.Str("error.rule") != "body_size" {
		t.Errorf("a body over the route's limit: %d %s", over.Status, truncate(over.Raw))
	}
	if r := e.Do(t, "POST", "/api/v1/seals/seals", "", in); r.Status != 401 {
		t.Errorf("without a token: %d %s", r.Status, truncate(r.Raw))
	}
	if r := e.Do(t, "GET", "/api/v1/transplant/donors", e.Admin, nil); r.Status != 404 || r.Str("error.rule") != "route" {
		t.Errorf("a route of a list that was not given: %d %s", r.Status, r.Raw)
	}
}

// TestNewRefusesUndocumentable checks that New refuses, naming the route, an
// enumeration the document could not carry.
func TestNewRefusesUndocumentable(t *testing.T) {
	handler := func(r *http.Request, p *auth.Principal) (int, any, error) { return 200, nil, nil }
	for _, c := range []struct {
		name  string
		enums []httpapi.Enum
		want  string
	}{
		{"no such field", []httpapi.Enum{{Type: reflect.TypeFor[newSeal](), Field: "Color", Values: sealShapes}}, "newSeal.Color: not a string field"},
		{"not a string", []httpapi.Enum{{Type: reflect.TypeFor[seal](), Field: "Length", Values: sealShapes}}, "seal.Length: not a string field"},
		{"unnamed type", []httpapi.Enum{{Type: reflect.TypeFor[string](), Values: sealShapes}}, "must be a string type of a package"},
		{"two value lists", []httpapi.Enum{{Type: reflect.TypeFor[sealColour](), Values: []string{"red"}},
			{Type: reflect.TypeFor[sealColour](), Values: []string{"blue"}}}, "given twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				msg := fmt.Sprint(recover())
				if !strings.Contains(msg, "GET /api/v1/seals/x") || !strings.Contains(msg, c.want) {
					t.Errorf("New panicked with %q, want the route and %q", msg, c.want)
				}
			}()
			httpapi.New(httpapi.Config{}, []httpapi.Route{{Method: "GET", Path: "/api/v1/seals/x", Out: seal{}, Enums: c.enums, Handler: handler}})
		})
	}
}

// catalogue is the catalogue of a deployment of the core and transplant only:
// four roles, where the server has seven.
func catalogue(t *testing.T) *auth.Catalogue {
	t.Helper()
	c, err := auth.NewCatalogue([]auth.Kind{{Name: auth.KindRegulator, Prefix: "AU"}, {Name: transplant.KindCentre, Prefix: "TC"}},
		[]auth.RoleSpec{{Role: auth.Admin}, {Role: auth.Regulator}, transplant.Module.Roles[0], {Role: auth.Auditor}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
