package exchange

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// The exchange's actions.
var (
	// ManagePeers is registering, suspending and resuming peers, adding
	// their keys, and rotating this registry's own key.
	ManagePeers = auth.NewAction("manage exchange peers", auth.Admin)
	// SendMessages is sending through the API; a module that sends for its
	// own principals checks its own action before it calls Send.
	SendMessages = auth.NewAction("send exchange messages", auth.Admin, auth.Regulator)
	// ReadExchange is reading peers, the outbox and the inbox (not payloads:
	// those are for the roles the sender names).
	ReadExchange = auth.NewAction("read the exchange", auth.Admin, auth.Regulator, auth.Auditor)
	// ForwardMessages is forwarding a received message to another peer.
	ForwardMessages = auth.NewAction("forward exchange messages", auth.Admin, auth.Regulator)
)

// Config tunes the exchange; zero fields take the defaults.
type Config struct {
	// RetryBase and RetryMax bound the deliverer's backoff: it waits
	// RetryBase after the first failed attempt, doubling up to RetryMax.
	RetryBase, RetryMax time.Duration
	// Poll is how often the deliverer looks for messages due.
	Poll time.Duration
	// OverdueAfter is how long a message may stay unacknowledged before it
	// is shown overdue.
	OverdueAfter time.Duration
	// Timeout bounds one delivery attempt, the peer's answer read whole.
	Timeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.RetryBase <= 0 {
		c.RetryBase = time.Second
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 5 * time.Minute
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.OverdueAfter <= 0 {
		c.OverdueAfter = time.Hour
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	return c
}

// Service is the exchange of one registry.
type Service struct {
	W     *ledger.Writer
	DB    *store.DB
	Types *Types
	Cfg   Config
	Log   *slog.Logger
	// Now is the clock of the deliverer and of key validity (time.Now when nil).
	Now func() time.Time
	// OnEvent, when set, is told of each event (Events) for the metrics.
	OnEvent func(event string)

	master       []byte
	statusOnce   sync.Once
	statusKey    []byte // of the peer statuses' MAC (statusMAC)
	jurisdiction string
	wake         chan struct{}
	clients      sync.Map // peer id + CA digest -> *http.Client
	mu           sync.RWMutex
	handlers     map[string]Handler // by module
	forged       forgeryGate        // one bad_signature alert command per key at a time
}

// forgeryGate lets one bad_signature alert command per key reach the writer
// at a time (checkSignature): envelopes forged with the key while its alert
// is being committed are refused without one, so that any number arriving
// together make one writer command.
type forgeryGate struct {
	mu   sync.Mutex
	keys map[string]bool // the keys whose alert command is in flight
}

// enter tells whether the caller may submit key's alert command: none is
// in flight. One that may calls leave once its command is answered.
func (g *forgeryGate) enter(key string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.keys[key] {
		return false
	}
	if g.keys == nil {
		g.keys = map[string]bool{}
	}
	g.keys[key] = true
	return true
}

func (g *forgeryGate) leave(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.keys, key)
}

// EventClockAheadIncoming is the event of a peer's message refused here
// for now, its sent_at (or its payload's) ahead of this registry's clock
// (RuleClockAhead), counted as refused_incoming too; the sender counts its
// side as RuleClockAhead.
const EventClockAheadIncoming = "clock_ahead_incoming"

// Events are the exchange's events (Service.OnEvent).
var Events = []string{"sent", "acknowledged", "refused", "received", "replayed", "refused_incoming", "bad_signature", "attempt_failed", "use_refused", "schedule_reset", "receipt_time_not_taken", RuleClockAhead, EventClockAheadIncoming}

// New opens the exchange on an open registry with its master key (from
// which the exchange keys derive) and its modules' message types.
func New(ctx context.Context, w *ledger.Writer, db *store.DB, master []byte, types *Types, cfg Config, log *slog.Logger) (*Service, error) {
	s := &Service{W: w, DB: db, Types: types, Cfg: cfg.withDefaults(), Log: log, master: master, wake: make(chan struct{}, 1)}
	if err := db.Read().QueryRow(ctx, "SELECT value FROM settings WHERE name = 'jurisdiction'").Scan(&s.jurisdiction); err != nil {
		return nil, fmt.Errorf("read the registry's jurisdiction: %w", err)
	}
	return s, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) event(e string) {
	if s.OnEvent != nil {
		s.OnEvent(e)
	}
}

// Jurisdiction is this registry's jurisdiction.
func (s *Service) Jurisdiction() string { return s.jurisdiction }

// Identity is what a peer needs to register this registry: its
// jurisdiction, its current exchange key and the key's fingerprint.
type Identity struct {
	Jurisdiction string `json:"jurisdiction"`
	Generation   int64  `json:"generation"`
	PublicKey    string `json:"public_key"`
	Fingerprint  string `json:"fingerprint"`
}

// currentKey is the signing key of the latest generation the log records.
func (s *Service) currentKey(ctx context.Context, q store.Queryer) (ed25519.PrivateKey, int64, error) {
	var g sql.NullInt64
	if err := q.QueryRow(ctx, "SELECT MAX(generation) FROM exchange_own_keys").Scan(&g); err != nil {
		return nil, 0, err
	}
	k, err := DeriveKey(s.master, g.Int64)
	return k, g.Int64, err
}

// Identity returns this registry's exchange identity; it is public.
func (s *Service) Identity(ctx context.Context) (*Identity, error) {
	_, g, err := s.currentKey(ctx, s.DB.Read())
	if err != nil {
		return nil, err
	}
	return s.identity(g)
}

// NextIdentity returns the key RotateKey will move to, so that peers can
// add it before this registry signs anything with it (admin).
func (s *Service) NextIdentity(ctx context.Context, p *auth.Principal) (*Identity, error) {
	if err := p.Require(ManagePeers); err != nil {
		return nil, err
	}
	_, g, err := s.currentKey(ctx, s.DB.Read())
	if err != nil {
		return nil, err
	}
	return s.identity(g + 1)
}

func (s *Service) identity(g int64) (*Identity, error) {
	k, err := DeriveKey(s.master, g)
	if err != nil {
		return nil, err
	}
	pub := k.Public().(ed25519.PublicKey)
	return &Identity{Jurisdiction: s.jurisdiction, Generation: g, PublicKey: EncodeKey(pub), Fingerprint: Fingerprint(pub)}, nil
}

// RotateKey moves this registry to the next generation of its exchange key
// (the one NextIdentity shows). Peers add the new key (with an overlap for
// the old) before, or they refuse what it signs: see docs/exchange.md.
func (s *Service) RotateKey(ctx context.Context, p *auth.Principal) (*OwnKeyRotated, error) {
	if err := p.Require(ManagePeers); err != nil {
		return nil, err
	}
	return ledger.SubmitAs[OwnKeyRotated](ctx, s.W, p.Actor(), "rotate exchange key", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		_, g, err := s.currentKey(ctx, tx)
		if err != nil {
			return nil, err
		}
		k, err := DeriveKey(s.master, g+1)
		if err != nil {
			return nil, err
		}
		pub := k.Public().(ed25519.PublicKey)
		return ledger.NewEntry(TypeOwnKeyRotated, OwnKeyRotated{Generation: g + 1, PublicKey: EncodeKey(pub), Fingerprint: Fingerprint(pub)})
	})
}

