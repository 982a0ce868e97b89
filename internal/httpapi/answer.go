package httpapi

import (
	"io"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// compactAnswer writes an answer as encoding/json does (its v1 semantics:
// omitempty, methods, HTML escaping), except that an empty list or map
// held as nil is [] or {}, never null: the document gives each list an
// array schema and each map an object's, and a client iterating one must
// not meet null. The leaves of the log are written by encoding/json and
// keep their null: this is the answer's form only. HMA's routes answer in
// it, as HMA's own server writes its JSON on one line.
var compactAnswer = jsonv2.JoinOptions(jsonv1.DefaultOptionsV1(),
	jsonv2.FormatNilSliceAsNull(false), jsonv2.FormatNilMapAsNull(false))

// answerOptions is compactAnswer indented, as custos's own routes answer.
var answerOptions = jsonv2.JoinOptions(compactAnswer, jsontext.WithIndent("  "))

// encodeAnswer writes v as the JSON of an answer with opts (answerOptions
// or compactAnswer), followed by a newline.
func encodeAnswer(w io.Writer, v any, opts jsonv2.Options) error {
	return jsonv2.MarshalEncode(jsontext.NewEncoder(w, opts), v, opts)
}
