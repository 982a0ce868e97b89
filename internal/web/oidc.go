package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
)

// OIDC is the sign-in through the deployment's OpenID Connect identity
// provider: the authorization code flow with PKCE (RFC 7636). The browser
// goes to the provider (GET /signin/oidc), signs in there, and comes back
// with a code (GET /signin/oidc/callback) that custos exchanges, with the
// PKCE verifier only it holds, for the ID token; the provider's claims
// then give the principal (auth.Authorities.SignInOIDC) and a session
// starts as after a sign-in with a token.
//
// The provider's discovery document is read when the server starts and, if
// the provider did not answer then, at each sign-in through it until it
// does: an identity provider down at a reboot leaves sign-in with tokens,
// and the API, working.
type OIDC struct {
	Config *auth.OIDCConfig
	client *http.Client

	mu sync.Mutex
	rp rp.RelyingParty // nil until the discovery document is read
}

// NewOIDC reads the provider's discovery document (its endpoints and
// keys) at cfg.Issuer, with client (http.DefaultClient when nil). It
// returns the OIDC sign-in even when the provider does not answer, with
// the error, and reads the document again at the next sign-in.
func NewOIDC(ctx context.Context, cfg *auth.OIDCConfig, client *http.Client) (*OIDC, error) {
	o := &OIDC{Config: cfg, client: client}
	_, err := o.party(ctx)
	return o, err
}

// oidcDiscoveryTimeout bounds one reading of the discovery document.
const oidcDiscoveryTimeout = 10 * time.Second

// party is the relying party, the discovery document read now if it was
// not read before.
func (o *OIDC) party(ctx context.Context) (rp.RelyingParty, error) {
	o.mu.Lock()
	party := o.rp
	o.mu.Unlock()
	if party != nil {
		return party, nil
	}
	opts := []rp.Option{rp.WithVerifierOpts(rp.WithIssuedAtOffset(time.Minute))}
	if o.client != nil {
		opts = append(opts, rp.WithHTTPClient(o.client))
	}
	ctx, cancel := context.WithTimeout(ctx, oidcDiscoveryTimeout)
	defer cancel()
	cfg := o.Config
	party, err := rp.NewRelyingPartyOIDC(ctx, cfg.Issuer, cfg.ClientID, cfg.ClientSecret, cfg.RedirectURL, cfg.Scopes, opts...)
	if err != nil {
		return nil, fmt.Errorf("--oidc-config: the identity provider at %s: %w", cfg.Issuer, err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.rp == nil {
		o.rp = party
	}
	return o.rp, nil
}

// name is the provider's name on the sign-in page, "" without one.
func (o *OIDC) name() string {
	if o == nil {
		return ""
	}
	return o.Config.Name
}

// oidcCookie keeps, between the two legs of a sign-in, its state, its
// PKCE verifier and the page to return to, signed with the form key.
const oidcCookie = "custos_oidc"

type oidcFlow struct {
	State    string `json:"s"`
	Verifier string `json:"v"`
	Next     string `json:"n"`
}

func (u *UI) sign(b []byte) string {
	m := hmac.New(sha256.New, u.key)
	m.Write([]byte("custos oidc flow\x00"))
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// oidcStart sends the browser to the provider's sign-in page.
func (u *UI) oidcStart(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	f := oidcFlow{State: oauth2.GenerateVerifier(), Verifier: oauth2.GenerateVerifier(), Next: r.URL.Query().Get("next")}
	if !safeNext(f.Next) {
		f.Next = ""
	}
	party, err := u.OIDC.party(r.Context())
	if err != nil {
		u.Log.Warn("web sign-in: the identity provider does not answer", "err", err)
		u.showSignIn(w, r, http.StatusServiceUnavailable, "", f.Next,
			errs.New(errs.Unavailable, "identity_provider", "", "the identity provider does not answer now: try again in a minute, or sign in with your token"))
		return
	}
	b, _ := json.Marshal(f)
	// SameSite=Lax: the provider's redirect back is a top-level navigation
	// from its site, which a Strict cookie would not come with.
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: base64.RawURLEncoding.EncodeToString(b) + "." + u.sign(b),
		Path: "/signin/oidc", MaxAge: 600, HttpOnly: true, Secure: u.secure(r), SameSite: http.SameSiteLaxMode})
	to := rp.AuthURL(f.State, party, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(f.Verifier)))
	http.Redirect(w, r, to, http.StatusFound)
}