// NewPeer is a peer registry as an operator registers it.
type NewPeer struct {
	Name         string `json:"name" api:"required"`
	Jurisdiction string `json:"jurisdiction" api:"required"`
	// URL is the peer's base address, https://…; messages go to
	// URL/api/v1/exchange/inbox.
	URL string `json:"url" api:"required"`
	// TLSCA is the PEM of the certificates that may sign the peer's TLS
	// certificate (its own certificate, or its CA); empty trusts the
	// system's roots.
	TLSCA string `json:"tls_ca"`
	// PublicKey is the peer's exchange key (base64), to compare by its
	// fingerprint with the peer's operator out of band.
	PublicKey string `json:"public_key" api:"required"`
	// SendPurposes are the purposes this registry may send the peer
	// messages for; ReceivePurposes those it accepts from the peer.
	SendPurposes    []string `json:"send_purposes"`
	ReceivePurposes []string `json:"receive_purposes"`
}

func purposes(field string, in []string) ([]string, error) {
	var out []string
	for i, p := range in {
		p = strings.TrimSpace(p)
		if !tokenRE.MatchString(p) {
			return nil, errs.Invalidf("purpose", check.Index(field, i), "a purpose is a lower-case name (letters, digits, _ . -), at most 64")
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out, nil
}

func checkURL(field, s string) (string, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "/")
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", errs.Invalidf("https", field, "%s must be an https:// address with no query, fragment or credentials", field)
	}
	return s, nil
}

