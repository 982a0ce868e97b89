package stats

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/stats/iccsgen"
)

// reference is where the ICCS reference files are, from this package.
var reference = filepath.Join("..", "..", "..", "shared", "reference", "iccs")

// TestICCSMatchesReference: the shipped classification is what geniccs
// writes from shared/reference/iccs, byte for byte, and says so row by row.
func TestICCSMatchesReference(t *testing.T) {
	codes, es := filepath.Join(reference, "iccs-codes.csv"), filepath.Join(reference, "iccs-labels-es.csv")
	if _, err := os.Stat(codes); err != nil {
		t.Skipf("the ICCS reference is not here (%s: %v): the shipped classification is not compared with it", codes, err)
	}
	want, err := iccsgen.Generate(codes, es)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("iccs_v1.go")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("iccs_v1.go is not what geniccs writes from %s: run go generate ./internal/stats", reference)
	}
	f, err := os.Open(codes)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(ICCS.Categories) != len(rows)-1 || len(rows)-1 != 320 {
		t.Fatalf("%d categories, the reference has %d rows (want 320)", len(ICCS.Categories), len(rows)-1)
	}
	for i, r := range rows[1:] {
		k := ICCS.Categories[i]
		if k.Code != r[0] || k.Parent != r[2] || k.Title != r[3] {
			t.Errorf("row %d: %+v, reference %v", i+2, k, r)
		}
	}
	levels := map[int]int{}
	for _, k := range ICCS.Categories {
		levels[k.Level]++
		if len(k.Code) != map[int]int{1: 2, 2: 4, 3: 5, 4: 6}[k.Level] {
			t.Errorf("%s: level %d has the wrong length", k.Code, k.Level)
		}
		if k.Level > 1 {
			if p, ok := ICCS.Lookup(k.Parent); !ok || p.Level != k.Level-1 || !ICCS.Under(k.Code, p.Code) {
				t.Errorf("%s: parent %s is not one level up and a prefix", k.Code, k.Parent)
			}
		}
		if k.TitleES == "" {
			t.Errorf("%s has no Spanish title", k.Code)
		}
	}
	if levels[1] != 11 || levels[2] != 63 || levels[3] != 148 || levels[4] != 98 {
		t.Errorf("categories by level: %v, want 11, 63, 148, 98", levels)
	}
}

func TestICCSLookup(t *testing.T) {
	k, ok := ICCS.Lookup("02043")
	if !ok || k.Title != "TIP for organ removal" || k.Parent != "0204" || k.Level != 3 {
		t.Errorf("02043: %+v %v", k, ok)
	}
	if k, ok := ICCS.Lookup("0908"); !ok || k.Code != "0909" {
		t.Errorf("the alias 0908 reads as %+v %v, want 0909", k, ok)
	}
	if _, ok := ICCS.Lookup("0299"); ok {
		t.Error("0299 is no ICCS code")
	}
	if got := ICCS.Ancestor("020221", 2); got != "0202" {
		t.Errorf("020221 at level 2 is %s", got)
	}
	if got := ICCS.Ancestor("0204", 4); got != "0204" {
		t.Errorf("0204 at level 4 is %s, want itself", got)
	}
	if _, err := ICCS.Check("iccs", "99"); err == nil {
		t.Error("99 passed the check")
	}
}

// TestUNCTSCrimes: every crime of the UN-CTS tables is an ICCS category,
// named once.
func TestUNCTSCrimes(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range UNCTSCrimes {
		if _, ok := ICCS.Lookup(c.ICCS); !ok {
			t.Errorf("UN-CTS crime %s: %s is not an ICCS code", c.Name, c.ICCS)
		}
		if seen[c.Name] || c.Name == UNCTSAll {
			t.Errorf("UN-CTS crime %s named twice", c.Name)
		}
		seen[c.Name] = true
	}
	for _, name := range unctsVictimCrimes {
		if !seen[name] {
			t.Errorf("victims' crime %s is not a UN-CTS crime", name)
		}
	}
	if len(UNCTSRows("police_victims")) != len(unctsVictimCrimes) || len(UNCTSRows("courts")) != len(UNCTSCrimes) {
		t.Error("UNCTSRows gives the wrong crimes")
	}
}

// TestMachineTitles: the machine-assisted titles cover levels 1 and 2 in
// Arabic, Chinese, French and Russian, only codes of the classification,
// none empty; TitleIn picks them, Spanish keeps its
// official title, and a language without any falls back to English.
func TestMachineTitles(t *testing.T) {
	for _, lang := range []string{"ar", "fr", "ru", "zh"} {
		m := MachineTitles[lang]
		for code, title := range m {
			k, ok := ICCS.Lookup(code)
			if !ok || k.Code != code {
				t.Errorf("%s: %s is not an ICCS code", lang, code)
				continue
			}
			// French writes some titles as English does (Corruption).
			if strings.TrimSpace(title) == "" || title == k.Title && lang != "fr" {
				t.Errorf("%s: %s has no title of its own: %q", lang, code, title)
			}
		}
		for _, k := range ICCS.Categories {
			if _, ok := m[k.Code]; k.Level <= 2 && !ok {
				t.Errorf("%s: no title for %s (level %d)", lang, k.Code, k.Level)
			}
		}
	}
	k, _ := ICCS.Lookup("0101")
	if got := k.TitleIn("fr"); got != MachineTitles["fr"]["0101"] || got == k.Title {
		t.Errorf("0101 in French: %q", got)
	}
	if got := k.TitleIn("zh-Hans"); got != MachineTitles["zh"]["0101"] {
		t.Errorf("0101 in Chinese: %q", got)
	}
	if got := k.TitleIn("es"); got != k.TitleES {
		t.Errorf("0101 in Spanish: %q, want the official %q", got, k.TitleES)
	}
	if got := k.TitleIn("de"); got != k.Title {
		t.Errorf("0101 in German: %q, want the English", got)
	}
	deep, _ := ICCS.Lookup("020111")
	if _, ok := MachineTitles["fr"][deep.Code]; !ok && deep.TitleIn("fr") != deep.Title {
		t.Errorf("020111 in French without a translation: %q, want the English", deep.TitleIn("fr"))
	}
}
