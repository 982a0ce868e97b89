package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
)

// IdempotencyHeader is the request header by which a client makes a command
// safe to send again (draft-ietf-httpapi-idempotency-key-header): the same
// key with the same request within IdempotencyWindow is answered as the
// first request was, recording nothing.
const IdempotencyHeader = "Idempotency-Key"

// IdempotencyWindow is how long a key is kept unless Config says otherwise.
const IdempotencyWindow = 24 * time.Hour

// MaxIdempotencyKey is the longest key taken.
const MaxIdempotencyKey = 255

// keyWait is how long a request whose key's first request is still being
// answered waits for that answer before it is refused as in progress.
const keyWait = 5 * time.Second

// lostAnswer is the status kept for an answer that is not kept.
const lostAnswer = -1

// keyLost is how long after its command a key without its answer is taken
// for one whose answer was lost (its server stopped before keeping it),
// rather than one still being answered.
const keyLost = time.Minute

// takesKey tells whether rt takes an Idempotency-Key: the authenticated
// routes that change something (not GET), in custos's own shape, whose
// answer holds no personal data nor secret (Sealed) and whose body is JSON read whole
// (within MaxBody): not the uploads of files, which read their own limits.
func takesKey(rt Route) bool {
	switch rt.Method {
	case http.MethodGet, http.MethodHead:
		return false
	}
	switch rt.In.(type) {
	case fileBody, uploadBody, filesBody:
		return false
	}
	return !rt.Public && rt.refuse == nil && !rt.Sealed && bodyLimit(rt) <= MaxBody
}

// keysRunning are the keys of this server's requests being answered, so
// that a second request with one waits for the first's answer here rather
// than record nothing and poll the database.
type keysRunning struct {
	mu sync.Mutex
	m  map[string]chan struct{}
	// pruner deletes the keys past the window.
	pruner ledger.KeyPruner
}

// begin returns a channel closed when the request with key being answered
// ends, or nil after recording key as being answered; end ends it.
func (k *keysRunning) begin(key string) (wait chan struct{}) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]chan struct{}{}
	}
	if ch := k.m[key]; ch != nil {
		return ch
	}
	k.m[key] = make(chan struct{})
	return nil
}

func (k *keysRunning) end(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	close(k.m[key])
	delete(k.m, key)
}

// parseKey reads the header's value: an sf-string as the draft says
// ("…", printable ASCII, no quote or backslash inside), or the same
// characters unquoted, 1 to MaxIdempotencyKey of them.
func parseKey(h http.Header) (string, error) {
	vs := h.Values(IdempotencyHeader)
	if len(vs) > 1 {
		return "", errs.New(errs.Invalid, "idempotency_key", IdempotencyHeader, "send the header %s once", IdempotencyHeader)
	}
	v := strings.TrimSpace(vs[0])
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if v == "" || len(v) > MaxIdempotencyKey || strings.ContainsFunc(v, func(c rune) bool { return c < 0x20 || c > 0x7e || c == '"' || c == '\\' }) {
		return "", errs.New(errs.Invalid, "idempotency_key", IdempotencyHeader,
			"the header %s must be a string of 1 to %d printable ASCII characters, without quotes or backslashes inside", IdempotencyHeader, MaxIdempotencyKey)
	}
	return v, nil
}

// requestDigest identifies a request: its method, path, query and body.
func requestDigest(r *http.Request, body []byte) string {
	h := sha256.New()
	b := sha256.Sum256(body)
	io.WriteString(h, r.Method+"\n"+r.URL.EscapedPath()+"\n"+r.URL.RawQuery+"\n"+hex.EncodeToString(b[:]))
	return hex.EncodeToString(h.Sum(nil))
}

