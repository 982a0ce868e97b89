package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
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

// takesKey tells whether rt takes an Idempotency-Key: every authenticated
// route that may record something (not GET unless Records, not Reads),
// JSON, a raw file
// or multipart/form-data, in custos's shape or HMA's, whose answer holds no
// personal data nor secret (Sealed). The public routes have no principal to
// keep a key for: the exchange's inbox is idempotent by its messages' ids,
// and a witness's cosignature by its checkpoint.
func takesKey(rt Route) bool {
	switch rt.Method {
	case http.MethodGet, http.MethodHead:
		return rt.Records && !rt.Public && !rt.Sealed
	}
	return !rt.Public && !rt.Sealed && !rt.Reads
}

// keyNotTaken is the refusal of an Idempotency-Key sent to rt, a route that
// takes none (takesKey), in the words of why it takes none: each kind of
// route has its own reason, and a client reading one refusal for all could
// not tell a read, sent again as it is, from a peer's delivery or an opened
// record. The rule is the same for all (idempotency_key).
func keyNotTaken(r *http.Request, rt Route) error {
	switch {
	case rt.Sealed:
		return errs.New(errs.Invalid, "idempotency_key", IdempotencyHeader,
			"%s %s takes no header %s: its answer holds personal data or a secret, which custos keeps for no retry", r.Method, rt.Path, IdempotencyHeader)
	case rt.Public && rt.Method != http.MethodGet && rt.Method != http.MethodHead:
		return errs.New(errs.Invalid, "idempotency_key", IdempotencyHeader,
			"%s %s takes no header %s: other deployments and witnesses post to it with no principal here to keep a key for; sent again, a peer's message is known by its id and a cosignature by its checkpoint", r.Method, rt.Path, IdempotencyHeader)
	case rt.Reads:
		return errs.New(errs.Invalid, "idempotency_key", IdempotencyHeader,
			"%s %s takes no header %s: it records nothing (it answers from the body it is sent), so it can be sent again as it is", r.Method, rt.Path, IdempotencyHeader)
	}
	return errs.New(errs.Invalid, "idempotency_key", IdempotencyHeader,
		"%s %s takes no header %s: it reads and changes nothing, so it can be sent again as it is", r.Method, rt.Path, IdempotencyHeader)
}

// keyLimit is the largest body of rt received whole, for its digest, when
// sent with an Idempotency-Key: its JSON body's limit, or the file's
// (Route.FileLimit).
func keyLimit(rt Route) int64 {
	return max(bodyLimit(rt), rt.FileLimit)
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

// requestDigest identifies a request: its method, path, query and the
// digest of its body (bodyDigest).
func requestDigest(r *http.Request, body []byte) string {
	h := sha256.New()
	io.WriteString(h, r.Method+"\n"+r.URL.EscapedPath()+"\n"+r.URL.RawQuery+"\n"+hex.EncodeToString(body))
	return hex.EncodeToString(h.Sum(nil))
}

// bodyDigest digests a request's body, read from read (each call reads it
// from its start): the SHA-256 of its bytes; for multipart/form-data, of
// each part's headers and content in order, whatever the boundary (which a
// client draws afresh for each sending, a retry too); and then the upload
// headers (Custos-Content-Ref, -User-Id, -Uploaded-At) the request carries,
// which are recorded with what it uploads.
func bodyDigest(h http.Header, read func() (io.Reader, error)) ([]byte, error) {
	var sum hash.Hash
	if mt, params, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil && mt == "multipart/form-data" && params["boundary"] != "" {
		body, err := read()
		if err != nil {
			return nil, err
		}
		if parts, ok := partsDigest(body, params["boundary"]); ok {
			sum = parts
		}
	}
	if sum == nil {
		// Not multipart, or not well-formed: its bytes, read once.
		body, err := read()
		if err != nil {
			return nil, err
		}
		sum = sha256.New()
		if _, err := io.Copy(sum, body); err != nil {
			return nil, errs.New(errs.Malformed, "body", "", "the request body could not be read")
		}
	}
	// Each under its name, as a batch's parts' headers are (partsDigest).
	// Labelled by its old X-Custos-* name, a raw upload sent before the
	// X- prefix was dropped and again after it matched, but a batch, whose
	// headers are its parts', did not: its parts carried the other names.
	// Decided: the key of a request sent before the upgrade and sent again
	// after it under the new names (within the 24 hours a key is kept) is
	// refused as another request (idempotency_key_reused), recording
	// nothing, for a raw upload as for a batch.
	for _, name := range []string{hdrContentRef, hdrUserID, hdrUploadedAt} {
		for _, v := range h.Values(name) {
			fmt.Fprintf(sum, "\n%s: %q", name, v)
		}
	}
	return sum.Sum(nil), nil
}

// partsDigest digests a multipart body's parts: each one's headers, sorted,
// and its content. A body that is not well-formed multipart is not
// digested so (ok false): it is digested as bytes, and its handler
// refuses it.
func partsDigest(body io.Reader, boundary string) (_ hash.Hash, ok bool) {
	sum := sha256.New()
	io.WriteString(sum, "multipart/form-data\n")
	mr := multipart.NewReader(body, boundary)
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			return sum, true
		}
		if err != nil {
			return nil, false
		}
		names := slices.Sorted(maps.Keys(part.Header))
		for _, name := range names {
			for _, v := range part.Header[name] {
				fmt.Fprintf(sum, "%q: %q\n", name, v)
			}
		}
		content := sha256.New()
		n, err := io.Copy(content, part)
		if err != nil {
			return nil, false
		}
		fmt.Fprintf(sum, "%d %x\n", n, content.Sum(nil))
	}
}

