package web

import (
	"context"
	"embed"
	"net/http"
	"strings"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/page"
)

// ---- The exchange with peer registries: the core's section ----

//go:embed templates/exchange/*.html
var exchangeFS embed.FS

type exchangePages struct{ svc *exchange.Service }

// Exchange returns the pages of the exchange between deployments: the peers
// with their keys and state, the outbox and the inbox (filtered by module,
// peer and state), and one received message. Administrators, regulators and
// auditors see them. Their forms do what the API does, for the roles the
// service allows: an administrator registers peers, adds their keys,
// suspends and resumes them, rotates this registry's key, and abandons a
// pending message or makes it due now; an
// administrator or regulator sends a notice; a message's readers use it for
// its purpose and an administrator or regulator forwards it (docs/exchange.md).
func Exchange(svc *exchange.Service) Section {
	x := &exchangePages{svc: svc}
	return Section{
		Name:  "exchange",
		Title: "custos",
		Nav: func(p *auth.Principal) []Link {
			if !p.Can(exchange.ReadExchange) {
				return nil
			}
			return []Link{{Href: "/exchange/peers", Label: i18n.M("Exchange")}}
		},
		Pages: []Page{
			get("/peers", x.peers).Allowed(exchange.ReadExchange),
			get("/outbox", x.outbox).Allowed(exchange.ReadExchange),
			get("/inbox", x.inbox).Allowed(exchange.ReadExchange),
			get("/inbox/{peer}/{id}", x.message),
			post("/peers", x.register).Allowed(exchange.ManagePeers),
			post("/peers/{id}/keys", x.addKey).Allowed(exchange.ManagePeers),
			post("/peers/{id}/suspend", func(w http.ResponseWriter, r *http.Request, s *Session) { x.setState(w, r, s, true) }).Allowed(exchange.ManagePeers),
			post("/peers/{id}/resume", func(w http.ResponseWriter, r *http.Request, s *Session) { x.setState(w, r, s, false) }).Allowed(exchange.ManagePeers),
			post("/identity/rotate", x.rotate).Allowed(exchange.ManagePeers),
			post("/outbox", x.send).Allowed(exchange.SendMessages),
			post("/outbox/{id}/abandon", x.abandon).Allowed(exchange.ManagePeers),
			post("/outbox/{id}/retry", x.retry).Allowed(exchange.ManagePeers),
			post("/inbox/{peer}/{id}/use", x.use),
			post("/inbox/{peer}/{id}/forward", x.forward).Allowed(exchange.ForwardMessages),
		},
		Templates: subFS(exchangeFS, "templates/exchange"),
		Lists:     map[string][]string{"outbox_state": exchange.OutboxStates, "inbox_state": exchange.InboxStates},
		Labels: map[string]i18n.Msg{exchange.Pending: i18n.M("Pending"), exchange.Acknowledged: i18n.M("Acknowledged"), exchange.Refused: i18n.M("Refused"),
			exchange.Overdue: i18n.M("Overdue"), exchange.Abandoned: i18n.M("Abandoned"), exchange.Delivered: i18n.M("Delivered"), exchange.PeerActive: i18n.M("Active"), exchange.PeerSuspended: i18n.M("Suspended"),
			"use": i18n.M("Use"), "forward": i18n.M("Forward")},
	}
}

type exchangeListData struct {
	Peers    []exchange.Peer
	Outbox   []exchange.OutboxMessage
	Inbox    []exchange.InboxMessage
	Modules  []Option
	PeerOpts []Option
	States   []Option
	Names    map[string]string // peer id -> name
	// Who are the principals who abandoned a message of the outbox page
	// (who), as the alerts' "by" fields are.
	Who      people
	Filtered bool
	NextPage string // the link to the next page of the outbox or the inbox; empty on the last
	Identity *exchange.Identity
	// The forms p may post, and what they need.
	Manage, Send bool
	Next         *exchange.Identity // the key a rotation moves to (Manage)
	Registered   *exchange.Peer     // the peer just registered, to compare its fingerprint
	Types        []Option           // the message types to send
}

