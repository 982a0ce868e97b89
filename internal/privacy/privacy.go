// Package privacy keeps personal data apart from the records: names and national
// identifiers are sealed with AES-256-GCM under a key of their own per subject,
// that key wrapped by the master key, and stored in the subjects table, never in
// the log. Records and log leaves carry only a subject reference and a keyed
// pseudonym (HMAC-SHA-256), so records about one person link without revealing
// who. Deleting a subject's row erases them (crypto-shredding) and leaves the log
// intact.
package privacy

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// KeySize is the length of the master key in bytes.
const KeySize = 32

// Vault seals and opens personal data and computes pseudonyms.
type Vault struct {
	wrap   cipher.AEAD // wraps per-subject keys
	pseudo []byte      // HMAC key for pseudonyms
	blind  []byte      // HMAC key for blind indexes
	// Rand is where subject keys and nonces come from: crypto/rand when
	// nil. Only the golden log's generator sets it, so that the sealed
	// rows, and the commitments its leaves carry, are the same each run.
	Rand io.Reader
}

// NewVault derives the wrapping and pseudonym keys from the master key.
func NewVault(master []byte) (*Vault, error) {
	if len(master) != KeySize {
		return nil, fmt.Errorf("master key must be %d bytes, got %d", KeySize, len(master))
	}
	wk, err := hkdf.Key(sha256.New, master, nil, "custos subject key wrapping v1", 32)
	if err != nil {
		return nil, err
	}
	pk, err := hkdf.Key(sha256.New, master, nil, "custos pseudonyms v1", 32)
	if err != nil {
		return nil, err
	}
	bk, err := hkdf.Key(sha256.New, master, nil, "custos blind indexes v1", 32)
	if err != nil {
		return nil, err
	}
	a, err := newGCM(wk)
	if err != nil {
		return nil, err
	}
	return &Vault{wrap: a, pseudo: pk, blind: bk}, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Pseudonym returns a stable keyed pseudonym for a value in a namespace, e.g.
// ("national-id:XA", "123456789"). Values are normalised (trimmed, upper-cased,
// inner spaces removed) so that the same identifier typed twice links.
func (v *Vault) Pseudonym(namespace, value string) string {
	m := hmac.New(sha256.New, v.pseudo)
	m.Write([]byte(namespace))
	m.Write([]byte{0})
	m.Write([]byte(strings.ToUpper(strings.Join(strings.Fields(value), ""))))
	return "PS-" + b32.EncodeToString(m.Sum(nil)[:15])
}

// Person is the personal data of a donor or recipient.
type Person struct {
	Name       string `json:"name"`
	NationalID string `json:"national_id,omitempty"`
}

func (v *Vault) random(b []byte) error {
	if v.Rand != nil {
		_, err := io.ReadFull(v.Rand, b)
		return err
	}
	_, err := rand.Read(b)
	return err
}

func (v *Vault) seal(a cipher.AEAD, plain, ad []byte) ([]byte, error) {
	nonce := make([]byte, a.NonceSize())
	if err := v.random(nonce); err != nil {
		return nil, err
	}
	return a.Seal(nonce, nonce, plain, ad), nil
}

func open(a cipher.AEAD, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < a.NonceSize() {
		return nil, errors.New("sealed data too short")
	}
	return a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], ad)
}

// Store seals p under a new subject key and writes it under ref in the
// transaction. The reference is bound into the ciphertext, so a sealed row
// moved to another subject does not open. It returns the commitment to the
// row, for the command's entry (ledger.Entry.Sealed): the log commits to
// the sealed bytes, never to the value.
func (v *Vault) Store(ctx context.Context, q store.Queryer, ref string, p Person, now time.Time) (ledger.Sealed, error) {
	return v.Seal(ctx, q, ref, p, now)
}

