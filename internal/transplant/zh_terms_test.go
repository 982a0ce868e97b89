package transplant_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestChineseTermsAgree: every Chinese message of the registry whose
// English names a living donor, a donor, a recipient or a procurement
// says it with the one word the rest of the locale uses (活体供者, 供者,
// 受者, 获取), and none uses a variant that drifted in (活体捐献者, 捐献者,
// 受体, 接受者): a coordinator reading the page, the refusal and the
// export in Chinese meets one word for one person. The English compounds
// that Chinese writes as one word are listed, each with the word used.
func TestChineseTermsAgree(t *testing.T) {
	b, err := os.ReadFile("locales/zh.json")
	if err != nil {
		t.Fatal(err)
	}
	var zh struct {
		Machine map[string]json.RawMessage `json:"machine"`
	}
	if err := json.Unmarshal(b, &zh); err != nil {
		t.Fatal(err)
	}
	// texts returns a message's translations: one, or one per plural form.
	texts := func(raw json.RawMessage) []string {
		var one string
		if json.Unmarshal(raw, &one) == nil {
			return []string{one}
		}
		var forms map[string]string
		if err := json.Unmarshal(raw, &forms); err != nil {
			t.Fatalf("a translation neither text nor plural forms: %s", raw)
		}
		var out []string
		for _, s := range forms {
			out = append(out, s)
		}
		return out
	}
	terms := []struct {
		english *regexp.Regexp
		word    string
		// compounds are English phrases with the term that Chinese
		// writes another way, and the word that stands for them.
		compounds map[string]string
	}{
		{regexp.MustCompile(`(?i)\bliving donors?\b`), "活体供者", nil},
		{regexp.MustCompile(`(?i)\bdonors?('s)?\b`), "供者", map[string]string{"donor registry": "捐献登记", "donor-recipient": "供受者", "donor–recipient": "供受者"}},
		{regexp.MustCompile(`(?i)\brecipients?('s)?\b`), "受者", nil},
		{regexp.MustCompile(`(?i)\bprocurements?\b`), "获取", nil},
	}
	drifted := []string{"活体捐献者", "捐献者", "受体", "接受者"}
	keys := make([]string, 0, len(zh.Machine))
	for k := range zh.Machine {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	checked := 0
	for _, en := range keys {
		for _, s := range texts(zh.Machine[en]) {
			for _, d := range drifted {
				if strings.Contains(s, d) {
					t.Errorf("%q is translated %q: %s is not the word the locale uses", en, s, d)
				}
			}
			for _, term := range terms {
				rest := strings.ToLower(en)
				for phrase, word := range term.compounds {
					if strings.Contains(rest, phrase) {
						if !strings.Contains(s, word) {
							t.Errorf("%q is translated %q, without %s for %q", en, s, word, phrase)
						}
						rest = strings.ReplaceAll(rest, phrase, "")
					}
				}
				if term.english.MatchString(rest) {
					checked++
					if !strings.Contains(s, term.word) {
						t.Errorf("%q is translated %q, without %s", en, s, term.word)
					}
				}
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d translations checked: the locale's layout changed?", checked)
	}
}
