package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// ---- The statistics pages' notices: what a form just did ----
//
// A page says what its form just did (an import done, a file imported
// already, an import withdrawn, a mapping version published) only when the
// server did it: the form's answer redirects to the page with a notice
// signed with the registry's form key for the principal who submitted the
// form, and the page builds the message from the notice and the registry's
// state (the import's real counts, whether it is still counted). A query
// string naming an import (?done=SI-…) says nothing: otherwise anyone who
// reads the imports could call up "Imported …" or "Nothing imported …" for
// any of them, and show it as a form's answer. The notice is in the
// address, not kept by the server, so that the page after the form says it
// whichever of a registry's servers answers it (the key is derived from the
// registry's key file, which they share).

// noticeTTL is how long a notice is shown: its page may be reloaded.
const noticeTTL = time.Hour

// The kinds of notice.
const (
	noticeImported  = "imported"  // an import was stored and logged
	noticeUnchanged = "unchanged" // the file was imported already: nothing done
	noticeWithdrawn = "withdrawn" // an import was withdrawn
	noticePublished = "published" // a mapping version was published
)

// notice is what a form did: its kind, and the import or mapping it did it
// to (with the version published).
type notice struct {
	Kind    string `json:"k"`
	ID      string `json:"i"`
	Version int    `json:"v,omitempty"`
	At      int64  `json:"t"` // Unix seconds
}

// notice signs n for s's principal, for the redirect's query (notice=…).
func (s *Session) notice(n notice) string {
	n.At = s.ui.now().Unix()
	b, _ := json.Marshal(n)
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + s.noticeMAC(payload)
}

// readNotice is the notice of token, when it was signed for s's principal
// within the last noticeTTL.
func (s *Session) readNotice(token string) (notice, bool) {
	payload, mac, ok := strings.Cut(token, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(s.noticeMAC(payload))) {
		return notice{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	var n notice
	if err != nil || json.Unmarshal(b, &n) != nil {
		return notice{}, false
	}
	if age := s.ui.now().Sub(time.Unix(n.At, 0)); age < 0 || age > noticeTTL {
		return notice{}, false
	}
	return n, true
}

func (s *Session) noticeMAC(payload string) string {
	m := hmac.New(sha256.New, s.ui.key)
	m.Write([]byte("custos page notice\x00"))
	m.Write([]byte(s.P.ID))
	m.Write([]byte{0})
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
