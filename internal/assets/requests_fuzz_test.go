package assets

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/custos-project/custos/internal/exchange"
)

// FuzzRequestPayload feeds the requests' message types arbitrary payloads,
// as a peer may send them: the schema check never panics, and a payload it
// accepts decodes into the type's Go value strictly (the schema allows no
// field the value lacks), and a step it accepts is checked by the
// registry's own rules without panicking.
func FuzzRequestPayload(f *testing.F) {
	types, err := exchange.NewTypes(map[string][]exchange.Type{Module.Name: RequestTypesExchanged})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(0, []byte(`{"request_id":"RQ-1","type":"mla","requesting_state":"XA","requested_state":"XB","requesting_authority":"A","requested_authority":"B",
		"legal_basis":"uncac_46","assistance":["documents_and_records"],"offences":["07031"],"facts":"f","purpose":"p","nexus":"n","confidentiality":"required",
		"language":"en","use_purposes":["prosecution"],"sent_at":"2026-01-01T00:00:00Z"}`))
	f.Add(1, []byte(`{"request_id":"RQ-1","status":"refused","grounds":"bank_secrecy","grounds_text":"x","on":"2026-01-02"}`))
	f.Add(1, []byte(`{"request_id":"RQ-1","status":"executed","onward_sharing":true,"on":"2026-01-02"}`))
	f.Add(2, []byte(`{"request_id":"RQ-1","question_id":"RI-1","question":"q"}`))
	f.Add(3, []byte(`{"request_id":"RQ-1","question_id":"RI-1","answer":"a"}`))
	f.Add(0, []byte(`{"request_id":"RQ-1","type":"letter"}`))
	f.Fuzz(func(t *testing.T, which int, payload []byte) {
		if which < 0 {
			which = -which
		}
		typ := RequestTypesExchanged[which%len(RequestTypesExchanged)]
		if err := types.Check(Module.Name, typ.Name, payload); err != nil {
			return
		}
		values := map[string]any{MsgRequest: &RequestMessage{}, MsgStatus: &statusMessage{}, MsgQuestion: &questionMessage{}, MsgAnswer: &answerMessage{}}
		v := values[typ.Name]
		dec := json.NewDecoder(bytes.NewReader(payload))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			t.Fatalf("%s: the schema accepts %s, which does not decode: %v", typ.Name, payload, err)
		}
		if sm, ok := v.(*statusMessage); ok {
			_, _ = checkStatus(NewStatus{Status: sm.Status, Grounds: sm.Grounds, GroundsText: sm.GroundsText, Note: sm.Note})
		}
	})
}
