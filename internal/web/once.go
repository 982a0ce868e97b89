package web

import (
	"context"
	"crypto/rand"
	"net/http"
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
// and, if the first recorded something and was sent on elsewhere (the
// redirect of every form that recorded something), is sent to the same place,
// recording nothing. A first answer that is not a redirect (a refusal, the
// form shown again with what was typed, a file) is not remembered: the same
// form sent again is answered on its own.
//
// The value is an idempotency key (ledger.Claim), as the API's
// Idempotency-Key is, kept in the database with the command it keys: the
// first command the form's handler submits stores it in its own
// transaction, and the redirect is kept once answered. So the servers of a
// registry behind a load balancer share what each answered: a form sent
// again to another server, or at once to two, records once. Each server
// also holds the forms it is answering (ledger.Running, as the API holds its
// keys), so that a second click there waits for the first's answer instead
// of reaching the writer.

// onceFor is how long a form's value is remembered.
const onceFor = 10 * time.Minute

// onceField is the form field that carries the value.
const onceField = "once"

// Once is a new value for a form of s's pages, unlike any other.
func (s *Session) Once() string { return rand.Text() }

// answerOnce answers the posted form with h unless the session sent it
// already: then it waits for the first answer and repeats its redirect.
func (u *UI) answerOnce(w http.ResponseWriter, r *http.Request, s *Session, h Handler) {
	once := r.PostForm.Get(onceField)
	if once == "" || len(once) > 64 || s.P == nil {
		h(w, r, s)
		return
	}
	stored := "form:" + s.ref + ":" + once
	release, err := u.running.Hold(r.Context(), s.P.ID+"\x00"+stored)
	if err != nil {
		return // the browser gone while the first was answered
	}
	defer release()
	if u.formSent(w, r, s, stored, false) {
		return
	}
	claim := &ledger.Claim{Principal: s.P.ID, Key: stored, Digest: formDigest, Window: onceFor}
	held := httpapi.NewHeld(w)
	h(held, r.WithContext(ledger.WithClaim(r.Context(), claim)), s)
	if claim.Taken() {
		// Another server recorded the form since the look-up above.
		held.Discard()
		if !u.formSent(w, r, s, stored, true) {
			u.fail(w, r, s, errs.New(errs.Conflict, "idempotency_key_in_progress", onceField, "this form is still being answered; send it again in a moment"))
		}
		return
	}
	held.Release()
	if _, ok := claim.Committed(); !ok {
		return
	}
	ctx := context.WithoutCancel(r.Context())
	if loc := w.Header().Get("Location"); held.Status() == http.StatusSeeOther && loc != "" {
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
	if err := u.pruner.Prune(ctx, u.DB, u.now(), httpapi.IdempotencyWindow); err != nil {
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