func checkCA(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) > 64<<10 || !x509.NewCertPool().AppendCertsFromPEM([]byte(s)) {
		return "", errs.Invalidf("certificate", field, "%s must hold PEM certificates (at most 64 KiB)", field)
	}
	return s, nil
}

// RegisterPeer registers a peer registry with its first key.
func (s *Service) RegisterPeer(ctx context.Context, p *auth.Principal, in NewPeer) (*PeerRegistered, error) {
	if err := p.Require(ManagePeers); err != nil {
		return nil, err
	}
	name, err := check.Line("name", in.Name, 200, true)
	if err != nil {
		return nil, err
	}
	if !auth.ValidCountry(in.Jurisdiction) {
		return nil, errs.Invalidf("jurisdiction", "jurisdiction", "jurisdiction must be an ISO 3166-1 alpha-2 code such as FR")
	}
	if err := check.RealState("jurisdiction", in.Jurisdiction); err != nil {
		return nil, err
	}
	u, err := checkURL("url", in.URL)
	if err != nil {
		return nil, err
	}
	ca, err := checkCA("tls_ca", in.TLSCA)
	if err != nil {
		return nil, err
	}
	pub, err := DecodeKey("public_key", in.PublicKey)
	if err != nil {
		return nil, err
	}
	send, err := purposes("send_purposes", in.SendPurposes)
	if err != nil {
		return nil, err
	}
	recv, err := purposes("receive_purposes", in.ReceivePurposes)
	if err != nil {
		return nil, err
	}
	if len(send)+len(recv) == 0 {
		return nil, errs.Invalidf("required", "send_purposes", "give at least one purpose to send or to receive")
	}
	d := PeerRegistered{ID: s.W.IDs().New("PEER"), Name: name, Jurisdiction: in.Jurisdiction, URL: u, TLSCA: ca,
		SendPurposes: send, ReceivePurposes: recv, PublicKey: EncodeKey(pub), Fingerprint: Fingerprint(pub)}
	return ledger.SubmitAs[PeerRegistered](ctx, s.W, p.Actor(), "register exchange peer", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if err := s.keyUnused(ctx, tx, d.Fingerprint); err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypePeerRegistered, d)
	})
}

func (s *Service) keyUnused(ctx context.Context, tx *store.Tx, fp string) error {
	var n int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM exchange_peer_keys WHERE fingerprint = ?", fp).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return errs.New(errs.Conflict, "duplicate_key", "public_key", "the key %s is already registered for a peer", fp)
	}
	return nil
}

// NewKey is a peer's new key and until when its current keys stay valid.
type NewKey struct {
	PublicKey string `json:"public_key" api:"required"`
	// PreviousValidUntil ends the validity of the peer's current keys (RFC
	// 3339): the overlap of the rotation. It may not be in the past.
	PreviousValidUntil string `json:"previous_valid_until" api:"required"`
}

// AddPeerKey adds a peer's new key; its earlier keys stay valid until the
// time given.
func (s *Service) AddPeerKey(ctx context.Context, p *auth.Principal, peerID string, in NewKey) (*PeerKeyAdded, error) {
	if err := p.Require(ManagePeers); err != nil {
		return nil, err
	}
	pub, err := DecodeKey("public_key", in.PublicKey)
	if err != nil {
		return nil, err
	}
	until, err := check.Time("previous_valid_until", in.PreviousValidUntil)
	if err != nil {
		return nil, err
	}
	d := PeerKeyAdded{PeerID: strings.TrimSpace(peerID), PublicKey: EncodeKey(pub), Fingerprint: Fingerprint(pub), PreviousValidUntil: ledger.FormatTime(until)}
	return ledger.SubmitAs[PeerKeyAdded](ctx, s.W, p.Actor(), "add exchange peer key", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if _, err := peerIn(ctx, tx, d.PeerID); err != nil {
			return nil, err
		}
		if until.Before(now) {
			return nil, errs.Invalidf("past", "previous_valid_until", "previous_valid_until may not be in the past: end the old key now or later")
		}
		if err := s.keyUnused(ctx, tx, d.Fingerprint); err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypePeerKeyAdded, d)
	})
}

