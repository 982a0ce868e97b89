package httpapi_test

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestHMABanksSelection: the banks parameter of the HMA lookups reads every
// bank it names, comma-separated or given again (banks=A&banks=B, as
// requests writes a list), each once; a bank the service does not
// subscribe to, or that does not exist, is refused in HMA's shape (400,
// rule hma, field banks) naming it, escaped, where HMA would answer {}
// as if nothing matched; a refused lookup opens no case.
func TestHMABanksSelection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		a, b, unsubscribed := e.Bank(t, "A"), e.Bank(t, "B"), e.Bank(t, "Not subscribed")
		h := apptest.PDQHex(1)
		for i, bank := range []string{a, b, unsubscribed} {
			e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", e.Analyst, map[string]any{"adds": []any{
				map[string]any{"entry_id": "x-" + bank, "pdq": flipBits(t, h, i), "classification": "A1"}}})
		}
		e.Subscribe(t, a)
		e.Subscribe(t, b)
		both := map[string]any{"matches": []any{contentID(a, "x-"+a), contentID(b, "x-"+b)}}
		for _, banks := range [][]string{{a, b}, {a + "," + b}, {a + ", " + b, a}, {b + "," + a + ","}} {
			q := url.Values{"signal": {h}, "signal_type": {"pdq"}, "banks": banks}
			if status, got := hmaGet(t, e, "/m/raw_lookup", e.Service, q); status != 200 || !reflect.DeepEqual(got, both) {
				t.Errorf("raw_lookup banks=%q: %d %s, want %s", banks, status, asJSON(got), asJSON(both))
			}
		}
		status, got := hmaGet(t, e, "/m/lookup", e.Service, url.Values{"signal": {h}, "signal_type": {"pdq"}, "banks": {a, b}})
		if m, _ := got.(map[string]any); status != 200 || len(m) != 2 || m[a] == nil || m[b] == nil {
			t.Errorf("lookup banks=A&banks=B: %d %s, want both banks", status, asJSON(got))
		}
		if _, got := hmaGet(t, e, "/m/lookup", e.Service, url.Values{"signal": {h}, "signal_type": {"pdq"}, "banks": {b}}); !reflect.DeepEqual(keys(got), []string{b}) {
			t.Errorf("lookup banks=B: %s", asJSON(got))
		}

		before := logLen(t, e)
		ct, body := hmaFile(t, "photo", string(apptest.BlocksPNG(t, 7)))
		for _, c := range []struct {
			method, path string
			banks        []string
			name         string // as the refusal writes it
		}{
			{"GET", "/m/lookup", []string{a, "HB-nothing"}, "HB-nothing"},
			{"GET", "/m/raw_lookup", []string{a + "," + unsubscribed}, unsubscribed},
			{"GET", "/m/lookup", []string{"x\"\x1by"}, `x\"\x1by`},
			{"POST", "/m/lookup", []string{unsubscribed}, unsubscribed},
		} {
			q := url.Values{"banks": c.banks}
			var status int
			var got any
			if c.method == "GET" {
				q.Set("signal", h)
				q.Set("signal_type", "pdq")
				status, got = hmaGet(t, e, c.path, e.Service, q)
			} else {
				status, got = hmaSend(t, e, "POST", c.path+"?"+q.Encode(), e.Service, ct, body)
			}
			m, _ := got.(map[string]any)
			want := "No such bank '" + c.name + "'"
			if status != 400 || m["rule"] != "hma" || m["field"] != "banks" || !strings.HasPrefix(m["message"].(string), want) {
				t.Errorf("%s %s banks=%q: %d %s, want 400 %q", c.method, c.path, c.banks, status, asJSON(got), want)
			}
		}
		if n := logLen(t, e); n != before {
			t.Errorf("refused lookups logged %d entries", n-before)
		}
	})
}

