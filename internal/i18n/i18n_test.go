package i18n_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

// world is a core and a module in English, French, Russian and Arabic.
func world() (fstest.MapFS, fstest.MapFS) {
	core := fstest.MapFS{
		"en.json": file(`{"language":"en","name":"English","messages":{"Donors":"Donors","%s is required":"%s is required","%d organs":{"one":"%d organ","other":"%d organs"}}}`),
		"fr.json": file(`{"language":"fr","name":"Français","machine":{"Donors":"Donneurs","%s is required":"%s est obligatoire","%d organs":{"one":"%d organe","other":"%d organes"}}}`),
		"ru.json": file(`{"language":"ru","name":"Русский","machine":{"Donors":"Доноры","%s is required":"%s обязательно","%d organs":{"one":"%d орган","few":"%d органа","many":"%d органов","other":"%d органа"}}}`),
		"ar.json": file(`{"language":"ar","name":"العربية","machine":{"Donors":"المتبرعون","%s is required":"%s مطلوب","%d organs":{"zero":"لا أعضاء","one":"عضو واحد","two":"عضوان","few":"%d أعضاء","many":"%d عضوًا","other":"%d عضو"}}}`),
	}
	mod := fstest.MapFS{
		"en.json": file(`{"language":"en","messages":{"Record a donor":"Record a donor"}}`),
		"fr.json": file(`{"language":"fr","messages":{"Record a donor":"Enregistrer un donneur"}}`),
		"ru.json": file(`{"language":"ru","machine":{"Record a donor":"Зарегистрировать донора"}}`),
		"ar.json": file(`{"language":"ar","machine":{"Record a donor":"تسجيل متبرع"}}`),
	}
	return core, mod
}

