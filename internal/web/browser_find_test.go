package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/custos-project/custos/internal/demo"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/transplant"
)

// TestBrowserFindDonorInDemo builds the Demoland demo (1,500 donors), takes
// the national identifier of one donor from the vault, and has a coordinator
// of another centre find that donor in headless Chromium, typing the
// identifier in lower case with spaces: the Find a person page lists the
// donor, found by national identifier, and its link opens the donor. The
// search is one leaf of the read log that names the donor and holds neither
// the identifier nor its pseudonym.
func TestBrowserFindDonorInDemo(t *testing.T) {
	path := findChromium()
	if path == "" {
		t.Skip("no Chromium found: set CUSTOS_CHROMIUM to a Chromium or Chrome binary, or install chromium, to run the browser test")
	}
	if testing.Short() {
		t.Skip("builds the whole demo registry")
	}
	ctx := context.Background()
	cfg := server.Config{DSN: filepath.Join(t.TempDir(), "demo.db"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, err := demo.Ensure(ctx, cfg, demo.Options{Years: 5, Scale: 1}); err != nil {
		t.Fatal(err)
	}
	app, err := server.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(func() {
		srv.Close()
		app.Close()
	})
	q := app.DB.Read()
	var donors int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM donors").Scan(&donors); err != nil {
		t.Fatal(err)
	}
	if donors < 1500 { // 1,500 donations, and the domino livers' donors
		t.Fatalf("the demo has %d donors, want at least 1,500", donors)
	}
	// A donor in the middle of the list, and a coordinator of another centre.
	var donor, ref, centre, pseudonym string
	if err := q.QueryRow(ctx, "SELECT id, subject_ref, centre_id, person_pseudonym FROM donors ORDER BY log_index LIMIT 1 OFFSET 750").
		Scan(&donor, &ref, &centre, &pseudonym); err != nil {
		t.Fatal(err)
	}
	person, err := app.Vault.Load(ctx, q, ref)
	if err != nil || person.NationalID == "" {
		t.Fatalf("the donor's personal data: %+v, %v", person, err)
	}
	var coordinator string
	for _, tk := range demo.Tokens() {
		if tk.Role != transplant.RoleCoordinator {
			continue
		}
		var own string
		if err := q.QueryRow(ctx, "SELECT authority_id FROM principals WHERE name = ?", tk.Name).Scan(&own); err != nil {
			t.Fatal(err)
		}
		if own != centre {
			coordinator = tk.Token
			break
		}
	}
	if coordinator == "" {
		t.Fatal("the demo has no coordinator of another centre")
	}

	b := newTab(t, path, srv.URL)
	tctx := b.ctx

	b.signIn(coordinator)
	b.open("/transplant/donors", 200)
	b.click("the Find a person link", `nav a[href="/transplant/persons"]`, 200)
	// Nothing to search by is refused, naming the field.
	b.fill(map[string]string{"person-purpose": "checking before registering a donor"})
	b.click("search with nothing", `#person button[type="submit"]`, 422)
	if rule, field := b.text("#refusal-rule"), b.text("#refusal-field"); rule != "required" || field != "national_id" {
		t.Fatalf("refused by %q on %q", rule, field)
	}
	typed := strings.ToLower(person.NationalID[:4] + " " + person.NationalID[4:])
	b.fill(map[string]string{"person-national_id": typed, "person-purpose": "checking before registering a donor"})
	var before int64
	if err := q.QueryRow(ctx, "SELECT MAX(idx) FROM log_leaves").Scan(&before); err != nil {
		t.Fatal(err)
	}
	b.click("find", `#person button[type="submit"]`, 200)
	b.screenshot("find-person.png")
	rows := b.text("#matches tbody")
	if !strings.Contains(rows, donor) || !strings.Contains(rows, "national identifier") || strings.Count(rows, "DN-")+strings.Count(rows, "RC-") != 1 {
		t.Fatalf("the search for %s found:\n%s\nwant donor %s alone", typed, rows, donor)
	}
	var leaves []string
	r, err := q.Query(ctx, "SELECT data FROM log_leaves WHERE idx > ? ORDER BY idx", before)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var s string
		if err := r.Scan(&s); err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, s)
	}
	r.Close()
	if len(leaves) != 1 || !strings.Contains(leaves[0], "privacy.personal_data_searched") || !strings.Contains(leaves[0], donor) {
		t.Fatalf("the search wrote %v, want one search leaf naming %s", leaves, donor)
	}
	if strings.Contains(leaves[0], person.NationalID) || strings.Contains(leaves[0], pseudonym) {
		t.Errorf("the search's leaf holds the identifier or its pseudonym: %s", leaves[0])
	}
	b.click("open the donor found", `#matches a[href="/transplant/donors/`+donor+`"]`, 200)
	if h := b.text("h1"); !strings.Contains(h, donor) {
		t.Errorf("the donor's page is headed %q", h)
	}
	if loc, err := chromedp.Run(tctx, chromedp.Location()); err != nil || strings.Contains(loc, strings.ToLower(person.NationalID)) || strings.Contains(loc, person.NationalID) {
		t.Errorf("the national identifier is in a URL: %s %v", loc, err)
	}
}
