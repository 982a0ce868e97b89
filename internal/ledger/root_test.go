package ledger_test

import "crypto/sha256"

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
