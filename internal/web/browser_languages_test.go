package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestBrowserLanguages drives the UI in every language the deployment
// speaks, in one browser on one registry: the coordinator chooses the
// language with the switch of the sign-in page, signs in, records a donor
// through the form (forgetting the date of death first, which is refused in
// that language: the sentence the catalogue writes, its rule and field as
// they are), and opens the trace of one of the donor's organs. Every page is
// marked with the language and its direction; in Arabic, the page is laid
// out right to left (the navigation's first item is to the right of the
// second) and the organ's identifier reads left to right.
func TestBrowserLanguages(t *testing.T) {
	path := findChromium()
	if path == "" {
		t.Skip("no Chromium found: set CUSTOS_CHROMIUM to a Chromium or Chrome binary, or install chromium, to run the browser test")
	}
	w := apptest.NewWorld(t, storetest.SQLite(t))
	cat := w.App.Languages
	svc := w.App.Opened[transplant.Module.Name].Service.(*transplant.Service)
	coord := w.Principal(t, w.CoordA)
	if len(cat.Codes()) < 6 {
		t.Fatalf("the deployment speaks %v", cat.Codes())
	}
	browser := newTabFor(t, path, w.URL, 4*time.Minute)
	now := time.Now().UTC()

	for i, code := range cat.Codes() {
		t.Run(code, func(t *testing.T) {
			b := &tab{t: t, ctx: browser.ctx, base: browser.base}
			// Each language starts signed out, whatever the one before did.
			if _, err := chromedp.Call(b.ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
				b.fatal("forget the cookies", err)
			}
			lang, _ := cat.Language(code)
			l := cat.Localizer(code)

			// Choose the language on the sign-in page, then sign in.
			b.open("/", 200)
			b.do("choose "+code, chromedp.SetValue(chromedp.ID("language-switch"), code))
			b.click("change the language", `#languages button[type="submit"]`, 200)
			b.inLanguage(lang)
			if title := b.eval(`document.title`); title != l.T("Sign in")+" · custos" {
				t.Errorf("sign-in page's title %q, want %q", title, l.T("Sign in")+" · custos")
			}
			b.signIn(w.CoordA)
			b.inLanguage(lang)

			// Record a donor, forgetting the date of death: refused in the
			// language, as the catalogue writes the service's refusal.
			in := transplant.NewDonor{Kind: "deceased_circulatory_death", Name: "Browser Donor " + code + " (synthetic)",
				NationalID: "XA-L-000" + fmt.Sprint(i), Sex: "female", BloodGroup: "O",
				DateOfBirth:  time.Date(1961, 4, 1+i, 0, 0, 0, 0, time.UTC).Format("2006-01-02"),
				CauseOfDeath: "cardiac arrest", IVDrugUse: "no", Malignancy: "no", TransmissibleDisease: "no",
				HIV: "negative", HCV: "negative", HBV: "negative", OrganFunction: "normal creatinine"}
			_, err := svc.RegisterDonor(context.Background(), coord, in)
			refused, isRefusal := errs.As(err)
			if !isRefusal || refused.Field != "date_of_death" {
				t.Fatalf("the service refuses a donor without a date of death with %v", err)
			}
			b.open("/transplant/donors", 200)
			b.fill(map[string]string{
				"donor-name": in.Name, "donor-national_id": in.NationalID, "donor-kind": in.Kind, "donor-sex": in.Sex,
				"donor-blood_group": in.BloodGroup, "donor-date_of_birth": in.DateOfBirth, "donor-cause_of_death": in.CauseOfDeath,
				"donor-iv_drug_use": in.IVDrugUse, "donor-malignancy": in.Malignancy, "donor-transmissible_disease": in.TransmissibleDisease,
				"donor-hiv": in.HIV, "donor-hcv": in.HCV, "donor-hbv": in.HBV, "donor-organ_function": in.OrganFunction,
			})
			b.click("register a donor without date of death", `#donor button[type="submit"]`, 422)
			b.inLanguage(lang)
			if rule, field := b.text("#refusal-rule"), b.text("#refusal-field"); rule != refused.Rule || field != refused.Field {
				t.Errorf("refused by %q on %q, want %q on %q: rules and fields stay as they are", rule, field, refused.Rule, refused.Field)
			}
			want := l.Error(refused)
			if got := strings.TrimSpace(b.text("#refusal .message")); got != want {
				t.Errorf("the refusal says %q, want %q", got, want)
			}
			english := cat.English().Error(refused)
			format, _ := refused.Sentence()
			if code != i18n.Default && translating(cat, code, format) && want == english {
				t.Errorf("the refusal is in English in %s: %q (its catalogue translates this module's messages, so it must translate this one)", code, want)
			} else if code != i18n.Default && want == english {
				t.Logf("%s does not translate %q yet", code, format)
			}
			b.screenshot("custos-" + code + "-refusal.png")

			b.fill(map[string]string{"donor-date_of_death": now.AddDate(0, 0, -1).Format("2006-01-02")})
			b.click("register a donor", `#donor button[type="submit"]`, 200)
			donor := b.text("#donor-id")
			if !strings.HasPrefix(donor, "DN-") {
				t.Fatalf("donor id %q", donor)
			}

			// The donor's organs (recorded through the API, as another test
			// does through the forms), then the trace of one.
			w.Must(t, 201, "POST", "/api/v1/transplant/donors/"+donor+"/consents", w.CoordA, map[string]any{"kind": "family_authorization",
				"given_on": yesterday(), "assessed_by": "Dr Test", "voluntary": true, "informed": true})
			pr := w.Must(t, 201, "POST", "/api/v1/transplant/procurements", w.CoordA, map[string]any{"donor_id": donor,
				"procured_at": apptest.Hours(2), "organs": []string{"kidney"}})
			organ := pr.Body["organs"].([]any)[0].(map[string]any)["id"].(string)
			b.open("/transplant/trace?q="+organ, 200)
			b.inLanguage(lang)
			if got := b.text("a.organ-id"); got != organ {
				t.Errorf("the trace shows organ %q, want %q", got, organ)
			}
			if main := b.text("main"); !strings.Contains(main, donor) {
				t.Errorf("the trace of %s lacks its donor %s", organ, donor)
			}

			// The layout's direction: the navigation and the header bar run
			// from the start of the line (right in Arabic, left otherwise);
			// an identifier reads left to right in every language.
			first, second := b.boxX(".top nav li:nth-child(1)"), b.boxX(".top nav li:nth-child(2)")
			if lang.RTL && !(first > second) || !lang.RTL && !(first < second) {
				t.Errorf("direction %s: the navigation's first item at x=%.0f, the second at x=%.0f", lang.Dir(), first, second)
			}
			brand, switcher := b.boxX(".top .brand"), b.boxX("#languages")
			if lang.RTL && !(brand > switcher) || !lang.RTL && !(brand < switcher) {
				t.Errorf("direction %s: the header's brand at x=%.0f, the language switch at x=%.0f", lang.Dir(), brand, switcher)
			}
			if dir := b.eval(`getComputedStyle(document.querySelector('a.organ-id')).direction`); dir != "ltr" {
				t.Errorf("the organ's identifier is written %s", dir)
			}
			if lang.RTL {
				if dir := b.eval(`getComputedStyle(document.querySelector('main')).direction`); dir != "rtl" {
					t.Errorf("the page's main text is written %s", dir)
				}
			}
			b.screenshot("custos-" + code + "-trace.png")
			b.click("sign out", `.signout button[type="submit"]`, 200)
		})
	}
}

