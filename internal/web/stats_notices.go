package web

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// ---- The statistics pages' notices: what a form just did ----
//
// A page says what its form just did (an import done, a file imported
// already, an import withdrawn, a mapping version published) only when the
// server did it: the form's answer redirects to the page with the token of
// a notice kept here, for the principal who submitted the form, and the
// page builds the message from the notice and the registry's state (the
// import's real counts, whether it is still counted). A query string
// naming an import (?done=SI-…) says nothing: otherwise anyone who reads
// the imports could call up "Imported …" or "Nothing imported …" for any of
// them, and show it as a form's answer.

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
	owner   string // the principal who submitted the form: no one else sees it
	kind    string
	id      string
	version int
	at      time.Time
}

// statsNotices are the notices of the last hour, by token.
type statsNotices struct {
	mu sync.Mutex
	m  map[string]notice
}

func newStatsNotices() *statsNotices { return &statsNotices{m: map[string]notice{}} }

// add keeps a notice for its owner and returns its token, for the
// redirect's query (notice=…).
func (ns *statsNotices) add(n notice) string {
	var b [16]byte
	rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	n.at = time.Now()
	ns.mu.Lock()
	defer ns.mu.Unlock()
	for k, old := range ns.m {
		if time.Since(old.at) > noticeTTL {
			delete(ns.m, k)
		}
	}
	ns.m[token] = n
	return token
}

// get is the notice of a token, when it is owner's and of the last hour.
func (ns *statsNotices) get(token, owner string) (notice, bool) {
	if token == "" {
		return notice{}, false
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	n, ok := ns.m[token]
	if !ok || n.owner != owner || time.Since(n.at) > noticeTTL {
		return notice{}, false
	}
	return n, true
}
