package transplant

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/custos-project/custos/internal/exchange"
)

// FuzzCrossBorderPayload feeds the registry's message types arbitrary
// payloads, as a peer may send them: the schema check never panics, and a
// payload it accepts decodes into the type's Go value, strictly (the schema
// allows no field the value lacks), with organ identifiers the parser reads
// or refuses without panicking.
func FuzzCrossBorderPayload(f *testing.F) {
	types, err := exchange.NewTypes(map[string][]exchange.Type{Module.Name: CrossBorderTypes})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(0, []byte(`{"organ_id":"XA-26-000001-01-K","organ":"kidney","donor_id":"DN-1","procurement_centre":"C","destination_centre":"",
		"donor":{"kind":"living","sex":"male","blood_group":"O","iv_drug_use":"no","malignancy":"no","transmissible_disease":"no","hiv":"negative","hcv":"negative","hbv":"negative","organ_function":"ok","age_years":40}}`))
	f.Add(1, []byte(`{"organ_id":"XA-26-000001-01-K","organ":"kidney","donor_id":"DN-1","procured_at":"2026-01-01T00:00:00Z","procurement_centre":"C"}`))
	f.Add(2, []byte(`{"organ_id":"XA-26-000001-01-K","outcome":"transplanted","recipient_id":"RC-1","on":"2026-01-02","centre":"C"}`))
	f.Add(3, []byte(`{"report_id":"XA-SAE-2026-000001","kind":"event","reporting_body":"B","contact":"C","origin_country":"XA","donor_id":"DN-1",
		"organ_ids":["XA-26-000001-01-K"],"recipient_ids":[],"reported_at":"2026-01-01T00:00:00Z","started_at":"2026-01-01T00:00:00Z",
		"detected_at":"2026-01-01T00:00:00Z","description":"d","immediate_measures":"m"}`))
	f.Add(5, []byte(`{"report_id":"R","centres_notified":2,"acknowledged_at":"2026-01-01T00:00:00Z"}`))
	f.Add(6, []byte(`{"report_id":"R","conclusion":"confirmed","outcome":"o","corrective_actions":"c","final_reported_at":"2026-01-01T00:00:00Z"}`))
	f.Add(2, []byte(`{"organ_id":"XA-26-000001-01-K","outcome":"lost"}`))
	f.Fuzz(func(t *testing.T, which int, payload []byte) {
		if which < 0 {
			which = -which
		}
		typ := CrossBorderTypes[which%len(CrossBorderTypes)]
		if err := types.Check(Module.Name, typ.Name, payload); err != nil {
			return
		}
		values := map[string]any{MsgCharacterization: &Characterization{}, MsgTraceability: &Traceability{}, MsgOutcome: &OutcomeMessage{},
			MsgSAENotification: &SAENotice{}, MsgSAERaised: &SAERaisedNotice{}, MsgSAEAcknowledged: &SAEAcknowledgement{}, MsgSAEFinal: &SAEFinalNotice{}}
		v := values[typ.Name]
		dec := json.NewDecoder(bytes.NewReader(payload))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			t.Fatalf("%s: the schema accepts %s, which does not decode: %v", typ.Name, payload, err)
		}
		var ids []string
		switch x := v.(type) {
		case *Characterization:
			ids = []string{x.OrganID}
		case *Traceability:
			ids = []string{x.OrganID}
		case *OutcomeMessage:
			ids = []string{x.OrganID}
		case *SAENotice:
			ids = x.OrganIDs
		case *SAERaisedNotice:
			ids = []string{x.OrganID}
		}
		for _, id := range ids {
			_, _ = ParseOrganID(id)
		}
	})
}
