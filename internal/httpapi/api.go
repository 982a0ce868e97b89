// Package httpapi serves custos's JSON API under /api/v1. A handler decodes
// the request, calls the registry, and writes the answer or the error through
// one helper; the error codes map to HTTP statuses in one function. Each
// registry gives a list of routes (Core, Transplant, Hashmatch), every route
// with its own documentation, body limit and enumerations, and the API serves
// them and the OpenAPI document derived from them.
package httpapi

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// MaxBody is the largest JSON request body a route reads unless its
// BodyLimit allows more.
const MaxBody = 1 << 20

// LargeBody is the limit of the JSON routes that carry whole hash lists or
// long videos: the largest list an import accepts (the CLI's limit too).
const LargeBody = hashmatch.MaxImport

type bodyLimitKey struct{}

// DefaultLargeBodies is how many request bodies over MaxBody an API reads at
// once unless Config.LargeBodies says otherwise: a JSON body of up to
// LargeBody (64 MiB) decodes into several times its size in memory.
const DefaultLargeBodies = 4

// Env is what the route lists of every registry share.
type Env struct {
	DB     *store.DB
	Writer *ledger.Writer
	Log    *slog.Logger
	// Catalogue is the deployment's authority kinds and roles: the roles a
	// principal may be given, as the document enumerates them.
	Catalogue *auth.Catalogue
	// Authorities creates authorities and principals.
	Authorities *auth.Authorities
}

// Config is what New needs besides the routes.
type Config struct {
	Env
	// LargeBodies bounds the bodies over MaxBody read at once (default
	// DefaultLargeBodies); a request that would pass it is refused with 503
	// and Retry-After, and changes nothing.
	LargeBodies int
	// Languages are the message catalogues: a refusal's message is in the
	// request's Accept-Language (its code, rule and field stay as they
	// are). Nil is the core's alone.
	Languages *i18n.Catalogue
	// IdempotencyWindow is how long an Idempotency-Key and its answer are
	// kept (default IdempotencyWindow).
	IdempotencyWindow time.Duration
}

// API serves a list of routes and the OpenAPI document that describes them.
type API struct {
	env    Env
	routes []Route
	doc    map[string]any
	large  chan struct{} // one token per large body being handled
	spools chan struct{} // one per large body being received to a temporary file
	langs  *i18n.Catalogue
	// running are this server's requests with an Idempotency-Key being
	// answered; pruner deletes the keys past window, how long a key is
	// kept.
	running ledger.Running
	pruner  ledger.KeyPruner
	window  time.Duration
}

