package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserOIDCSignIn drives headless Chromium through the sign-in with
// a real OpenID provider started by the test (zitadel/oidc's example, with
// its own login page): the sign-in page offers the provider, whose login
// page sends the browser back signed in; My account lists the session;
// the session ends after the idle timeout; signed in again, signing out
// ends it.
func TestBrowserOIDCSignIn(t *testing.T) {
	path := findChromium()
	if path == "" {
		t.Skip("no Chromium found: set CUSTOS_CHROMIUM to a Chromium or Chrome binary, or install chromium, to run the browser test")
	}
	r := startOIDCRegistry(t, 15*time.Minute, 8*time.Hour)
	b := newTab(t, path, r.URL)
	signIn := func() {
		t.Helper()
		b.open("/account", 200) // the sign-in page, to come back to My account
		b.click("sign in with the provider", "#signin-oidc a", 200)
		if loc, err := chromedp.Run(b.ctx, chromedp.Location()); err != nil || !strings.HasPrefix(loc, r.Issuer+"/login/") {
			t.Fatalf("the provider's login page is not shown: at %s (%v)", loc, err)
		}
		b.fill(map[string]string{"username": "test-user@127.0.0.1", "password": "verysecure"})
		b.click("log in at the provider", `button[type="submit"]`, 200)
		// The callback's page moves on to My account.
		b.do("wait for My account", chromedp.WaitVisible(chromedp.ID("sessions")))
	}
	signIn()
	if who := b.text("#who"); !strings.Contains(who, "Test User") {
		t.Fatalf("header after the OIDC sign-in shows %q", who)
	}
	if row := b.text("#sessions tbody"); !strings.Contains(row, "Identity provider") || !strings.Contains(row, "Chrome") {
		t.Errorf("My account's session row: %q", row)
	}
	b.screenshot("custos-oidc-account.png")

	// Away for longer than the idle timeout: the session has ended.
	r.Clock.advance(16 * time.Minute)
	b.open("/account", 200)
	if flash := b.text("#flash"); !strings.Contains(flash, "Your session has ended") {
		t.Errorf("after the idle timeout, the page says %q", flash)
	}

	// Signed in again, then signed out: the session ends.
	signIn()
	b.click("sign out", `form.signout button[type="submit"]`, 200)
	if flash := b.text("#flash"); !strings.Contains(flash, "You are signed out") {
		t.Errorf("after sign-out, the page says %q", flash)
	}
	b.open("/account", 200)
	if _, err := chromedp.Run(b.ctx, chromedp.WaitVisible(chromedp.ID("signin"))); err != nil {
		t.Errorf("My account after sign-out is not the sign-in page: %v", err)
	}
	if strings.Contains(r.Log.String(), "127.0.0.1/") {
		t.Error("the server log holds an address")
	}
}
