package httpapi

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/custos-project/custos/internal/strictjson"
)

// fileBody documents a request body that is a file's raw bytes, of one of
// Media's types.
type fileBody struct {
	Media []string
	Note  string
}

// uploadBody is a fileBody that is an upload to match, with its fields in
// the upload headers (hashmatch's match routes: no other route reads them).
type uploadBody fileBody

// filesBody documents a multipart/form-data body of 1 to Max parts named
// files, each a file of one of Media's types with the upload headers.
type filesBody struct {
	Max   int
	Media []string
	Note  string
}

// uploadHeaders are the upload headers and what each carries.
var uploadHeaders = [][2]string{
	{hdrContentRef, "the service's own reference to the content, at most 500 characters"},
	{hdrUserID, "the id of the user who uploaded it, pseudonymized at once and never stored"},
	{hdrUploadedAt, "when it was uploaded, RFC 3339"},
}

// rawBody is the requestBody of a file's raw bytes.
func rawBody(in fileBody) map[string]any {
	content := map[string]any{}
	for _, mt := range in.Media {
		content[mt] = map[string]any{}
	}
	return map[string]any{"required": true, "content": content, "description": in.Note}
}

// OpenAPI returns the OpenAPI 3.1 document of the API's routes.
func (a *API) OpenAPI() map[string]any { return a.doc }

// docBuilder derives the schemas of the document from Go types.
type docBuilder struct {
	schemas map[string]any          // by schema name
	types   map[string]reflect.Type // the type of each named schema
	enums   map[enumKey][]string
	err     error // the first type that cannot be documented
}

// enumKey is where an Enum applies: the field of a struct type, or a named
// string type (field "").
type enumKey struct {
	t     reflect.Type
	field string
}

// openAPI builds the OpenAPI 3.1 document of routes from the Go types of
// each route's bodies and the routes' enumerations.
func openAPI(routes []Route) (map[string]any, error) {
	b := &docBuilder{schemas: map[string]any{
		"Error": map[string]any{"type": "object", "required": []string{"error"}, "properties": map[string]any{
			"error": map[string]any{"type": "object", "required": []string{"code", "message"}, "properties": map[string]any{
				"code":    map[string]any{"type": "string", "enum": []string{"invalid", "malformed", "not_found", "conflict", "unauthorized", "forbidden", "too_large", "unsupported_media_type", "method_not_allowed", "unavailable", "internal"}},
				"rule":    map[string]any{"type": "string"},
				"field":   map[string]any{"type": "string"},
				"message": map[string]any{"type": "string"},
				"alert":   map[string]any{"type": "boolean", "description": "the refusal was recorded as an alert for the regulator"},
			}}}},
	}, types: map[string]reflect.Type{}, enums: map[enumKey][]string{}}
	for _, rt := range routes {
		for _, e := range rt.Enums {
			if err := b.addEnum(e); err != nil {
				return nil, fmt.Errorf("%s %s: %w", rt.Method, rt.Path, err)
			}
		}
	}
	paths := map[string]any{}
	add := func(method, path string, op map[string]any) error {
		item, _ := paths[path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[path] = item
		}
		m := strings.ToLower(method)
		if item[m] != nil {
			return fmt.Errorf("%s %s is documented twice", method, path)
		}
		item[m] = op
		return nil
	}
	for _, rt := range routes {
		op := b.operation(rt)
		if err := add(rt.Method, rt.Path, op); err != nil {
			return nil, err
		}
		for _, alias := range rt.Aliases {
			aop := maps.Clone(op)
			aop["operationId"] = opID(rt.Method, alias)
			aop["deprecated"] = true
			aop["description"] = fmt.Sprintf("Deprecated alias of %s %s, served by the same handler; use that path.", rt.Method, rt.Path)
			if line := rightsLine(rt); line != "" {
				aop["description"] = aop["description"].(string) + "\n\n" + line
			}
			if err := add(rt.Method, alias, aop); err != nil {
				return nil, err
			}
		}
	}
	if b.err != nil {
		return nil, b.err
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "custos API", "version": "1",
			"description": "Registries for public authorities. Errors are {\"error\":{\"code\",\"message\",\"rule\",\"field\"}}."},
		"paths": paths,
		"components": map[string]any{"schemas": b.schemas,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}}},
	}, nil
}