// keyed answers a request that carries an Idempotency-Key (a route that
// takes one: takesKey). A key kept with the same request is answered with
// the first answer; with another request it is refused (rule
// idempotency_key_reused). Otherwise the handler runs with the key claimed
// (ledger.Claim): the first command it submits that commits stores the key
// in its transaction, and the answer is kept once written.
func (a *API) keyed(w http.ResponseWriter, r *http.Request, rt Route, p *auth.Principal, run func(w http.ResponseWriter, r *http.Request)) {
	key, err := parseKey(r.Header)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		a.writeError(w, r, errs.New(errs.Malformed, "body", "", "the request body could not be read"))
		return
	}
	if len(body) > MaxBody {
		a.writeError(w, r, errs.New(errs.TooLarge, "body_size", "", "the request body is larger than %d bytes", MaxBody))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	digest := requestDigest(r, body)
	local := p.ID + "\x00" + key
	for {
		wait := a.keys.begin(local)
		if wait == nil {
			break
		}
		select {
		case <-wait:
		case <-r.Context().Done():
			return
		}
	}
	defer a.keys.end(local)
	if a.replay(w, r, p, key, digest, false) {
		return
	}
	claim := &ledger.Claim{Principal: p.ID, Key: key, Digest: digest, Window: a.window}
	r = r.WithContext(ledger.WithClaim(r.Context(), claim))
	rec := NewHeld(w)
	run(rec, r)
	if claim.Taken() {
		// Another server recorded the key since the look-up above.
		rec.Discard()
		if !a.replay(rec, r, p, key, digest, true) {
			a.writeError(rec, r, keyInProgress())
		}
		return
	}
	rec.Release()
	if _, ok := claim.Committed(); !ok {
		return
	}
	status, answer := rec.Status(), string(rec.Body())
	if rec.Over() || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		// Not kept (a file, an answer over maxKeptAnswer): a retry is
		// told its request was recorded.
		status, answer = lostAnswer, ""
	}
	// Kept outside the request's context: the answer is written, and a
	// client gone now must still find it when it sends the key again.
	ctx := context.WithoutCancel(r.Context())
	if err := ledger.KeepAnswer(ctx, a.env.DB, p.ID, key, status, answer); err != nil {
		a.env.Log.Error("keep the answer of an idempotency key", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	a.prune(ctx)
}

// keyInProgress refuses a request whose key's first request is still being
// answered, here or on another server.
func keyInProgress() error {
	return errs.New(errs.Conflict, "idempotency_key_in_progress", IdempotencyHeader,
		"a request with this %s is still being answered; send it again in a moment", IdempotencyHeader)
}

// replay answers the request from the key's record, if there is one: its
// first answer when the request is the same, else a refusal. With wait set
// (the key was just recorded by another request) or when the first request
// is still being answered, it waits up to keyWait for the first answer.
func (a *API) replay(w http.ResponseWriter, r *http.Request, p *auth.Principal, key, digest string, wait bool) bool {
	now := a.env.Writer.Now // the clock the writer stamps keys with
	k, err := ledger.AwaitKey(r.Context(), a.env.DB.Read(), p.ID, key, now, a.window, keyWait, func(k *ledger.KeyRecord) bool {
		if k == nil {
			return !wait
		}
		return k.Digest != digest || k.Status != 0 || now().Sub(k.CreatedAt) > keyLost
	})
	switch {
	case err != nil:
		a.writeError(w, r, err)
	case k == nil:
		return false
	case k.Digest != digest:
		a.writeError(w, r, errs.New(errs.Invalid, "idempotency_key_reused", IdempotencyHeader,
			"this %s was sent with another request (method, path or body); send a new key for a new request", IdempotencyHeader))
	case k.Status > 0:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(k.Status)
		io.WriteString(w, k.Answer)
	case k.Status == lostAnswer || now().Sub(k.CreatedAt) > keyLost:
		a.writeError(w, r, errs.New(errs.Conflict, "idempotency_answer_lost", IdempotencyHeader,
			"the request with this %s was recorded (log index %d), but its answer was not kept (its server stopped first, or it was a file); nothing was recorded again: read the record instead of sending the request again", IdempotencyHeader, k.LogIndex))
	default:
		w.Header().Set("Retry-After", "1")
		a.writeError(w, r, keyInProgress())
	}
	return true
}

// prune deletes the keys past the window, at most once a minute.
func (a *API) prune(ctx context.Context) {
	if err := a.keys.pruner.Prune(ctx, a.env.DB, a.env.Writer.Now(), a.window); err != nil {
		a.env.Log.Error("prune idempotency keys", "err", err)
	}
}

// maxKeptAnswer is the largest answer kept for a key's retries; a larger
// one (a file) is not kept, and a retry learns it was lost.
const maxKeptAnswer = 1 << 20

// Held holds what a handler answers until Release (so that an answer for a
// key another server took is never written: Discard drops it) and keeps a
// copy of it for the key's retries. An answer over maxKeptAnswer is written
// through from there on, and not kept (Over). The web forms' double-submit
// guard holds its answers through it too.
type Held struct {
	http.ResponseWriter
	through bool // write through: nothing more is held
	status  int
	body    bytes.Buffer
	over    bool
}

// NewHeld holds what is written to w.
func NewHeld(w http.ResponseWriter) *Held { return &Held{ResponseWriter: w} }

// Status is the status of the answer held, 0 when none was written.
func (w *Held) Status() int { return w.status }

// Body is the answer held.
func (w *Held) Body() []byte { return w.body.Bytes() }

// Over tells whether the answer was too large to hold, and was written
// through.
func (w *Held) Over() bool { return w.over }

func (w *Held) WriteHeader(status int) {
	if w.through {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	if w.status == 0 {
		w.status = status
	}
}

func (w *Held) Write(b []byte) (int, error) {
	if w.through {
		return w.ResponseWriter.Write(b)
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.body.Len()+len(b) > maxKeptAnswer {
		w.over = true
		w.Release()
		return w.ResponseWriter.Write(b)
	}
	return w.body.Write(b)
}

// Release writes the answer held, and what comes after it through.
func (w *Held) Release() {
	if w.through {
		return
	}
	w.through = true
	if w.status == 0 {
		return
	}
	w.ResponseWriter.WriteHeader(w.status)
	_, _ = w.ResponseWriter.Write(w.body.Bytes()) // a client gone: its retry finds the answer kept
}

// Discard drops the answer held, and its headers that describe it, and
// writes what comes after it through.
func (w *Held) Discard() {
	w.through = true
	w.status = 0
	w.body.Reset()
	for _, h := range []string{"Content-Type", "Content-Length", "Location", "Content-Disposition", "Content-Language"} {
		w.Header().Del(h)
	}
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *Held) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// idempotencyDoc documents the header on the routes that take it.
var idempotencyDoc = "A key of the client's (1 to " + strconv.Itoa(MaxIdempotencyKey) + " printable ASCII characters, as an sf-string or bare) that makes the request safe to send again (draft-ietf-httpapi-idempotency-key-header): the same key with the same method, path, query and body within the retention window (24 hours) is answered with the first answer, recording nothing; with another request it is refused (422, rule idempotency_key_reused); while the first is still being answered a second waits for its answer, up to 5 seconds, then is refused (409, rule idempotency_key_in_progress). Keys are the principal's own."
