// Package i18n gives custos its languages: message catalogues, one file per
// language per module, and a Localizer per request that writes messages,
// plurals, numbers, amounts and dates in the reader's language.
//
// A message's ID is its English text, as written in the code or the
// template ("Record a donor", "%s is required"): the source stays readable
// and a changed English sentence is a new message, which every language must
// then translate (the catalogue check fails until it does). Arguments are
// fmt verbs; a translation may reorder them with explicit indexes
// ("%[2]s … %[1]s"). A message with a count has plural forms (zero, one,
// two, few, many, other, the CLDR categories of golang.org/x/text's plural
// rules): Arabic needs six, Russian four, Chinese one.
//
// The files are JSON, <language>.json at the root of a module's Locales,
// for example:
//
//	{
//	  "language": "fr",
//	  "name": "Français",
//	  "messages": {"Donors": "Donneurs"},
//	  "machine": {"%d organs": {"one": "%d organe", "other": "%d organes"}}
//	}
//
// "messages" are reviewed by a person who speaks the language; "machine"
// holds machine-assisted translations waiting for that review (the reviewer
// moves them to "messages"). "name" is the language's own name, shown in the
// language switch; the core's file gives it. Every module's en.json lists
// every message of the module, so that a translator starts a language by
// copying it.
//
// The languages a deployment speaks are the files of the core: adding one is
// a file per module and nothing else. English is the fallback.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

// Source is the catalogue of one module: <language>.json files at the root
// of FS. A nil FS has no messages.
type Source struct {
	Module string
	FS     fs.FS
}

// File is one catalogue file, as read.
type File struct {
	Module   string
	Language string                     // the file's name without .json, a BCP 47 tag
	Name     string                     `json:"name"`
	Messages map[string]json.RawMessage `json:"messages"`
	Machine  map[string]json.RawMessage `json:"machine"`
	entries  map[string]Entry
}

// Entry is one message in one language: the forms of a plural message, or
// Other alone.
type Entry struct {
	Forms   map[plural.Form]string
	Machine bool // machine-assisted, awaiting review
}

// Other is the entry's text when it has no count.
func (e Entry) Other() string { return e.Forms[plural.Other] }

// Plural tells whether the entry has forms for counts.
func (e Entry) Plural() bool { return len(e.Forms) > 1 || e.Forms[plural.Other] == "" }

// formNames are the JSON names of the plural forms.
var formNames = map[string]plural.Form{
	"zero": plural.Zero, "one": plural.One, "two": plural.Two,
	"few": plural.Few, "many": plural.Many, "other": plural.Other,
}

// FormName names a plural form as the files do.
func FormName(f plural.Form) string {
	for n, v := range formNames {
		if v == f {
			return n
		}
	}
	return "other"
}

// Language is one language a deployment speaks.
type Language struct {
	Tag  language.Tag
	Code string // "fr", "zh", "ar": the file name and the lang attribute
	Name string // its own name: "Français", "中文", "العربية"
	RTL  bool   // written right to left
}

// Dir is the HTML dir attribute of the language.
func (l Language) Dir() string {
	if l.RTL {
		return "rtl"
	}
	return "ltr"
}

// Catalogue is every module's messages in every language.
type Catalogue struct {
	langs   []Language                  // English first, then by code
	byCode  map[string]int              // code -> index in langs
	matcher language.Matcher            // over langs' tags
	msgs    map[string]map[string]Entry // code -> message ID -> entry
	files   []*File
	// sentences are the English messages with arguments that
	// Localizer.Sentence reads back, most specific first, made when first
	// needed (a catalogue loaded for a command or a test rarely is).
	sentences     []sentence
	sentencesOnce sync.Once
}

// Default is the language custos falls back to.
const Default = "en"

