package exchange

import (
	stdjson "encoding/json"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/custos-project/custos/internal/errs"
)

// TestInboxAnswerWrittenAsTheOthers: the inbox's answer is written by the
// writer it is handed to, with that writer's options, as every other answer
// of the API: a plain refusal byte for byte as the error alone (the API's
// refusal body), a signed answer as its fields, whatever the options. With
// encoding/json's own options (internal/httpapi's answers) the bytes are
// those encoding/json writes; a method that wrote with encoding/json itself
// gave finished bytes that a writer escaping less than encoding/json (no
// HTML escapes) did not reach.
func TestInboxAnswerWrittenAsTheOthers(t *testing.T) {
	refusal := &errs.Error{Code: errs.Unauthorized, Rule: "unknown_sender", Field: "key", Message: "no peer <a & b> has the key \u2028"}
	signed := SignedReceipt{Receipt: `{"outcome":"refused","why":"<x>"}`, Key: "SHA256:ab", Signature: "c2ln"}
	type plainSigned struct {
		SignedReceipt
		Error *errs.Error `json:"error,omitempty"`
	}
	for name, opts := range map[string]jsonv2.Options{
		"encoding/json's semantics, indented (the API)": answerOptions,
		"encoding/json's semantics, no HTML escapes":    jsonv2.JoinOptions(jsonv1.DefaultOptionsV1(), jsontext.EscapeForHTML(false), jsontext.EscapeForJS(false)),
		"JSON v2":                jsonv2.DefaultOptionsV2(),
		"JSON v2, deterministic": jsonv2.JoinOptions(jsonv2.Deterministic(true), jsontext.Multiline(true)),
	} {
		for _, c := range []struct {
			what      string
			ans, want any
		}{
			{"a plain refusal", InboxAnswer{Error: refusal}, PlainRefusal{Error: refusal}},
			{"a signed refusal", InboxAnswer{SignedReceipt: signed, Error: refusal}, plainSigned{signed, refusal}},
			{"a receipt", &InboxAnswer{SignedReceipt: signed}, plainSigned{SignedReceipt: signed}},
		} {
			got, err := jsonv2.Marshal(c.ans, opts)
			if err != nil {
				t.Fatal(err)
			}
			want, err := jsonv2.Marshal(c.want, opts)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("%s, %s: written as\n%s\nwant\n%s", name, c.what, got, want)
			}
		}
	}
	// encoding/json writes it in the same shape, with its escapes.
	got, err := stdjson.Marshal(InboxAnswer{Error: refusal})
	want, _ := stdjson.Marshal(PlainRefusal{Error: refusal})
	if err != nil || string(got) != string(want) {
		t.Errorf("encoding/json writes %s (%v), want %s", got, err, want)
	}
	got, _ = stdjson.Marshal(InboxAnswer{SignedReceipt: signed})
	want, _ = stdjson.Marshal(plainSigned{SignedReceipt: signed})
	if string(got) != string(want) {
		t.Errorf("encoding/json writes %s, want %s", got, want)
	}
}

// answerOptions are internal/httpapi's answerOptions (encoding/json's
// semantics, indented): how the inbox's answer goes on the wire.
var answerOptions = jsonv2.JoinOptions(jsonv1.DefaultOptionsV1(), jsontext.WithIndent("  "))
