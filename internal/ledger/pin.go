package ledger

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/custos-project/custos/internal/store"
)

// Fingerprint is how a public key is shown to be compared out of band (read
// over the telephone, printed in an official journal): SHA256: and the hex
// digest of the key's bytes, in groups of four.
func Fingerprint(pub []byte) string {
	h := sha256.Sum256(pub)
	x := hex.EncodeToString(h[:])
	parts := make([]string, 0, len(x)/4)
	for i := 0; i < len(x); i += 4 {
		parts = append(parts, x[i:i+4])
	}
	return "SHA256:" + strings.Join(parts, ":")
}

// KeyFingerprint is the fingerprint of the Ed25519 public key inside a note
// verifier key ("name+hash+base64"): what custos init prints for the
// operator to publish, and what log verify --key-fingerprint compares.
func KeyFingerprint(verifierKey string) (string, error) {
	parts := strings.SplitN(strings.TrimSpace(verifierKey), "+", 3)
	if len(parts) != 3 {
		return "", errors.New("a verifier key is name+hash+key")
	}
	b, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(b) != 33 || (b[0] != 1 && b[0] != 4) {
		return "", errors.New("the key of a verifier key is base64 of an Ed25519 public key")
	}
	return Fingerprint(b[1:]), nil
}

// CheckVerifierKey tells whether key is a log's verifier key as custos
// writes it (name+hash+key, the hash the name's and the key's, the key an
// Ed25519 public key), or what is wrong with it.
func CheckVerifierKey(key string) error {
	if _, err := KeyFingerprint(key); err != nil {
		return err
	}
	if _, err := note.NewVerifier(strings.TrimSpace(key)); err != nil {
		return fmt.Errorf("not a verifier key: %w", err)
	}
	return nil
}

// WellFormedFingerprint tells whether s is a fingerprint as Fingerprint
// writes it, or as people copy it: SHA256: (optional, any case) and 64 hex
// digits, grouped by colons or spaces or not.
func WellFormedFingerprint(s string) bool {
	s = normFingerprint(s)
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func normFingerprint(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "sha256:")
	return strings.NewReplacer(":", "", " ", "").Replace(s)
}

// SameFingerprint compares two fingerprints as people write them: the
// SHA256: prefix, the colons and the case are optional.
func SameFingerprint(a, b string) bool {
	return normFingerprint(a) != "" && normFingerprint(a) == normFingerprint(b)
}

// RecordedKey reads the verifier key the log's first leaf recorded (the
// settings the registry.initialized leaf projects). It says what the
// database claims; an auditor pins the key they hold (VerifyOptions).
func RecordedKey(ctx context.Context, q store.Queryer) (string, error) {
	var key string
	err := q.QueryRow(ctx, "SELECT value FROM settings WHERE name = 'log_key'").Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errors.New("the log's verifier key is not recorded: the database is not initialised (run custos init)")
	}
	if err != nil {
		return "", fmt.Errorf("read the log's verifier key: %w", err)
	}
	return key, nil
}

// firstLeafSettings reads the origin and verifier key that the log's first
// leaf (registry.initialized) records, of which the settings rows are a
// projection, so that verify pins the log's key, not a row that whoever can
// write the database could change alone. ok is false where the leaf is
// missing, is not a registry.initialized entry or is not its stored hash's:
// verify then reads the settings, and its check of the leaves says what
// became of the leaf.
func firstLeafSettings(ctx context.Context, q store.Queryer) (d Initialized, ok bool) {
	var hash, data []byte
	if err := q.QueryRow(ctx, "SELECT hash, data FROM log_leaves WHERE idx = 0").Scan(&hash, &data); err != nil {
		return Initialized{}, false
	}
	if !equalHash(hash, LeafHash(data)) {
		return Initialized{}, false
	}
	e, err := decodeEntry(data)
	if err != nil || e.Type != TypeInitialized {
		return Initialized{}, false
	}
	if err := e.Decode(&d); err != nil || d.Origin == "" || d.LogKey == "" {
		return Initialized{}, false
	}
	return d, true
}

// RootAt computes the root of the tree of the first size leaves from the
// stored subtree hashes: what a witness that saw the log at that size
// compares with the root it kept.
func RootAt(ctx context.Context, q store.Queryer, size uint64) ([]byte, error) {
	rng, err := rangeOf(ctx, q, size)
	if err != nil {
		return nil, err
	}
	return rng.GetRootHash(nil)
}

// signatureError says precisely why a signed checkpoint did not open with
// the verifier: not a signed note at all, a signature line that is not a
// signature, a signature by the key that does not match the text (the
// checkpoint was altered), or signatures by other keys only (the log was
// re-signed with another key). It returns nil when the note opens.
func signatureError(signed string, v note.Verifier) error {
	_, err := note.Open([]byte(signed), note.VerifierList(v))
	if err == nil {
		return nil
	}
	var invalid *note.InvalidSignatureError
	var unverified *note.UnverifiedNoteError
	switch {
	case errors.As(err, &invalid):
		return fmt.Errorf("the checkpoint's signature by %s does not verify: its text or its signature was altered after it was signed", invalid.Name)
	case errors.As(err, &unverified):
		var others []string
		for _, s := range unverified.Note.UnverifiedSigs {
			others = append(others, fmt.Sprintf("%s (key hash %08x)", s.Name, s.Hash))
		}
		return fmt.Errorf("the checkpoint is not signed by the key %s+%08x: it carries signatures by %s only (was the log re-signed with another key?)",
			v.Name(), v.KeyHash(), strings.Join(others, ", "))
	}
	i := strings.LastIndex(signed, "\n\n")
	if i < 0 {
		return errors.New("the checkpoint is not a signed note (no blank line between its text and its signatures)")
	}
	sigs := signed[i+2:]
	for _, line := range strings.Split(strings.TrimSuffix(sigs, "\n"), "\n") {
		name, b64, _ := strings.Cut(strings.TrimPrefix(line, "\u2014 "), " ")
		raw, derr := base64.StdEncoding.DecodeString(b64)
		if !strings.HasPrefix(line, "\u2014 ") || name == "" || derr != nil || len(raw) < 5 {
			return fmt.Errorf("the checkpoint's signature line %q is not a signature (a signed-note signature is \u2014 name base64): the signature was altered", line)
		}
	}
	return fmt.Errorf("the checkpoint is not a well-formed signed note: %v", err)
}
