package server_test

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/language"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/i18n/i18ntest"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// seventh is the test's own language: Persian, written in the Arabic
// script, so that the test also shows that a right-to-left layout follows
// from the language's script and from nothing else.
const (
	seventh     = "fa"
	seventhName = "فارسی"
	// mark starts every text of the seventh language's files, so that a
	// text written in it is told from the English.
	mark = "فا: "
)

// withLanguage returns the modules of rs with one more catalogue file
// each, code.json, made from the module's en.json with every text
// prefixed by mark (its fmt verbs kept, its plural forms those the
// language needs): what a translator adds to add a language, and nothing
// else changes.
func withLanguage(t *testing.T, rs []server.Registry, code, name string) []server.Registry {
	t.Helper()
	tag := language.MustParse(code)
	out := slices.Clone(rs)
	for i, r := range out {
		if r.Locales == nil {
			continue
		}
		files := fstest.MapFS{}
		names, err := fs.Glob(r.Locales, "*.json")
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			b, err := fs.ReadFile(r.Locales, n)
			if err != nil {
				t.Fatal(err)
			}
			files[n] = &fstest.MapFile{Data: b}
		}
		en, err := fs.ReadFile(r.Locales, i18n.Default+".json")
		if err != nil {
			t.Fatal(err)
		}
		var src struct {
			Messages map[string]json.RawMessage `json:"messages"`
		}
		if err := json.Unmarshal(en, &src); err != nil {
			t.Fatal(err)
		}
		msgs := map[string]any{}
		for id, raw := range src.Messages {
			var text string
			if json.Unmarshal(raw, &text) == nil {
				msgs[id] = mark + text
				continue
			}
			var forms map[string]string
			if err := json.Unmarshal(raw, &forms); err != nil {
				t.Fatalf("%s/en.json: %q: %v", r.Name, id, err)
			}
			mine := map[string]string{}
			for _, f := range i18n.Forms(tag) {
				text, ok := forms[i18n.FormName(f)]
				if !ok {
					text = forms["other"]
				}
				mine[i18n.FormName(f)] = mark + text
			}
			msgs[id] = mine
		}
		file := map[string]any{"language": code, "messages": map[string]any{}, "machine": msgs}
		if i == 0 {
			file["name"] = name
		}
		b, err := json.MarshalIndent(file, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		files[code+".json"] = &fstest.MapFile{Data: b}
		out[i].Locales = files
	}
	return out
}

// TestSeventhLanguage adds a language to the deployment the way the
// documentation says (docs/languages.md): a file per module, nothing
// else. The catalogue check finds nothing more to say with it than
// without it; the languages become seven, the new one right to left
// because its script is; a page and a refusal of the pages and of the API
// are answered in it when the browser asks for it.
func TestSeventhLanguage(t *testing.T) {
	rs := withLanguage(t, server.DefaultModules(), seventh, seventhName)

	base, err := i18n.Load(sources(server.DefaultModules())...)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.Load(sources(rs)...)
	if err != nil {
		t.Fatalf("the catalogues with %s.json added: %v", seventh, err)
	}
	root, err := i18ntest.Root()
	if err != nil {
		t.Fatal(err)
	}
	msgs, _, err := i18ntest.Used(root)
	if err != nil {
		t.Fatal(err)
	}
	before, after := i18ntest.Check(base, msgs), i18ntest.Check(cat, msgs)
	for _, p := range after {
		if !slices.Contains(before, p) {
			t.Errorf("with %s: %s", seventh, p)
		}
	}
	if len(after) != len(before) {
		t.Errorf("the check says %d things with %s, %d without", len(after), seventh, len(before))
	}
	if got, want := strings.Join(cat.Codes(), " "), "en ar es fa fr ru zh"; got != want {
		t.Errorf("languages %q, want %q", got, want)
	}
	l, ok := cat.Language(seventh)
	if !ok || l.Name != seventhName || !l.RTL || l.Dir() != "rtl" {
		t.Fatalf("%s: %+v, %v: want %s, right to left (its script is Arabic)", seventh, l, ok, seventhName)
	}

	env := apptest.StartModules(t, storetest.SQLite(t), rs)
	if got := strings.Join(env.App.Languages.Codes(), " "); got != "en ar es fa fr ru zh" {
		t.Fatalf("the server speaks %s", got)
	}
	fa := env.App.Languages.Localizer(seventh)

	// A page: the sign-in page, asked for in Persian.
	status, hdr, body := fetch(t, "GET", env.URL+"/", "fa-IR,fa;q=0.9,en;q=0.5", nil)
	if status != 200 || hdr.Get("Content-Language") != seventh {
		t.Fatalf("sign-in page in %s: status %d, Content-Language %q", seventh, status, hdr.Get("Content-Language"))
	}
	if !strings.Contains(body, `<html lang="fa" dir="rtl">`) {
		t.Errorf("the page is not marked Persian, right to left:\n%.300s", body)
	}
	title := fa.T("Sign in")
	if !strings.HasPrefix(title, mark) || !strings.Contains(body, "<title>"+html.EscapeString(title)) {
		t.Errorf("the page's title is not %q:\n%.400s", title, body)
	}
	if !strings.Contains(body, `<option value="fa" lang="fa" dir="rtl" selected>`+seventhName+`</option>`) {
		t.Errorf("the language switch does not offer %s, chosen", seventhName)
	}

	// A refusal of the pages: a token nobody has, in English and in Persian.
	form := url.Values{"token": {"cst_nobody"}}
	_, _, enPage := fetch(t, "POST", env.URL+"/signin", "", form)
	_, _, faPage := fetch(t, "POST", env.URL+"/signin", seventh, form)
	enRefusal, faRefusal := refusal(t, enPage), refusal(t, faPage)
	t.Logf("sign-in refusal: %q / %q; check: %d problems", enRefusal, faRefusal, len(before))
	if faRefusal != mark+enRefusal {
		t.Errorf("the sign-in refusal in %s is %q, want %q", seventh, faRefusal, mark+enRefusal)
	}

	// A refusal of the API: its sentence in Persian, its code, rule and
	// field as they are.
	bad := map[string]any{"name": "", "role": "coordinator", "authority_id": "AU-NONE"}
	en := apiRefusal(t, env, "", bad)
	got := apiRefusal(t, env, "fa", bad)
	if got["message"] != mark+en["message"] {
		t.Errorf("the API's refusal in %s: %q, want %q", seventh, got["message"], mark+en["message"])
	}
	for _, k := range []string{"code", "rule", "field"} {
		if got[k] != en[k] || en[k] == "" && k != "field" {
			t.Errorf("the API's refusal's %s: %q in %s, %q in English: it stays as it is", k, got[k], seventh, en[k])
		}
	}

	// Exports: an XLSX file's header in the language of the API's request,
	// and in the language of the pages' session.
	_, _, xlsx := fetchAs(t, nil, env.URL+"/api/v1/authorities?format=xlsx", env.Admin, seventh)
	exportedIn(t, "the API's export", []byte(xlsx), fa)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	if status, _, page := fetchAs(t, browser, env.URL+"/signin", "", seventh, url.Values{"token": {env.Admin}}); status != 200 || !strings.Contains(page, `lang="fa"`) {
		t.Fatalf("signing in: %d\n%.300s", status, page)
	}
	_, _, xlsx = fetchAs(t, browser, env.URL+"/alerts/export?format=xlsx", "", seventh)
	exportedIn(t, "the pages' export", []byte(xlsx), fa)
}