// addEnum records e, refusing one that names no string, or gives a string
// other values than an Enum before it.
func (b *docBuilder) addEnum(e Enum) error {
	if e.Type == nil || len(e.Values) == 0 {
		return fmt.Errorf("an enumeration needs a type and values")
	}
	if e.Field == "" {
		if e.Type.Kind() != reflect.String || e.Type.PkgPath() == "" {
			return fmt.Errorf("enumeration of %v: without a field, the type must be a string type of a package", e.Type)
		}
	} else {
		f, ok := e.Type.FieldByName(e.Field)
		if e.Type.Kind() == reflect.Struct && ok {
			ft := f.Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			ok = ft.Kind() == reflect.String
		}
		if e.Type.Kind() != reflect.Struct || !ok {
			return fmt.Errorf("enumeration of %v.%s: not a string field of a struct", e.Type, e.Field)
		}
	}
	k := enumKey{e.Type, e.Field}
	if old, dup := b.enums[k]; dup && !slices.Equal(old, e.Values) {
		return fmt.Errorf("enumeration of %v %s given twice, with other values", e.Type, e.Field)
	}
	b.enums[k] = e.Values
	return nil
}

// ActionsKey is the extension of an operation of the document that lists
// the actions of its route (Route.Allow) and the roles that may take each:
// [{"action": NAME, "roles": [ROLE, ...]}, ...], any one of which lets a
// principal past the role check; [] for a route every principal reaches,
// whose handler decides by the record. RolesKey lists the roles that may
// take any of them (absent with no action: no role is refused). Public
// routes have neither.
const (
	ActionsKey = "x-custos-actions"
	RolesKey   = "x-custos-roles"
)

// rights are the actions of rt and the roles that may take any, for
// ActionsKey and RolesKey.
func rights(rt Route) (actions []any, roles []string) {
	actions = []any{}
	roles = []string{}
	for _, a := range rt.Allow {
		var names []string
		for _, r := range a.Roles() {
			names = append(names, string(r))
			if !slices.Contains(roles, string(r)) {
				roles = append(roles, string(r))
			}
		}
		actions = append(actions, map[string]any{"action": a.Name, "roles": names})
	}
	slices.Sort(roles)
	return actions, roles
}

// rightsLine says in the operation's description who may call rt: from
// Route.Allow, as the role check reads it, so that it cannot drift.
func rightsLine(rt Route) string {
	if rt.Public {
		return ""
	}
	if len(rt.Allow) == 0 {
		return "Every principal reaches this route; its handler decides by the record (" + ActionsKey + ": none)."
	}
	var each []string
	for _, a := range rt.Allow {
		var names []string
		for _, r := range a.Roles() {
			names = append(names, string(r))
		}
		each = append(each, fmt.Sprintf("%s (%s)", a.Name, strings.Join(names, ", ")))
	}
	return "Requires a role that may " + strings.Join(each, ", or ") + "; any other is refused with 403, rule role, before the input is read (" + ActionsKey + ")."
}