// SetPeerState suspends (suspend true) or resumes a peer, with a note saying why.
func (s *Service) SetPeerState(ctx context.Context, p *auth.Principal, peerID string, suspend bool, note string) error {
	if err := p.Require(ManagePeers); err != nil {
		return err
	}
	note, err := check.Text("note", note, 2000, suspend)
	if err != nil {
		return err
	}
	// the command's name is a message (i18n.M), which the alerts pages
	// write in the reader's language
	typ, want, name := TypePeerResumed, PeerSuspended, i18n.M("resume exchange peer")
	if suspend {
		typ, want, name = TypePeerSuspended, PeerActive, i18n.M("suspend exchange peer")
	}
	_, err = s.W.Submit(ctx, p.Actor(), name, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		pr, err := peerIn(ctx, tx, peerID)
		if err != nil {
			return nil, err
		}
		if pr.State != want {
			return nil, errs.New(errs.Conflict, "state", "id", "the peer is %s", pr.State)
		}
		return ledger.NewEntry(typ, PeerState{PeerID: pr.ID, Note: note})
	})
	return err
}

// Outgoing is a message a module (or an operator, through the API) hands
// the core to send.
type Outgoing struct {
	PeerID        string          `json:"peer_id" api:"required"`
	Type          string          `json:"type" api:"required"`
	Purpose       string          `json:"purpose" api:"required"`
	LegalBasis    string          `json:"legal_basis" api:"required"`
	Notice        string          `json:"notice" api:"required"`
	Readers       []string        `json:"readers" api:"required"`
	OnwardSharing bool            `json:"onward_sharing"`
	Payload       json.RawMessage `json:"payload" api:"required"`
	// ForwardOf is set by Forward.
	ForwardOf string `json:"-"`
}

// Sent is a message in the outbox, as Send answers it.
type Sent = MessageSent

// Send validates a message, signs it with this registry's current key and
// records it in the outbox (a log entry); the deliverer takes it from there.
// The caller has checked that p may send it: the API requires SendMessages.
func (s *Service) Send(ctx context.Context, p *auth.Principal, in Outgoing) (*Sent, error) {
	if p == nil {
		return nil, errs.New(errs.Unauthorized, "authentication", "", "sign in with a bearer token")
	}
	return s.send(ctx, p.Actor(), in)
}

func (s *Service) send(ctx context.Context, actor ledger.Actor, in Outgoing) (*Sent, error) {
	m, err := s.outgoing(in)
	if err != nil {
		return nil, err
	}
	m.ID = s.W.IDs().New("XM")
	out, err := ledger.SubmitAs[Sent](ctx, s.W, actor, "send exchange message", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		pr, err := peerIn(ctx, tx, in.PeerID)
		if err != nil {
			return nil, err
		}
		if pr.State != PeerActive {
			return nil, errs.New(errs.Conflict, "peer_suspended", "peer_id", "the peer %s is suspended", pr.ID)
		}
		if !slices.Contains(pr.SendPurposes, m.Purpose) {
			return nil, errs.Alertf(errs.Forbidden, "purpose_not_allowed", "purpose",
				"the peer %s is not registered to receive messages for the purpose %s", pr.ID, m.Purpose)
		}
		key, _, err := s.currentKey(ctx, tx)
		if err != nil {
			return nil, err
		}
		m.To, m.SentAt = pr.Jurisdiction, ledger.FormatTime(now)
		env, err := Seal(m, key)
		if err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeMessageSent, MessageSent{ID: m.ID, PeerID: pr.ID, Module: m.Module, Type: m.Type, Purpose: m.Purpose,
			Message: env.Message, Key: env.Key, Signature: env.Signature})
	})
	if err != nil {
		return nil, err
	}
	s.event("sent")
	s.Wake()
	return out, nil
}

