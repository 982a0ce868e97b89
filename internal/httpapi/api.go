// Package httpapi serves custos's JSON API under /api/v1. A handler decodes
// the request, calls the registry, and writes the answer or the error through
// one helper; the error codes map to HTTP statuses in one function. The routes
// are one table, which the served OpenAPI document is tested against.
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/transplant"
)

// MaxBody is the largest JSON request body a route reads unless its entry in
// bodyLimits allows more.
const MaxBody = 1 << 20

// LargeBody is the limit of the JSON routes that carry whole hash lists or
// long videos: the largest list an import accepts (the CLI's limit too).
const LargeBody = hashmatch.MaxImport

// bodyLimits gives the routes whose JSON bodies may be larger than MaxBody,
// keyed like docs ("METHOD path"). Routes that take a file (raw or multipart)
// enforce their own limits while reading it.
var bodyLimits = map[string]int64{}

// bodyLimit is the largest JSON body route rt reads.
func bodyLimit(rt Route) int64 {
	if n, ok := bodyLimits[rt.Method+" "+rt.Path]; ok {
		return n
	}
	return MaxBody
}

type bodyLimitKey struct{}

// DefaultLargeBodies is how many request bodies over MaxBody an API reads at
// once unless API.LargeBodies says otherwise: a JSON body of up to LargeBody
// (64 MiB) decodes into several times its size in memory.
const DefaultLargeBodies = 4

// API holds what the handlers need.
type API struct {
	DB         *store.DB
	Writer     *ledger.Writer
	Transplant *transplant.Service
	Hashmatch  *hashmatch.Service
	// Authorities creates authorities and principals.
	Authorities *auth.Authorities
	Log         *slog.Logger
	// LargeBodies bounds the bodies over MaxBody read at once (default
	// DefaultLargeBodies); a request that would pass it is refused with 503
	// and Retry-After, and changes nothing.
	LargeBodies int

	large chan struct{} // one token per large body being read
}

// Route is one API endpoint.
type Route struct {
	Method  string
	Path    string // ServeMux pattern path, e.g. /api/v1/donors/{id}
	Public  bool   // served without a token
	Handler handler
}

// handler answers a request for an authenticated principal (nil on public
// routes) with a status and a body to encode as JSON.
type handler func(r *http.Request, p *auth.Principal) (int, any, error)

// Register adds every route to mux.
func (a *API) Register(mux *http.ServeMux) {
	if a.LargeBodies <= 0 {
		a.LargeBodies = DefaultLargeBodies
	}
	a.large = make(chan struct{}, a.LargeBodies)
	for _, rt := range a.Routes() {
		mux.Handle(rt.Method+" "+rt.Path, a.wrap(rt))
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		a.writeError(w, r, errs.New(errs.NotFound, "route", "", "no API route %s %s; see /api/v1/openapi.json", r.Method, r.URL.Path))
	})
}

func (a *API) wrap(rt Route) http.Handler {
	limit := bodyLimit(rt)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(context.WithValue(r.Context(), bodyLimitKey{}, limit))
		var p *auth.Principal
		if !rt.Public {
			var err error
			if p, err = a.authenticate(r); err != nil {
				a.writeError(w, r, err)
				return
			}
		}
		if limit > MaxBody {
			release, err := a.holdLarge(r)
			if err != nil {
				if errs.CodeOf(err) == errs.Unavailable {
					w.Header().Set("Retry-After", "2")
				}
				a.writeError(w, r, err)
				return
			}
			defer release()
		}
		status, body, err := rt.Handler(r, p)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		writeJSON(w, status, body)
	})
}

// holdLarge reads up to MaxBody bytes of the body of a route that accepts
// more. A body that ends within them goes on as it is; a longer one takes a
// large-body token for as long as its handler runs, so that at most
// LargeBodies of them are in memory at once, and is refused as busy when no
// token is free. Small bodies, the usual case even on these routes, never
// wait for large ones.
func (a *API) holdLarge(r *http.Request) (release func(), err error) {
	var head bytes.Buffer
	n, err := io.CopyN(&head, r.Body, MaxBody+1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, errs.New(errs.Malformed, "body", "", "the request body could not be read")
	}
	if n <= MaxBody {
		r.Body = io.NopCloser(&head)
		return func() {}, nil
	}
	select {
	case a.large <- struct{}{}:
	default:
		return nil, errs.New(errs.Unavailable, "busy", "",
			"the server is already reading %d request bodies over %d bytes; try again in a few seconds", cap(a.large), MaxBody)
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(&head, r.Body), r.Body}
	return func() { <-a.large }, nil
}

// authenticate reads the bearer token.
func (a *API) authenticate(r *http.Request) (*auth.Principal, error) {
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || token == "" {
		return nil, errs.New(errs.Unauthorized, "authentication", "Authorization", "send the header Authorization: Bearer <token>")
	}
	return auth.Authenticate(r.Context(), a.DB.Read(), strings.TrimSpace(token))
}

type errorBody struct {
	Error *errs.Error `json:"error"`
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := errs.As(err)
	if !ok || e.Code == errs.Internal {
		// Details go to the log, never to the client: they may hold data.
		a.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = errs.New(errs.Internal, "", "", "internal error; the operator can find it in the server log")
	}
	if e.Code == errs.Unauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="custos"`)
	}
	writeJSON(w, e.Code.HTTPStatus(), errorBody{e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// Decode reads one JSON object into v: at most MaxBody bytes, no unknown
// fields, nothing after it. Each failure names what is wrong.
func Decode(r io.Reader, v any) error {
	return DecodeLimit(r, MaxBody, v)
}

// DecodeLimit is Decode with a limit of max bytes.
func DecodeLimit(r io.Reader, max int64, v any) error {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return errs.New(errs.Malformed, "json", "", "the request body could not be read")
	}
	if int64(len(b)) > max {
		return errs.New(errs.TooLarge, "body_size", "", "the request body is larger than %d bytes", max)
	}
	return DecodeBytes(b, v)
}

// DecodeBytes is Decode on a body already read.
func DecodeBytes(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return errs.New(errs.Malformed, "json", "", "the request body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return errs.New(errs.Malformed, "json_type", te.Field, "%s must be a JSON %s", te.Field, jsonKind(te.Type.Kind().String()))
		case errors.As(err, &se):
			return errs.New(errs.Malformed, "json", "", "the body is not valid JSON (at byte %d)", se.Offset)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return errs.New(errs.Malformed, "unknown_field", f, "the field %q is not part of this request", f)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return errs.New(errs.Malformed, "json", "", "the JSON body ends too early")
		default:
			return errs.New(errs.Malformed, "json", "", "the body is not the expected JSON object")
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return errs.New(errs.Malformed, "json", "", "send exactly one JSON object, with nothing after it")
	}
	return nil
}

func jsonKind(k string) string {
	switch k {
	case "int", "int64", "int32", "float64", "uint64":
		return "number"
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	default:
		return k
	}
}

func decode[T any](r *http.Request) (T, error) {
	var v T
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return v, errs.New(errs.Malformed, "content_type", "Content-Type", "send the body as application/json, not %s", ct)
	}
	limit, ok := r.Context().Value(bodyLimitKey{}).(int64)
	if !ok {
		limit = MaxBody
	}
	err := DecodeLimit(r.Body, limit, &v)
	return v, err
}

func intParam(r *http.Request, name string, def int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || n < 0 {
		return 0, errs.New(errs.Malformed, "query", name, "%s must be a non-negative integer", name)
	}
	return n, nil
}
