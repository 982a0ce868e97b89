package stats

//go:generate go run ./iccsgen/geniccs

import (
	_ "embed"
	"encoding/json"
	"strings"

	"github.com/custos-project/custos/internal/errs"
)

// Category is one category of the ICCS: its code (2 digits for a section,
// level 1; 4 for a division, 5 for a group, 6 for a class), its level, its
// parent's code ("" at level 1) and its official titles. The Spanish titles
// are UNODC's own (the Spanish edition), shipped as data with the
// classification rather than as translations in the catalogues; other
// languages' titles come with their official editions.
type Category struct {
	Code    string `json:"code"`
	Level   int    `json:"level"`
	Parent  string `json:"parent,omitempty"`
	Title   string `json:"title"`
	TitleES string `json:"title_es"`
}

// Classification is a version of the ICCS with its categories in the
// classification's order.
type Classification struct {
	Version    string
	Source     string // the file the categories were generated from
	Categories []Category
	index      map[string]int
}

// ICCS is the classification custos ships: ICCS v1.0, 320 categories,
// generated from shared/reference/iccs by go generate (geniccs).
var ICCS = newClassification(iccsVersion, iccsCodesSource, iccsV1)

func newClassification(version, source string, cats []Category) *Classification {
	c := &Classification{Version: version, Source: source, Categories: cats, index: make(map[string]int, len(cats))}
	for i, k := range cats {
		c.index[k.Code] = i
	}
	return c
}

// Aliases are codes printed in the ICCS's Table I that its structure table
// numbers otherwise (shared/reference/iccs/README.md): data carrying them is
// read as the structure's code.
var Aliases = map[string]string{"01042": "01049", "0908": "0909"}

// Lookup returns the category of a code, reading an alias as its code.
func (c *Classification) Lookup(code string) (Category, bool) {
	code = strings.TrimSpace(code)
	if a, ok := Aliases[code]; ok {
		code = a
	}
	i, ok := c.index[code]
	if !ok {
		return Category{}, false
	}
	return c.Categories[i], true
}

// TitleIn is the category's title in a language: the official Spanish
// one in Spanish; in Arabic, Chinese, French and Russian the
// machine-assisted translation (MachineTitles) where there is one; else
// the English title.
func (k Category) TitleIn(lang string) string {
	if strings.HasPrefix(lang, "es") && k.TitleES != "" {
		return k.TitleES
	}
	if t, ok := k.MachineTitle(lang); ok {
		return t
	}
	return k.Title
}

// MachineTitle is the category's machine-assisted title in a language,
// when there is one: not UNODC's, awaiting a translator's review
// (docs/stats.md).
func (k Category) MachineTitle(lang string) (string, bool) {
	base, _, _ := strings.Cut(lang, "-")
	t, ok := MachineTitles[base][k.Code]
	return t, ok
}

//go:embed iccs_machine.json
var machineJSON []byte

// MachineTitles are machine-assisted translations of the ICCS's titles
// (levels 1 and 2) into Arabic, Chinese, French and Russian, by language
// and code: marked as such and awaiting review, as UNODC publishes the
// official editions, which custos does not ship yet.
var MachineTitles = func() map[string]map[string]string {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(machineJSON, &raw); err != nil {
		panic(err)
	}
	out := map[string]map[string]string{}
	for lang, v := range raw {
		if strings.HasPrefix(lang, "_") {
			continue // the note
		}
		var m map[string]string
		if err := json.Unmarshal(v, &m); err != nil {
			panic(err)
		}
		out[lang] = m
	}
	return out
}()

// Ancestor returns the code of a category at level (its own code when the
// category is at that level or above it: a national offence mapped to a
// division stays that division when counted by class).
func (c *Classification) Ancestor(code string, level int) string {
	k, ok := c.Lookup(code)
	for ok && k.Level > level {
		k, ok = c.Lookup(k.Parent)
	}
	return k.Code
}

// Subdivided reports whether the category has categories below it (0101,
// intentional homicide, has none: a record coded to it is as specified as
// the classification allows, at every level).
func (c *Classification) Subdivided(code string) bool {
	for _, k := range c.Categories {
		if k.Parent == code {
			return true
		}
	}
	return false
}

// Under reports whether code is ancestor or the same as it.
func (c *Classification) Under(code, ancestor string) bool {
	return strings.HasPrefix(code, ancestor)
}

// Check refuses a code that is not a category of the classification, naming
// the field.
func (c *Classification) Check(field, code string) (string, error) {
	k, ok := c.Lookup(code)
	if !ok {
		return "", errs.Invalidf("iccs_code", field, "%s is not an ICCS code (version %s)", errs.Echo(code, errs.MaxEchoed), c.Version)
	}
	return k.Code, nil
}

// At returns the categories of one level, in order.
func (c *Classification) At(level int) []Category {
	var out []Category
	for _, k := range c.Categories {
		if k.Level == level {
			out = append(out, k)
		}
	}
	return out
}