// outgoing checks a message's fields (all but the peer's) and builds it.
func (s *Service) outgoing(in Outgoing) (*Message, error) {
	typ := strings.TrimSpace(in.Type)
	mod, _, _ := strings.Cut(typ, ".")
	if err := s.Types.Check(mod, typ, in.Payload); err != nil {
		return nil, err
	}
	if !tokenRE.MatchString(in.Purpose) {
		return nil, errs.Invalidf("purpose", "purpose", "purpose must be a lower-case name (letters, digits, _ . -), at most 64")
	}
	basis, err := check.Line("legal_basis", in.LegalBasis, 500, true)
	if err != nil {
		return nil, err
	}
	notice, err := check.Text("notice", in.Notice, 4000, true)
	if err != nil {
		return nil, err
	}
	if len(in.Readers) == 0 {
		return nil, errs.Invalidf("required", "readers", "name the roles that may read the message on the other side")
	}
	readers, err := purposes("readers", in.Readers)
	if err != nil {
		return nil, err
	}
	if err := s.Types.Addressed(typ, in.Purpose, readers); err != nil {
		return nil, err
	}
	return &Message{V: Version, From: s.jurisdiction, Module: mod, Type: typ, Purpose: in.Purpose, LegalBasis: basis, Notice: notice,
		Readers: readers, OnwardSharing: in.OnwardSharing, ForwardOf: in.ForwardOf, Payload: in.Payload}, nil
}

// Wake tells the deliverer to look for messages now.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// InboxAnswer is what the inbox answers a sender: the signed receipt, and
// for a refusal the error too (the same rule, field and reason, for people).
// A refusal of what no registered peer signed has no receipt, and is
// written as a PlainRefusal (MarshalJSON).
type InboxAnswer struct {
	SignedReceipt
	Error *errs.Error `json:"error,omitempty"`
}

// PlainRefusal is the inbox's answer to what no registered peer signed
// (malformed, unknown_sender, bad_signature): the error alone, in the shape
// of every refusal of the API, with nothing signed. A sender tells it from
// a signed refusal by its lack of a receipt.
type PlainRefusal struct {
	Error *errs.Error `json:"error"`
}

// MarshalJSONTo writes a signed answer whole, and an answer without a
// receipt as a PlainRefusal, so that no stranger's refusal carries the empty
// fields of a receipt. It writes with the encoder it is given, so with the
// options of the API's answer writer (internal/httpapi: JSON v2 with
// encoding/json's semantics), as every other answer: a method writing with
// encoding/json of its own would hand the writer finished bytes, which the
// writer's options no longer reach.
func (a InboxAnswer) MarshalJSONTo(enc *jsontext.Encoder) error {
	if a.Receipt == "" {
		return jsonv2.MarshalEncode(enc, PlainRefusal{Error: a.Error})
	}
	type signed InboxAnswer // without this method
	return jsonv2.MarshalEncode(enc, signed(a))
}

// MarshalJSON is MarshalJSONTo for encoding/json, with its semantics.
func (a InboxAnswer) MarshalJSON() ([]byte, error) {
	return jsonv2.Marshal(a, jsonv1.DefaultOptionsV1())
}