// oidcCallback finishes the sign-in: it checks the state against the
// cookie, exchanges the code with the PKCE verifier, verifies the ID
// token, reads the userinfo, and signs in the principal the claims give.
func (u *UI) oidcCallback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: "/signin/oidc", MaxAge: -1, HttpOnly: true, Secure: u.secure(r), SameSite: http.SameSiteLaxMode})
	refuse := func(e *errs.Error, next string) { u.showSignIn(w, r, e.Code.HTTPStatus(), "", next, e) }
	f, ok := u.readFlow(r)
	q := r.URL.Query()
	if !ok || q.Get("state") == "" || !hmac.Equal([]byte(q.Get("state")), []byte(f.State)) {
		refuse(errs.New(errs.Unauthorized, "oidc_state", "", "this sign-in did not start in this browser, or took over ten minutes: sign in again"), "")
		return
	}
	if e := q.Get("error"); e != "" {
		u.Log.Info("web sign-in refused by the identity provider", "error", e)
		refuse(errs.New(errs.Unauthorized, "oidc", "", "the identity provider did not sign you in (%s)", e), f.Next)
		return
	}
	ctx := r.Context()
	party, err := u.OIDC.party(ctx)
	if err != nil {
		u.Log.Warn("web sign-in: the identity provider does not answer", "err", err)
		refuse(errs.New(errs.Unavailable, "identity_provider", "", "the identity provider does not answer now: try again in a minute, or sign in with your token"), f.Next)
		return
	}
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, q.Get("code"), party, rp.WithCodeVerifier(f.Verifier))
	if err != nil {
		u.Log.Warn("web sign-in: the identity provider's answer was refused", "err", err)
		refuse(errs.New(errs.Unauthorized, "oidc", "", "the identity provider's answer could not be verified: sign in again"), f.Next)
		return
	}
	subject := tokens.IDTokenClaims.GetSubject()
	claims, err := claimsOf(tokens.IDTokenClaims)
	if err == nil && party.UserinfoEndpoint() != "" {
		var info *oidc.UserInfo
		if info, err = rp.Userinfo[*oidc.UserInfo](ctx, tokens.AccessToken, tokens.TokenType, subject, party); err == nil {
			var more map[string]any
			if more, err = claimsOf(info); err == nil {
				maps.Copy(claims, more)
			}
		}
	}
	if err != nil {
		u.Log.Warn("web sign-in: the identity provider's claims could not be read", "err", err)
		refuse(errs.New(errs.Unauthorized, "oidc", "", "the identity provider's answer could not be verified: sign in again"), f.Next)
		return
	}
	p, err := u.Authorities.SignInOIDC(ctx, u.OIDC.Config, subject, claims)
	if err != nil {
		if e, ok := errs.As(err); ok && e.Code != errs.Internal {
			// The refusal goes to the log by rule, never the claims: they
			// are the person's.
			u.Log.Info("web sign-in refused", "method", auth.MethodOIDC, "rule", e.Rule)
			refuse(e, f.Next)
			return
		}
		u.fail(w, r, nil, err)
		return
	}
	if !u.startSession(w, r, p, auth.MethodOIDC) {
		return
	}
	next := f.Next
	if !safeNext(next) {
		next = "/"
	}
	// Not a redirect: this request is the end of a navigation that started
	// at the provider's site, and the browser would not send the new
	// SameSite=Strict cookie with a redirect of it. A page of this site
	// that moves on sends it.
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	esc := html.EscapeString(next)
	fmt.Fprintf(w, `<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=%s"><title>custos</title></head><body><p><a href="%s">custos</a></p></body></html>`, esc, esc)
}

// readFlow reads and checks the signed cookie of the flow.
func (u *UI) readFlow(r *http.Request) (oidcFlow, bool) {
	var f oidcFlow
	c, err := r.Cookie(oidcCookie)
	if err != nil {
		return f, false
	}
	val, sig, ok := strings.Cut(c.Value, ".")
	if !ok {
		return f, false
	}
	b, err := base64.RawURLEncoding.DecodeString(val)
	if err != nil || !hmac.Equal([]byte(sig), []byte(u.sign(b))) || json.Unmarshal(b, &f) != nil {
		return f, false
	}
	return f, true
}

// claimsOf is v's claims as a map (what a JSON object of them holds).
func claimsOf(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}
