package web_test

import (
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestEveryListValueHasALabel: every value the core's or a section's pages
// show through "label" or offer in a select (their Lists, UI.ValueLists:
// "opts", "optionsOf", Session.list and Session.options) has a label in
// their Labels,
// and that label is a message of the catalogue, which the catalogue check
// (TestCatalogue) holds translated in every language. A value without one
// would be written as its code capitalised, in English, in every language
// (labelOf), and no test said so.
func TestEveryListValueHasALabel(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	cat := w.App.Languages
	ui := w.App.UI()
	if len(ui.Sections) == 0 {
		t.Fatal("the UI has no section to check")
	}
	checked := 0
	for _, sec := range ui.ValueLists() {
		for list, values := range sec.Lists {
			for _, v := range values {
				label, ok := sec.Labels[v]
				switch {
				case !ok:
					t.Errorf("section %s, list %s: value %q has no label", sec.Name, list, v)
				case !cat.Has(label):
					t.Errorf("section %s, list %s: the label %q of %q is no message", sec.Name, list, label, v)
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("no list value checked")
	}
}
