package i18n_test

import (
	"testing"
	"testing/fstest"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
)

// TestSentence reads English texts back into their messages and arguments:
// %s, %q and %d each read as what made them, an argument that is a message
// as an errs.Text (so the French writes it in French), the most specific
// format taken when two would match; a text no message made, a format too
// short to tell (only verbs and punctuation) or one with a width is not
// read back; a message without arguments is its own ID.
func TestSentence(t *testing.T) {
	core := fstest.MapFS{
		"en.json": file(`{"language":"en","name":"English","messages":{"kidney":"kidney","Donors":"Donors","%s: %s":"%s: %s",
			"no authorization of organ %s for recipient %s is on file":"no authorization of organ %s for recipient %s is on file",
			"organ %s is not a %s":"organ %s is not a %s",
			"organ %s is not a %s of donor %s":"organ %s is not a %s of donor %s",
			"name %q is taken %d times":"name %q is taken %d times",
			"%05d organs are on file here":"%05d organs are on file here"}}`),
		"fr.json": file(`{"language":"fr","name":"Français","machine":{"kidney":"rein","Donors":"Donneurs","%s: %s":"%s : %s",
			"no authorization of organ %s for recipient %s is on file":"aucune autorisation de l'organe %s pour le receveur %s",
			"organ %s is not a %s":"l'organe %s n'est pas un %s",
			"organ %s is not a %s of donor %s":"l'organe %s n'est pas un %s du donneur %s",
			"name %q is taken %d times":"le nom %q est pris %d fois",
			"%05d organs are on file here":"%05d organes sont enregistrés ici"}}`),
	}
	c, err := i18n.Load(i18n.Source{Module: "core", FS: core})
	if err != nil {
		t.Fatal(err)
	}
	fr := c.Localizer("fr")
	for _, tc := range []struct {
		text, id, french string
		args             []any
	}{
		{"no authorization of organ XA-26-000001-01-B for recipient RC-1 is on file", "no authorization of organ %s for recipient %s is on file",
			"aucune autorisation de l'organe XA-26-000001-01-B pour le receveur RC-1", []any{"XA-26-000001-01-B", "RC-1"}},
		{"organ XA-1 is not a kidney of donor DN-2", "organ %s is not a %s of donor %s", "l'organe XA-1 n'est pas un rein du donneur DN-2",
			[]any{"XA-1", errs.Text("kidney"), "DN-2"}},
		{"organ XA-1 is not a kidney", "organ %s is not a %s", "l'organe XA-1 n'est pas un rein", []any{"XA-1", errs.Text("kidney")}},
		{`name "a \"b\"" is taken 3 times`, "name %q is taken %d times", `le nom "a \"b\"" est pris 3 fois`, []any{`a "b"`, 3}},
		{"Donors", "Donors", "Donneurs", nil},
	} {
		id, args, ok := c.Sentence(tc.text)
		if !ok || id != tc.id || len(args) != len(tc.args) {
			t.Errorf("%q read as %q %#v %v, want %q %#v", tc.text, id, args, ok, tc.id, tc.args)
			continue
		}
		for i := range args {
			if args[i] != tc.args[i] {
				t.Errorf("%q: argument %d is %#v, want %#v", tc.text, i, args[i], tc.args[i])
			}
		}
		if got := fr.T(id, args...); got != tc.french {
			t.Errorf("%q in French: %q, want %q", tc.text, got, tc.french)
		}
		if got := c.English().T(id, args...); got != tc.text {
			t.Errorf("%q written back in English: %q", tc.text, got)
		}
	}
	for _, text := range []string{"a: b", "00012 organs are on file here", "no authorization of organ XA-1 is on file", "something else entirely"} {
		if id, args, ok := c.Sentence(text); ok {
			t.Errorf("%q read back as %q %v", text, id, args)
		}
	}
}