// Receive handles a signed message from a peer: it verifies the sender (by
// its key), the signature, the recipient, the purpose and the payload's
// schema, records the message in the inbox (a log entry) with the signed
// receipt it answers, and returns that answer. A message received before is
// answered with the receipt recorded then, and not recorded again. A
// message signed by a registered peer's key and refused is answered with a
// signed refusal naming the rule and field; one that is not (malformed, an
// unknown key, a bad signature) gets a plain refusal, never a signature
// over what a stranger chose. Those that matter to oversight (a bad
// signature, a purpose not allowed) raise an alert.
// The refusal of a message whose signature verified is kept
// (exchange_refusals): posted again, the message is answered with it, even
// once the cause is gone.
func (s *Service) Receive(ctx context.Context, body []byte) (int, *InboxAnswer) {
	env, err := ParseEnvelope(body)
	msgBytes := string(body)
	if env != nil {
		msgBytes = env.Message
	}
	var msgID, from string
	if err == nil {
		// Anyone may post to the inbox: what is not signed by a
		// registered peer's key is refused before it takes a turn of the
		// writer.
		err = s.checkSignature(ctx, env)
	}
	// peerID is set once the envelope's signature verified with the key of
	// a registered peer: a refusal of what that peer signed is remembered.
	var peerID string
	if err == nil {
		var d MessageReceived
		var in *Inbound
		_, err = s.W.Submit(ctx, ledger.Actor{}, receiveCommand, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
			peerID = ""
			m, pr, err := s.identify(ctx, tx, env)
			if m != nil {
				msgID, from = m.ID, m.From
			}
			if err != nil {
				return nil, err
			}
			peerID = pr.ID
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM exchange_inbox WHERE id = ?", inboxID(pr.ID, m.ID)).Scan(&n); err != nil {
				return nil, err
			}
			if n > 0 {
				return nil, errs.New(errs.Conflict, "duplicate", "id", "message %s was received before", m.ID)
			}
			// A message refused before stays refused: the sender recorded
			// the refusal, and a replay is answered with it (storedRefusal),
			// even once the cause is gone (the peer resumed).
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM exchange_refusals WHERE id = ?", inboxID(pr.ID, m.ID)).Scan(&n); err != nil {
				return nil, err
			}
			if n > 0 {
				return nil, errs.New(errs.Conflict, ruleRefusedBefore, "id", "message %s was received before", m.ID)
			}
			if err := s.admit(ctx, tx, env, m, pr, now); err != nil {
				return nil, err
			}
			in = inbound(pr.ID, m)
			if h := s.handler(m.Module); h.Accept != nil {
				if err := h.Accept(ctx, tx, in); err != nil {
					return nil, err
				}
			}
			key, _, err := s.currentKey(ctx, tx)
			if err != nil {
				return nil, err
			}
			sr, err := SealReceipt(&Receipt{V: Version, MessageID: m.ID, MessageSHA256: Digest(env.Message), From: s.jurisdiction, To: m.From,
				Outcome: Received, At: ledger.FormatTime(now)}, key)
			if err != nil {
				return nil, err
			}
			d = MessageReceived{ID: inboxID(pr.ID, m.ID), PeerID: pr.ID, Module: m.Module, Type: m.Type, Purpose: m.Purpose,
				OnwardSharing: m.OnwardSharing, Readers: m.Readers, Message: env.Message, Key: env.Key, Signature: env.Signature,
				Receipt: sr.Receipt, ReceiptKey: sr.Key, ReceiptSignature: sr.Signature}
			return ledger.NewEntry(TypeMessageRecv, d)
		})
		if err == nil {
			s.event("received")
			if h := s.handler(in.Module); h.Received != nil {
				h.Received(context.WithoutCancel(ctx), in)
			}
			return 200, &InboxAnswer{SignedReceipt: SignedReceipt{Receipt: d.Receipt, Key: d.ReceiptKey, Signature: d.ReceiptSignature}}
		}
		if e, ok := errs.As(err); ok && e.Rule == "duplicate" {
			if a := s.storedReceipt(ctx, env); a != nil {
				s.event("replayed")
				return 200, a
			}
		}
		if e, ok := errs.As(err); ok && e.Rule == ruleRefusedBefore {
			if status, a := s.storedRefusal(ctx, peerID, msgID, env.Message); a != nil {
				s.event("replayed")
				return status, a
			}
			err = errs.New(errs.Conflict, "duplicate", "id", "message %s was received before", msgID)
		}
	}
	e, ok := errs.As(err)
	if !ok || e.Code == errs.Internal {
		s.Log.Error("receive exchange message", "err", err)
		e = errs.New(errs.Unavailable, "unavailable", "", "the message could not be recorded now; send it again later")
	}
	s.event("refused_incoming")
	if e.Rule == RuleClockAhead {
		s.event(EventClockAheadIncoming)
	}
	ans := &InboxAnswer{Error: &errs.Error{Code: e.Code, Rule: e.Rule, Field: e.Field, Message: e.Message}}
	if peerID == "" {
		// Not signed by a registered peer: a plain refusal. A receipt
		// signed with the exchange key over bytes any caller chose would
		// make the registry sign whatever it is sent.
		return e.Code.HTTPStatus(), ans
	}
	key, _, kerr := s.currentKey(ctx, s.DB.Read())
	if kerr == nil {
		sr, serr := SealReceipt(&Receipt{V: Version, MessageID: msgID, MessageSHA256: Digest(msgBytes), From: s.jurisdiction, To: from,
			Outcome: Refused, Rule: e.Rule, Field: e.Field, Reason: e.Message, At: ledger.FormatTime(s.now())}, key)
		if serr == nil {
			ans.SignedReceipt = *sr
			if peerID != "" && msgID != "" && final(e) {
				s.rememberRefusal(ctx, peerID, msgID, msgBytes, e, sr)
			}
		}
	}
	return e.Code.HTTPStatus(), ans
}

