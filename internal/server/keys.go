package server

import (
	"bytes"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/mod/sumdb/note"

	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/privfile"
	"github.com/custos-project/custos/internal/strictjson"
)

// Keys are the secrets of a registry: the master key that wraps personal data
// keys and derives pseudonyms, and the log's checkpoint signing key. They live
// in a file of their own (mode 0600), never in the database.
type Keys struct {
	Master    []byte
	LogSigner string // note signer key "PRIVATE+KEY+name+hash+key"
	LogKey    string // the matching verifier key, published
}

type keyFile struct {
	MasterKey string `json:"master_key"`
	LogSigner string `json:"log_signer"`
	LogKey    string `json:"log_verifier"`
}

// NewKeys generates fresh keys for a log named origin.
func NewKeys(origin string) (*Keys, error) {
	k := &Keys{Master: make([]byte, privacy.KeySize)}
	if _, err := rand.Read(k.Master); err != nil {
		return nil, err
	}
	var err error
	k.LogSigner, k.LogKey, err = note.GenerateKey(rand.Reader, origin)
	return k, err
}

// Derive derives from the master key a 32-byte key of its own for one
// use (HKDF-SHA-256, the use's label as info): the web forms', the
// sessions', the alert repeat counts'. Every server of a registry derives
// the same.
func (k *Keys) Derive(label string) []byte {
	key, err := hkdf.Key(sha256.New, k.Master, nil, label, 32)
	if err != nil {
		// Only a length HKDF cannot give; 32 bytes it always can.
		panic("server: derive " + label + ": " + err.Error())
	}
	return key
}

// Equal tells whether k and o are the same keys.
func (k *Keys) Equal(o *Keys) bool {
	return bytes.Equal(k.Master, o.Master) && k.LogSigner == o.LogSigner && k.LogKey == o.LogKey
}

// LoadKeys reads a key file as Save wrote it (strictjson): a key given
// twice or in another case, in a file edited by hand, is refused rather
// than read as encoding/json would (the last of two, "MASTER_KEY" for
// master_key).
func LoadKeys(path string) (*Keys, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		// A registry restored or copied without its key file lands here:
		// say where custos looked and where the key is, not just ENOENT.
		return nil, fmt.Errorf("no key file at %s (%w): give the registry's own (--key-file or CUSTOS_KEY_FILE; a SQLite registry's is its path + .key), copied from its own backup if need be: a database backup holds no keys (docs/operations.md, The key file)", path, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	return parseKeys(path, b)
}

// parseKeys reads the text b of the key file at path (named in a refusal).
func parseKeys(path string, b []byte) (*Keys, error) {
	var f keyFile
	if err := strictjson.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("key file %s is not valid: %w", path, err)
	}
	m, err := base64.StdEncoding.DecodeString(f.MasterKey)
	if err != nil || len(m) != privacy.KeySize {
		return nil, fmt.Errorf("key file %s: master_key must be %d bytes in base64", path, privacy.KeySize)
	}
	signer, err := note.NewSigner(f.LogSigner)
	if err != nil {
		return nil, fmt.Errorf("key file %s: log_signer: %w", path, err)
	}
	// The verifier key is the one custos init writes beside the signer, and
	// the one the database records (ledger.Init; checked again when a
	// server opens it): a verifier of another key, edited in by hand, would
	// have the log signed by one key and checked against another.
	verifier, err := note.NewVerifier(f.LogKey)
	if err != nil {
		return nil, fmt.Errorf("key file %s: log_verifier: %w", path, err)
	}
	msg, err := note.Sign(&note.Note{Text: "custos key file check\n"}, signer)
	if err == nil {
		_, err = note.Open(msg, note.VerifierList(verifier))
	}
	if err != nil {
		return nil, fmt.Errorf("key file %s: log_verifier: it is not the verifier key of log_signer (%s)", path, verifier.Name())
	}
	return &Keys{Master: m, LogSigner: f.LogSigner, LogKey: f.LogKey}, nil
}

// Save writes the key file with mode 0600, refusing to overwrite one. The
// file appears whole or not at all: it is written and synced under a
// temporary name, then linked into place (which fails if the name exists), so
// a concurrent custos init never reads half a key file.
func (k *Keys) Save(path string) error {
	b, err := k.file()
	if err != nil {
		return err
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("key file %s already exists; custos never overwrites keys", path)
	}
	err = privfile.Write(path, ".custos-key-*", b, os.Link)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("key file %s already exists; custos never overwrites keys", path)
	}
	return err
}

// file is the text of the key file of k, as Save writes it.
func (k *Keys) file() ([]byte, error) {
	return json.MarshalIndent(keyFile{MasterKey: base64.StdEncoding.EncodeToString(k.Master), LogSigner: k.LogSigner, LogKey: k.LogKey}, "", "  ")
}