func TestLocalizer(t *testing.T) {
	core, mod := world()
	c, err := i18n.Load(i18n.Source{Module: "core", FS: core}, i18n.Source{Module: "transplant", FS: mod})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Codes(), " "); got != "en ar fr ru" {
		t.Errorf("codes %q, want English first then by code", got)
	}
	fr := c.Localizer("fr")
	if got := fr.T("Record a donor"); got != "Enregistrer un donneur" {
		t.Errorf("fr: %q", got)
	}
	if got := fr.T("%s is required", "donor_id"); got != "donor_id est obligatoire" {
		t.Errorf("fr with an argument: %q", got)
	}
	if got := fr.T("Not in any catalogue"); got != "Not in any catalogue" {
		t.Errorf("a missing message is its ID: %q", got)
	}
	for _, tc := range []struct {
		lang string
		n    int
		want string
	}{
		{"en", 1, "1 organ"}, {"en", 0, "0 organs"}, {"fr", 1, "1 organe"}, {"fr", 2, "2 organes"},
		{"ru", 1, "1 орган"}, {"ru", 3, "3 органа"}, {"ru", 5, "5 органов"}, {"ru", 21, "21 орган"},
		{"ar", 0, "لا أعضاء"}, {"ar", 2, "عضوان"}, {"ar", 3, "3 أعضاء"}, {"ar", 11, "11 عضوًا"}, {"ar", 100, "100 عضو"},
	} {
		if got := c.Localizer(tc.lang).N("%d organs", tc.n); got != tc.want {
			t.Errorf("%s N(%d) = %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
	ar := c.Localizer("ar")
	if ar.Dir() != "rtl" || fr.Dir() != "ltr" {
		t.Errorf("dir: ar %s, fr %s", ar.Dir(), fr.Dir())
	}
	e := errs.Invalidf("required", "donor_id", "%s is required", "donor_id")
	got := ar.Localize(e)
	if got.Message != "donor_id مطلوب" || got.Code != e.Code || got.Rule != "required" || got.Field != "donor_id" {
		t.Errorf("localized refusal %+v", got)
	}
	if e.Message != "donor_id is required" {
		t.Errorf("Localize changed the original: %q", e.Message)
	}
	if fr.Number(1234567) == "1234567" {
		t.Errorf("French groups the digits of 1234567: %q", fr.Number(1234567))
	}
}

func TestMatch(t *testing.T) {
	core, mod := world()
	c := i18n.MustLoad(i18n.Source{Module: "core", FS: core}, i18n.Source{Module: "transplant", FS: mod})
	for _, tc := range []struct{ chosen, accept, want string }{
		{"", "", "en"},
		{"", "fr-CA,fr;q=0.9,en;q=0.5", "fr"},
		{"", "de-DE,de;q=0.9", "en"},
		{"", "ar-EG", "ar"},
		{"ru", "fr", "ru"},          // a preference wins over the browser
		{"xx", "fr", "fr"},          // a preference custos does not speak is ignored
		{"", "garbage;;;q=x", "en"}, // an unreadable header is English
	} {
		if got := c.Match(tc.chosen, tc.accept).Code(); got != tc.want {
			t.Errorf("Match(%q, %q) = %s, want %s", tc.chosen, tc.accept, got, tc.want)
		}
	}
}

func TestLoadRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		core, mod fstest.MapFS
		want      string
	}{
		"a module without a language": {
			core: fstest.MapFS{"en.json": file(`{"language":"en","name":"English","messages":{}}`), "fr.json": file(`{"language":"fr","name":"Français","messages":{}}`)},
			mod:  fstest.MapFS{"en.json": file(`{"language":"en","messages":{}}`)},
			want: "no fr.json",
		},
		"a language the core does not speak": {
			core: fstest.MapFS{"en.json": file(`{"language":"en","name":"English","messages":{}}`)},
			mod:  fstest.MapFS{"en.json": file(`{"language":"en","messages":{}}`), "de.json": file(`{"language":"de","messages":{}}`)},
			want: "does not speak de",
		},
		"a message in two modules": {
			core: fstest.MapFS{"en.json": file(`{"language":"en","name":"English","messages":{"Donors":"Donors"}}`)},
			mod:  fstest.MapFS{"en.json": file(`{"language":"en","messages":{"Donors":"Donors"}}`)},
			want: "keep it in one",
		},
		"a missing plural form": {
			core: fstest.MapFS{"en.json": file(`{"language":"en","name":"English","messages":{}}`), "ru.json": file(`{"language":"ru","name":"Русский","messages":{"%d organs":{"one":"%d орган","other":"%d органа"}}}`)},
			mod:  fstest.MapFS{"en.json": file(`{"language":"en","messages":{}}`), "ru.json": file(`{"language":"ru","messages":{}}`)},
			want: `needs the plural form "few"`,
		},
		"a form the language has not": {
			core: fstest.MapFS{"en.json": file(`{"language":"en","name":"English","messages":{}}`), "zh.json": file(`{"language":"zh","name":"中文","messages":{"%d organs":{"one":"%d","other":"%d 个器官"}}}`)},
			mod:  fstest.MapFS{"en.json": file(`{"language":"en","messages":{}}`), "zh.json": file(`{"language":"zh","messages":{}}`)},
			want: `has no plural form "one"`,
		},
		"a file named otherwise than its language": {
			core: fstest.MapFS{"en.json": file(`{"language":"fr","name":"English","messages":{}}`)},
			want: "not the file's name",
		},
		"an unknown field": {
			core: fstest.MapFS{"en.json": file(`{"language":"en","name":"English","messages":{},"reviewed":true}`)},
			want: "unknown field",
		},
		"a message both reviewed and machine": {
			core: fstest.MapFS{"en.json": file(`{"language":"en","name":"English","messages":{"A":"A"},"machine":{"A":"A"}}`)},
			want: "both",
		},
		"the core without a name": {
			core: fstest.MapFS{"en.json": file(`{"language":"en","messages":{}}`)},
			want: `"name"`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			src := []i18n.Source{{Module: "core", FS: tc.core}}
			if tc.mod != nil {
				src = append(src, i18n.Source{Module: "transplant", FS: tc.mod})
			}
			_, err := i18n.Load(src...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// FuzzLoad reads catalogue files as an outsider may write them (a
// translator's file is outside input): Load refuses or accepts, never
// panics, and what it accepts writes every message without panicking.
func FuzzLoad(f *testing.F) {
	f.Add(`{"language":"fr","name":"Français","machine":{"Donors":"Donneurs","%d organs":{"one":"%d organe","other":"%d organes"}}}`)
	f.Add(`{"language":"fr","name":"x","messages":{"%s":{"many":""}}}`)
	f.Fuzz(func(t *testing.T, fr string) {
		core := fstest.MapFS{
			"en.json": file(`{"language":"en","name":"English","messages":{"Donors":"Donors","%d organs":{"one":"%d organ","other":"%d organs"}}}`),
			"fr.json": file(fr),
		}
		c, err := i18n.Load(i18n.Source{Module: "core", FS: core})
		if err != nil {
			return
		}
		l := c.Localizer("fr")
		_ = l.T("Donors")
		_ = l.N("%d organs", 3)
		_ = l.Error(errs.Invalidf("required", "x", "%s is required", "x"))
	})
}