// checkSignature refuses an envelope whose key no peer holds
// (unknown_sender) or whose signature does not verify with the peer's key
// (bad_signature), reading the key from the read pool: a forged envelope
// takes no turn of the writer. A bad signature raises one alert for the
// key, through the writer only while no alert of it is open and no other
// envelope's alert command for the key is in flight (forgeryGate, which it
// holds while it reads whether one is open, so that one arriving after a
// command committed sees its alert); the others are counted by
// custos_exchange_events_total (bad_signature) only. The writer checks the
// signature again, with the key as it is then.
func (s *Service) checkSignature(ctx context.Context, env *Envelope) error {
	var pubText string
	err := s.DB.Read().QueryRow(ctx, "SELECT public_key FROM exchange_peer_keys WHERE fingerprint = ?", env.Key).Scan(&pubText)
	if errors.Is(err, sql.ErrNoRows) {
		return errs.New(errs.Unauthorized, "unknown_sender", "key", "this registry knows no peer with the key %s", env.Key)
	}
	if err != nil {
		return err
	}
	pub, err := DecodeKey("key", pubText)
	if err != nil {
		return err
	}
	bad := env.Verify(pub)
	if bad == nil {
		return nil
	}
	s.event("bad_signature")
	if !s.forged.enter(env.Key) {
		return bad
	}
	defer s.forged.leave(env.Key)
	e, _ := errs.As(bad)
	var open int
	if err := s.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM alerts WHERE rule = ? AND command = ? AND message = ? AND state <> ?",
		e.Rule, receiveCommand, e.Message, ledger.StateClosed).Scan(&open); err != nil {
		return err
	}
	if open > 0 {
		return bad
	}
	_, err = s.W.Submit(ctx, ledger.Actor{}, receiveCommand, func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) { return nil, bad })
	return err
}

// receiveCommand names the writer's command that records a message
// received, and its refusals' alerts.
const receiveCommand = "receive exchange message"

// ruleRefusedBefore marks, inside Receive, the refusal of a message refused
// before: it is answered with the refusal given then (storedRefusal), never
// with this rule.
const ruleRefusedBefore = "refused_before"

// final tells whether a refusal of a message whose signature verified is
// the message's answer for good: every rule's refusal, not a fault nor a
// refusal for now (code unavailable: the sender sends it again, as it does
// a sent_at ahead of this registry's clock, RuleClockAhead) nor a replay.
func final(e *errs.Error) bool {
	return e.Code != errs.Unavailable && e.Code != errs.Internal && e.Rule != "duplicate"
}

