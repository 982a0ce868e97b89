package httpapi

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/transplant"
)

// doc describes a route for the OpenAPI document: its request and response
// bodies are the Go types the handler decodes and encodes, so the schemas are
// derived from the same types and cannot drift from them.
type doc struct {
	Summary string
	In      any // request body type (zero value), nil when none
	Out     any // 2xx response body type, nil for a free-form object
	Status  int
}

// fileBody documents a request body that is a file's raw bytes, of one of
// Media's types, with its fields in the upload headers.
type fileBody struct {
	Media []string
	Note  string
}

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

type centreIn struct {
	Name         string `json:"name"`
	City         string `json:"city"`
	Jurisdiction string `json:"jurisdiction"`
}

type revokeIn struct {
	Reason string `json:"reason"`
}

type personalIn struct {
	ID      string `json:"id"`
	Purpose string `json:"purpose"`
}

type principalOut struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Role        auth.Role `json:"role"`
	AuthorityID string    `json:"authority_id"`
	Token       string    `json:"token"`
}

var docs = map[string]doc{
	"GET /api/v1/openapi.json":                              {"This OpenAPI document", nil, nil, 200},
	"GET /api/v1/me":                                        {"The signed-in principal", nil, auth.Principal{}, 200},
	"POST /api/v1/centres":                                  {"Register a transplant centre (admin)", centreIn{}, auth.Authority{}, 201},
	"GET /api/v1/centres":                                   {"List transplant centres", nil, nil, 200},
	"GET /api/v1/centres/{id}":                              {"A centre with its authorizations", nil, nil, 200},
	"POST /api/v1/centres/{id}/authorizations":              {"Authorize a centre for an activity and organ type (regulator)", transplant.NewCentreAuthorization{}, transplant.CentreAuthorization{}, 201},
	"GET /api/v1/centres/{id}/authorizations":               {"A centre's authorizations", nil, nil, 200},
	"POST /api/v1/centres/{id}/authorizations/{aid}/revoke": {"Revoke a centre authorization (regulator)", revokeIn{}, transplant.CentreAuthorization{}, 200},
	"POST /api/v1/principals":                               {"Create a principal and its token, shown once (admin)", auth.NewPrincipal{}, principalOut{}, 201},
	"POST /api/v1/donors":                                   {"Register a donor (coordinator)", transplant.NewDonor{}, transplant.Donor{}, 201},
	"GET /api/v1/donors":                                    {"List donors, newest first", nil, nil, 200},
	"GET /api/v1/donors/{id}":                               {"A donor with their consents", nil, nil, 200},
	"POST /api/v1/donors/{id}/consents":                     {"Record consent or authorization of donation (coordinator)", transplant.NewConsent{}, transplant.Consent{}, 201},
	"POST /api/v1/recipients":                               {"Register a recipient on the waiting list (coordinator)", transplant.NewRecipient{}, transplant.Recipient{}, 201},
	"GET /api/v1/recipients":                                {"List recipients, newest first", nil, nil, 200},
	"GET /api/v1/recipients/{id}":                           {"A recipient", nil, nil, 200},
	"POST /api/v1/personal-data":                            {"Open a donor's or recipient's sealed personal data; the read is logged", personalIn{}, nil, 200},
	"POST /api/v1/procurements":                             {"Record a procurement; each organ gets its identifier (coordinator)", transplant.NewProcurement{}, transplant.Procurement{}, 201},
	"GET /api/v1/organs":                                    {"Procured organs not yet transplanted", nil, nil, 200},
	"POST /api/v1/transplant-authorizations":                {"Authorize one organ for one recipient (coordinator)", transplant.NewTransplantAuthorization{}, transplant.TransplantAuthorization{}, 201},
	"POST /api/v1/transplants":                              {"Record a transplantation (coordinator)", transplant.NewTransplant{}, transplant.Transplant{}, 201},
	"GET /api/v1/trace/organs/{id}":                         {"Trace from an organ to its donor and every recipient of the donor's organs", nil, transplant.Trace{}, 200},
	"GET /api/v1/trace/donors/{id}":                         {"Trace from a donor to every recipient of their organs", nil, transplant.Trace{}, 200},
	"GET /api/v1/trace/recipients/{id}":                     {"Trace from a recipient back to their donors and on to the other recipients", nil, transplant.Trace{}, 200},
	"GET /api/v1/alerts":                                    {"Alerts raised by refusals that matter to oversight (regulator, auditor, admin)", nil, nil, 200},
	"GET /api/v1/log/checkpoint":                            {"The latest signed checkpoint of the log", nil, nil, 200},
	"GET /api/v1/log/entries/{index}":                       {"A log leaf with its inclusion proof", nil, nil, 200},
	"GET /api/v1/log/consistency":                           {"A consistency proof between two tree sizes (query from, to)", nil, nil, 200},
}

