package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
)

// ---- My account: who is signed in, and their preferences ----

// accountData is the account page: the principal, the zone their pages
// are in, and the registry's; the language they are in, and those spoken.
type accountData struct {
	P            *auth.Principal
	Authority    string
	Zone         string // the zone the pages are in now
	RegistryZone string
	Chosen       bool   // the principal chose a zone (else the registry's applies)
	Now          string // the time now, as the pages show it
	Zones        []string
	// Language is the name of the language the pages are in now,
	// LanguageChosen whether it is the principal's preference (else the
	// browser's applies), Languages the choices: the browser's, then each
	// language spoken, named in itself.
	Language       string
	LanguageChosen bool
	Languages      []Option
	Sessions       sessionsData
}

// commonZones are offered as the zone input's suggestions; any zone of the
// time zone database may be typed.
var commonZones = []string{
	"UTC",
	"Africa/Abidjan", "Africa/Accra", "Africa/Addis_Ababa", "Africa/Algiers", "Africa/Cairo", "Africa/Casablanca",
	"Africa/Dakar", "Africa/Johannesburg", "Africa/Kinshasa", "Africa/Lagos", "Africa/Nairobi", "Africa/Tunis",
	"America/Argentina/Buenos_Aires", "America/Bogota", "America/Chicago", "America/Denver", "America/Lima",
	"America/Los_Angeles", "America/Mexico_City", "America/New_York", "America/Santiago", "America/Sao_Paulo",
	"America/Toronto",
	"Asia/Bangkok", "Asia/Dhaka", "Asia/Dubai", "Asia/Ho_Chi_Minh", "Asia/Jakarta", "Asia/Karachi", "Asia/Kolkata",
	"Asia/Manila", "Asia/Riyadh", "Asia/Seoul", "Asia/Shanghai", "Asia/Singapore", "Asia/Tehran", "Asia/Tokyo",
	"Australia/Sydney",
	"Europe/Berlin", "Europe/Istanbul", "Europe/Kyiv", "Europe/London", "Europe/Madrid", "Europe/Moscow",
	"Europe/Paris", "Europe/Rome", "Europe/Vienna", "Europe/Warsaw",
	"Pacific/Auckland", "Pacific/Fiji",
}

func (u *UI) account(w http.ResponseWriter, r *http.Request, s *Session) {
	u.showAccount(w, r, s, nil)
}

func (u *UI) showAccount(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	v := u.newView(r, s, "My account")
	d := accountData{P: s.P, Authority: s.Authority, Zone: zoneName(s.Zone()), RegistryZone: zoneName(u.Zone),
		Chosen: s.P.TimeZone != "", Now: u.now().UTC().Format(time.RFC3339), Zones: commonZones,
		Language: s.l.Language().Name, LanguageChosen: s.P.Language != "",
		Languages: []Option{{Value: "", Label: s.T("The browser's language")}}}
	for _, l := range u.Languages.Languages() {
		d.Languages = append(d.Languages, Option{Value: l.Code, Label: l.Name})
	}
	list, err := u.Sessions.List(r.Context(), s.P, s.ref)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	d.Sessions = sessionsData{List: list, Idle: u.Sessions.IdleTimeout().String(), Max: u.Sessions.MaxAge().String()}
	v.Data = d
	if s.Notice(r).Get("done") == "session" {
		v.Flash = s.T("The session is ended: its browser is signed out.")
	}
	if ref == nil {
		v.SetForm("preferences", url.Values{"time_zone": {s.P.TimeZone}, auth.LanguageField: {s.P.Language}})
		if s.Notice(r).Get("done") == "preferences" {
			v.Flash = s.T("Your preferences are saved: pages show times in %s.", zoneName(s.Zone()))
		}
	}
	u.show(w, r, nil, "account", v, ref)
}

