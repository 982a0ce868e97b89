package httpapi

import (
	"io"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// answerOptions write an answer as encoding/json does (its v1 semantics:
// omitempty, methods, HTML escaping), except that an empty list or map
// held as nil is [] or {}, never null: the document gives each list an
// array schema and each map an object's, and a client iterating one must
// not meet null. The leaves of the log are written by encoding/json and
// keep their null: this is the answer's form only.
var answerOptions = jsonv2.JoinOptions(jsonv1.DefaultOptionsV1(),
	jsonv2.FormatNilSliceAsNull(false), jsonv2.FormatNilMapAsNull(false),
	jsontext.WithIndent("  "))

// encodeAnswer writes v as the JSON of an answer (answerOptions), followed
// by a newline.
func encodeAnswer(w io.Writer, v any) error {
	return jsonv2.MarshalEncode(jsontext.NewEncoder(w, answerOptions), v, answerOptions)
}
