package server_test

import (
	"context"
	"embed"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/web"
)

// An example registry that no core package knows of: offices whose clerks
// post notices. It is everything docs/architecture.md, "Adding a registry",
// walks through: a schema, an entry type and its projector, an authority kind
// and a role, an action, a service, its API routes and its web section.

//go:embed testdata/example/*.sql
var exampleSchema embed.FS

//go:embed testdata/example/templates/*.html
var exampleTemplates embed.FS

const (
	kindOffice             = "example_office"
	roleClerk    auth.Role = "clerk"
	typePosted             = "example.notice_posted"
	exampleTitle           = "Example notice registry"
)

var postNotices = auth.NewAction("post notices", roleClerk)
var readNotices = auth.NewAction("read notices", roleClerk, auth.Admin, auth.Auditor)

type urgency string

var urgencies = []string{"routine", "urgent"}

type newNotice struct {
	Urgency urgency `json:"urgency"`
	Body    string  `json:"body"`
}

type notice struct {
	ID       string  `json:"id"`
	OfficeID string  `json:"office_id"`
	Urgency  urgency `json:"urgency"`
	Body     string  `json:"body"`
}

var exampleModule = module.Module{
	Name:   "example",
	Title:  exampleTitle,
	Schema: module.Dir(exampleSchema, "testdata/example"),
	Project: func(p *ledger.Projections) {
		ledger.On(p, typePosted, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, n *notice) error {
			_, err := q.Exec(ctx, `INSERT INTO ex_notices (id, office_id, urgency, body, posted_at, posted_by, log_index)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, n.ID, n.OfficeID, string(n.Urgency), n.Body, e.At, e.By, idx)
			return err
		})
		p.Tables(ledger.Table{Name: "ex_notices", Order: "id"})
	},
	Kinds: []auth.Kind{{Name: kindOffice, Prefix: "EO", Label: "Example office"}},
	Roles: []auth.RoleSpec{{Role: roleClerk, Kind: kindOffice, Label: "Clerk: posts notices",
		KindRefusal: errs.Invalidf("clerk_office", "authority_id", "a clerk must belong to an example office")}},
	Messages: []exchange.Type{noticeShared},
}

// noticeShared is the example module's message type: a notice shared with a
// peer registry through the exchange.
var noticeShared = exchange.Type{Name: "example.notice_shared", Title: "A notice shared with another registry", Schema: `{
	"type": "object", "additionalProperties": false, "required": ["urgency", "body"],
	"properties": {"urgency": {"enum": ["routine", "urgent"]}, "body": {"type": "string", "minLength": 1, "maxLength": 2000}}
}`}

// notices is the example module's service.
type notices struct{ w *ledger.Writer }

func (s *notices) post(ctx context.Context, p *auth.Principal, in newNotice) (*notice, error) {
	if err := p.Require(postNotices); err != nil {
		return nil, err
	}
	if !slices.Contains(urgencies, string(in.Urgency)) {
		return nil, errs.Invalidf("enum", "urgency", "urgency must be routine or urgent")
	}
	if in.Body == "" {
		return nil, errs.Invalidf("required", "body", "give the notice's text")
	}
	id := s.w.IDs().New("NT")
	return ledger.SubmitAs[notice](ctx, s.w, p.Actor(), "post notice", func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		return ledger.NewEntry(typePosted, notice{ID: id, OfficeID: p.AuthorityID, Urgency: in.Urgency, Body: in.Body})
	})
}

func (s *notices) list(ctx context.Context, q store.Queryer, p *auth.Principal) ([]notice, error) {
	if err := p.Require(readNotices); err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, "SELECT id, office_id, urgency, body FROM ex_notices ORDER BY log_index")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []notice{}
	for rows.Next() {
		var n notice
		if err := rows.Scan(&n.ID, &n.OfficeID, &n.Urgency, &n.Body); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func exampleRoutes(env httpapi.Env, s *notices) []httpapi.Route {
	enums := []httpapi.Enum{{Type: reflect.TypeFor[urgency](), Values: urgencies}}
	return []httpapi.Route{
		{Method: "POST", Path: "/api/v1/example/notices", Summary: "Post a notice (clerk)", In: newNotice{}, Out: notice{}, Status: 201, Enums: enums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := httpapi.DecodeRequest[newNotice](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.post(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/example/notices", Summary: "The notices, oldest first",
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				ns, err := s.list(r.Context(), env.DB.Read(), p)
				return http.StatusOK, map[string]any{"notices": ns}, err
			}},
	}
}

// exampleSection is the module's part of the web UI: a page of the notices,
// a navigation entry and a home card for its clerks.
func exampleSection(db *store.DB, s *notices) *web.Section {
	return &web.Section{
		Name:  "example",
		Title: exampleTitle,
		Roles: []auth.Role{roleClerk},
		Nav: func(p *auth.Principal) []web.Link {
			if !p.Can(readNotices) {
				return nil
			}
			return []web.Link{{Href: "/example/notices", Label: "Notices"}}
		},
		Home: func(p *auth.Principal) *web.Card {
			if !p.Can(readNotices) {
				return nil
			}
			return &web.Card{Template: "card", Data: "the"}
		},
		Pages: []web.Page{{Method: http.MethodGet, Path: "/notices", Handler: func(w http.ResponseWriter, r *http.Request, ss *web.Session) {
			ns, err := s.list(r.Context(), db.Read(), ss.P)
			if err != nil {
				ss.Fail(w, r, err)
				return
			}
			v := ss.View(r, "Notices")
			v.Data = ns
			ss.Show(w, r, "notices", v, nil)
		}}},
		Templates: module.Dir(exampleTemplates, "testdata/example/templates"),
		Labels:    map[string]string{"urgent": "URGENT"},
	}
}

var exampleRegistry = server.Registry{Module: exampleModule, Open: func(ctx context.Context, a *server.App) (*server.Opened, error) {
	s := &notices{w: a.Writer}
	return &server.Opened{Service: s, Routes: func(env httpapi.Env) []httpapi.Route { return exampleRoutes(env, s) },
		Section: exampleSection(a.DB, s)}, nil
}}

// TestExampleModule registers the example module in a server beside the
// registries custos ships: its schema is migrated and versioned, its kind and
// role join the catalogue (with their refusal), its routes are served and
// documented, its page section is in the web UI, and log verify replays its
// entries. No core package names it.
func TestExampleModule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.StartModules(t, dsn, append(server.DefaultModules(), exampleRegistry))
		ctx := context.Background()

		versions, err := e.App.DB.SchemaVersions(ctx)
		if err != nil || versions["example"] != 1 || versions["transplant"] == 0 {
			t.Fatalf("schema versions %v (%v), want example 1 beside the others", versions, err)
		}

		office := e.Must(t, 201, "POST", "/api/v1/authorities", e.Admin, map[string]any{"name": "North Office", "kind": kindOffice}).Str("id")
		if office[:3] != "EO-" {
			t.Errorf("an example office's id %s, want the module's prefix EO-", office)
		}
		centre := e.Must(t, 201, "POST", "/api/v1/transplant/centres", e.Admin, map[string]any{"name": "A Centre"}).Str("id")
		r := e.Do(t, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Misplaced", "role": "clerk", "authority_id": centre})
		if r.Status != 422 || r.Str("error.rule") != "clerk_office" || r.Str("error.field") != "authority_id" {
			t.Fatalf("a clerk of a transplant centre: %d %s", r.Status, r.Raw)
		}
		clerk := e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Clerk", "role": "clerk", "authority_id": office}).Str("token")

		posted := e.Must(t, 201, "POST", "/api/v1/example/notices", clerk, map[string]any{"urgency": "urgent", "body": "The bridge is closed."})
		if posted.Str("office_id") != office || posted.Str("urgency") != "urgent" {
			t.Errorf("posted %s", posted.Raw)
		}
		if r := e.Do(t, "POST", "/api/v1/example/notices", clerk, map[string]any{"urgency": "someday", "body": "x"}); r.Status != 422 || r.Str("error.field") != "urgency" {
			t.Errorf("a notice of an unknown urgency: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "POST", "/api/v1/example/notices", e.Admin, map[string]any{"urgency": "routine", "body": "x"}); r.Status != 403 {
			t.Errorf("an administrator posting a notice: %d %s", r.Status, r.Raw)
		}
		list := e.Must(t, 200, "GET", "/api/v1/example/notices", e.Admin, nil).Body["notices"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["body"] != "The bridge is closed." {
			t.Errorf("notices: %v", list)
		}

		doc := e.Must(t, 200, "GET", "/api/v1/openapi.json", "", nil).Body
		paths := doc["paths"].(map[string]any)
		if _, ok := paths["/api/v1/example/notices"]; !ok {
			t.Error("the OpenAPI document lacks /api/v1/example/notices")
		}
		schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
		var found bool
		for _, s := range schemas {
			props, _ := s.(map[string]any)["properties"].(map[string]any)
			if u, ok := props["urgency"].(map[string]any); ok && reflect.DeepEqual(u["enum"], []any{"routine", "urgent"}) {
				found = true
			}
		}
		if !found {
			t.Error("the OpenAPI document does not enumerate the urgencies")
		}
		var roles []any
		for _, s := range schemas {
			props, _ := s.(map[string]any)["properties"].(map[string]any)
			// The principals' roles (other schemas have a "role" of their
			// own: a person's role in an asset-recovery case).
			if r, ok := props["role"].(map[string]any); ok {
				if e, _ := r["enum"].([]any); slices.Contains(e, any("admin")) {
					roles = e
				}
			}
		}
		if !slices.Contains(roles, any("clerk")) {
			t.Errorf("the role enumeration %v lacks the module's clerk", roles)
		}

		// The web UI: the clerk's home card, navigation, page and header.
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
		resp, err := browser.PostForm(e.URL+"/signin", url.Values{"token": {clerk}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		page := func(path string) string {
			t.Helper()
			resp, err := browser.Get(e.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
			}
			return string(b)
		}
		for path, wants := range map[string][]string{
			"/":                {`id="example-card"`, `href="/example/notices"`, exampleTitle},
			"/example/notices": {"<li>URGENT: The bridge is closed.</li>", exampleTitle, `<nav aria-label="Main">`},
		} {
			body := page(path)
			for _, want := range wants {
				if !strings.Contains(body, want) {
					t.Errorf("%s lacks %q", path, want)
				}
			}
		}

		rep, err := ledger.Verify(ctx, e.App.DB, e.App.Projections, ledger.VerifyOptions{VerifierKey: e.App.Keys.LogKey})
		if err != nil || !rep.OK() {
			t.Fatalf("log verify: %v %v", err, rep)
		}
		tables := e.App.Projections.ProjectedTables()
		if rep.Tables != len(tables) || !slices.Contains(tables, ledger.Table{Name: "ex_notices", Order: "id"}) {
			t.Errorf("log verify compared %d tables of %v, want every one, ex_notices among them", rep.Tables, tables)
		}
	})
}
