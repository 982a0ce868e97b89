package assets

import (
	"reflect"
	"testing"
)

// TestMeasureRecordAgreesWithItsEntry: a measure as read (Measure) and the
// data of its entry (measureRecorded) share every field, with the same Go
// type and the same JSON name, so that a field added to one and not the
// other is caught here and not in a projection that silently drops it.
func TestMeasureRecordAgreesWithItsEntry(t *testing.T) {
	fields := func(v any) map[string]string {
		out := map[string]string{}
		rt := reflect.TypeOf(v)
		for i := 0; i < rt.NumField(); i++ {
			f := rt.Field(i)
			out[f.Name] = f.Type.String() + " `" + f.Tag.Get("json") + "`"
		}
		return out
	}
	record, entry := fields(Measure{}), fields(measureRecorded{})
	if len(record) == 0 {
		t.Fatal("Measure has no fields")
	}
	for name, want := range record {
		if got, ok := entry[name]; !ok {
			t.Errorf("Measure.%s (%s) is not in the entry assets.measure_recorded", name, want)
		} else if got != want {
			t.Errorf("Measure.%s is %s, the entry's is %s", name, want, got)
		}
	}
	for name := range entry {
		if _, ok := record[name]; !ok {
			t.Errorf("the entry's %s is not in Measure", name)
		}
	}
}