// enums gives the allowed values of fields whose name says what they hold.
var enums = map[string][]string{
	"activity":     transplant.Activities,
	"organ":        transplant.OrganTypes,
	"organ_needed": transplant.OrganTypes,
	"blood_group":  transplant.BloodGroups,
	"sex":          transplant.Sexes,
	"iv_drug_use":  transplant.YesNo, "malignancy": transplant.YesNo, "transmissible_disease": transplant.YesNo,
	"hiv": transplant.TestResults, "hcv": transplant.TestResults, "hbv": transplant.TestResults,
	"role": {"admin", "regulator", "coordinator", "auditor"},
}

// OpenAPI builds the OpenAPI 3.1 document from the route table and the Go
// types of each route's bodies.
func (a *API) OpenAPI() map[string]any {
	schemas := map[string]any{
		"Error": map[string]any{"type": "object", "required": []string{"error"}, "properties": map[string]any{
			"error": map[string]any{"type": "object", "required": []string{"code", "message"}, "properties": map[string]any{
				"code":    map[string]any{"type": "string", "enum": []string{"invalid", "malformed", "not_found", "conflict", "unauthorized", "forbidden", "too_large", "unavailable", "internal"}},
				"rule":    map[string]any{"type": "string"},
				"field":   map[string]any{"type": "string"},
				"message": map[string]any{"type": "string"},
				"alert":   map[string]any{"type": "boolean", "description": "the refusal was recorded as an alert for the regulator"},
			}}}},
	}
	paths := map[string]any{}
	for _, rt := range a.Routes() {
		d := docs[rt.Method+" "+rt.Path]
		op := map[string]any{"summary": d.Summary, "operationId": opID(rt.Method, rt.Path)}
		var params []any
		for _, seg := range strings.Split(rt.Path, "/") {
			if strings.HasPrefix(seg, "{") {
				params = append(params, map[string]any{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
			}
		}
		switch in := d.In.(type) {
		case nil:
		case fileBody:
			content := map[string]any{}
			for _, mt := range in.Media {
				content[mt] = map[string]any{}
			}
			op["requestBody"] = map[string]any{"required": true, "content": content, "description": in.Note}
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
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": ref(schemas, d.In)}},
				"description": fmt.Sprintf("At most %d bytes (%d MiB); a larger body is refused with 413 too_large, rule body_size.", bodyLimit(rt), bodyLimit(rt)>>20)}
		}
		if params != nil {
			op["parameters"] = params
		}
		out := map[string]any{"type": "object"}
		if d.Out != nil {
			out = ref(schemas, d.Out)
		}
		status := d.Status
		if status == 0 {
			status = 200
		}
		errResp := map[string]any{"description": "refused; nothing changed", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
		op["responses"] = map[string]any{
			strconv.Itoa(status): map[string]any{"description": "success", "content": map[string]any{"application/json": map[string]any{"schema": out}}},
			"4XX":                errResp,
			"5XX":                errResp,
		}
		if !rt.Public {
			op["security"] = []any{map[string]any{"bearer": []any{}}}
		}
		item, _ := paths[rt.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.Path] = item
		}
		item[strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "custos API", "version": "1",
			"description": "Registries for public authorities. Errors are {\"error\":{\"code\",\"message\",\"rule\",\"field\"}}."},
		"paths": paths,
		"components": map[string]any{"schemas": schemas,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}}},
	}
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

// ref adds the schema of v's type to schemas and returns a reference to it.
func ref(schemas map[string]any, v any) map[string]any {
	t := reflect.TypeOf(v)
	name := schemaName(t)
	if _, ok := schemas[name]; !ok {
		schemas[name] = nil // placeholder against recursion
		schemas[name] = schemaOf(schemas, t, "")
	}
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

func schemaName(t reflect.Type) string {
	name := t.Name()
	pkg := t.PkgPath()
	if strings.HasSuffix(pkg, "/httpapi") {
		return strings.ToUpper(name[:1]) + name[1:]
	}
	return strings.ToUpper(pkg[strings.LastIndex(pkg, "/")+1:][:1]) + pkg[strings.LastIndex(pkg, "/")+2:] + name
}

func schemaOf(schemas map[string]any, t reflect.Type, field string) map[string]any {
	switch t.Kind() {
	case reflect.Pointer:
		s := schemaOf(schemas, t.Elem(), field)
		if typ, ok := s["type"].(string); ok {
			s["type"] = []string{typ, "null"}
		}
		return s
	case reflect.String:
		s := map[string]any{"type": "string"}
		if e, ok := enums[field]; ok {
			s["enum"] = e
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
		item := schemaOf(schemas, t.Elem(), strings.TrimSuffix(field, "s"))
		return map[string]any{"type": "array", "items": item}
	case reflect.Struct:
		if t.Name() != "" && field != "" {
			return ref(schemas, reflect.New(t).Elem().Interface())
		}
		props := map[string]any{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := strings.Split(f.Tag.Get("json"), ",")[0]
			if tag == "-" {
				continue
			}
			if tag == "" {
				tag = f.Name
			}
			props[tag] = schemaOf(schemas, f.Type, tag)
		}
		return map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	default:
		return map[string]any{}
	}
}