// setAccount records the principal's preferences, the time zone and,
// when the form gives it, the language ("" for the browser's), in one log
// entry, and returns to the account page, whose times are then in the new
// zone and whose words in the new language.
func (u *UI) setAccount(w http.ResponseWriter, r *http.Request, s *Session) {
	tz := r.PostForm.Get("time_zone")
	prefs := auth.Preferences{TimeZone: &tz}
	if _, ok := r.PostForm[auth.LanguageField]; ok {
		lang := r.PostForm.Get(auth.LanguageField)
		prefs.Language = &lang
	}
	if _, err := u.Authorities.SetPreferences(r.Context(), s.P, prefs); err != nil {
		u.showAccount(w, r, s, &Refusal{Form: "preferences", Values: r.PostForm, Err: err})
		return
	}
	if prefs.Language != nil && strings.TrimSpace(*prefs.Language) == "" {
		// the browser's language: the switch's cookie no longer decides
		http.SetCookie(w, &http.Cookie{Name: LanguageCookie, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: true, Secure: u.secure(r), SameSite: http.SameSiteLaxMode})
	}
	s.RedirectDone(w, r, "/account", url.Values{"done": {"preferences"}})
}

// setLanguage answers the language switch of every page: the language
// chosen becomes the signed-in principal's preference (a log entry, so
// that it follows them to any browser) and, for everyone, a cookie that
// keeps it once signed out; then back to the page, the sign-in form saying
// again why it is shown (the reason its switch carries). A language the
// registry does not speak is refused (rule language), and so is a form
// of a signed-in principal without its session's CSRF token.
func (u *UI) setLanguage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if err := readForm(w, r, 0, ""); err != nil {
		u.fail(w, r, nil, err)
		return
	}
	code := strings.TrimSpace(r.PostForm.Get(auth.LanguageField))
	s, err := u.session(r)
	if err != nil {
		s = nil
	}
	if err := auth.CheckLanguage(code, u.Languages.Codes()); err != nil {
		u.fail(w, r, s, err)
		return
	}
	if s != nil {
		if err := s.checkForm(r); err != nil {
			u.fail(w, r, s, err)
			return
		}
		if s.P.Language != code {
			if _, err := u.Authorities.SetPreferences(r.Context(), s.P, auth.Preferences{Language: &code}); err != nil {
				u.fail(w, r, s, err)
				return
			}
		}
	}
	http.SetCookie(w, &http.Cookie{Name: LanguageCookie, Value: code, Path: "/", MaxAge: 365 * 24 * 60 * 60,
		HttpOnly: true, Secure: u.secure(r), SameSite: http.SameSiteLaxMode})
	if s == nil {
		// The sign-in form's switch: the form says again, in the new
		// language, why it is shown. Only a form of the site's own posts
		// here (Register), so no link or other site plants a reason.
		u.setReason(w, r, r.PostForm.Get("reason"))
	}
	next := r.PostForm.Get("next")
	if !safeNext(next) {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// ---- My account: open sessions ----

// sessionsData is the list of the principal's open sessions on My account.
type sessionsData struct {
	List      []auth.SessionInfo
	Idle, Max string // the timeouts, as durations
}

// endSession ends one of the principal's sessions, from the list of My
// account; ending the one asking signs this browser out. One of theirs
// that has ended already (a second click, a session timed out) gets the
// answer of the first click, the page back without it, and nothing is
// written; another principal's is refused (404, rule reference), as
// auth.Sessions.EndRef says.
func (u *UI) endSession(w http.ResponseWriter, r *http.Request, s *Session) {
	ref := r.PathValue("ref")
	ended, err := u.Sessions.EndRef(r.Context(), s.P, ref)
	if err != nil {
		u.showAccount(w, r, s, &Refusal{Form: "sessions", Values: r.PostForm, Err: err})
		return
	}
	if ended {
		u.Log.Info("web sign-out", "principal", s.P.ID, "session", ref, "from", s.ref)
	}
	if ref == s.ref {
		u.setSession(w, r, "", -1)
		u.redirectSignIn(w, r, "signedout", "")
		return
	}
	s.RedirectDone(w, r, "/account", url.Values{"done": {"session"}})
}

// endAllSessions ends every session of the principal, in every browser,
// this one too.
func (u *UI) endAllSessions(w http.ResponseWriter, r *http.Request, s *Session) {
	n, err := u.Sessions.EndAll(r.Context(), s.P)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	u.Log.Info("web sign-out of all sessions", "principal", s.P.ID, "sessions", n)
	u.setSession(w, r, "", -1)
	u.redirectSignIn(w, r, "allout", "")
}
