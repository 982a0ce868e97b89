// Package exchange is the channel between custos deployments: the peer
// registries this one trusts (jurisdiction, address, ed25519 keys, the
// purposes each may send and receive), the messages a module hands the core to
// send, signed and recorded in the log, delivered over HTTPS until the peer
// answers with a signed receipt, and the messages received from peers, kept
// with their purpose and the sender's consent to onward sharing. Registry
// modules declare their message types (Type) with a JSON schema for the
// payload; the package knows nothing of any registry.
package exchange

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/strictjson"
)

// Version is the protocol version of messages and receipts this binary writes
// and reads.
const Version = 1

// The prefixes signed before a message's or a receipt's bytes, so that no
// signature of one kind can be taken for the other, nor for anything else the
// key might sign.
const (
	messageDomain = "custos-exchange-message/v1\n"
	receiptDomain = "custos-exchange-receipt/v1\n"
)

// MaxMessage is the largest signed message the inbox reads, in bytes.
const MaxMessage = 1 << 20

// Message is what one deployment sends another: signed as the exact bytes
// carried in Envelope.Message.
type Message struct {
	V  int    `json:"v"`
	ID string `json:"id"`
	// From and To are the jurisdictions (ISO 3166-1 alpha-2) of the sending
	// and the receiving registry.
	From   string `json:"from"`
	To     string `json:"to"`
	Module string `json:"module"`
	Type   string `json:"type"`
	// Purpose is what the receiver may use the message for, and LegalBasis
	// the instrument the sender relies on.
	Purpose    string `json:"purpose"`
	LegalBasis string `json:"legal_basis"`
	// Notice is the data-protection notice that travels with the data.
	Notice string `json:"notice"`
	// Readers are the roles on the receiving side that may read the payload.
	Readers []string `json:"readers"`
	// OnwardSharing is the sender's consent to the receiver forwarding the
	// message to a third registry (for the same purpose).
	OnwardSharing bool   `json:"onward_sharing"`
	SentAt        string `json:"sent_at"`
	// ForwardOf names the received message this one forwards, as
	// "<sender jurisdiction>/<message id>", when it is a forward.
	ForwardOf string          `json:"forward_of,omitempty"`
	Payload   json.RawMessage `json:"payload"`
}

// Envelope is a signed message as it travels: the message's JSON text as a
// string (so that no re-encoding along the way changes the bytes signed),
// the fingerprint of the key that signed them, and the signature.
type Envelope struct {
	Message   string `json:"message"`
	Key       string `json:"key"`
	Signature string `json:"signature"`
}

// Receipt is the receiver's answer: the message received, or refused and why.
type Receipt struct {
	V         int    `json:"v"`
	MessageID string `json:"message_id"`
	// MessageSHA256 is the hex SHA-256 of the message's bytes as received.
	MessageSHA256 string `json:"message_sha256"`
	// From is the jurisdiction of the registry that answers, To the sender's.
	From    string `json:"from"`
	To      string `json:"to"`
	Outcome string `json:"outcome"`
	Rule    string `json:"rule,omitempty"`
	Field   string `json:"field,omitempty"`
	Reason  string `json:"reason,omitempty"`
	At      string `json:"at"`
}

// Receipt outcomes.
const (
	Received = "received"
	Refused  = "refused"
)

// SignedReceipt is a receipt as it travels and as both sides keep it.
type SignedReceipt struct {
	Receipt   string `json:"receipt"`
	Key       string `json:"key"`
	Signature string `json:"signature"`
}

// Fingerprint is how a public key is shown to be compared out of band:
// SHA256: and the hex digest of the key, in groups of four.
func Fingerprint(pub ed25519.PublicKey) string { return ledger.Fingerprint(pub) }

// EncodeKey writes a public key as it is exchanged: base64 of its 32 bytes.
func EncodeKey(pub ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(pub) }

