package httpapi

import (
	"io"
	"net/http"
	"reflect"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/exchange"
)

// Answers of the exchange's lists (a page's next: core's lists).
type (
	exchangePeersOut struct {
		Peers []exchange.Peer `json:"peers"`
	}
	exchangeOutboxOut struct {
		Messages []exchange.OutboxMessage `json:"messages"`
		Next     string                   `json:"next,omitempty"`
	}
	exchangeInboxOut struct {
		Messages []exchange.InboxMessage `json:"messages"`
		Next     string                  `json:"next,omitempty"`
	}
)

// Exchange lists the routes of the exchange between custos deployments:
// this registry's identity, its peers, the outbox and the inbox, and the
// inbox peers deliver to (public: a message proves its sender by its
// signature, not by a token).
func Exchange(env Env, s *exchange.Service) []Route {
	states := []Enum{{Type: reflect.TypeFor[exchange.OutboxMessage](), Field: "State", Values: exchange.OutboxStates}}
	inboxStates := []Enum{{Type: reflect.TypeFor[exchange.InboxMessage](), Field: "State", Values: exchange.InboxStates}}
	peerStates := []Enum{{Type: reflect.TypeFor[exchange.Peer](), Field: "State", Values: []string{exchange.PeerActive, exchange.PeerSuspended}}}
	listQuery := func(states []string) []Param {
		return pageQuery(exchange.Size, exchange.Filters, map[string]Param{"module": {Doc: "only the messages of this module"},
			"peer_id": {Doc: "only the messages of this peer"}, "state": {Doc: "only the messages in this state", Values: states}})
	}
	return []Route{
		{Method: "POST", Path: exchange.InboxPath, Public: true, BodyLimit: exchange.MaxMessage,
			Summary: "Deliver a signed message from a peer registry; the answer is a signed receipt, or a signed refusal naming the rule and field (receipt, key, signature and error); what no registered peer signed (malformed, unknown_sender, bad_signature) gets a plain refusal, the error alone (peers)",
			In:      exchange.Envelope{}, Out: exchange.InboxAnswer{}, Refused: exchange.InboxAnswer{},
			Handler: func(r *http.Request, _ *auth.Principal) (int, any, error) {
				b, err := io.ReadAll(io.LimitReader(r.Body, exchange.MaxMessage+1))
				if err != nil {
					return 0, nil, errs.New(errs.Malformed, "body", "", "the request body could not be read")
				}
				status, ans := s.Receive(r.Context(), b)
				return status, ans, nil
			}},
		{Method: "GET", Path: "/api/v1/exchange/identity", Public: true, Out: exchange.Identity{},
			Summary: "This registry's jurisdiction and exchange key, with its fingerprint to compare out of band",
			Handler: func(r *http.Request, _ *auth.Principal) (int, any, error) {
				out, err := s.Identity(r.Context())
				return http.StatusOK, out, err
			}},
		{Method: "GET", Path: "/api/v1/exchange/identity/next", Allow: []auth.Action{exchange.ManagePeers}, Out: exchange.Identity{},
			Summary: "The exchange key the next rotation moves to, to give peers before rotating (admin)",
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := s.NextIdentity(r.Context(), p)
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/exchange/identity/rotate", Allow: []auth.Action{exchange.ManagePeers}, Status: 201, Out: exchange.OwnKeyRotated{},
			Summary: "Move to the next exchange key; give peers the new key first (admin)",
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := s.RotateKey(r.Context(), p)
				return http.StatusCreated, out, err
			}},
		{Method: "POST", Path: "/api/v1/exchange/peers", Allow: []auth.Action{exchange.ManagePeers}, Status: 201, In: exchange.NewPeer{}, Out: exchange.PeerRegistered{},
			Summary: "Register a peer registry: jurisdiction, https address, certificates to trust, exchange key, purposes (admin)",
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[exchange.NewPeer](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.RegisterPeer(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/exchange/peers", Allow: []auth.Action{exchange.ReadExchange}, Out: exchangePeersOut{}, Enums: peerStates,
			Summary: "Peers with their keys, state, reachability and last message (admin, regulator, auditor)",
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := s.Peers(r.Context(), p)
				return http.StatusOK, exchangePeersOut{Peers: out}, err
			}},
		{Method: "GET", Path: "/api/v1/exchange/peers/{id}", Allow: []auth.Action{exchange.ReadExchange}, Out: exchange.Peer{}, Enums: peerStates,
			Summary: "One peer (admin, regulator, auditor)",
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := s.Peer(r.Context(), p, r.PathValue("id"))
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/exchange/peers/{id}/keys", Allow: []auth.Action{exchange.ManagePeers}, Status: 201, In: exchange.NewKey{}, Out: exchange.PeerKeyAdded{},
			Summary: "Add a peer's new key; its current keys stay valid until previous_valid_until (admin)",
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[exchange.NewKey](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.AddPeerKey(r.Context(), p, r.PathValue("id"), in)
				return http.StatusCreated, out, err
			}},
		{Method: "POST", Path: "/api/v1/exchange/peers/{id}/suspend", Allow: []auth.Action{exchange.ManagePeers}, In: peerNote{}, Out: exchange.Peer{}, Enums: peerStates,
			Summary: "Suspend the exchange with a peer, saying why: nothing is sent to it or accepted from it (admin)",
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[peerNote](r)
				if err != nil {
					return 0, nil, err
				}
				if err := s.SetPeerState(r.Context(), p, r.PathValue("id"), true, in.Note); err != nil {
					return 0, nil, err
				}
				out, err := s.Peer(r.Context(), p, r.PathValue("id"))
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/exchange/peers/{id}/resume", Allow: []auth.Action{exchange.ManagePeers}, In: peerNote{}, Out: exchange.Peer{}, Enums: peerStates,
			Summary: "Resume the exchange with a suspended peer (admin)",
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[peerNote](r)
				if err != nil {
					return 0, nil, err
				}
				if err := s.SetPeerState(r.Context(), p, r.PathValue("id"), false, in.Note); err != nil {
					return 0, nil, err
				}
				out, err := s.Peer(r.Context(), p, r.PathValue("id"))
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/exchange/outbox", Allow: []auth.Action{exchange.SendMessages}, Status: 201, In: exchange.Outgoing{}, Out: exchange.MessageSent{},
			Summary: "Send a message to a peer: signed, recorded, delivered until the peer acknowledges it (admin, regulator)",
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[exchange.Outgoing](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.Send(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/exchange/outbox", Allow: []auth.Action{exchange.ReadExchange}, Out: exchangeOutboxOut{}, Enums: states, Query: listQuery(exchange.OutboxStates),
			Summary: "Messages sent, newest first, a page at a time, with the peer's signed receipt (admin, regulator, auditor)",
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				return pagedList(r, p, "messages", exchange.FilterOf, s.Outbox)
			}},
		{Method: "POST", Path: "/api/v1/exchange/outbox/{id}/abandon", Allow: []auth.Action{exchange.ManagePeers}, In: exchange.AbandonRequest{}, Out: exchange.OutboxMessage{}, Enums: states,
			Summary: "Abandon a pending message, saying why: it is never sent again and the peer's next message goes; not retracted at the peer, which may have received it (admin)",
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[exchange.AbandonRequest](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.AbandonMessage(r.Context(), p, r.PathValue("id"), in)
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/exchange/outbox/{id}/retry", Allow: []auth.Action{exchange.ManagePeers}, Out: exchange.Retried{},
			Summary: "Make a pending message due now instead of at the end of its back-off; it still waits behind its peer's older pending messages (admin)",
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := s.RetryNow(r.Context(), p, "", r.PathValue("id"))
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/exchange/peers/{id}/retry", Allow: []auth.Action{exchange.ManagePeers}, Out: exchange.Retried{},
			Summary: "Make every pending message to a peer due now instead of at the end of its back-off, delivered in order (admin)",
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := s.RetryNow(r.Context(), p, r.PathValue("id"), "")
				return http.StatusOK, out, err
			}},
		{Method: "GET", Path: "/api/v1/exchange/inbox", Allow: []auth.Action{exchange.ReadExchange}, Out: exchangeInboxOut{}, Enums: inboxStates, Query: listQuery(exchange.InboxStates),
			Summary: "Messages received, newest first, a page at a time, with the receipt answered; the message itself for the roles its sender named (admin, regulator, auditor)",
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				return pagedList(r, p, "messages", exchange.FilterOf, s.Inbox)
			}},
		{Method: "GET", Path: "/api/v1/exchange/inbox/{peer}/{id}", Out: exchange.InboxMessage{}, Enums: inboxStates,
			Summary: "One message received, with its uses and forwards",
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := s.InboxMessage(r.Context(), p, r.PathValue("peer")+"/"+r.PathValue("id"))
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/exchange/inbox/{peer}/{id}/use", Status: 201, In: exchange.UseRequest{}, Out: exchange.MessageUsed{},
			Summary: "Record a use of a received message; a purpose other than the message's is refused with an alert (the roles its sender named)",
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				// the message's readers before the body: a role that may not
				// use it learns nothing from the body's refusals
				if _, err := s.Usable(r.Context(), p, r.PathValue("peer")+"/"+r.PathValue("id")); err != nil {
					return 0, nil, err
				}
				in, err := DecodeRequest[exchange.UseRequest](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.UseMessage(r.Context(), p, r.PathValue("peer")+"/"+r.PathValue("id"), in)
				return http.StatusCreated, out, err
			}},
		{Method: "POST", Path: "/api/v1/exchange/inbox/{peer}/{id}/forward", Allow: []auth.Action{exchange.ForwardMessages}, Status: 201, In: exchange.ForwardRequest{}, Out: exchange.MessageUsed{},
			Summary: "Forward a received message to another peer, when its sender consented to onward sharing; otherwise refused with an alert (admin, regulator)",
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[exchange.ForwardRequest](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.Forward(r.Context(), p, r.PathValue("peer")+"/"+r.PathValue("id"), in)
				return http.StatusCreated, out, err
			}},
	}
}

// peerNote is why a peer is suspended or resumed.
type peerNote struct {
	Note string `json:"note"`
}
