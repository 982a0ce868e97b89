package ledger_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/custos-project/custos/internal/ledger"
)

// merkleRoot computes an RFC 6962 tree head from leaf hashes, written
// independently of the ledger (which uses transparency-dev/merkle) so the
// test checks it against the specification rather than against itself.
func merkleRoot(leaves [][]byte) []byte {
	switch len(leaves) {
	case 0:
		h := sha256.Sum256(nil)
		return h[:]
	case 1:
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	l, r := merkleRoot(leaves[:k]), merkleRoot(leaves[k:])
	h := sha256.New()
	h.Write([]byte{1})
	h.Write(l)
	h.Write(r)
	return h.Sum(nil)
}

// TestRootText: the root people read is the checkpoint note's own line, so an
// auditor can match it by eye, with the hex earlier output showed.
func TestRootText(t *testing.T) {
	skey, _, err := note.GenerateKey(rand.Reader, "custos/XA")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	root := sha256.Sum256([]byte("a tree"))
	signed, err := ledger.SignCheckpoint(signer, "custos/XA", ledger.Head{Size: 7, Root: root[:]})
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Split(signed, "\n")[2]
	want := line + " (hex " + hex.EncodeToString(root[:]) + ")"
	if got := ledger.RootText(root[:]); got != want {
		t.Errorf("RootText = %q, want %q (the checkpoint's root line %q)", got, want, line)
	}
}