// operation documents one route.
func (b *docBuilder) operation(rt Route) map[string]any {
	op := map[string]any{"summary": rt.Summary, "operationId": opID(rt.Method, rt.Path)}
	if !rt.Public {
		actions, roles := rights(rt)
		op[ActionsKey] = actions
		if len(actions) > 0 {
			op[RolesKey] = roles
		}
		op["description"] = rightsLine(rt)
	}
	var params []any
	for _, seg := range strings.Split(rt.Path, "/") {
		if strings.HasPrefix(seg, "{") {
			params = append(params, map[string]any{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
	}
	for _, q := range rt.Query {
		schema := map[string]any{"type": "string"}
		if q.Values != nil {
			schema["enum"] = q.Values
		}
		if q.Multi {
			// form style, exploded (OpenAPI's default): name=a&name=b
			schema = map[string]any{"type": "array", "items": schema}
		}
		name, doc := q.Name, q.Doc
		if q.Prefix {
			// OpenAPI names parameters exactly: a prefix is documented
			// under its pattern, its rule in words.
			name += "<…>"
			doc += " (any parameter whose name starts with " + q.Name + ")"
		}
		param := map[string]any{"name": name, "in": "query", "description": doc, "schema": schema}
		if q.Required {
			param["required"] = true
		}
		params = append(params, param)
	}
	if takesKey(rt) {
		params = append(params, map[string]any{"name": IdempotencyHeader, "in": "header", "description": idempotencyDoc, "schema": map[string]any{"type": "string", "maxLength": MaxIdempotencyKey}})
	}
	switch in := rt.In.(type) {
	case nil:
	case fileBody:
		op["requestBody"] = rawBody(in)
	case uploadBody:
		op["requestBody"] = rawBody(fileBody(in))
		for _, h := range uploadHeaders {
			params = append(params, map[string]any{"name": h[0], "in": "header", "description": h[1], "schema": map[string]any{"type": "string"}})
		}
	case filesBody:
		headers := map[string]any{}
		for _, h := range uploadHeaders {
			headers[h[0]] = map[string]any{"description": h[1], "schema": map[string]any{"type": "string"}}
		}
		files := map[string]any{"type": "array", "minItems": 1, "maxItems": in.Max,
			"items": map[string]any{"type": "string", "contentMediaType": "application/octet-stream"}}
		op["requestBody"] = map[string]any{"required": true, "description": in.Note, "content": map[string]any{"multipart/form-data": map[string]any{
			"schema":   map[string]any{"type": "object", "required": []string{"files"}, "properties": map[string]any{"files": files}, "additionalProperties": false},
			"encoding": map[string]any{"files": map[string]any{"contentType": strings.Join(in.Media, ", "), "headers": headers}},
		}}}
	default:
		op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": b.ref(reflect.TypeOf(rt.In))}},
			"description": fmt.Sprintf("At most %d bytes (%d MiB); a larger body is refused with 413 too_large, rule body_size.", bodyLimit(rt), bodyLimit(rt)>>20)}
	}
	if params != nil {
		op["parameters"] = params
	}
	out := map[string]any{"type": "object"}
	if _, file := rt.Out.(fileBody); rt.Out != nil && !file {
		out = b.ref(reflect.TypeOf(rt.Out))
	}
	status := rt.Status
	if status == 0 {
		status = 200
	}
	errResp := map[string]any{"description": "refused; nothing changed", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	success := map[string]any{"application/json": map[string]any{"schema": out}}
	if f, ok := rt.Out.(fileBody); ok { // a file, such as a label's PDF
		success = map[string]any{}
		for _, mt := range f.Media {
			success[mt] = map[string]any{"schema": map[string]any{"type": "string", "contentMediaType": mt}}
		}
	}
	refused := errResp
	if rt.Refused != nil {
		refused = map[string]any{"description": "refused; nothing changed", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
			"anyOf": []any{map[string]any{"$ref": "#/components/schemas/Error"}, b.ref(reflect.TypeOf(rt.Refused))}}}}}
	}
	ok := map[string]any{"description": "success", "content": success}
	if status == http.StatusNoContent {
		ok = map[string]any{"description": "success; no body"}
	}
	responses := map[string]any{
		strconv.Itoa(status): ok,
		"4XX":                refused,
		"5XX":                refused,
	}
	if rt.Also != 0 {
		responses[strconv.Itoa(rt.Also)] = map[string]any{"description": "success, as " + strconv.Itoa(status) + " (see the route's description)", "content": success}
	}
	op["responses"] = responses
	if !rt.Public {
		op["security"] = []any{map[string]any{"bearer": []any{}}}
	}
	return op
}

