package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/zone"
)

// ---- The exchange's forms: what the API does, on the exchange's pages ----

// exchangeDone are the flash messages after each form of the exchange.
var exchangeDone = map[string]i18n.Msg{
	"peer":    i18n.M("The peer is registered. Compare its key's fingerprint below with its operator before sending anything."),
	"key":     i18n.M("The peer's new key is added; its earlier keys stay valid until the time given."),
	"suspend": i18n.M("The peer is suspended: nothing is sent to it or accepted from it."),
	"resume":  i18n.M("The peer is resumed."),
	"rotate":  i18n.M("This registry's exchange key is rotated: messages and receipts are signed with the new key from now on."),
	"send":    i18n.M("The message is signed and in the outbox; it is delivered until the peer answers."),
	"use":     i18n.M("The use of the message is recorded."),
	"forward": i18n.M("The message is forwarded: the forward is in the outbox."),
	"abandon": i18n.M("The message is abandoned: it is never sent again, and the peer's next message goes."),
	"retry":   i18n.M("The message is due now: the deliverer tries it at once, in its turn."),
}

// exchangeFlash is the flash message of a form of the exchange done, in
// s's language; "" for none.
func exchangeFlashOf(s *Session, done string) string {
	if m, ok := exchangeDone[done]; ok {
		return s.T(m)
	}
	return ""
}

// exchangeRefusal is a refused form of the exchange, its input highlighted:
// the field the refusal names, without an index or a payload's own field
// ("send_purposes[1]" and "payload.text" are the inputs send_purposes and
// payload).
func exchangeRefusal(form string, v url.Values, err error) *Refusal {
	ref := &Refusal{Form: form, Values: v, Err: err}
	if e, ok := errs.As(err); ok {
		ref.Highlight, _, _ = strings.Cut(e.Field, "[")
		ref.Highlight, _, _ = strings.Cut(ref.Highlight, ".")
	}
	return ref
}