// Seal seals any personal data (the JSON of data) under a new subject key
// and writes it under ref in the transaction, as Store does for a person:
// a confidential report's free text, the identity of its reporter. It
// returns the row's commitment, as Store does.
//
// In a command's Decide, the writer checks once the entry is projected
// that the entry carries the commitment (ledger.AfterProject): a Decide
// that forgot to put it in Entry.Sealed fails at its first run, naming
// the entry type, rather than leaving a row that log verify could only
// note as written before commitments were logged. Outside a Decide (a
// test, a migration's fixture) nothing checks it.
func (v *Vault) Seal(ctx context.Context, q store.Queryer, ref string, data any, now time.Time) (ledger.Sealed, error) {
	plain, err := json.Marshal(data)
	if err != nil {
		return ledger.Sealed{}, err
	}
	wrapped, sealed, err := v.SealRow(ref, plain)
	if err != nil {
		return ledger.Sealed{}, err
	}
	c := ledger.Sealed{Ref: ref, Commitment: ledger.SealCommitment(wrapped, sealed)}
	if err := ledger.AfterProject(ctx, carries(c)); err != nil && !errors.Is(err, ledger.ErrNotDeciding) {
		return ledger.Sealed{}, err
	}
	if _, err = q.Exec(ctx, "INSERT INTO subjects (ref, wrapped_key, sealed, created_at) VALUES (?, ?, ?, ?)",
		ref, wrapped, sealed, now.UTC().Format(time.RFC3339)); err != nil {
		return ledger.Sealed{}, err
	}
	return c, nil
}

// carries is the check Seal has the writer run once the command's entry is
// projected: the entry must carry the commitment to the row it sealed.
func carries(c ledger.Sealed) ledger.AfterCheck {
	return func(ctx context.Context, q store.Queryer, e *ledger.Entry) error {
		for _, s := range e.Sealed {
			if s == c {
				return nil
			}
		}
		return fmt.Errorf("privacy: entry type %s sealed personal data under %s but does not carry its commitment: put what Vault.Seal returned in Entry.Sealed", e.Type, c.Ref)
	}
}

// SealRow seals plain under a new key of its own for ref, that key wrapped
// by the master key, both bound to ref, and returns them without storing
// them: for personal data a module keeps in its own rows, too many for the
// subjects table and a commitment each in an entry (the beneficial
// ownership statements of persons, committed to by the digests of their
// import's chunks over ledger.SealCommitment). Deleting the wrapped key
// erases the value.
func (v *Vault) SealRow(ref string, plain []byte) (wrapped, sealed []byte, err error) {
	key := make([]byte, 32)
	if err := v.random(key); err != nil {
		return nil, nil, err
	}
	a, err := newGCM(key)
	if err != nil {
		return nil, nil, err
	}
	if sealed, err = v.seal(a, plain, []byte(ref)); err != nil {
		return nil, nil, err
	}
	if wrapped, err = v.seal(v.wrap, key, []byte(ref)); err != nil {
		return nil, nil, err
	}
	return wrapped, sealed, nil
}

// OpenRow opens what SealRow sealed for ref.
func (v *Vault) OpenRow(ref string, wrapped, sealed []byte) ([]byte, error) {
	key, err := open(v.wrap, wrapped, []byte(ref))
	if err != nil {
		return nil, fmt.Errorf("subject %s: cannot unwrap its key (wrong master key or altered row)", ref)
	}
	a, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	plain, err := open(a, sealed, []byte(ref))
	if err != nil {
		return nil, fmt.Errorf("subject %s: personal data does not open (altered row)", ref)
	}
	return plain, nil
}

// ErrErased is returned for a subject whose personal data was erased.
var ErrErased = errs.New(errs.NotFound, "subject_erased", "", "the personal data of this subject was erased")

// Load opens the personal data stored under ref.
func (v *Vault) Load(ctx context.Context, q store.Queryer, ref string) (Person, error) {
	var p Person
	return p, v.Open(ctx, q, ref, &p)
}

// Open opens the personal data sealed under ref into out, as Load does for
// a person. It records nothing: callers log the read first
// (RecordRead).
func (v *Vault) Open(ctx context.Context, q store.Queryer, ref string, out any) error {
	var wrapped, sealed []byte
	err := q.QueryRow(ctx, "SELECT wrapped_key, sealed FROM subjects WHERE ref = ?", ref).Scan(&wrapped, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrErased
	}
	if err != nil {
		return err
	}
	plain, err := v.OpenRow(ref, wrapped, sealed)
	if err != nil {
		return err
	}
	return json.Unmarshal(plain, out)
}

// Erase deletes a subject's sealed data and key; the records keep their
// pseudonyms and the log stays whole. Callers are commands whose entry
// names ref in ledger.Entry.Erased (erasure.go), so that log verify tells
// the missing row from a deleted one.
func (v *Vault) Erase(ctx context.Context, q store.Queryer, ref string) error {
	_, err := q.Exec(ctx, "DELETE FROM subjects WHERE ref = ?", ref)
	return err
}
