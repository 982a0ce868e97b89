package ledger

import (
	"errors"
	"fmt"

	"github.com/go-json-experiment/json"
)

// strictUnmarshal reads a leaf's JSON, its envelope or an entry's data, as
// custos writes it and nothing looser: a member the Go type does not name
// (in its exact case), a member named twice, invalid UTF-8, or anything after
// the value is refused rather than half-read. It is the JSON v2 decoder
// (github.com/go-json-experiment/json: its own code on Go 1.26, an alias of
// the standard library's encoding/json/v2 from Go 1.27), which reads a value
// in one pass: 0.30× the CPU and a quarter of the allocations of
// encoding/json's Decoder, which scans a value to find its end and again to
// decode it, and an entry's data once more inside the envelope
// (BenchmarkDecodeLeaf; BENCHMARKS.md, "leaves read in one pass").
// encoding/json's Marshal, which writes every leaf, gives exactly the names,
// one of each and valid UTF-8, so every leaf custos wrote reads the same
// either way.
func strictUnmarshal(b []byte, v any) error {
	err := json.Unmarshal(b, v, json.RejectUnknownMembers(true))
	var se *json.SemanticError
	if errors.Is(err, json.ErrUnknownName) && errors.As(err, &se) {
		return fmt.Errorf("json: unknown field %q", se.JSONPointer.LastToken())
	}
	return err
}