func opID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, seg := range strings.Split(strings.TrimPrefix(path, "/api/v1/"), "/") {
		seg = strings.Trim(seg, "{}")
		for _, part := range strings.FieldsFunc(seg, func(r rune) bool { return r == '-' || r == '.' || r == '_' }) {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// ref adds the schema of type t to the document and returns a reference to
// it. Two types of one schema name are an error: they would share a schema.
func (b *docBuilder) ref(t reflect.Type) map[string]any {
	if t == rawJSON {
		return map[string]any{} // any JSON value, as it was signed
	}
	if t.Name() == "" {
		return b.schemaOf(t, nil) // a pointer, list or struct literal: no name to refer to
	}
	name := schemaName(t)
	if old, ok := b.types[name]; !ok {
		b.types[name] = t
		b.schemas[name] = nil // placeholder against recursion
		if t.Kind() == reflect.Struct {
			b.schemas[name] = b.object(t)
		} else {
			b.schemas[name] = b.schemaOf(t, nil)
		}
	} else if old != t && b.err == nil {
		b.err = fmt.Errorf("the types %v and %v would both be the schema %s", old, t, name)
	}
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

var rawJSON = reflect.TypeFor[json.RawMessage]()

// schemaName names the schema of a named type: its own name for the types of
// this package, else prefixed by its package's name (an external test
// package's without _test).
func schemaName(t reflect.Type) string {
	name := strings.ToUpper(t.Name()[:1]) + t.Name()[1:]
	pkg := t.PkgPath()
	if strings.HasSuffix(pkg, "/httpapi") {
		return name
	}
	pkg = strings.TrimSuffix(pkg[strings.LastIndex(pkg, "/")+1:], "_test")
	return strings.ToUpper(pkg[:1]) + pkg[1:] + name
}

// schemaOf is the schema of type t; enum, when not nil, gives the values of
// the strings of a field declared with an Enum.
func (b *docBuilder) schemaOf(t reflect.Type, enum []string) map[string]any {
	if t == rawJSON {
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(b.schemaOf(t.Elem(), enum))
	case reflect.String:
		s := map[string]any{"type": "string"}
		if enum == nil {
			enum = b.enums[enumKey{t, ""}]
		}
		if enum != nil {
			s["enum"] = enum
		}
		return s
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float64, reflect.Float32:
		return map[string]any{"type": "number"}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": b.schemaOf(t.Elem(), enum)}
	case reflect.Array: // a pair (HMA's compare): exactly its length
		return map[string]any{"type": "array", "items": b.schemaOf(t.Elem(), enum), "minItems": t.Len(), "maxItems": t.Len()}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return map[string]any{}
		}
		// An object keyed by names the data gives (HMA's by bank or by
		// signal type), each value of the map's type; an answer writes a
		// nil map as {} (encodeAnswer), as a nil list as [].
		return map[string]any{"type": "object", "additionalProperties": b.schemaOf(t.Elem(), enum)}
	case reflect.Struct:
		if t.Name() != "" {
			return b.ref(t)
		}
		return b.object(t)
	default:
		return map[string]any{}
	}
}

// nullable is schema s that also takes null, as encoding/json writes a nil
// pointer and reads null into one: a type's list gains "null" (and an
// enumeration null), a reference or a schema of no type is one of s or
// null. A schema that already takes null is s.
func nullable(s map[string]any) map[string]any {
	switch typ := s["type"].(type) {
	case string:
		s["type"] = []string{typ, "null"}
		if e, ok := s["enum"].([]string); ok {
			values := make([]any, 0, len(e)+1)
			for _, v := range e {
				values = append(values, v)
			}
			s["enum"] = append(values, nil)
		}
		return s
	case []string:
		return s
	}
	if len(s) == 0 {
		return s // any JSON value, null among them
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

// notNull is schema s of a field the API refuses null in (a required one:
// null is read as absent): nullable undone.
func notNull(s map[string]any) map[string]any {
	if of, ok := s["anyOf"].([]any); ok && len(s) == 1 && len(of) == 2 {
		if n, _ := of[1].(map[string]any); len(n) == 1 && n["type"] == "null" {
			return of[0].(map[string]any)
		}
	}
	if typ, ok := s["type"].([]string); ok && len(typ) == 2 && typ[1] == "null" {
		s["type"] = typ[0]
		if e, ok := s["enum"].([]any); ok && len(e) > 0 && e[len(e)-1] == nil {
			s["enum"] = e[:len(e)-1]
		}
	}
	return s
}

// RequiredTag is the struct tag of a request type's field that the API
// refuses a body without (api:"required"): the schema lists it in
// required. A field required only with another's value (a deceased
// donor's date of death) has no tag.
const RequiredTag = "api"

// object is the schema of struct type t: its fields by their JSON names
// (strictjson.Fields: an embedded struct's fields are the object's own, as
// encoding/json writes them), those tagged api:"required" required where
// they are always written (not in a struct embedded by pointer).
func (b *docBuilder) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range strictjson.Fields(t) {
		p := b.schemaOf(f.Field.Type, b.enums[enumKey{f.Owner, f.Field.Name}])
		if f.ByValue && f.Field.Tag.Get(RequiredTag) == "required" {
			required = append(required, f.Name)
			p = notNull(p)
		}
		props[f.Name] = p
	}
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if required != nil {
		s["required"] = required
	}
	return s
}
