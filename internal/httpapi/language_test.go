package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// refusal is an API error answer, as read back with its Content-Language.
type refusal struct {
	Status   int
	Language string
	Error    struct{ Code, Rule, Field, Message string }
}

// ask sends a request with an Accept-Language header (none when empty) and
// reads the refusal it answers.
func ask(t *testing.T, e *apptest.Env, method, path, token, acceptLanguage string, body any) refusal {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Error struct{ Code, Rule, Field, Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return refusal{Status: resp.StatusCode, Language: resp.Header.Get("Content-Language"), Error: out.Error}
}

// TestRefusalsInTheReadersLanguage: the API answers a refusal in the
// language the request's Accept-Language asks (French; Arabic before
// English), its message the catalogue's translation (the core's or a
// module's) of the English one,
// which it differs from, and its code, rule, field and status those of the
// English answer, for machines; Content-Language names the language. A
// request without Accept-Language is answered in English.
func TestRefusalsInTheReadersLanguage(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	cat := w.App.Languages
	for _, c := range []struct {
		name, method, path string
		body               any
		format             string
		args               []any
	}{
		{"a reference to nothing", "POST", "/api/v1/principals", map[string]any{"name": "Clerk", "role": "regulator", "authority_id": "AU-NOTHING"},
			"no authority %s", []any{"AU-NOTHING"}},
		{"a field too many", "POST", "/api/v1/principals", map[string]any{"name": "Clerk", "colour": "red"},
			"the field %q is not part of this request", []any{"colour"}},
		// a module's refusal, once a text made elsewhere
		{"a role of another kind", "POST", "/api/v1/principals", map[string]any{"name": "Clerk", "role": "coordinator", "authority_id": w.RegulatorAuthority},
			"a coordinator must belong to a transplant centre", nil},
		{"no route", "GET", "/api/v1/nowhere", nil,
			"no API route %s %s; see /api/v1/openapi.json", []any{"GET", "/api/v1/nowhere"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			english := cat.English().T(c.format, c.args...)
			en := ask(t, w.Env, c.method, c.path, w.Admin, "", c.body)
			if en.Status < 400 || en.Language != "en" || en.Error.Message != english || en.Error.Code == "" || en.Error.Rule == "" {
				t.Fatalf("in English: %+v, want the message %q and Content-Language en", en, english)
			}
			for _, l := range []struct{ accept, code string }{{"fr", "fr"}, {"ar, en;q=0.5", "ar"}} {
				want := cat.Localizer(l.code).T(c.format, c.args...)
				if want == english {
					t.Fatalf("the catalogue has no %s for %q", l.code, c.format)
				}
				got := ask(t, w.Env, c.method, c.path, w.Admin, l.accept, c.body)
				if got.Language != l.code {
					t.Errorf("Accept-Language %q: Content-Language %q, want %q", l.accept, got.Language, l.code)
				}
				if got.Error.Message != want {
					t.Errorf("Accept-Language %q: message %q, want %q", l.accept, got.Error.Message, want)
				}
				if got.Status != en.Status || got.Error.Code != en.Error.Code || got.Error.Rule != en.Error.Rule || got.Error.Field != en.Error.Field {
					t.Errorf("Accept-Language %q: %d %s/%s/%s, the English answer %d %s/%s/%s", l.accept,
						got.Status, got.Error.Code, got.Error.Rule, got.Error.Field, en.Status, en.Error.Code, en.Error.Rule, en.Error.Field)
				}
			}
		})
	}
}

// TestRoleRefusalNamesTheActionInTheReadersLanguage: a role refused an
// action (a module's, the core's) is told so in the request's language,
// the action's name included (an errs.Text argument, translated with the
// sentence), while the English answer keeps the English name.
func TestRoleRefusalNamesTheActionInTheReadersLanguage(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	for _, c := range []struct {
		name, path, token, role, action string
		body                            any
		want                            map[string]string // language: words of the translated action
		english                         []string          // English words of the action
	}{
		{"a module's action", "/api/v1/transplant/donors", w.Regulator, "regulator", "record donors, recipients, procurements and transplants",
			map[string]any{"kind": "deceased_brain_death"},
			map[string]string{"es": "registrar donantes, receptores, extracciones y trasplantes", "fr": "enregistrer des donneurs, des receveurs, des prélèvements et des greffes"},
			[]string{"record", "donors", "recipients", "procurements", "transplants"}},
		{"a core action", "/api/v1/principals", w.Auditor, "auditor", "manage authorities and principals",
			map[string]any{"name": "Clerk", "role": "auditor", "authority_id": w.RegulatorAuthority},
			map[string]string{"es": "gestionar autoridades y cuentas", "fr": "gérer les autorités et les comptes"},
			[]string{"manage", "authorities", "principals"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			en := ask(t, w.Env, "POST", c.path, c.token, "", c.body)
			if want := "the " + c.role + " role may not " + c.action; en.Status != 403 || en.Error.Rule != "role" || en.Error.Message != want {
				t.Fatalf("in English: %+v, want 403, rule role, %q", en, want)
			}
			for lang, action := range c.want {
				got := ask(t, w.Env, "POST", c.path, c.token, lang, c.body)
				if got.Status != 403 || got.Language != lang || got.Error.Rule != "role" || got.Error.Code != en.Error.Code {
					t.Errorf("%s: %+v, want 403 in %s, rule role", lang, got, lang)
				}
				if !strings.Contains(got.Error.Message, action) || !strings.Contains(got.Error.Message, c.role) {
					t.Errorf("%s: %q names not the role %s and the action %q", lang, got.Error.Message, c.role, action)
				}
				for _, word := range c.english {
					if strings.Contains(got.Error.Message, word) {
						t.Errorf("%s: %q has the English %q", lang, got.Error.Message, word)
					}
				}
			}
		})
	}
}

// TestRefusalWritesPercent: a refusal whose sentence writes %% (a format,
// as every refusal's) reads one %, in English and in translation, with or
// without arguments. Before, a sentence without arguments was answered as
// the catalogue holds it: "the query string has a %% not followed…".
func TestRefusalWritesPercent(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	for accept, want := range map[string]string{
		"":   "the query string has a % not followed by two hexadecimal digits",
		"fr": "la chaîne de requête contient un % qui n'est pas suivi de deux chiffres hexadécimaux",
	} {
		got := ask(t, w.Env, "GET", "/api/v1/openapi.json?x=%zz", "", accept, nil)
		if got.Status != 400 || got.Error.Rule != "query" || got.Error.Message != want {
			t.Errorf("Accept-Language %q: %+v, want %q", accept, got, want)
		}
	}
}