// DecodeKey reads a public key written by EncodeKey (rule public_key).
func DecodeKey(field, s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errs.Invalidf("public_key", field, "%s must be an ed25519 public key: %d bytes in base64", field, ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// DeriveKey derives the registry's exchange signing key of a generation from
// its master key (HKDF-SHA-256). Rotating the key moves to the next
// generation; the master key file stays as it is.
func DeriveKey(master []byte, generation int64) (ed25519.PrivateKey, error) {
	seed, err := hkdf.Key(sha256.New, master, nil, fmt.Sprintf("custos exchange key v1 generation %d", generation), ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// Seal signs a message with key and returns its envelope.
func Seal(m *Message, key ed25519.PrivateKey) (*Envelope, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return &Envelope{Message: string(b), Key: Fingerprint(key.Public().(ed25519.PublicKey)),
		Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(key, append([]byte(messageDomain), b...)))}, nil
}

// SealReceipt signs a receipt with key.
func SealReceipt(r *Receipt, key ed25519.PrivateKey) (*SignedReceipt, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return &SignedReceipt{Receipt: string(b), Key: Fingerprint(key.Public().(ed25519.PublicKey)),
		Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(key, append([]byte(receiptDomain), b...)))}, nil
}

// Verify checks the envelope's signature with pub (rule bad_signature).
func (e *Envelope) Verify(pub ed25519.PublicKey) error {
	return verify(pub, messageDomain, e.Message, e.Signature)
}

// Verify checks the receipt's signature with pub (rule bad_signature).
func (r *SignedReceipt) Verify(pub ed25519.PublicKey) error {
	return verify(pub, receiptDomain, r.Receipt, r.Signature)
}

func verify(pub ed25519.PublicKey, domain string, b string, sig string) error {
	s, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(s) != ed25519.SignatureSize || !ed25519.Verify(pub, []byte(domain+b), s) {
		return errs.Alertf(errs.Unauthorized, "bad_signature", "signature", "the signature does not verify with the key %s", Fingerprint(pub))
	}
	return nil
}

var (
	idRE      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	tokenRE   = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)
	countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
	fpRE      = regexp.MustCompile(`^SHA256:[0-9a-f]{4}(:[0-9a-f]{4}){15}$`)
)

// ParseEnvelope reads an envelope as the inbox receives it: at most
// MaxMessage bytes of JSON, no unknown field, a message that is one JSON
// object, a key fingerprint and a base64 signature of the right size. It
// does not verify the signature (that needs the sender's key) nor read the
// message: ParseMessage does, once the signature holds.
func ParseEnvelope(b []byte) (*Envelope, error) {
	if len(b) > MaxMessage {
		return nil, errs.New(errs.TooLarge, "too_large", "message", "a message is at most %d bytes", MaxMessage)
	}
	var e Envelope
	if err := strict(b, &e); err != nil {
		return nil, errs.New(errs.Malformed, "malformed", "envelope", "the envelope is not valid: %v", err)
	}
	if len(e.Message) == 0 || e.Message[0] != '{' {
		return nil, errs.New(errs.Malformed, "malformed", "message", "message must be the text of a JSON object")
	}
	if !fpRE.MatchString(e.Key) {
		return nil, errs.New(errs.Malformed, "malformed", "key", "key must be a key fingerprint SHA256:xxxx:…")
	}
	if s, err := base64.StdEncoding.DecodeString(e.Signature); err != nil || len(s) != ed25519.SignatureSize {
		return nil, errs.New(errs.Malformed, "malformed", "signature", "signature must be %d bytes in base64", ed25519.SignatureSize)
	}
	return &e, nil
}

// ParseMessage reads the signed bytes of a message strictly and checks the
// fields every message must have, whatever its type.
func ParseMessage(b string) (*Message, error) {
	var m Message
	if err := strict([]byte(b), &m); err != nil {
		return nil, errs.New(errs.Malformed, "malformed", "message", "the message is not valid: %v", err)
	}
	if m.V != Version {
		return nil, errs.Invalidf("version", "v", "this registry reads exchange messages of version %d, not %d", Version, m.V)
	}
	for _, f := range []struct{ name, v string }{{"from", m.From}, {"to", m.To}} {
		if !countryRE.MatchString(f.v) {
			return nil, errs.Invalidf("jurisdiction", f.name, "%s must be an ISO 3166-1 alpha-2 code", f.name)
		}
	}
	if !idRE.MatchString(m.ID) {
		return nil, errs.Invalidf("id", "id", "id must be 1 to 64 letters, digits, - or _")
	}
	if !tokenRE.MatchString(m.Purpose) {
		return nil, errs.Invalidf("purpose", "purpose", "purpose must be a lower-case name")
	}
	if !tokenRE.MatchString(m.Module) || !strings.HasPrefix(m.Type, m.Module+".") {
		return nil, errs.Invalidf("type", "type", "type must be a message type of the module named in module")
	}
	if len(m.Payload) == 0 || m.Payload[0] != '{' {
		return nil, errs.Invalidf("schema", "payload", "payload must be a JSON object")
	}
	for i, r := range m.Readers {
		if !tokenRE.MatchString(r) {
			return nil, errs.Invalidf("readers", fmt.Sprintf("readers[%d]", i), "readers must be role names")
		}
	}
	return &m, nil
}

// ParseReceipt reads a signed receipt's bytes strictly.
func ParseReceipt(b string) (*Receipt, error) {
	var r Receipt
	if err := strict([]byte(b), &r); err != nil {
		return nil, errs.New(errs.Malformed, "malformed", "receipt", "the receipt is not valid: %v", err)
	}
	if r.V != Version || (r.Outcome != Received && r.Outcome != Refused) {
		return nil, errs.New(errs.Malformed, "malformed", "receipt", "the receipt is not a version %d receipt with an outcome", Version)
	}
	return &r, nil
}

// Digest is the hex SHA-256 of a message's bytes, as receipts name it.
func Digest(b string) string {
	h := sha256.Sum256([]byte(b))
	return hex.EncodeToString(h[:])
}

// strict reads a message, an envelope or a receipt as its sender's custos
// wrote it: strictjson refuses a key in another case, a key given twice (at
// any depth, the payload's included, so that the schema check and the
// module reading the payload see one value for each key), bytes that are
// not UTF-8 and anything after the object, naming the rule and the field.
func strict(b []byte, v any) error {
	return strictjson.Unmarshal(b, v)
}