// names splits a list typed in one input: names separated by commas or
// spaces.
func names(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

func (x *exchangePages) showPeers(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	d, err := x.common(r, s)
	if err == nil {
		d.Identity, err = x.svc.Identity(r.Context())
	}
	if err == nil && s.P.Can(exchange.ManagePeers) {
		d.Manage = true
		d.Next, err = x.svc.NextIdentity(r.Context(), s.P)
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	v := s.View(r, "Exchange: peers")
	if n := s.Notice(r); ref == nil && n.Get("done") == "peer" {
		// the peer the notice names, as the registry holds it now
		if pr, err := x.svc.Peer(r.Context(), s.P, n.Get("id")); err == nil {
			v.Flash, d.Registered = exchangeFlashOf(s, "peer"), pr
		}
	} else if ref == nil {
		v.Flash = exchangeFlashOf(s, n.Get("done"))
	}
	week := zone.Input(s.Now().Add(7*24*time.Hour), s.Zone())
	for _, p := range d.Peers {
		v.SetForm("key-"+p.ID, url.Values{"previous_valid_until": {week}})
	}
	v.Data = d
	s.Show(w, r, "peers", v, ref)
}

func (x *exchangePages) register(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	pr, err := x.svc.RegisterPeer(r.Context(), s.P, exchange.NewPeer{Name: v.Get("name"), Jurisdiction: strings.TrimSpace(v.Get("jurisdiction")),
		URL: v.Get("url"), TLSCA: v.Get("tls_ca"), PublicKey: strings.TrimSpace(v.Get("public_key")),
		SendPurposes: names(v.Get("send_purposes")), ReceivePurposes: names(v.Get("receive_purposes"))})
	if err != nil {
		x.showPeers(w, r, s, exchangeRefusal("peer", v, err))
		return
	}
	s.RedirectDone(w, r, "/exchange/peers", url.Values{"done": {"peer"}, "id": {pr.ID}})
}

func (x *exchangePages) addKey(w http.ResponseWriter, r *http.Request, s *Session) {
	v, id := r.PostForm, r.PathValue("id")
	until, err := localTime(s, "previous_valid_until", v.Get("previous_valid_until"))
	if err == nil {
		_, err = x.svc.AddPeerKey(r.Context(), s.P, id, exchange.NewKey{PublicKey: strings.TrimSpace(v.Get("public_key")), PreviousValidUntil: until})
	}
	if err != nil {
		x.peerRefused(w, r, s, "key-"+id, err)
		return
	}
	s.RedirectDone(w, r, "/exchange/peers", url.Values{"done": {"key"}})
}

func (x *exchangePages) setState(w http.ResponseWriter, r *http.Request, s *Session, suspend bool) {
	id, cmd := r.PathValue("id"), "resume"
	if suspend {
		cmd = "suspend"
	}
	if err := x.svc.SetPeerState(r.Context(), s.P, id, suspend, r.PostForm.Get("note")); err != nil {
		x.peerRefused(w, r, s, "state-"+id, err)
		return
	}
	s.RedirectDone(w, r, "/exchange/peers", url.Values{"done": {cmd}})
}

// peerRefused shows the peers page with a peer's form refused, or the
// error page when there is no such peer (there is no form to show).
func (x *exchangePages) peerRefused(w http.ResponseWriter, r *http.Request, s *Session, form string, err error) {
	if e, ok := errs.As(err); ok && e.Code == errs.NotFound {
		s.Fail(w, r, err)
		return
	}
	x.showPeers(w, r, s, exchangeRefusal(form, r.PostForm, err))
}

func (x *exchangePages) rotate(w http.ResponseWriter, r *http.Request, s *Session) {
	if _, err := x.svc.RotateKey(r.Context(), s.P); err != nil {
		x.showPeers(w, r, s, exchangeRefusal("rotate", r.PostForm, err))
		return
	}
	s.RedirectDone(w, r, "/exchange/peers", url.Values{"done": {"rotate"}})
}

// sendForm gives the outbox's send form what it needs, for a principal who
// may send.
func (x *exchangePages) sendForm(r *http.Request, s *Session, v *View, d *exchangeListData) {
	if !s.P.Can(exchange.SendMessages) {
		return
	}
	d.Send = true
	for _, t := range x.svc.Types.Names() {
		label := t
		if ty, ok := x.svc.Types.Get(t); ok && ty.Title != "" {
			label = s.T(ty.Title) + " (" + t + ")"
		}
		d.Types = append(d.Types, Option{Value: t, Label: label})
	}
	if r.Method == http.MethodGet {
		v.Flash = exchangeFlashOf(s, s.Notice(r).Get("done"))
	}
	v.SetForm("send", url.Values{"type": {"core.notice"}, "readers": {"regulator"},
		"payload": {`{"subject": "", "text": "", "reference": ""}`}})
}

func (x *exchangePages) send(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	err := s.P.Require(exchange.SendMessages)
	payload := json.RawMessage(strings.TrimSpace(v.Get("payload")))
	if err == nil && !json.Valid(payload) {
		err = errs.Invalidf("json", "payload", "payload must be JSON, such as {\"subject\": \"…\", \"text\": \"…\"}")
	}
	if err == nil {
		_, err = x.svc.Send(r.Context(), s.P, exchange.Outgoing{PeerID: v.Get("peer_id"), Type: v.Get("type"), Purpose: strings.TrimSpace(v.Get("purpose")),
			LegalBasis: v.Get("legal_basis"), Notice: v.Get("notice"), Readers: names(v.Get("readers")), OnwardSharing: checked(v, "onward_sharing"),
			Payload: payload})
	}
	if err != nil {
		x.showOutbox(w, r, s, exchangeRefusal("send", v, err))
		return
	}
	s.RedirectDone(w, r, "/exchange/outbox", url.Values{"done": {"send"}})
}

// abandon abandons a pending message of the outbox, with the reason typed.
func (x *exchangePages) abandon(w http.ResponseWriter, r *http.Request, s *Session) {
	id := r.PathValue("id")
	if _, err := x.svc.AbandonMessage(r.Context(), s.P, id, exchange.AbandonRequest{Reason: r.PostForm.Get("reason")}); err != nil {
		x.outboxRefused(w, r, s, "abandon-"+id, err)
		return
	}
	s.RedirectDone(w, r, "/exchange/outbox", url.Values{"done": {"abandon"}})
}

// retry makes a pending message of the outbox due now.
func (x *exchangePages) retry(w http.ResponseWriter, r *http.Request, s *Session) {
	id := r.PathValue("id")
	if _, err := x.svc.RetryNow(r.Context(), s.P, "", id); err != nil {
		x.outboxRefused(w, r, s, "retry-"+id, err)
		return
	}
	s.RedirectDone(w, r, "/exchange/outbox", url.Values{"done": {"retry"}})
}

// outboxRefused shows the outbox with a message's form refused, or the
// error page when the outbox holds no such message (there is no form to
// show), or when it is no longer pending (its form is gone from the page).
func (x *exchangePages) outboxRefused(w http.ResponseWriter, r *http.Request, s *Session, form string, err error) {
	if e, ok := errs.As(err); ok && (e.Code == errs.NotFound || e.Rule == "not_pending") {
		s.Fail(w, r, err)
		return
	}
	x.showOutbox(w, r, s, exchangeRefusal(form, r.PostForm, err))
}

func messageID(r *http.Request) string { return r.PathValue("peer") + "/" + r.PathValue("id") }

func (x *exchangePages) showMessage(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	ctx := r.Context()
	m, err := x.svc.InboxMessage(ctx, s.P, messageID(r))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	d := exchangeMessageData{M: m, Peer: m.PeerID, Forward: s.P.Can(exchange.ForwardMessages)}
	if m.Envelope != nil {
		d.Message, _ = exchange.ParseMessage(m.Envelope.Message)
	}
	var ids []string
	for _, u := range m.Uses {
		ids = append(ids, u.PrincipalID)
	}
	if d.People, err = principalNames(ctx, x.svc.DB.Read(), s.P, ids...); err != nil {
		s.Fail(w, r, err)
		return
	}
	if pr, err := x.svc.Peer(ctx, s.P, m.PeerID); err == nil {
		d.Peer = pr.Name + " (" + pr.Jurisdiction + ")"
	}
	if d.Forward {
		peers, err := x.svc.Peers(ctx, s.P)
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		for _, p := range peers {
			if p.ID != m.PeerID {
				d.To = append(d.To, Option{Value: p.ID, Label: p.Name + " (" + p.Jurisdiction + ")"})
			}
		}
	}
	v := s.View(r, "Message")
	v.Title = s.T("Message %s", m.MessageID)
	v.Data = d
	if ref == nil {
		v.Flash = exchangeFlashOf(s, s.Notice(r).Get("done"))
	}
	v.SetForm("use", url.Values{"purpose": {m.Purpose}})
	s.Show(w, r, "message", v, ref)
}

// messageDone answers a form of a received message: back to its page, or
// the page with the form refused (the error page when there is no such
// message).
func (x *exchangePages) messageDone(w http.ResponseWriter, r *http.Request, s *Session, form string, err error) {
	if err == nil {
		s.RedirectDone(w, r, "/exchange/inbox/"+messageID(r), url.Values{"done": {form}})
		return
	}
	if e, ok := errs.As(err); ok && e.Code == errs.NotFound && e.Field != "peer_id" {
		s.Fail(w, r, err)
		return
	}
	x.showMessage(w, r, s, exchangeRefusal(form, r.PostForm, err))
}

func (x *exchangePages) use(w http.ResponseWriter, r *http.Request, s *Session) {
	_, err := x.svc.UseMessage(r.Context(), s.P, messageID(r), exchange.UseRequest{Purpose: r.PostForm.Get("purpose")})
	x.messageDone(w, r, s, "use", err)
}

func (x *exchangePages) forward(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	_, err := x.svc.Forward(r.Context(), s.P, messageID(r), exchange.ForwardRequest{PeerID: v.Get("peer_id"), LegalBasis: v.Get("legal_basis"), Notice: v.Get("notice")})
	x.messageDone(w, r, s, "forward", err)
}