// Load reads the catalogues of the modules. The first source is the core's:
// its files decide which languages are spoken, and every module must have a
// file for each (and none for another). A message given by two modules, a
// file that does not parse, or a plural entry with a form its language does
// not have is refused.
func Load(sources ...Source) (*Catalogue, error) {
	if len(sources) == 0 || sources[0].FS == nil {
		return nil, fmt.Errorf("i18n: the core's catalogue is missing")
	}
	c := &Catalogue{byCode: map[string]int{}, msgs: map[string]map[string]Entry{}}
	owner := map[string]map[string]string{} // code -> ID -> module
	var codes []string
	for i, src := range sources {
		if src.FS == nil {
			return nil, fmt.Errorf("i18n: module %s has no catalogue", src.Module)
		}
		names, err := fs.Glob(src.FS, "*.json")
		if err != nil {
			return nil, err
		}
		var have []string
		for _, n := range names {
			f, err := readFile(src.Module, src.FS, n)
			if err != nil {
				return nil, err
			}
			have = append(have, f.Language)
			if i == 0 {
				if f.Name == "" {
					return nil, fmt.Errorf("i18n: %s/%s: the core's file names its language (\"name\")", src.Module, n)
				}
				codes = append(codes, f.Language)
				tag := language.MustParse(f.Language)
				c.langs = append(c.langs, Language{Tag: tag, Code: f.Language, Name: f.Name, RTL: rtl(tag)})
				c.msgs[f.Language] = map[string]Entry{}
				owner[f.Language] = map[string]string{}
			} else if _, ok := c.msgs[f.Language]; !ok {
				return nil, fmt.Errorf("i18n: %s/%s: the core has no %s.json, so custos does not speak %s", src.Module, n, f.Language, f.Language)
			}
			for id, e := range f.entries {
				if m, dup := owner[f.Language][id]; dup {
					return nil, fmt.Errorf("i18n: message %q is in the catalogues of %s and %s; keep it in one", id, m, src.Module)
				}
				owner[f.Language][id] = src.Module
				c.msgs[f.Language][id] = e
			}
			c.files = append(c.files, f)
		}
		for _, code := range codes {
			if !slices.Contains(have, code) {
				return nil, fmt.Errorf("i18n: module %s has no %s.json", src.Module, code)
			}
		}
	}
	if !slices.Contains(codes, Default) {
		return nil, fmt.Errorf("i18n: the core's catalogue has no %s.json", Default)
	}
	sort.SliceStable(c.langs, func(i, j int) bool {
		if (c.langs[i].Code == Default) != (c.langs[j].Code == Default) {
			return c.langs[i].Code == Default
		}
		return c.langs[i].Code < c.langs[j].Code
	})
	tags := make([]language.Tag, len(c.langs))
	for i, l := range c.langs {
		c.byCode[l.Code] = i
		tags[i] = l.Tag
	}
	c.matcher = language.NewMatcher(tags)
	return c, nil
}

// MustLoad is Load for catalogues embedded in the program, which the test
// suite checks: it panics on an error.
func MustLoad(sources ...Source) *Catalogue {
	c, err := Load(sources...)
	if err != nil {
		panic(err)
	}
	return c
}

func readFile(module string, fsys fs.FS, name string) (*File, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	f := &File{Module: module, Language: strings.TrimSuffix(path.Base(name), ".json")}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var raw struct {
		Language string                     `json:"language"`
		Name     string                     `json:"name"`
		Messages map[string]json.RawMessage `json:"messages"`
		Machine  map[string]json.RawMessage `json:"machine"`
	}
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("i18n: %s/%s: %w", module, name, err)
	}
	tag, err := language.Parse(f.Language)
	if err != nil || tag.String() != f.Language {
		return nil, fmt.Errorf("i18n: %s/%s: the file's name is not a language tag in its canonical form", module, name)
	}
	if raw.Language != f.Language {
		return nil, fmt.Errorf("i18n: %s/%s: \"language\" is %q, not the file's name", module, name, raw.Language)
	}
	f.Name, f.Messages, f.Machine = raw.Name, raw.Messages, raw.Machine
	f.entries = map[string]Entry{}
	for _, part := range []struct {
		m       map[string]json.RawMessage
		machine bool
	}{{raw.Messages, false}, {raw.Machine, true}} {
		for id, v := range part.m {
			if _, dup := f.entries[id]; dup {
				return nil, fmt.Errorf("i18n: %s/%s: message %q is in both \"messages\" and \"machine\"", module, name, id)
			}
			e, err := parseEntry(tag, v)
			if err != nil {
				return nil, fmt.Errorf("i18n: %s/%s: message %q: %w", module, name, id, err)
			}
			e.Machine = part.machine
			f.entries[id] = e
		}
	}
	return f, nil
}

