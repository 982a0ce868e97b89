package transplant

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestOrganIDRoundTrip(t *testing.T) {
	for _, o := range []OrganID{{"XA", 26, 123, 1}, {"FR", 0, 999999, 99}, {"DE", 99, 1, 7}} {
		s := o.String()
		got, err := ParseOrganID(s)
		if err != nil {
			t.Fatalf("ParseOrganID(%q): %v", s, err)
		}
		if got != o {
			t.Errorf("ParseOrganID(%q) = %+v, want %+v", s, got, o)
		}
		typed := strings.ToLower(strings.ReplaceAll(s, "-", " "))
		if got, err := ParseOrganID(typed); err != nil || got != o {
			t.Errorf("typed back %q: %+v, %v", typed, got, err)
		}
	}
}

// The check character must catch every single substitution and every swap
// of two adjacent different characters: the errors people make typing labels.
func TestOrganIDCheckCatchesTypos(t *testing.T) {
	body := OrganID{"XA", 26, 4711, 3}.body()
	full := body + string(checkChar(body))
	for i := 0; i < len(full); i++ {
		for _, r := range alnum {
			if byte(r) == full[i] {
				continue
			}
			typo := full[:i] + string(r) + full[i+1:]
			if _, err := ParseOrganID(typo); err == nil {
				t.Fatalf("substitution at %d (%q) accepted", i, typo)
			}
		}
	}
	for i := 0; i+1 < len(full); i++ {
		if full[i] == full[i+1] {
			continue
		}
		swapped := full[:i] + string(full[i+1]) + string(full[i]) + full[i+2:]
		if _, err := ParseOrganID(swapped); err == nil {
			t.Fatalf("transposition at %d (%q) accepted", i, swapped)
		}
	}
}

func TestParseOrganIDRefuses(t *testing.T) {
	valid := OrganID{"XA", 26, 123, 1}.String()
	for name, in := range map[string]string{
		"empty":         "",
		"short":         "XA-26-0001-01",
		"long":          valid + "0",
		"digit country": "1A" + valid[2:],
		"letter in seq": strings.Replace(valid, "000123", "0001Z3", 1),
		"bad check":     valid[:len(valid)-1] + "0",
		"punctuation":   "XA/26/000123/01/K",
		"zero seq":      OrganID{"XA", 26, 0, 1}.String(),
		"huge":          strings.Repeat("A", 100),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseOrganID(in); err == nil {
				t.Errorf("ParseOrganID(%q) accepted", in)
			}
		})
	}
}

// A wrong check character is refused naming the identifier as its label
// prints it, as typed in any case and spacing: it was named run together
// (XA26000123010), which the coordinator could not hold against the label.
func TestOrganIDCheckRefusalAsPrinted(t *testing.T) {
	valid := OrganID{"XA", 26, 123, 1}.String()
	wrong := valid[:len(valid)-1] + "0"
	if wrong == valid {
		wrong = valid[:len(valid)-1] + "1"
	}
	for _, typed := range []string{wrong, strings.ToLower(strings.ReplaceAll(wrong, "-", " ")), strings.ReplaceAll(wrong, "-", "")} {
		_, err := ParseOrganID(typed)
		if err == nil || !strings.Contains(err.Error(), "organ identifier "+wrong+" is wrong") {
			t.Errorf("ParseOrganID(%q): %v; want the refusal to name %s", typed, err, wrong)
		}
	}
}

func FuzzParseOrganID(f *testing.F) {
	f.Add("XA-26-000123-01-5")
	f.Add(OrganID{"FR", 1, 42, 2}.String())
	f.Add("xa 26 000123 01 k")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOrganID(s)
		if err != nil {
			return
		}
		// Whatever parses must print back to a form that parses the same.
		again, err := ParseOrganID(o.String())
		if err != nil || again != o {
			t.Fatalf("%q parsed to %+v, whose string %q parses to %+v, %v", s, o, o.String(), again, err)
		}
	})
}

// TestShownOrganIDs checks that every organ identifier shown to users as an
// example (the documentation, the pages and their translations, this
// package's refusals) has its right check character: a coordinator who
// types one back, or a reader who tries a documented command, must not be
// refused by the example itself.
func TestShownOrganIDs(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, pattern := range []string{"README.md", "docs/*.md", "internal/*/locales/*.json", "internal/web/templates/*/*.html", "internal/transplant/*.go"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 20 {
		t.Fatalf("only %d files found under %s", len(files), root)
	}
	id := regexp.MustCompile(`\b[A-Za-z]{2}[- ][0-9]{2}[- ][0-9]{6}[- ][0-9]{2}[- ][0-9A-Za-z]\b`)
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range id.FindAllString(string(b), -1) {
			seen++
			if _, err := ParseOrganID(s); err != nil {
				rel, _ := filepath.Rel(root, f)
				t.Errorf("%s shows %s: %v", rel, s, err)
			}
		}
	}
	if seen < 10 {
		t.Errorf("only %d organ identifiers found: the pattern no longer matches how they are shown", seen)
	}
}