// keyedBody receives the body of a request with an Idempotency-Key whole
// before its handler runs, so that its digest is known first: in memory up
// to MaxBody, beyond that (up to limit, past which its handler refuses it)
// into a temporary file as a large JSON body is (spool; holdLarge's already
// there is read again). r.Body then reads it again from its start; release
// frees what it holds.
func (a *API) keyedBody(r *http.Request, limit int64) (digest []byte, release func(), err error) {
	release = func() {}
	if sp, ok := r.Body.(*spooled); ok {
		digest, err := bodyDigest(r.Header, func() (io.Reader, error) { return sp, sp.rewind() })
		if err == nil {
			err = sp.rewind()
		}
		return digest, release, err
	}
	var head bytes.Buffer
	n, err := io.CopyN(&head, r.Body, MaxBody+1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, errs.New(errs.Malformed, "body", "", "the request body could not be read")
	}
	if n <= MaxBody {
		b := head.Bytes()
		r.Body = io.NopCloser(bytes.NewReader(b))
		digest, err := bodyDigest(r.Header, func() (io.Reader, error) { return bytes.NewReader(b), nil })
		return digest, release, err
	}
	if limit <= MaxBody {
		return nil, nil, errs.New(errs.TooLarge, "body_size", "", "the request body is larger than %d bytes", MaxBody)
	}
	select {
	case a.spools <- struct{}{}:
	default:
		return nil, nil, errs.New(errs.Unavailable, "busy", "",
			"the server is already reading %d request bodies over %d bytes; try again in a few seconds", cap(a.spools), MaxBody)
	}
	sp, err := spool(&head, r.Body, limit+1)
	if err != nil {
		<-a.spools
		if r.Context().Err() != nil {
			return nil, nil, r.Context().Err() // its sender gone
		}
		return nil, nil, err
	}
	release = func() {
		sp.Close()
		<-a.spools
	}
	if digest, err = bodyDigest(r.Header, func() (io.Reader, error) { return sp, sp.rewind() }); err == nil {
		err = sp.rewind()
	}
	if err != nil {
		release()
		return nil, nil, err
	}
	r.Body = sp
	return digest, release, nil
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
		a.refuse(w, r, rt, err)
		return
	}
	sum, free, err := a.keyedBody(r, keyLimit(rt))
	if err != nil {
		a.refuse(w, r, rt, err)
		return
	}
	defer free()
	digest := requestDigest(r, sum)
	release, err := a.running.Hold(r.Context(), p.ID+"\x00"+key)
	if err != nil {
		return // the client gone while the first was answered
	}
	defer release()
	if a.replay(w, r, rt, p, key, digest, false) {
		return
	}
	claim := &ledger.Claim{Principal: p.ID, Key: key, Digest: digest, Window: a.window}
	r = r.WithContext(ledger.WithClaim(r.Context(), claim))
	rec := NewHeld(w)
	run(rec, r)
	if claim.Taken() {
		// Another server recorded the key since the look-up above.
		rec.Discard()
		if !a.replay(rec, r, rt, p, key, digest, true) {
			a.refuse(rec, r, rt, keyInProgress())
		}
		return
	}
	rec.Release()
	if _, ok := claim.Committed(); !ok {
		return
	}
	status, answer := rec.Status(), keptAnswer(rec.Header(), rec.Body())
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