// Route is one API endpoint with its documentation. The request and response
// bodies are documented by the Go types the handler decodes and encodes, so
// the schemas are derived from the same types and cannot drift from them.
type Route struct {
	Method string
	Path   string // ServeMux pattern path, e.g. /api/v1/transplant/donors/{id}
	// Aliases are older paths of the route, served by the same handler and
	// documented as deprecated aliases of Path.
	Aliases []string
	Public  bool // served without a token
	// Allow are the actions the route serves: a principal whose role may
	// take none of them is refused (403, rule role) right after
	// authentication, before the path, the query or the body is read, so
	// that a role without the right learns nothing from its input's
	// refusals or from which records exist. Nil is for the routes every
	// principal may use (/me) or whose right is the record's (a received
	// message's readers), which their handlers check; routeRights in
	// roles_test.go lists them.
	Allow []auth.Action
	// refuse writes a refusal past authentication (by Allow, the path, the
	// query, an Idempotency-Key), for routes that answer in another API's
	// shape (HMA's: hmaRefuse); nil is custos's (writeError).
	refuse func(w http.ResponseWriter, r *http.Request, err error)
	// Replica says the route may read a read replica (--db-read), which can
	// lag the primary by the replication delay: traces and lists. A request
	// with the header "Custos-Read: primary" reads the primary. It is set
	// on each such route by name, never inferred from the route's shape:
	// docs/operations.md lists them (TestReplicaRoutesDocumented).
	Replica bool
	Summary string
	// In is the request body: a value of the type the handler decodes, a
	// fileBody or filesBody for uploads, nil when none.
	In any
	// Out is a value of the type of the success response, nil for a
	// free-form object.
	Out any
	// Refused is a value of the type of the route's refusals where some
	// carry more than the error or another shape (the exchange inbox's
	// signed refusals, HMA's {"message"}), documented beside the error
	// as its 4XX and 5XX answers; nil for the error alone.
	Refused any
	Status  int // the success status; 0 means 200
	// Also is another success status of the same body, 0 for none: a
	// publication that changes nothing answers 200 where one that
	// publishes answers 201.
	Also int
	// BodyLimit is the largest JSON body the route reads; 0 means MaxBody.
	// Routes that take a file (raw or multipart) enforce their own limits
	// while reading it.
	BodyLimit int64
	// Enums are the values of the enumerated strings of the route's bodies.
	Enums []Enum
	// Sealed says the route's answer holds what custos keeps only sealed
	// or hashed: personal data opened (a sealed record, a subject-access
	// export) or a secret (a new principal's token). It takes no
	// Idempotency-Key, since custos keeps no such answer for a retry
	// (takesKey; TestSealedRoutesTakeNoKey).
	Sealed bool
	// Reads says the route records nothing though its method is not GET:
	// a query or a check whose input is a body (statistics' aggregate, a
	// mapping's check of a file, HMA's hash and compare). Sent again it is
	// answered again, recording nothing either time, so it takes no
	// Idempotency-Key, and refuses one as GET does (takesKey;
	// TestReadOnlyPostsTakeNoKey lists them).
	Reads bool
	// Records says the route records something though its method is GET:
	// HMA's lookup of a signal, which opens a case as HMA's clients call
	// it. It takes an Idempotency-Key as a POST does (takesKey).
	Records bool
	// FileLimit is the largest body the route reads when its body is a
	// file (raw or multipart), as its handler enforces it: a request with
	// an Idempotency-Key is received whole, up to it, before the handler
	// runs, for its digest (keyedBody). 0 means the JSON body's limit.
	FileLimit int64
	// Query are the query parameters the route reads, documented as such.
	// A request naming any other, or giving one of them twice that is not
	// Multi, is refused (422, rule query) before the handler runs
	// (checkParams); routes in another API's shape (refuse set: HMA's)
	// ignore parameters they do not declare, as that API does, and refuse
	// one of theirs given twice in their shape.
	Query   []Param
	Handler Handler
}

// ReadHeader is the request header by which a client reads the primary on a
// route that may read a replica (Route.Replica): "Custos-Read: primary", to
// see its own write at once.
const ReadHeader = "Custos-Read"

// Param is a query parameter of a route: its name, what it does, and the
// values it may take when they are a list.
type Param struct {
	Name, Doc string
	Values    []string
	// Multi says the parameter may be given more than once, each a value
	// (statistics' iccs=01&iccs=02); any other given twice is refused.
	Multi bool
	// Prefix says Name is a prefix: the route takes every parameter whose
	// name starts with it and goes on (statistics' filter. for
	// filter.<dimension>), each under the same rules.
	Prefix bool
	// Required says the route needs the parameter: a request without it,
	// or with it empty, is refused (invalid, rule required, the parameter
	// as field) before the handler runs, and the document marks it
	// required.
	Required bool
}

// checkParams refuses a query that names a parameter the route does not
// declare, or gives one of its single-valued parameters more than once
// (invalid, rule query, the parameter as field), so that a mistyped or
// repeated parameter is never silently ignored or read as its first value.
// The client wrote the name: the refusal repeats it cut and escaped
// (errs.Echo), in its message and its field. With othersIgnored (a route in
// another API's shape: HMA's), a parameter not declared passes, as that API
// ignores it; one declared is still refused given twice (HMA would read
// the first signal=, and answer a clean lookup of it). A Required
// parameter missing or empty is refused then (rule required), the first in
// the route's order.
func checkParams(q url.Values, params []Param, othersIgnored bool) error {
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names) // the same refusal for the same query
	for _, name := range names {
		i := slices.IndexFunc(params, func(p Param) bool {
			if p.Prefix {
				return len(name) > len(p.Name) && strings.HasPrefix(name, p.Name)
			}
			return p.Name == name
		})
		echo := errs.Echo(name, errs.MaxEchoed)
		if i < 0 && othersIgnored {
			continue
		}
		if i < 0 {
			if len(params) == 0 {
				return errs.Invalidf("query", echo, "this route has no parameter %s; it takes none", echo)
			}
			return errs.Invalidf("query", echo, "this route has no parameter %s; it takes %s", echo, paramNames(params))
		}
		if len(q[name]) > 1 && !params[i].Multi {
			return errs.Invalidf("query", echo, "%s is given more than once; it takes one value", echo)
		}
	}
	for _, p := range params {
		if p.Required && q.Get(p.Name) == "" {
			return errs.Invalidf("required", p.Name, "%s is required", p.Name)
		}
	}
	return nil
}

