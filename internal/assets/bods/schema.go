// Package bods reads, validates and writes Beneficial Ownership Data Standard
// (BODS) 0.4 statements, and answers who ultimately owns or controls an entity
// through chains of relationships (graph.go).
//
// The schema is the official one (shared/reference/bods/schema), generated
// into schema_v04.go by go generate (bodsgen) with its source commit, each
// file's SHA-256 and its licence (Apache-2.0, © Open Ownership); the server
// needs it at run time, and the test keeps it byte for byte equal to the
// reference where the reference is present.
package bods

//go:generate go run ./bodsgen/genbods

import (
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

type schemaFile struct {
	Name, URN, SHA256, JSON string
}

// SchemaVersion is the BODS version statements are validated against.
const SchemaVersion = schemaVersion

var (
	compileOnce sync.Once
	statementSc *jsonschema.Schema
	compileErr  error
)

// statementSchema compiles the embedded schema once: the Statement
// definition of statement.json, which refers to the others by URN. Formats
// (date, date-time, uri) are asserted, not only annotated.
func statementSchema() (*jsonschema.Schema, error) {
	compileOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		for _, f := range schemaFiles {
			doc, err := jsonschema.UnmarshalJSON(strings.NewReader(f.JSON))
			if err != nil {
				compileErr = err
				return
			}
			if err := c.AddResource(f.URN, doc); err != nil {
				compileErr = err
				return
			}
		}
		statementSc, compileErr = c.Compile("urn:statement#/$defs/Statement")
	})
	return statementSc, compileErr
}