// translating tells whether the catalogue of code has begun translating the
// module that holds message id: its file for that module holds any
// message. Once the languages are shipped every module's
// file holds every message, so that a refusal left in English fails.
func translating(cat *i18n.Catalogue, code, id string) bool {
	module := ""
	for _, f := range cat.Files() {
		if _, ok := f.Entries()[id]; ok && f.Language == i18n.Default {
			module = f.Module
		}
	}
	for _, f := range cat.Files() {
		if f.Language != code || f.Module != module {
			continue
		}
		if len(f.Entries()) > 0 {
			return true
		}
	}
	return false
}

// inLanguage checks that the page is marked with the language and its
// direction.
func (b *tab) inLanguage(l i18n.Language) {
	b.t.Helper()
	if got := b.eval(`document.documentElement.lang + ' ' + document.documentElement.dir`); got != l.Code+" "+l.Dir() {
		b.t.Errorf("the page is marked %q, want %q", got, l.Code+" "+l.Dir())
	}
}

// boxX is the horizontal middle of the first element sel finds.
func (b *tab) boxX(sel string) float64 {
	b.t.Helper()
	x, err := chromedp.Run(b.ctx, chromedp.Evaluate[float64](
		`(r => r.left + r.width / 2)(document.querySelector(`+fmt.Sprintf("%q", sel)+`).getBoundingClientRect())`))
	if err != nil {
		b.fatal("the box of "+sel, err)
	}
	return x
}