// paramNames lists the names of params, a prefix as name<…>.
func paramNames(params []Param) string {
	out := make([]string, len(params))
	for i, p := range params {
		out[i] = p.Name
		if p.Prefix {
			out[i] += "<…>"
		}
	}
	return strings.Join(out, ", ")
}

// Enum gives the values a string may hold. With Field set, it is the field
// of that Go name of the struct Type (for a list of strings, each item);
// with Field empty, Type is a named string type and these are its values,
// wherever it appears. The document enumerates them in every schema the type
// appears in, whichever route declared them.
type Enum struct {
	Type   reflect.Type
	Field  string
	Values []string
}

// Stream is a body that a handler writes itself, such as an export's file:
// it returns an error only when it has written nothing, and the API answers
// that error as any other.
type Stream func(w http.ResponseWriter) error

// Handler answers a request for an authenticated principal (nil on public
// routes) with a status and a body to encode as JSON.
type Handler func(r *http.Request, p *auth.Principal) (int, any, error)

// New builds the API from route lists (Core, Transplant, Hashmatch, or a
// module's own), adding GET /api/v1/openapi.json, the document of them all.
// It panics on lists that cannot be documented: an Enum naming a field that
// is not a string, two Enums giving one string different values, two types
// with one schema name.
func New(cfg Config, lists ...[]Route) *API {
	a := &API{env: cfg.Env, langs: cfg.Languages, window: cfg.IdempotencyWindow}
	if a.window <= 0 {
		a.window = IdempotencyWindow
	}
	if a.langs == nil {
		a.langs = i18n.CoreOnly()
	}
	if cfg.LargeBodies <= 0 {
		cfg.LargeBodies = DefaultLargeBodies
	}
	a.large = make(chan struct{}, cfg.LargeBodies)
	a.spools = make(chan struct{}, LargeSpoolsPerToken*cfg.LargeBodies)
	a.routes = []Route{a.openAPIRoute()}
	for _, l := range lists {
		a.routes = append(a.routes, l...)
	}
	doc, err := openAPI(a.routes)
	if err != nil {
		panic("httpapi: " + err.Error())
	}
	a.doc = doc
	return a
}

// Routes lists the routes the API serves, the document's first.
func (a *API) Routes() []Route { return append([]Route(nil), a.routes...) }

// bodyLimit is the largest JSON body route rt reads.
func bodyLimit(rt Route) int64 {
	if rt.BodyLimit > 0 {
		return rt.BodyLimit
	}
	return MaxBody
}

// Register adds every route, at its path and its aliases, to mux.
func (a *API) Register(mux *http.ServeMux) {
	for _, rt := range a.routes {
		h := a.wrap(rt)
		for _, path := range append([]string{rt.Path}, rt.Aliases...) {
			mux.Handle(rt.Method+" "+path, h)
		}
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		a.writeError(w, r, noRoute(mux, w, r, "/api/"))
	})
	// The HMA-compatible routes' addresses answer the same refusals in
	// HMA's shape, not the web UI's page: an HMA client calling a route
	// custos does not serve (the curation routes, /c/…) reads JSON.
	if slices.ContainsFunc(a.routes, func(rt Route) bool { return strings.HasPrefix(rt.Path, HMAPrefix+"/") }) {
		mux.HandleFunc(HMAPrefix+"/", func(w http.ResponseWriter, r *http.Request) {
			hmaRefuse(a.env, w, r, noRoute(mux, w, r, HMAPrefix+"/"))
		})
	}
}

// noRoute is the refusal of a request that reached the catch-all pattern
// fallback: an address that exists with other methods is 405 with the
// methods it takes in the Allow header, as HTTP says (and as the pages
// answer); any other, 404.
func noRoute(mux *http.ServeMux, w http.ResponseWriter, r *http.Request, fallback string) error {
	if allow := OtherMethods(mux, r, fallback, http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete); len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		return errs.New(errs.NotAllowed, "method", "", "%s is not a method of %s: it takes %s", r.Method, r.URL.Path, strings.Join(allow, ", "))
	}
	return errs.New(errs.NotFound, "route", "", "no API route %s %s; see /api/v1/openapi.json", r.Method, r.URL.Path)
}