func (x *exchangePages) common(r *http.Request, s *Session) (*exchangeListData, error) {
	peers, err := x.svc.Peers(r.Context(), s.P)
	if err != nil {
		return nil, err
	}
	d := &exchangeListData{Peers: peers, Names: map[string]string{}}
	for _, p := range peers {
		d.Names[p.ID] = p.Name + " (" + p.Jurisdiction + ")"
		d.PeerOpts = append(d.PeerOpts, Option{Value: p.ID, Label: d.Names[p.ID]})
	}
	seen := map[string]bool{}
	for _, t := range x.svc.Types.Names() {
		m, _, _ := strings.Cut(t, ".")
		if !seen[m] {
			seen[m] = true
			d.Modules = append(d.Modules, Option{Value: m, Label: m})
		}
	}
	return d, nil
}

func (x *exchangePages) peers(w http.ResponseWriter, r *http.Request, s *Session) {
	x.showPeers(w, r, s, nil)
}

func (x *exchangePages) outbox(w http.ResponseWriter, r *http.Request, s *Session) {
	x.showOutbox(w, r, s, nil)
}

func (x *exchangePages) showOutbox(w http.ResponseWriter, r *http.Request, s *Session, sent *Refusal) {
	exchangeList(x, w, r, s, "outbox", i18n.M("Exchange: outbox"), "outbox_state", sent, x.svc.Outbox,
		func(d *exchangeListData, ms []exchange.OutboxMessage) { d.Outbox = ms })
}

func (x *exchangePages) inbox(w http.ResponseWriter, r *http.Request, s *Session) {
	exchangeList(x, w, r, s, "inbox", i18n.M("Exchange: inbox"), "inbox_state", nil, x.svc.Inbox,
		func(d *exchangeListData, ms []exchange.InboxMessage) { d.Inbox = ms })
}

// exchangeList shows a page of the outbox or the inbox, filtered; a filter
// refused is shown on its form above the unfiltered list's first page.
// sent, when not nil, is the send form refused, shown on the outbox.
func exchangeList[T any](x *exchangePages, w http.ResponseWriter, r *http.Request, s *Session, tmpl, title, states string, sent *Refusal,
	list func(context.Context, *auth.Principal, exchange.Filter) (page.Of[T], error), show func(*exchangeListData, []T)) {
	d, err := x.common(r, s)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	q := r.URL.Query()
	q.Del(noticeParam)
	var fref *Refusal
	f, err := exchange.FilterOf(q)
	if err != nil {
		fref = &Refusal{Form: "filter", Values: q, Err: err}
	}
	v := s.View(r, title)
	ref := sent
	ms, err := listed(r, s, v, &ref, f, fref, exchange.Filter{}, list)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	show(d, ms.Items)
	d.NextPage = nextPage(r, ms.Next)
	d.States = s.list(states)
	d.Filtered = ref == nil && (f.Module != "" || f.PeerID != "" || f.State != "")
	v.Data = d
	if tmpl == "outbox" {
		if d.Who, err = abandoners(r.Context(), x.svc, s.P, d.Outbox); err != nil {
			s.Fail(w, r, err)
			return
		}
		d.Manage = s.P.Can(exchange.ManagePeers)
		x.sendForm(r, s, v, d)
	}
	s.Show(w, r, tmpl, v, ref)
}

// abandoners are the principals who abandoned messages of ms, as reader
// may see them (principalNames): the outbox keeps the principal's id, as
// the log does, and a person reading the page is shown who it was, as on
// an alert's page. A principal no longer listed is shown by its id.
func abandoners(ctx context.Context, svc *exchange.Service, reader *auth.Principal, ms []exchange.OutboxMessage) (people, error) {
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.AbandonedBy)
	}
	return principalNames(ctx, svc.DB.Read(), reader, ids...)
}

type exchangeMessageData struct {
	M       *exchange.InboxMessage
	Message *exchange.Message
	Peer    string
	// Forward is whether p may forward the message, To the peers it may go to.
	Forward bool
	To      []Option
	People  people // who used the message (who)
}

func (x *exchangePages) message(w http.ResponseWriter, r *http.Request, s *Session) {
	x.showMessage(w, r, s, nil)
}