// rememberRefusal keeps the signed refusal of a message a peer signed, so
// that the same message posted again gets the same answer; the registry
// commits it to the log within a period (refusals.go). It holds the log's
// head while it writes (on SQLite every write transaction does), so that no
// refusal is kept while a commitment is being written. A failure is
// logged: the refusal stands, only a replay would be decided again.
func (s *Service) rememberRefusal(ctx context.Context, peerID, msgID, message string, e *errs.Error, sr *SignedReceipt) {
	tx, err := s.DB.BeginWrite(context.WithoutCancel(ctx))
	if err == nil {
		defer tx.Rollback()
		if tx.Dialect() == store.Postgres {
			var size int64
			err = tx.QueryRow(ctx, "SELECT size FROM log_state WHERE id = 1 FOR SHARE").Scan(&size)
		}
	}
	if err == nil {
		_, err = tx.Exec(ctx, `INSERT INTO exchange_refusals (id, peer_id, message_sha256, code, rule, field, reason, receipt, receipt_key,
			receipt_signature, refused_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			inboxID(peerID, msgID), peerID, Digest(message), string(e.Code), e.Rule, e.Field, e.Message, sr.Receipt, sr.Key, sr.Signature,
			ledger.FormatTime(s.now()))
		if err == nil {
			err = tx.Commit()
		}
	}
	if err != nil {
		s.Log.Error("exchange: remember a refused message", "peer", peerID, "message", msgID, "err", err)
	}
}

// storedRefusal is the answer given when the message was refused: its
// status and the signed refusal, or nil when another message of that id was
// refused (the id is then answered as a duplicate).
func (s *Service) storedRefusal(ctx context.Context, peerID, msgID, message string) (int, *InboxAnswer) {
	var digest, code string
	var a InboxAnswer
	e := &errs.Error{}
	if err := s.DB.Read().QueryRow(ctx, `SELECT message_sha256, code, rule, field, reason, receipt, receipt_key, receipt_signature
		FROM exchange_refusals WHERE id = ?`, inboxID(peerID, msgID)).Scan(&digest, &code, &e.Rule, &e.Field, &e.Message,
		&a.Receipt, &a.Key, &a.Signature); err != nil || digest != Digest(message) {
		return 0, nil
	}
	e.Code = errs.Code(code)
	a.Error = e
	return e.Code.HTTPStatus(), &a
}

func inboxID(peerID, msgID string) string { return peerID + "/" + msgID }

// identify finds the peer whose key signed the envelope, checks the
// signature and reads the message, inside the write transaction.
func (s *Service) identify(ctx context.Context, tx *store.Tx, env *Envelope) (*Message, *Peer, error) {
	var peerID, pubText string
	err := tx.QueryRow(ctx, "SELECT peer_id, public_key FROM exchange_peer_keys WHERE fingerprint = ?", env.Key).Scan(&peerID, &pubText)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, errs.New(errs.Unauthorized, "unknown_sender", "key", "this registry knows no peer with the key %s", env.Key)
	}
	if err != nil {
		return nil, nil, err
	}
	pub, err := DecodeKey("key", pubText)
	if err != nil {
		return nil, nil, err
	}
	if err := env.Verify(pub); err != nil {
		return nil, nil, err
	}
	m, err := ParseMessage(env.Message)
	if err != nil {
		return nil, nil, err
	}
	pr, err := peerIn(ctx, tx, peerID)
	return m, pr, err
}

// admit runs the rules a new message from an identified peer must meet.
func (s *Service) admit(ctx context.Context, tx *store.Tx, env *Envelope, m *Message, pr *Peer, now time.Time) error {
	var until string
	if err := tx.QueryRow(ctx, "SELECT valid_until FROM exchange_peer_keys WHERE fingerprint = ?", env.Key).Scan(&until); err != nil {
		return err
	}
	if until != "" && until <= ledger.FormatTime(now) {
		return errs.Alertf(errs.Unauthorized, "key_expired", "key", "the key %s of peer %s was valid until %s", env.Key, pr.ID, until)
	}
	if pr.State != PeerActive {
		return errs.Alertf(errs.Forbidden, "peer_suspended", "from", "this registry has suspended the exchange with peer %s", pr.ID)
	}
	if m.From != pr.Jurisdiction {
		return errs.Alertf(errs.Forbidden, "sender", "from", "the key %s is peer %s's, of %s, not of %s", env.Key, pr.ID, pr.Jurisdiction, m.From)
	}
	if m.To != s.jurisdiction {
		return errs.Invalidf("wrong_recipient", "to", "the message is for %s; this registry is %s's", m.To, s.jurisdiction)
	}
	// A peer or a registry of ZZ (registered before ZZ was refused) is of
	// no state: its messages are refused, after the rules above so that a
	// message that claims ZZ for a peer of a state is still the sender's
	// alert.
	if err := check.RealState("from", m.From); err != nil {
		return err
	}
	if err := check.RealState("to", m.To); err != nil {
		return err
	}
	if _, err := ReadSentAt("sent_at", m.SentAt, now); err != nil {
		return err
	}
	if !slices.Contains(pr.ReceivePurposes, m.Purpose) {
		return errs.Alertf(errs.Forbidden, "purpose_not_allowed", "purpose", "this registry does not accept messages from peer %s for the purpose %s", pr.ID, m.Purpose)
	}
	if err := s.Types.Check(m.Module, m.Type, m.Payload); err != nil {
		return err
	}
	return s.Types.Addressed(m.Type, m.Purpose, m.Readers)
}

func (s *Service) storedReceipt(ctx context.Context, env *Envelope) *InboxAnswer {
	var peerID string
	if err := s.DB.Read().QueryRow(ctx, "SELECT peer_id FROM exchange_peer_keys WHERE fingerprint = ?", env.Key).Scan(&peerID); err != nil {
		return nil
	}
	m, err := ParseMessage(env.Message)
	if err != nil {
		return nil
	}
	var a InboxAnswer
	var r, msg string
	if err := s.DB.Read().QueryRow(ctx, "SELECT message, receipt, receipt_key, receipt_signature FROM exchange_inbox WHERE id = ?",
		inboxID(peerID, m.ID)).Scan(&msg, &r, &a.Key, &a.Signature); err != nil {
		return nil
	}
	if msg != env.Message {
		return nil
	}
	a.Receipt = r
	return &a
}