// OtherMethods returns those of methods that mux routes r's path to with
// another handler than the catch-all pattern fallback: the methods an
// address takes, for a 405's Allow header, when r's own method reached the
// catch-all. GET stands for HEAD.
func OtherMethods(mux *http.ServeMux, r *http.Request, fallback string, methods ...string) []string {
	var allow []string
	for _, m := range methods {
		if m == r.Method || (m == http.MethodGet && r.Method == http.MethodHead) {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != fallback {
			allow = append(allow, m)
		}
	}
	return allow
}

func (a *API) wrap(rt Route) http.Handler {
	limit := bodyLimit(rt)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), bodyLimitKey{}, limit)
		// the reader's language, for the words of what the handler
		// answers without the refusals' path (an export's file)
		r = r.WithContext(i18n.NewContext(ctx, a.langs.Match("", r.Header.Get("Accept-Language"))))
		// A refusal past authentication is in the route's shape (refuse
		// set: HMA's), as its handler's are.
		refuse := func(err error) { a.refuse(w, r, rt, err) }
		var p *auth.Principal
		if !rt.Public {
			var err error
			if p, err = a.authenticate(r); err != nil {
				a.writeError(w, r, err)
				return
			}
			if err := p.RequireAny(rt.Allow...); err != nil {
				refuse(err)
				return
			}
		}
		if err := pathSegments(r.URL.Path); err != nil {
			refuse(err)
			return
		}
		if err := CheckQuery(r.URL.RawQuery); err != nil {
			refuse(err)
			return
		}
		if err := checkParams(r.URL.Query(), rt.Query, rt.refuse != nil); err != nil {
			refuse(err)
			return
		}
		if limit > MaxBody {
			release, err := a.holdLarge(r, limit)
			if err != nil {
				if errs.CodeOf(err) == errs.Unavailable {
					w.Header().Set("Retry-After", "2")
				}
				refuse(err)
				return
			}
			defer release()
		}
		if rt.Replica && !strings.EqualFold(r.Header.Get(ReadHeader), "primary") {
			r = r.WithContext(store.FromReplica(r.Context()))
		}
		if _, ok := r.Header[IdempotencyHeader]; ok {
			if !takesKey(rt) {
				a.refuse(w, r, rt, keyNotTaken(r, rt))
				return
			}
			a.keyed(w, r, rt, p, func(w http.ResponseWriter, r *http.Request) { a.answer(w, r, rt, p) })
			return
		}
		a.answer(w, r, rt, p)
	})
}

// answer runs the route's handler and writes its answer.
func (a *API) answer(w http.ResponseWriter, r *http.Request, rt Route, p *auth.Principal) {
	status, body, err := rt.Handler(r, p)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if s, ok := body.(Stream); ok {
		// Exports and lists may hold personal data: no cache keeps them.
		w.Header().Set("Cache-Control", "no-store")
		if err := s(w); err != nil {
			a.writeError(w, r, err)
		}
		return
	}
	writeJSON(w, status, body)
}

// MaxPathSegment is the longest part of a path the API takes: every id,
// code and hash a route names is far shorter.
const MaxPathSegment = 256

// pathSegments refuses a path with a part longer than MaxPathSegment, or
// holding a control character or bytes that are not UTF-8 (%00, %0A, %FF),
// before a handler's refusal ("no donor …") repeats it to the client and
// the server's log.
func pathSegments(path string) error {
	for seg := range strings.SplitSeq(path, "/") {
		if len(seg) > MaxPathSegment {
			return errs.New(errs.NotFound, "path_segment", "path", "a part of the path is %d bytes long; no record, code or hash of this API is over %d", len(seg), MaxPathSegment)
		}
		if !utf8.ValidString(seg) || strings.ContainsFunc(seg, unicode.IsControl) {
			return errs.New(errs.NotFound, "path_segment", "path", "a part of the path holds a control character or bytes that are not UTF-8; no record, code or hash of this API does")
		}
	}
	return nil
}

// LargeSpoolsPerToken is how many bodies over MaxBody a server receives
// at once for each large-body token (Config.LargeBodies): 16 with the
// default 4.
const LargeSpoolsPerToken = 4

// LargeBodyWait is how long a large body, received whole, waits for a
// large-body token before it is refused as busy.
const LargeBodyWait = 10 * time.Second

