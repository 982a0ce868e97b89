package web

import (
	"embed"
	"net/http"
	"net/url"
	"strings"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/exchange"
)

// ---- The exchange with peer registries: the core's section ----

//go:embed templates/exchange/*.html
var exchangeFS embed.FS

type exchangePages struct{ svc *exchange.Service }

// Exchange returns the pages of the exchange between deployments: the peers
// with their keys and state, the outbox and the inbox (filtered by module,
// peer and state), and one received message. Administrators, regulators and
// auditors see them; changes go through the API (docs/exchange.md).
func Exchange(svc *exchange.Service) Section {
	x := &exchangePages{svc: svc}
	return Section{
		Name:  "exchange",
		Title: "custos",
		Nav: func(p *auth.Principal) []Link {
			if !p.Can(exchange.ReadExchange) {
				return nil
			}
			return []Link{{Href: "/exchange/peers", Label: "Exchange"}}
		},
		Pages: []Page{
			get("/peers", x.peers),
			get("/outbox", x.outbox),
			get("/inbox", x.inbox),
			get("/inbox/{peer}/{id}", x.message),
		},
		Templates: subFS(exchangeFS, "templates/exchange"),
		Labels: map[string]string{exchange.Pending: "Pending", exchange.Acknowledged: "Acknowledged", exchange.Refused: "Refused",
			exchange.Overdue: "Overdue", exchange.Delivered: "Delivered", exchange.PeerActive: "Active", exchange.PeerSuspended: "Suspended"},
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
	Filtered bool
	Identity *exchange.Identity
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
	d, err := x.common(r, s)
	if err == nil {
		d.Identity, err = x.svc.Identity(r.Context())
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	v := s.View(r, "Exchange: peers")
	v.Data = d
	s.Show(w, r, "peers", v, nil)
}

func exchangeFilter(q url.Values) exchange.Filter {
	return exchange.Filter{Module: q.Get("module"), PeerID: q.Get("peer_id"), State: q.Get("state"), Limit: 500}
}

func (x *exchangePages) outbox(w http.ResponseWriter, r *http.Request, s *Session) {
	x.list(w, r, s, "outbox", "Exchange: outbox", exchange.OutboxStates, func(d *exchangeListData, f exchange.Filter) (err error) {
		d.Outbox, err = x.svc.Outbox(r.Context(), s.P, f)
		return err
	})
}

func (x *exchangePages) inbox(w http.ResponseWriter, r *http.Request, s *Session) {
	x.list(w, r, s, "inbox", "Exchange: inbox", []string{exchange.Delivered}, func(d *exchangeListData, f exchange.Filter) (err error) {
		d.Inbox, err = x.svc.Inbox(r.Context(), s.P, f)
		return err
	})
}

// list shows the outbox or the inbox, filtered; a filter refused is shown
// on its form above the unfiltered list.
func (x *exchangePages) list(w http.ResponseWriter, r *http.Request, s *Session, tmpl, title string, states []string,
	read func(d *exchangeListData, f exchange.Filter) error) {
	d, err := x.common(r, s)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	q := r.URL.Query()
	f := exchangeFilter(q)
	var ref *Refusal
	err = read(d, f)
	if _, ok := errs.As(err); ok {
		ref = &Refusal{Form: "filter", Values: q, Err: err}
		err = read(d, exchange.Filter{Limit: 500})
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	d.States = optionsOf(nil, states)
	d.Filtered = ref == nil && f != exchange.Filter{Limit: 500}
	v := s.View(r, title)
	v.Data = d
	if ref == nil {
		v.SetForm("filter", q)
	}
	s.Show(w, r, tmpl, v, ref)
}

type exchangeMessageData struct {
	M       *exchange.InboxMessage
	Message *exchange.Message
	Peer    string
}

func (x *exchangePages) message(w http.ResponseWriter, r *http.Request, s *Session) {
	m, err := x.svc.InboxMessage(r.Context(), s.P, r.PathValue("peer")+"/"+r.PathValue("id"))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	d := exchangeMessageData{M: m, Peer: m.PeerID}
	if m.Envelope != nil {
		d.Message, _ = exchange.ParseMessage(m.Envelope.Message)
	}
	if pr, err := x.svc.Peer(r.Context(), s.P, m.PeerID); err == nil {
		d.Peer = pr.Name + " (" + pr.Jurisdiction + ")"
	}
	v := s.View(r, "Message "+m.MessageID)
	v.Data = d
	s.Show(w, r, "message", v, nil)
}
