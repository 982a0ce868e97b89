package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ---- Notices: what a form just did ----
//
// A page says what its form just did (a case opened, a report received, an
// import done, a right erased) only when the server did it. The form's
// answer redirects to the page with a notice (?notice=…): what the form did,
// the page it is for, and when, signed with the registry's form key for the
// principal who submitted the form. The page builds its message from the
// notice alone, never from the rest of the query string, and from the
// registry's state where the notice names a record (the record must still be
// there and readable by whoever reads the page). An address edited by hand
// (?done=…, a notice altered, another page's notice, another principal's)
// says nothing: otherwise a crafted link could show "Report received" for a
// report never received, or any form's answer for any record. The notice is
// in the address, not kept by the server, so that the page after the form
// says it whichever of a registry's servers answers it, and after a restart
// (the key is derived from the registry's key file, which they share). The
// language switch comes back to the address, notice included, and the page
// says it again in the new language. Why the sign-in page is shown is no
// notice (no one is signed in to sign it for) and is not in the address:
// custos's redirect carries it in a cookie the page reads once
// (ReasonCookie), and it only picks one of the page's fixed messages
// (signInReasons).

// noticeTTL is how long a notice is shown: its page may be reloaded.
const noticeTTL = time.Hour

// noticeParam is the query parameter that carries a notice. A list page
// drops it from the filters it reads (listFilter, nextPage, Downloads).
const noticeParam = "notice"

// notice is what a form did (Done: its kind in "done", and the records it
// names), the path of the page it is for, and when.
type notice struct {
	Path string     `json:"p"`
	Done url.Values `json:"d"`
	At   int64      `json:"t"` // Unix seconds
}

// RedirectDone answers a form that succeeded: 303 See Other to target (a
// path, with its own query and fragment when it has them) with a notice of
// what the form did (done: its kind in "done", and whatever records the
// message names), signed for s's principal. The page reads it with Notice.
func (s *Session) RedirectDone(w http.ResponseWriter, r *http.Request, target string, done url.Values) {
	target, fragment, hasFragment := strings.Cut(target, "#")
	path, query, _ := strings.Cut(target, "?")
	q, _ := url.ParseQuery(query)
	q.Set(noticeParam, s.notice(path, done))
	target = path + "?" + q.Encode()
	if hasFragment {
		target += "#" + fragment
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// notice signs done for s's principal and the page at path.
func (s *Session) notice(path string, done url.Values) string {
	if p, err := url.PathUnescape(path); err == nil {
		path = p
	}
	b, _ := json.Marshal(notice{Path: path, Done: done, At: s.ui.now().Unix()})
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + s.noticeMAC(payload)
}

// Notice is what the form whose answer led to r did: the values of r's
// notice, when it was signed for s's principal and r's page within the last
// noticeTTL; none (an empty set, whose Get is "") otherwise. A page that
// shows a message naming a record checks the record against the registry
// before it says anything.
func (s *Session) Notice(r *http.Request) url.Values {
	token := r.URL.Query().Get(noticeParam)
	payload, mac, ok := strings.Cut(token, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(s.noticeMAC(payload))) {
		return url.Values{}
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	var n notice
	if err != nil || json.Unmarshal(b, &n) != nil || n.Path != r.URL.Path {
		return url.Values{}
	}
	if age := s.ui.now().Sub(time.Unix(n.At, 0)); age < 0 || age > noticeTTL {
		return url.Values{}
	}
	if n.Done == nil {
		return url.Values{}
	}
	return n.Done
}

func (s *Session) noticeMAC(payload string) string {
	m := hmac.New(sha256.New, s.ui.key)
	m.Write([]byte("custos page notice\x00"))
	m.Write([]byte(s.P.ID))
	m.Write([]byte{0})
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
