package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// RowMAC is the HMAC-SHA-256 (hex) under key of a row kept outside the log
// (web sessions, the e-mail outbox, retroactive matching's windows): the
// label, then each column's length and bytes, in order, so that no two
// rows share one. Whoever can write the database but lacks the key file,
// from whose master key each such key is derived, cannot make one.
func RowMAC(key []byte, label string, columns ...string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	for _, v := range columns {
		fmt.Fprintf(m, "%d:%s", len(v), v)
	}
	return hex.EncodeToString(m.Sum(nil))
}