func keys(v any) []string {
	m, _ := v.(map[string]any)
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestHMACompareOrder: /m/compare checks each signal type's name first,
// then its pair (a list of exactly two strings), then each hash, and
// the signal types in order, so that a body gets one refusal whatever
// the order of its keys; its request body is documented (a pair of
// strings for each signal type) and the document refuses a pair that is
// not one. An unknown signal type is refused at its key, the body's only
// field that names it (before, at signal_type, a field the body does not
// have).
func TestHMACompareOrder(t *testing.T) {
	e := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{})
	a := apptest.PDQHex(1)
	for _, c := range []struct{ body, want string }{
		{`{"tmk": ["` + a + `"]}`, `{"field":"tmk","message":"No such SignalType 'tmk'","rule":"hma"}`},
		{`{"tmk": "x"}`, `{"field":"tmk","message":"No such SignalType 'tmk'","rule":"hma"}`},
		{`{"pdq": "x"}`, `{"field":"pdq","message":"Comparison hashes for pdq was not a list","rule":"hma"}`},
		{`{"pdq": ["` + a + `"]}`, `{"field":"pdq","message":"Comparison hash list length must be exactly 2","rule":"hma"}`},
		{`{"pdq": [1, 2]}`, `{"field":"pdq","message":"Invalid pdq hash: not a string","rule":"hma"}`},
		{`{"pdq": ["` + a + `", "zz"]}`, `{"field":"pdq","message":"Invalid pdq hash: invalid PDQ hash","rule":"hma"}`},
		// The key is the field, escaped and cut as custos echoes a name.
		{`{"t\"m\u0001k": ["` + a + `", "` + a + `"]}`, `{"field":"t\\\"m\\x01k","message":"No such SignalType 't\\\"m\\x01k'","rule":"hma"}`},
		{`{"` + strings.Repeat("x", 70) + `": []}`, `{"field":"` + strings.Repeat("x", 64) + `…","message":"No such SignalType '` + strings.Repeat("x", 64) + `…'","rule":"hma"}`},
		// In order of signal type: pdq before video_md5, whatever the body's order.
		{`{"video_md5": ["x", "y"], "pdq": ["` + a + `"]}`, `{"field":"pdq","message":"Comparison hash list length must be exactly 2","rule":"hma"}`},
		{`{"vpdq": ["[]", "[]"], "pdq": ["` + a + `", "` + a + `"], "tmk": []}`, `{"field":"tmk","message":"No such SignalType 'tmk'","rule":"hma"}`},
	} {
		status, got := hmaSend(t, e, "POST", "/m/compare", e.Service, "application/json", []byte(c.body))
		if status != 400 || asJSON(got) != c.want {
			t.Errorf("compare %s: %d %s, want 400 %s", c.body, status, asJSON(got), c.want)
		}
	}

	d, err := docOf(e.Env)
	if err != nil {
		t.Fatal(err)
	}
	ptr, err := d.requestSchema("POST", "/hma/m/compare")
	if err != nil {
		t.Fatal(err)
	}
	for body, ok := range map[string]bool{
		`{"pdq": ["` + a + `", "` + a + `"], "video_md5": ["x", "y"]}`: true,
		`{"pdq": ["` + a + `"]}`:     false,
		`{"pdq": [1, 2]}`:            false,
		`{"pdq": ["a", "b", "c"]}`:   false,
		`["` + a + `", "` + a + `"]`: false,
	} {
		if !json.Valid([]byte(body)) {
			t.Fatalf("not JSON: %s", body)
		}
		if err := d.validate(ptr, []byte(body)); (err == nil) != ok {
			t.Errorf("the document's compare body %s: %v, want valid %v", body, err, ok)
		}
	}
	status, got := hmaSend(t, e, "POST", "/m/compare", e.Service, "application/json", []byte(`{"pdq": ["`+a+`", "`+a+`"]}`))
	if status != 200 || asJSON(got) != `{"pdq":[true,{"distance":0}]}` {
		t.Errorf("compare: %d %s", status, asJSON(got))
	}
}

// TestHMACompareContentType: /m/compare reads a body sent as JSON, as HMA's
// request.get_json() does (application/json, or application/...+json), and
// refuses any other Content-Type, none included, with HMA's 415 and words,
// rule content_type at Content-Type: before, it read any body as JSON
// whatever it was sent as.
func TestHMACompareContentType(t *testing.T) {
	e := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{})
	a := apptest.PDQHex(1)
	body := []byte(`{"pdq": ["` + a + `", "` + a + `"]}`)
	const refused = `{"field":"Content-Type","message":"Did not attempt to load JSON data because the request Content-Type was not 'application/json'.","rule":"content_type"}`
	for ct, want := range map[string]string{
		"application/json":                  `{"pdq":[true,{"distance":0}]}`,
		"application/json; charset=utf-8":   `{"pdq":[true,{"distance":0}]}`,
		"Application/JSON":                  `{"pdq":[true,{"distance":0}]}`,
		"application/merge-patch+json":      `{"pdq":[true,{"distance":0}]}`,
		"":                                  refused,
		"text/plain":                        refused,
		"application/x-www-form-urlencoded": refused,
		"application/jsonx":                 refused,
		"text/json":                         refused,
		"application/json; charset":         refused,
	} {
		status, got := hmaSend(t, e, "POST", "/m/compare", e.Service, ct, body)
		wantStatus := 200
		if want == refused {
			wantStatus = 415
		}
		if status != wantStatus || asJSON(got) != want {
			t.Errorf("compare sent as %q: %d %s, want %d %s", ct, status, asJSON(got), wantStatus, want)
		}
	}
}
