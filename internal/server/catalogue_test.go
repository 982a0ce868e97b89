package server

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/i18n/i18ntest"
	"github.com/custos-project/custos/internal/module"
)

var updateCatalogue = flag.Bool("update", false, "rewrite each module's en.json with the messages the source and the templates use (and drop the unused from the other languages); translating is left to people")

// TestCatalogue is the catalogue check: every message the source and the
// templates use is in one module's catalogue in every language the
// deployment speaks, no catalogue holds a message nobody uses, each
// translation keeps its English's fmt verbs, every message of the source
// is a literal, and no template carries text outside a message.
func TestCatalogue(t *testing.T) {
	root, err := i18ntest.Root()
	if err != nil {
		t.Fatal(err)
	}
	used, problems, err := i18ntest.Used(root)
	if err != nil {
		t.Fatal(err)
	}

	mods := Modules(DefaultModules())
	if *updateCatalogue {
		dirs := map[string]string{}
		for _, m := range mods {
			dir := filepath.Join(root, "internal", m.Name, "locales")
			if m.Name == module.Core.Name {
				dir = filepath.Join(root, "internal", "i18n", "locales")
			}
			dirs[m.Name] = dir
		}
		if err := i18ntest.Sync(dirs, used); err != nil {
			t.Fatal(err)
		}
		t.Log("rewrote the en.json files; run the test again without -update (the embedded files are read at build)")
		return
	}
	cat, err := module.Languages(mods)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cat.Codes(), " "); got != "en ar es fr ru zh" {
		t.Errorf("custos speaks %s, want the six UN languages, English first", got)
	}
	problems = append(problems, i18ntest.Check(cat, used)...)
	const show = 60
	for i, p := range problems {
		if i == show {
			t.Errorf("... and %d more", len(problems)-show)
			break
		}
		t.Error(p)
	}
	if len(problems) > 0 {
		t.Logf("go test ./internal/server -run TestCatalogue -update adds new messages to en.json; then translate them in every language (docs/languages.md)")
	}
	if len(used) < 100 {
		t.Errorf("the check found %d messages in use: the source walk is broken", len(used))
	}
}