func parseEntry(tag language.Tag, v json.RawMessage) (Entry, error) {
	var s string
	if json.Unmarshal(v, &s) == nil {
		if s == "" {
			return Entry{}, fmt.Errorf("the text is empty")
		}
		return Entry{Forms: map[plural.Form]string{plural.Other: s}}, nil
	}
	var forms map[string]string
	if err := json.Unmarshal(v, &forms); err != nil {
		return Entry{}, fmt.Errorf("a message is a text or an object of plural forms")
	}
	e := Entry{Forms: map[plural.Form]string{}}
	for n, text := range forms {
		f, ok := formNames[n]
		if !ok {
			return Entry{}, fmt.Errorf("%q is not a plural form (zero, one, two, few, many, other)", n)
		}
		if text == "" {
			return Entry{}, fmt.Errorf("the %s form is empty", n)
		}
		e.Forms[f] = text
	}
	need := Forms(tag)
	for _, f := range need {
		if e.Forms[f] == "" {
			return Entry{}, fmt.Errorf("%s needs the plural form %q", tag, FormName(f))
		}
	}
	for f := range e.Forms {
		if !slices.Contains(need, f) && f != plural.Zero {
			return Entry{}, fmt.Errorf("%s has no plural form %q", tag, FormName(f))
		}
	}
	return e, nil
}

// Forms are the plural forms the language's counts take (CLDR, through
// golang.org/x/text/feature/plural), Other last. Zero is allowed in any
// language's entries (a text for "none"), but required only where the
// rules have it (Arabic).
func Forms(tag language.Tag) []plural.Form {
	seen := map[plural.Form]bool{}
	for n := 0; n <= 1000; n++ {
		seen[plural.Cardinal.MatchPlural(tag, n, 0, 0, 0, 0)] = true
	}
	seen[plural.Other] = true
	var out []plural.Form
	for _, f := range []plural.Form{plural.Zero, plural.One, plural.Two, plural.Few, plural.Many, plural.Other} {
		if seen[f] {
			out = append(out, f)
		}
	}
	return out
}

// rtlScripts are the scripts written right to left.
var rtlScripts = []string{"Arab", "Hebr", "Syrc", "Thaa", "Nkoo", "Adlm", "Rohg", "Mand", "Samr"}

func rtl(tag language.Tag) bool {
	s, _ := tag.Script()
	return slices.Contains(rtlScripts, s.String())
}

// Languages are the languages spoken, English first.
func (c *Catalogue) Languages() []Language { return append([]Language(nil), c.langs...) }

// Files are the catalogue files as read, for the catalogue check.
func (c *Catalogue) Files() []*File { return c.files }

// Entries are the file's messages by ID.
func (f *File) Entries() map[string]Entry { return f.entries }

// Language returns the language with code, and whether it is spoken.
func (c *Catalogue) Language(code string) (Language, bool) {
	i, ok := c.byCode[code]
	if !ok {
		return Language{}, false
	}
	return c.langs[i], true
}

// Localizer writes in code, a language spoken; else in English.
func (c *Catalogue) Localizer(code string) *Localizer {
	l, ok := c.Language(code)
	if !ok {
		l, _ = c.Language(Default)
	}
	return &Localizer{c: c, lang: l}
}

// Match chooses the language of a reader: their own choice (a principal's
// preference, a code) when custos speaks it, else the best of an
// Accept-Language header, else English.
func (c *Catalogue) Match(chosen, acceptLanguage string) *Localizer {
	if _, ok := c.byCode[chosen]; ok {
		return c.Localizer(chosen)
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err == nil && len(tags) > 0 {
		_, i, conf := c.matcher.Match(tags...)
		if conf != language.No {
			return c.Localizer(c.langs[i].Code)
		}
	}
	return c.Localizer(Default)
}

// English is the localizer of the fallback language.
func (c *Catalogue) English() *Localizer { return c.Localizer(Default) }

// Has tells whether the catalogue has message id in English.
func (c *Catalogue) Has(id string) bool {
	_, ok := c.msgs[Default][id]
	return ok
}

// Msg marks a Go string as a message ID, for the catalogue check to find:
// a label, a title, a column's header kept in code and translated where it
// is shown (Localizer.T, the templates' "t").
type Msg = string

// M marks a literal as a message ID and returns it as it is. The catalogue
// check reads every M("…") of the source as a message in use.
func M(id string) Msg { return id }

//go:embed locales/*.json
var coreFS embed.FS

// Core is the core's catalogue: the words of the core's pages (sign-in,
// home, people, authorities, alerts, the log, the exchange) and of the
// refusals of the core's packages. Its files decide which languages custos
// speaks.
var Core fs.FS = func() fs.FS {
	s, err := fs.Sub(coreFS, "locales")
	if err != nil {
		panic(err)
	}
	return s
}()

// CoreOnly is the catalogue of the core alone, for a UI or an API built
// without a deployment's modules (tests).
func CoreOnly() *Catalogue { return MustLoad(Source{Module: "core", FS: Core}) }

// Codes are the codes of the languages spoken, English first.
func (c *Catalogue) Codes() []string {
	out := make([]string, len(c.langs))
	for i, l := range c.langs {
		out[i] = l.Code
	}
	return out
}