// CheckQuery refuses a query string that cannot be decoded, saying what is
// wrong without repeating it: r.URL.Query() drops a parameter it cannot
// decode, so that a cursor written %%%% would be read as none and the
// first page answered. The API and the web pages both check it.
func CheckQuery(raw string) error {
	_, err := url.ParseQuery(raw)
	var esc url.EscapeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &esc):
		return errs.New(errs.Malformed, "query", "", "the query string has a %% not followed by two hexadecimal digits")
	case strings.Contains(err.Error(), "semicolon"):
		return errs.New(errs.Malformed, "query", "", "the query string separates its parameters with ; (use &)")
	}
	return errs.New(errs.Malformed, "query", "", "the query string is not name=value pairs joined by &")
}

// holdLarge reads up to MaxBody bytes of the body of a route that accepts
// more. A body that ends within them goes on as it is: small bodies, the
// usual case even on these routes, never wait for large ones. A longer one
// is received whole first, into a temporary file (at most limit+1 bytes:
// the handler refuses a longer one), and only then takes a large-body
// token, held while its handler decodes and runs, so that at most
// LargeBodies of them are in memory at once. A slow sender thus holds no
// token while its bytes trickle in, and cannot keep other large bodies
// waiting for the whole of its upload (the body's idle deadline,
// server.Config.BodyIdle, still ends one that stops). Receiving is bounded too:
// at most LargeSpoolsPerToken × LargeBodies bodies at once, one more
// refused as busy before it is read further; a body received whole waits
// up to LargeBodyWait for a token, then is refused as busy.
func (a *API) holdLarge(r *http.Request, limit int64) (release func(), err error) {
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
	case a.spools <- struct{}{}:
	default:
		return nil, errs.New(errs.Unavailable, "busy", "",
			"the server is already reading %d request bodies over %d bytes; try again in a few seconds", cap(a.spools), MaxBody)
	}
	f, err := spool(&head, r.Body, limit+1)
	if err != nil {
		<-a.spools
		if r.Context().Err() != nil {
			return nil, r.Context().Err() // its sender gone
		}
		return nil, err
	}
	done := func() {
		f.Close()
		<-a.spools
	}
	t := time.NewTimer(LargeBodyWait)
	defer t.Stop()
	select {
	case a.large <- struct{}{}:
	case <-r.Context().Done():
		done()
		return nil, r.Context().Err()
	case <-t.C:
		done()
		return nil, errs.New(errs.Unavailable, "busy", "",
			"the server is already handling %d request bodies over %d bytes; try again in a few seconds", cap(a.large), MaxBody)
	}
	r.Body = f
	return func() { <-a.large; done() }, nil
}

// spool writes head and then body, at most max bytes in all, to a new
// temporary file, and returns it to read from its start. A large body may
// hold what custos keeps nowhere else (a match's raw user ids, a message
// from another state's registry): the file is unlinked as soon as it is
// made, so that a crash leaves nothing in the temporary directory, and
// written encrypted (AES-CTR) under a key of its own held in memory only,
// so that what the disk keeps of its blocks is unreadable. A body that
// cannot be read (cut short, or stopped past its idle deadline) is refused
// as malformed.
func spool(head io.Reader, body io.Reader, max int64) (_ *spooled, err error) {
	f, err := os.CreateTemp("", "custos-body-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name()) // the open file lives on, unnamed, until closed
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	key := make([]byte, 32)
	rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	var iv [aes.BlockSize]byte // a key used once: a zero counter start is safe
	if _, err := io.Copy(cipher.StreamWriter{S: cipher.NewCTR(block, iv[:]), W: f}, io.LimitReader(io.MultiReader(head, body), max)); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, err // the disk's fault, not the sender's
		}
		return nil, errs.New(errs.Malformed, "body", "", "the request body could not be read")
	}
	sp := &spooled{f: f, block: block}
	return sp, sp.rewind()
}

// spooled is a body received into a temporary file (spool), read back
// decrypted.
type spooled struct {
	io.Reader
	f     *os.File
	block cipher.Block
}

func (s *spooled) Close() error { return s.f.Close() }

// rewind reads the body again from its start: a request with an
// Idempotency-Key is read once for its digest, then by its handler.
func (s *spooled) rewind() error {
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	var iv [aes.BlockSize]byte
	s.Reader = cipher.StreamReader{S: cipher.NewCTR(s.block, iv[:]), R: s.f}
	return nil
}