// exportedIn checks the About sheet of an XLSX export in the language of
// l: each header name is the catalogue's, and, once the catalogue has the
// message (every en.json has it after the catalogue check's -update), the
// seventh language's rather than the English.
func exportedIn(t *testing.T, what string, b []byte, l *i18n.Localizer) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v\n%.300s", what, err, b)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	about, err := f.GetRows(sheets[0])
	if err != nil || len(about) < 10 {
		t.Fatalf("%s: About %q, %v", what, about, err)
	}
	for i, id := range []string{"registry", "list", "filter", "exported at (UTC)"} {
		want := l.T(id)
		if about[i][0] != want {
			t.Errorf("%s: the header's name %q, want %q", what, about[i][0], want)
		}
		if l.Catalogue().Has(id) && !strings.HasPrefix(want, mark) {
			t.Errorf("%s: %q is not written in %s", what, id, l.Code())
		}
	}
	if at := about[3][1]; !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(at) {
		t.Errorf("%s: the time of the export %q is not RFC 3339", what, at)
	}
}

func sources(rs []server.Registry) []i18n.Source {
	var out []i18n.Source
	for _, r := range rs {
		if r.Locales != nil {
			out = append(out, i18n.Source{Module: r.Name, FS: r.Locales})
		}
	}
	return out
}

// fetch asks for a page without following redirects, with Accept-Language
// lang (none when empty) and a form (GET when nil).
func fetch(t *testing.T, method, u, lang string, form url.Values) (int, http.Header, string) {
	t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return do(t, noRedirect, method, u, "", lang, form)
}

// fetchAs asks with client (nil: the default) for u, as the bearer of
// token (none when empty), in lang; with a form, it posts it.
func fetchAs(t *testing.T, client *http.Client, u, token, lang string, form ...url.Values) (int, http.Header, string) {
	t.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	if len(form) > 0 {
		return do(t, client, "POST", u, token, lang, form[0])
	}
	return do(t, client, "GET", u, token, lang, nil)
}

func do(t *testing.T, client *http.Client, method, u, token, lang string, form url.Values) (int, http.Header, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

var refusalRE = regexp.MustCompile(`(?s)id="refusal".*?<p class="message">(.*?)</p>`)

// refusal is the sentence of the refusal box of a page.
func refusal(t *testing.T, page string) string {
	t.Helper()
	m := refusalRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no refusal on the page:\n%.600s", page)
	}
	return html.UnescapeString(m[1])
}

// apiRefusal creates a principal as the administrator with body, which
// must be refused, asking for the answer in lang; it returns the error.
func apiRefusal(t *testing.T, env *apptest.Env, lang string, body map[string]any) map[string]string {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest("POST", env.URL+"/api/v1/principals", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+env.Admin)
	req.Header.Set("Content-Type", "application/json")
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Error map[string]string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode < 400 || out.Error["message"] == "" {
		t.Fatalf("POST /api/v1/principals in %q: status %d, %v, %v", lang, resp.StatusCode, out.Error, err)
	}
	if want := lang; want != "" && resp.Header.Get("Content-Language") != want {
		t.Errorf("Content-Language %q, want %q", resp.Header.Get("Content-Language"), want)
	}
	return out.Error
}
