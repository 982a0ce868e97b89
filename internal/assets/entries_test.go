package assets

import (
	"reflect"
	"slices"
	"testing"
)

// TestRecordsAgreeWithTheirEntries: a record as read and the data of the
// entry that records it share every field, with the same Go type and the
// same JSON name, but the few each holds alone (named here), so that a
// field added to one and not the other is caught here and not in a
// projection that silently drops it. Cases, links and rates are one struct
// with their entries (caseOpened is Case, casesLinked is Link, rateRecorded
// is Rate); these are the pairs that differ.
func TestRecordsAgreeWithTheirEntries(t *testing.T) {
	fields := func(v any) map[string]string {
		out := map[string]string{}
		rt := reflect.TypeOf(v)
		for i := 0; i < rt.NumField(); i++ {
			f := rt.Field(i)
			out[f.Name] = f.Type.String() + " `" + f.Tag.Get("json") + "`"
		}
		return out
	}
	for _, c := range []struct {
		name                  string
		record, entry         any
		recordOnly, entryOnly []string
	}{
		{"Measure/assets.measure_recorded", Measure{}, measureRecorded{}, nil, nil},
		// A natural person's data is sealed under SubjectRef; the record says only that it is.
		{"Person/assets.person_added", Person{}, personAdded{}, []string{"Sealed"}, []string{"SubjectRef"}},
		// The asset's first step, identification, is in its entry; the record has where its ledger stands.
		{"Asset/assets.asset_identified", Asset{}, assetIdentified{}, []string{"Status", "StatusOn", "Measures"},
			[]string{"MeasureID", "IdentifiedOn", "Instrument", "Authority"}},
	} {
		record, entry := fields(c.record), fields(c.entry)
		if len(record) == 0 {
			t.Fatalf("%s: no fields", c.name)
		}
		for name, want := range record {
			got, ok := entry[name]
			switch {
			case slices.Contains(c.recordOnly, name):
				if ok {
					t.Errorf("%s: %s is in both; it is listed as the record's alone", c.name, name)
				}
			case !ok:
				t.Errorf("%s: the record's %s (%s) is not in the entry", c.name, name, want)
			case got != want:
				t.Errorf("%s: the record's %s is %s, the entry's is %s", c.name, name, want, got)
			}
		}
		for name := range entry {
			if _, ok := record[name]; !ok && !slices.Contains(c.entryOnly, name) {
				t.Errorf("%s: the entry's %s is not in the record", c.name, name)
			}
		}
	}
}