// authenticate reads the bearer token.
func (a *API) authenticate(r *http.Request) (*auth.Principal, error) {
	token, ok := auth.BearerToken(r.Header.Get("Authorization"))
	if !ok {
		return nil, errs.New(errs.Unauthorized, "authentication", "Authorization", "send the header Authorization: Bearer <token>")
	}
	return auth.Authenticate(r.Context(), a.env.DB.Read(), token)
}

type errorBody struct {
	Error *errs.Error `json:"error"`
}

// refuse writes err, a refusal past authentication, in route rt's shape:
// custos's error, or HMA's {"message"} on HMA's routes (Route.refuse).
func (a *API) refuse(w http.ResponseWriter, r *http.Request, rt Route, err error) {
	if rt.refuse != nil {
		rt.refuse(w, r, err)
		return
	}
	a.writeError(w, r, err)
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if ClientGone(a.env.Log, r, err) {
		w.WriteHeader(StatusClientGone)
		return
	}
	e, ok := errs.As(err)
	if !ok || e.Code == errs.Internal {
		// Details go to the log, never to the client: they may hold data.
		a.env.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = errs.New(errs.Internal, "", "", "internal error; the operator can find it in the server log")
	}
	if e.Code == errs.Unauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="custos"`)
	}
	retryBusy(w.Header(), e)
	l := a.langs.Match("", r.Header.Get("Accept-Language"))
	w.Header().Set("Content-Language", l.Code())
	writeJSON(w, e.Code.HTTPStatus(), errorBody{l.Localize(e)})
}

// StatusClientGone is the status a request is counted under
// (custos_http_requests_total) when its client went away before the
// answer: nginx's 499, "client closed request". No client reads it.
const StatusClientGone = 499

// ClientGone tells whether err ended the request because its client went
// away (its context cancelled: a closed connection, an HTTP/2 stream
// reset), for instance while an uploaded video waited for its turn or a
// command for the writer. That is no fault of custos: it is logged to log
// at info level, without the error's detail, and never answered as an
// internal error; the caller writes StatusClientGone, which no client
// reads, for the request to be counted under it. The API and the web UI
// both answer their failures through it.
func ClientGone(log *slog.Logger, r *http.Request, err error) bool {
	if r.Context().Err() == nil || !errors.Is(err, context.Canceled) {
		return false
	}
	log.Info("client gone before the answer", "method", r.Method, "path", r.URL.Path)
	return true
}

// retryBusy sets Retry-After on a refusal for a limit of work at once
// (rule busy: videos being hashed), unless it is set: a moment later the
// request may pass.
func retryBusy(h http.Header, e *errs.Error) {
	if e.Code == errs.Unavailable && e.Rule == "busy" && h.Get("Retry-After") == "" {
		h.Set("Retry-After", "10")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = encodeAnswer(w, v, answerOptions)
}

// Decode reads one JSON object into v: at most MaxBody bytes, no unknown
// fields, nothing after it, only UTF-8 (rule utf8) and no key given twice in
// one object (rule duplicate_key). Each failure names what is wrong.
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
	unknown, err := checkJSONPaths(b, reflect.TypeOf(v))
	if err != nil && json.Valid(b) {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te) && te.Field == "":
			return errs.New(errs.Malformed, "json_type", "", "the body must be a JSON %s", jsonKind(te.Type.Kind().String()))
		case errors.As(err, &te):
			// encoding/json names the field without the array indices
			// (items.quality): name it as the other refusals do.
			field := te.Field
			if p := jsonPath(b, te.Offset); p != "" {
				field = p
			}
			kind := jsonKind(te.Type.Kind().String())
			if num, ok := strings.CutPrefix(te.Value, "number "); ok && kind == "number" {
				if k := te.Type.Kind(); k == reflect.Float32 || k == reflect.Float64 {
					// Out of the range of a float (1e309): a
					// fraction is no fault here (seconds: 0.5).
					return errs.New(errs.Malformed, "json_type", field, "%s must be a number within range, not %s", field, num)
				}
				// A number where a whole one is wanted, or one out of range.
				return errs.New(errs.Malformed, "json_type", field, "%s must be a whole number within range, not %s", field, num)
			}
			return errs.New(errs.Malformed, "json_type", field, "%s must be a JSON %s", field, kind)
		case errors.As(err, &se):
			return errs.New(errs.Malformed, "json", "", "the body is not valid JSON (at byte %d)", se.Offset)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			field := f
			// The decoder refuses the first unknown key, by its name
			// alone: name its place, items[0].bank, where the check
			// found a key of that name first.
			for _, p := range unknown {
				if p == f || strings.HasSuffix(p, "."+f) {
					field = p
					break
				}
			}
			return errs.New(errs.Malformed, "unknown_field", field, "the field %q is not part of this request", field)
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

// jsonPath names the value of the JSON document b that ends at offset (or,
// for an object or an array, starts there), as refusals name fields:
// items[3].quality. It returns "" when b has no value there.
func jsonPath(b []byte, offset int64) string {
	type frame struct {
		array   bool
		index   int
		key     string
		wantKey bool
	}
	var stack []*frame
	path := func() string {
		var sb strings.Builder
		for _, f := range stack {
			switch {
			case f.array:
				sb.WriteString("[" + strconv.Itoa(f.index) + "]")
			case f.wantKey:
				// between members: no key yet
			default:
				if sb.Len() > 0 {
					sb.WriteByte('.')
				}
				sb.WriteString(f.key)
			}
		}
		return sb.String()
	}
	// next moves past a value of the innermost container.
	next := func() {
		if len(stack) == 0 {
			return
		}
		if top := stack[len(stack)-1]; top.array {
			top.index++
		} else {
			top.wantKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch d, _ := tok.(json.Delim); {
		case d == '}' || d == ']':
			stack = stack[:len(stack)-1]
			if dec.InputOffset() >= offset {
				return path()
			}
			next()
		case top != nil && !top.array && top.wantKey:
			top.key, _ = tok.(string)
			top.wantKey = false
		case d == '{' || d == '[':
			if dec.InputOffset() >= offset {
				return path()
			}
			stack = append(stack, &frame{array: d == '[', wantKey: d == '{'})
		default:
			if dec.InputOffset() >= offset {
				return path()
			}
			next()
		}
	}
}

// jsonContentType refuses a JSON body's Content-Type unless it is
// application/json (in any case), with no parameter but a charset of
// UTF-8, the one encoding JSON has (RFC 8259). A missing one is refused
// too: a body sent without it (curl -d's default is a form) was not meant
// as JSON. The refusal is 415 (errs.Unsupported), rule content_type, field
// Content-Type, as every refusal of a body's media type is.
func jsonContentType(ct string) error {
	if ct == "" {
		return errs.New(errs.Unsupported, "content_type", "Content-Type", "send the header Content-Type: application/json with the JSON body")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return errs.New(errs.Unsupported, "content_type", "Content-Type", "send the body as application/json, not %s", errs.Echo(ct, errs.MaxEchoed))
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return errs.New(errs.Unsupported, "content_type", "Content-Type", "a JSON body is UTF-8: send Content-Type: application/json with no parameter but charset=utf-8, not %s", errs.Echo(ct, errs.MaxEchoed))
		}
	}
	return nil
}

// fileContentType refuses the Content-Type of a body that is a file's bytes
// (an import's CSV or BODS file) unless its media type is one of types, the
// ones its route documents (fileBody), in any case, its parameters the
// file's own. A missing one is refused too, as a JSON body's is
// (jsonContentType): 415, rule content_type, field Content-Type. kind names
// the file in the refusal ("CSV"); types[0] is the type it advises.
func fileContentType(r *http.Request, kind string, types []string) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return errs.New(errs.Unsupported, "content_type", "Content-Type", "send the header Content-Type: %s with the %s file's bytes as the body", types[0], kind)
	}
	if mt, _, err := mime.ParseMediaType(ct); err != nil || !slices.Contains(types, mt) {
		return errs.New(errs.Unsupported, "content_type", "Content-Type", "send the %s file's bytes as the body as one of %s, not %s", kind, strings.Join(types, ", "), errs.Echo(ct, errs.MaxEchoed))
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

// DecodeRequest reads the JSON body of a request into a T, within the body
// limit of its route: Decode, after jsonContentType.
func DecodeRequest[T any](r *http.Request) (T, error) {
	var v T
	if err := jsonContentType(r.Header.Get("Content-Type")); err != nil {
		return v, err
	}
	limit, ok := r.Context().Value(bodyLimitKey{}).(int64)
	if !ok {
		limit = MaxBody
	}
	err := DecodeLimit(r.Body, limit, &v)
	return v, err
}
