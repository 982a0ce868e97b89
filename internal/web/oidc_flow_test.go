package web

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// FuzzOIDCFlowCookie feeds the cookie that carries an OIDC sign-in's state
// and PKCE verifier between its two legs (outside input: the browser sends
// it back) to its reader: it never panics, and accepts only what the
// server signed.
func FuzzOIDCFlowCookie(f *testing.F) {
	u := &UI{key: []byte("0123456789abcdef0123456789abcdef")}
	good, _ := json.Marshal(oidcFlow{State: "st", Verifier: "ver", Next: "/account"})
	signed := base64.RawURLEncoding.EncodeToString(good) + "." + u.sign(good)
	f.Add(signed)
	f.Add(signed + "x")
	f.Add("e30.AAAA")
	f.Add("...")
	f.Add("")
	f.Fuzz(func(t *testing.T, value string) {
		r, _ := http.NewRequest("GET", "/signin/oidc/callback", nil)
		r.AddCookie(&http.Cookie{Name: oidcCookie, Value: value})
		if _, ok := u.readFlow(r); !ok {
			return
		}
		// Accepted: without the key, only the payload the server signed. The
		// value is the one the server read: net/http drops the bytes a cookie
		// may not hold (the fuzzer's \xbf in a signed value).
		c, _ := r.Cookie(oidcCookie)
		val, _, _ := strings.Cut(c.Value, ".")
		if b, err := base64.RawURLEncoding.DecodeString(val); err != nil || string(b) != string(good) {
			t.Fatalf("accepted a flow the server did not sign: %q (read as %q)", value, c.Value)
		}
	})
}
