package exchange

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
)

// Type is a message type a module declares: its name (starting with the
// module's name and a dot, like entry types), what it is for people, the
// JSON schema its payload must meet, and whom it is for, on both sides.
type Type struct {
	Name  string
	Title string
	// Schema is a JSON schema (draft 2020-12 unless it says otherwise).
	Schema string
	// Purpose, when set, is the one purpose a message of the type is sent
	// and taken for, and Reader the role that works it on the receiving
	// side, whom its readers must name. The core refuses, with an alert, a
	// message that breaks either (rules purpose_not_allowed at purpose,
	// readers at readers), when it is sent and when it is received: peers
	// are registered for purposes, not types, so a peer registered for two
	// modules' purposes could otherwise send one module's message under
	// the other's purpose, or to readers who do not work it. Empty (the
	// core's notice), any purpose and readers the peer agreed to.
	Purpose, Reader string
}

// Types are the message types of a deployment, their schemas compiled.
type Types struct {
	byName map[string]*compiled
}

type compiled struct {
	Type
	module string
	schema *jsonschema.Schema
}

// NewTypes compiles the message types of each module (by module name). It
// fails on a type named outside its module, twice, or with a schema that
// does not compile: a programming error, found at start.
func NewTypes(byModule map[string][]Type) (*Types, error) {
	ts := &Types{byName: map[string]*compiled{}}
	for mod, list := range byModule {
		for _, t := range list {
			if !strings.HasPrefix(t.Name, mod+".") || !tokenRE.MatchString(t.Name) {
				return nil, fmt.Errorf("exchange: message type %q of module %s must be a lower-case name starting with %q", t.Name, mod, mod+".")
			}
			if _, dup := ts.byName[t.Name]; dup {
				return nil, fmt.Errorf("exchange: message type %s declared twice", t.Name)
			}
			doc, err := jsonschema.UnmarshalJSON(strings.NewReader(t.Schema))
			if err != nil {
				return nil, fmt.Errorf("exchange: schema of %s: %w", t.Name, err)
			}
			c := jsonschema.NewCompiler()
			url := "urn:custos:exchange:" + t.Name
			if err := c.AddResource(url, doc); err != nil {
				return nil, fmt.Errorf("exchange: schema of %s: %w", t.Name, err)
			}
			s, err := c.Compile(url)
			if err != nil {
				return nil, fmt.Errorf("exchange: schema of %s: %w", t.Name, err)
			}
			ts.byName[t.Name] = &compiled{Type: t, module: mod, schema: s}
		}
	}
	return ts, nil
}

// Addressed refuses, with an alert, a message of a type declared with a
// Purpose or a Reader that is sent for another purpose (rule
// purpose_not_allowed, field purpose) or whose readers do not name the
// reader (rule readers, field readers). An unknown type passes: Check
// refuses it.
func (ts *Types) Addressed(typ, purpose string, readers []string) error {
	c, ok := ts.byName[typ]
	if !ok {
		return nil
	}
	if c.Purpose != "" && purpose != c.Purpose {
		return errs.Alertf(errs.Forbidden, "purpose_not_allowed", "purpose", "a message of type %s is taken for the purpose %s, not %s", typ, c.Purpose, purpose)
	}
	if c.Reader != "" && !slices.Contains(readers, c.Reader) {
		return errs.Alertf(errs.Forbidden, "readers", "readers", "a message of type %s is worked by %s, whom its readers (%s) do not name", typ, c.Reader, strings.Join(readers, ", "))
	}
	return nil
}

// Names lists the type names, sorted.
func (ts *Types) Names() []string {
	var out []string
	for n := range ts.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Get returns a type by name.
func (ts *Types) Get(name string) (Type, bool) {
	c, ok := ts.byName[name]
	if !ok {
		return Type{}, false
	}
	return c.Type, true
}

// Check refuses a payload for a type this deployment does not declare (rule
// unknown_type) or that does not meet the type's schema (rule schema, naming
// the place in the payload and the schema keyword that failed, never the
// payload's values).
func (ts *Types) Check(module, typ string, payload []byte) error {
	c, ok := ts.byName[typ]
	if !ok || c.module != module {
		return errs.Invalidf("unknown_type", "type", "this registry knows no message type %q of module %q", typ, module)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return errs.Invalidf("schema", "payload", "payload is not valid JSON")
	}
	if err := c.schema.Validate(v); err != nil {
		field, kw := "payload", "schema"
		if ve, ok := err.(*jsonschema.ValidationError); ok {
			for len(ve.Causes) > 0 {
				ve = ve.Causes[0]
			}
			loc := ve.InstanceLocation
			// A missing or unexpected property is reported at the object
			// that holds it: name the property itself.
			switch k := ve.ErrorKind.(type) {
			case *kind.Required:
				if len(k.Missing) > 0 {
					loc = append(slices.Clone(loc), k.Missing[0])
				}
			case *kind.AdditionalProperties:
				if len(k.Properties) > 0 {
					loc = append(slices.Clone(loc), k.Properties[0])
				}
			}
			if len(loc) > 0 {
				field = "payload." + strings.Join(loc, ".")
			}
			if ve.ErrorKind != nil {
				if p := ve.ErrorKind.KeywordPath(); len(p) > 0 {
					kw = strings.Join(p, "/")
				}
			}
		}
		return errs.Invalidf("schema", field, "%s does not meet the schema of %s (keyword %s)", field, typ, kw)
	}
	return nil
}

// Notice is the core's own message type: a notice one registry gives
// another, spontaneously or in answer to one (a subject, a text and an
// optional reference). The registries bring their own types.
var Notice = Type{Name: "core.notice", Title: i18n.M("Notice between registries"), Schema: `{
	"type": "object",
	"additionalProperties": false,
	"required": ["subject", "text"],
	"properties": {
		"subject": {"type": "string", "minLength": 1, "maxLength": 200},
		"text": {"type": "string", "minLength": 1, "maxLength": 8000},
		"reference": {"type": "string", "maxLength": 200}
	}
}`}
