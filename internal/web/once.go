package web

import (
	"context"
	"crypto/rand"
	"net/http"
	"sync"
	"time"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/ledger"
)

// A form sent twice (a double click, a second click while the first is
// still being answered) reaches the server twice: each would record again,
// a procurement of one kidney becoming two kidneys of two donations, a
// transplantation recorded then refused as an organ already transplanted,
// with an alert. Every form of the pages carries a value of its own, drawn
// when the page is made (the "csrf" template writes it, field "once"); the
// first request that sends it is answered as usual, and a request of the same
// session sending it again within onceFor waits for the first to be answered
// and, if the first was sent on elsewhere (the redirect of every form that
// recorded something), is sent to the same place, recording nothing. A first
// answer that is not a redirect (a refusal, the form shown again with what
// was typed, a file) is not remembered: the same form sent again is answered
// on its own.
//
// The value is an idempotency key (ledger.Claim), as the API's
// Idempotency-Key is, kept in the database with the command it keys: the
// first command the form's handler submits stores it in its own
// transaction, and the redirect is kept once answered. So the servers of a
// registry behind a load balancer share what each answered: a form sent
// again to another server, or at once to two, records once. Each server
// also remembers the forms it is answering, in memory, so that a second
// click there waits for the first's answer instead of reaching the writer.

// onceFor is how long a form's value is remembered.
const onceFor = 10 * time.Minute

// onceField is the form field that carries the value.
const onceField = "once"

// formsSent remembers the forms answered, by session and value.
type formsSent struct {
	mu sync.Mutex
	m  map[string]*sentForm
	// pruner deletes the keys of forms, and of the API, past their window.
	pruner ledger.KeyPruner
}

// sentForm is a form being answered (done open) or answered.
type sentForm struct {
	done     chan struct{}
	location string // where its answer sent the browser
	at       time.Time
}

// Once is a new value for a form of s's pages, unlike any other.
func (s *Session) Once() string { return rand.Text() }

// begin returns the form sent with key within onceFor, or records it as
// being answered and returns it with first true.
func (o *formsSent) begin(key string, now time.Time) (f *sentForm, first bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = map[string]*sentForm{}
	}
	for k, f := range o.m {
		if now.Sub(f.at) > onceFor {
			select {
			case <-f.done:
				delete(o.m, k)
			default:
			}
		}
	}
	if f := o.m[key]; f != nil {
		return f, false
	}
	f = &sentForm{done: make(chan struct{}), at: now}
	o.m[key] = f
	return f, true
}

// end records how the first request with key was answered: a redirect is
// kept for the requests that send the form again; anything else forgets
// the form.
func (o *formsSent) end(key string, f *sentForm, status int, location string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if status == http.StatusSeeOther && location != "" {
		f.location = location
	} else {
		delete(o.m, key)
	}
	close(f.done)
}

// answerOnce answers the posted form with h unless the session sent it
// already: then it waits for the first answer and repeats its redirect.
func (u *UI) answerOnce(w http.ResponseWriter, r *http.Request, s *Session, h Handler) {
	once := r.PostForm.Get(onceField)
	if once == "" || len(once) > 64 || s.P == nil {
		h(w, r, s)
		return
	}
	key := s.ref + "\x00" + once
	f, first := u.sent.begin(key, time.Now())
	if !first {
		select {
		case <-f.done:
		case <-r.Context().Done():
			return
		}
		if f.location != "" {
			http.Redirect(w, r, f.location, http.StatusSeeOther)
			return
		}
		h(w, r, s)
		return
	}
	rw := &statusWriter{ResponseWriter: w}
	defer func() { u.sent.end(key, f, rw.status, rw.location) }()
	stored := "form:" + s.ref + ":" + once
	if u.formSent(rw, r, s, stored, false) {
		return
	}
	claim := &ledger.Claim{Principal: s.P.ID, Key: stored, Digest: formDigest, Window: onceFor}
	held := httpapi.NewHeld(rw)
	h(held, r.WithContext(ledger.WithClaim(r.Context(), claim)), s)
	if claim.Taken() {
		// Another server recorded the form since the look-up above.
		held.Discard()
		if !u.formSent(rw, r, s, stored, true) {
			u.fail(rw, r, s, errs.New(errs.Conflict, "idempotency_key_in_progress", onceField, "this form is still being answered; send it again in a moment"))
		}
		return
	}
	held.Release()
	if _, ok := claim.Committed(); !ok {
		return
	}
	ctx := context.WithoutCancel(r.Context())
	var err error
	if loc := rw.Header().Get("Location"); held.Status() == http.StatusSeeOther && loc != "" {
		err = ledger.KeepAnswer(ctx, u.DB, s.P.ID, stored, http.StatusSeeOther, loc)
	} else {
		// Not a redirect: forgotten, as the form sent again is
		// answered on its own.
		err = ledger.ForgetKey(ctx, u.DB, s.P.ID, stored)
	}
	if err != nil {
		u.Log.Error("keep the answer of a form", "path", r.URL.Path, "err", err)
	}
	// The table is the API's keys' too: kept for the longest window.
	if err := u.sent.pruner.Prune(ctx, u.DB, u.now(), httpapi.IdempotencyWindow); err != nil {
		u.Log.Error("prune idempotency keys", "err", err)
	}
}

// formDigest stands for the request of every form: a form sent again with
// its value is answered as the first was, whatever it holds now (a page
// the browser kept, its fields changed).
const formDigest = "form"

// formWait is how long a form sent again waits for the first's answer
// kept by another server.
const formWait = 5 * time.Second

// formSent answers the form sent with the value stored from what the
// registry kept of its first sending, if it kept it: its redirect. With wait
// set (another server just recorded it), or while the first is still
// being answered, it waits up to formWait for the redirect.
func (u *UI) formSent(w http.ResponseWriter, r *http.Request, s *Session, stored string, wait bool) bool {
	k, err := ledger.AwaitKey(r.Context(), u.DB.Read(), s.P.ID, stored, u.now, onceFor, formWait, func(k *ledger.KeyRecord) bool {
		return k == nil && !wait || k != nil && k.Status == http.StatusSeeOther
	})
	switch {
	case r.Context().Err() != nil:
		return true
	case err != nil:
		u.fail(w, r, s, err)
		return true
	case k != nil && k.Status == http.StatusSeeOther:
		http.Redirect(w, r, k.Answer, http.StatusSeeOther)
		return true
	}
	return false
}

// statusWriter notes the status and the Location of the answer it writes.
type statusWriter struct {
	http.ResponseWriter
	status   int
	location string
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status, w.location = status, w.Header().Get("Location")
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