// keptHeaders are the headers kept with an answer for its key's retries:
// HMA's lookup names the case it opened in one (HMACaseHeader).
var keptHeaders = []string{HMACaseHeader}

// keptAnswer is what is kept of an answer: its body, after a line
// "#Name: value" for each of keptHeaders it has (no JSON answer starts
// with #).
func keptAnswer(h http.Header, body []byte) string {
	var b strings.Builder
	for _, name := range keptHeaders {
		if v := h.Get(name); v != "" {
			fmt.Fprintf(&b, "#%s: %s\n", name, v)
		}
	}
	b.Write(body)
	return b.String()
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
func (a *API) replay(w http.ResponseWriter, r *http.Request, rt Route, p *auth.Principal, key, digest string, wait bool) bool {
	now := a.env.Writer.Now // the clock the writer stamps keys with
	k, err := ledger.AwaitKey(r.Context(), a.env.DB.Read(), p.ID, key, now, a.window, keyWait, func(k *ledger.KeyRecord) bool {
		if k == nil {
			return !wait
		}
		return k.Digest != digest || k.Status != 0 || now().Sub(k.CreatedAt) > keyLost
	})
	switch {
	case err != nil:
		a.refuse(w, r, rt, err)
	case k == nil:
		return false
	case k.Digest != digest:
		a.refuse(w, r, rt, errs.New(errs.Invalid, "idempotency_key_reused", IdempotencyHeader,
			"this %s was sent with another request (method, path or body); send a new key for a new request", IdempotencyHeader))
	case k.Status > 0:
		answer := k.Answer
		for strings.HasPrefix(answer, "#") {
			line, rest, _ := strings.Cut(answer[1:], "\n")
			if name, v, ok := strings.Cut(line, ": "); ok && slices.Contains(keptHeaders, name) {
				w.Header().Set(name, v)
			}
			answer = rest
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(k.Status)
		io.WriteString(w, answer)
	case k.Status == lostAnswer || now().Sub(k.CreatedAt) > keyLost:
		a.refuse(w, r, rt, errs.New(errs.Conflict, "idempotency_answer_lost", IdempotencyHeader,
			"the request with this %s was recorded (log index %d), but its answer was not kept (its server stopped first, or it was a file); nothing was recorded again: read the record instead of sending the request again", IdempotencyHeader, k.LogIndex))
	default:
		w.Header().Set("Retry-After", "1")
		a.refuse(w, r, rt, keyInProgress())
	}
	return true
}

// prune deletes the keys past the window, at most once a minute.
func (a *API) prune(ctx context.Context) {
	if err := a.pruner.Prune(ctx, a.env.DB, a.env.Writer.Now(), a.window); err != nil {
		a.env.Log.Error("prune idempotency keys", "err", err)
	}
}

// maxKeptAnswer is the largest answer kept for a key's retries; a larger
// one (a file) is not kept, and a retry learns it was lost.
const maxKeptAnswer = 1 << 20

// Held holds what a handler answers until Release (so that an answer for a
// key another server took is never written: Discard drops it) and keeps a
// copy of it for the key's retries. An answer over maxKeptAnswer is written
// through from there on, and not kept (Over). The pages' forms sent again
// (web's answerOnce) hold their answers through it too.
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
	for _, h := range []string{"Content-Type", "Content-Length", "Location", "Content-Disposition", "Content-Language", HMACaseHeader} {
		w.Header().Del(h)
	}
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *Held) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// idempotencyDoc documents the header on the routes that take it.
var idempotencyDoc = "A key of the client's (1 to " + strconv.Itoa(MaxIdempotencyKey) + " printable ASCII characters, as an sf-string or bare) that makes the request safe to send again (draft-ietf-httpapi-idempotency-key-header): the same key with the same method, path, query and body within the retention window (24 hours) is answered with the first answer, recording nothing; with another request it is refused (422, rule idempotency_key_reused); while the first is still being answered a second waits for its answer, up to 5 seconds, then is refused (409, rule idempotency_key_in_progress). The body is compared by its SHA-256: a file's bytes; for multipart/form-data each part's headers and content, whatever the boundary; with the upload headers Custos-Content-Ref, Custos-User-Id and Custos-Uploaded-At. A request with a key is received whole before anything runs (a body over 1 MiB into an encrypted temporary file). On HMA's routes the refusals are HMA's {\"message\"}, 400 for 422. Keys are the principal's own."
