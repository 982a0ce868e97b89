package assets_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// world is a registry with two states' central authorities and a
// prosecution service of the first, each with a principal, and an auditor.
type world struct {
	*apptest.Env
	S                   *assets.Service
	CA, CAB, Prosecutor *auth.Principal
	Auditor             *auth.Principal
	// Administrator copies other states' published directory entries,
	// which a central authority officer does not record.
	Administrator        *auth.Principal
	CAToken, ProsecToken string
	CABToken             string
}

func newWorld(t testing.TB, dsn string) *world {
	t.Helper()
	e := apptest.Start(t, dsn)
	principal := func(name, kind, role, state string) (*auth.Principal, string) {
		id := e.Must(t, 201, "POST", "/api/v1/authorities", e.Admin, map[string]any{"name": name, "kind": kind, "jurisdiction": state}).Str("id")
		tok := e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Officer of " + name, "role": role, "authority_id": id}).Str("token")
		return e.Principal(t, tok), tok
	}
	w := &world{Env: e, S: e.App.Service("assets").(*assets.Service)}
	w.CA, w.CAToken = principal("Central Authority of Demoland", "central_authority", "central_authority_officer", "XA")
	w.CAB, w.CABToken = principal("Central Authority of Otherland", "central_authority", "central_authority_officer", "XB")
	w.Prosecutor, w.ProsecToken = principal("Demoland Asset Recovery Office", "prosecution_service", "prosecutor", "XA")
	w.Auditor, _ = principal("Demoland Court of Audit", "regulator", "auditor", "XA")
	w.Administrator = e.Principal(t, e.Admin)
	return w
}

var ctx = context.Background()

// signin is a browser signed in to the registry's web UI with token.
func (w *world) signin(t testing.TB, token string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := b.PostForm(w.URL+"/signin", url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return b
}

// caseWithAsset opens a case of the prosecutor's state with one bank
// account identified in it.
func (w *world) caseWithAsset(t testing.TB, ref string) (*assets.Case, *assets.Asset) {
	t.Helper()
	c, err := w.S.OpenCase(ctx, w.Prosecutor, assets.NewCase{Reference: ref, Title: "Embezzlement at the ministry of works",
		Kind: assets.CaseOutgoing, Offences: []string{"07032", "07041"}, OpenedOn: "2024-03-01"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := w.S.IdentifyAsset(ctx, w.Prosecutor, c.ID, assets.NewAsset{Type: "bank_account", Jurisdiction: "XB", Description: "Current account at Otherland Bank",
		Value: "1250000.50", Currency: "EUR", IdentifiedOn: "2024-03-10", Instrument: "Tracing order 2024/17", Authority: "Demoland Asset Recovery Office"})
	if err != nil {
		t.Fatal(err)
	}
	return c, a
}

func measure(step, on, amt string) assets.NewMeasure {
	m := assets.NewMeasure{Step: step, DecidedOn: on, Instrument: "Order " + step, Amount: amt, Currency: "EUR", Authority: "Otherland District Court"}
	switch step {
	case assets.StepConfiscated:
		m.Confiscation = assets.ConfiscationCriminal
	case assets.StepReturned:
		m.ReturnedTo = "XA"
	}
	return m
}

// refused asserts that err is a refusal of rule on field.
func refused(t *testing.T, what string, err error, rule, field string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Rule != rule || e.Field != field {
		t.Errorf("%s: %v, want a refusal of rule %s on %s", what, err, rule, field)
	}
}

func (w *world) measures(t *testing.T, caseID string) int {
	t.Helper()
	f, err := w.S.CaseFile(ctx, w.Prosecutor, caseID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range f.Assets {
		n += len(a.Measures)
	}
	return n
}

// TestMeasureLedger walks assets through the ledger and tries every
// illegal transition from every step, and every other rule: each is refused
// naming its rule and field, and nothing is written.
func TestMeasureLedger(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		// The steps that may follow each, and the path that reaches it.
		paths := map[string][]string{
			assets.StepIdentified:  nil,
			assets.StepFrozen:      {assets.StepFrozen},
			assets.StepSeized:      {assets.StepSeized},
			assets.StepConfiscated: {assets.StepFrozen, assets.StepConfiscated},
			assets.StepReturned:    {assets.StepSeized, assets.StepConfiscated, assets.StepReturned},
			assets.StepDisposed:    {assets.StepFrozen, assets.StepConfiscated, assets.StepDisposed},
			assets.StepReleased:    {assets.StepFrozen, assets.StepReleased},
		}
		allowed := map[string][]string{
			assets.StepIdentified:  {assets.StepFrozen, assets.StepSeized},
			assets.StepFrozen:      {assets.StepSeized, assets.StepConfiscated, assets.StepReleased},
			assets.StepSeized:      {assets.StepConfiscated, assets.StepReleased},
			assets.StepConfiscated: {assets.StepReturned, assets.StepDisposed},
		}
		n := 0
		for from, path := range paths {
			n++
			c, a := w.caseWithAsset(t, "T-"+from)
			for i, step := range path {
				if _, err := w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, measure(step, "2024-04-0"+string(rune('1'+i)), "1000000")); err != nil {
					t.Fatalf("%s: %v", step, err)
				}
			}
			before := w.measures(t, c.ID)
			for _, step := range assets.Steps[1:] {
				ok := false
				for _, s := range allowed[from] {
					ok = ok || s == step
				}
				if ok {
					continue
				}
				_, err := w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, measure(step, "2024-05-01", "1000"))
				refused(t, from+" → "+step, err, "measure_transition", "step")
				if e, _ := errs.As(err); e != nil && (e.Code != errs.Conflict || !strings.Contains(e.Message, from)) {
					t.Errorf("%s → %s: %v, want a conflict naming the asset's step", from, step, e)
				}
			}
			if after := w.measures(t, c.ID); after != before {
				t.Errorf("after the refusals from %s the case holds %d measures, want %d", from, after, before)
			}
			for _, step := range allowed[from] {
				// Each allowed step passes (on a fresh asset on the same path).
				_, a2 := w.caseWithAsset(t, "T-"+from+"-"+step)
				for i, s := range path {
					if _, err := w.S.RecordMeasure(ctx, w.Prosecutor, a2.ID, measure(s, "2024-04-0"+string(rune('1'+i)), "1000000")); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := w.S.RecordMeasure(ctx, w.Prosecutor, a2.ID, measure(step, "2024-05-01", "1000")); err != nil {
					t.Errorf("%s → %s refused: %v", from, step, err)
				}
			}
		}
		if n != len(assets.Steps) {
			t.Fatalf("walked %d steps, want all %d", n, len(assets.Steps))
		}

		// The other rules, on a frozen asset.
		c, a := w.caseWithAsset(t, "RULES")
		if _, err := w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, measure(assets.StepFrozen, "2024-04-01", "1000000.25")); err != nil {
			t.Fatal(err)
		}
		before := w.measures(t, c.ID)
		bad := func(what string, change func(m *assets.NewMeasure), rule, field string) {
			t.Helper()
			m := measure(assets.StepConfiscated, "2024-06-01", "900000")
			change(&m)
			_, err := w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, m)
			refused(t, what, err, rule, field)
		}
		bad("a confiscation without its type", func(m *assets.NewMeasure) { m.Confiscation = "" }, "confiscation_type", "confiscation")
		bad("a confiscation of an unknown type", func(m *assets.NewMeasure) { m.Confiscation = "administrative" }, "confiscation_type", "confiscation")
		bad("a seizure with a type of confiscation", func(m *assets.NewMeasure) { m.Step = assets.StepSeized }, "confiscation_type", "confiscation")
		bad("a confiscation naming a state returned to", func(m *assets.NewMeasure) { m.ReturnedTo = "XA" }, "returned_to", "returned_to")
		bad("a step before the last", func(m *assets.NewMeasure) { m.DecidedOn = "2024-03-31" }, "measure_date_order", "decided_on")
		bad("a step in the future", func(m *assets.NewMeasure) { m.DecidedOn = time.Now().AddDate(0, 0, 2).Format("2006-01-02") }, "dates_in_order", "decided_on")
		bad("a date of another form", func(m *assets.NewMeasure) { m.DecidedOn = "01/06/2024" }, "date_format", "decided_on")
		bad("more confiscated than frozen", func(m *assets.NewMeasure) { m.Amount = "1000000.26" }, "measure_amount", "amount")
		bad("an amount with an exponent", func(m *assets.NewMeasure) { m.Amount = "9e5" }, "amount", "amount")
		bad("a negative amount", func(m *assets.NewMeasure) { m.Amount = "-5" }, "amount", "amount")
		bad("an amount with a thousands separator", func(m *assets.NewMeasure) { m.Amount = "900,000" }, "amount", "amount")
		bad("a zero amount", func(m *assets.NewMeasure) { m.Amount = "0.00" }, "amount", "amount")
		bad("a float's digits", func(m *assets.NewMeasure) { m.Amount = "0.1000000000000000055511" }, "amount", "amount")
		bad("a currency in small letters", func(m *assets.NewMeasure) { m.Currency = "eur" }, "currency", "currency")
		bad("no legal instrument", func(m *assets.NewMeasure) { m.Instrument = " " }, "required", "instrument")
		bad("no deciding authority", func(m *assets.NewMeasure) { m.Authority = "" }, "required", "authority")
		bad("an unknown step", func(m *assets.NewMeasure) { m.Step = "auctioned" }, "enum", "step")
		bad("identification twice", func(m *assets.NewMeasure) { m.Step = assets.StepIdentified }, "enum", "step")
		if after := w.measures(t, c.ID); after != before {
			t.Errorf("after the refusals the case holds %d measures, want %d", after, before)
		}
		// The exact amount is kept: the whole frozen amount is confiscated.
		if _, err := w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, measure(assets.StepConfiscated, "2024-06-01", "1000000.25")); err != nil {
			t.Fatal(err)
		}
		m, err := w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, measure(assets.StepReturned, "2024-07-01", "1000000.25"))
		if err != nil {
			t.Fatal(err)
		}
		if m.Amount != "1000000.25" || m.Seq != 3 || m.ReturnedTo != "XA" {
			t.Errorf("returned %+v", m)
		}
		ret := measure(assets.StepReturned, "2024-07-01", "5")
		ret.ReturnedTo = ""
		_, err = w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, ret)
		refused(t, "a return without its state (the asset final)", err, "returned_to", "returned_to")
		f, err := w.S.CaseFile(ctx, w.Prosecutor, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Assets[0]; got.Status != assets.StepReturned || got.StatusOn != "2024-07-01" || len(got.Measures) != 4 {
			t.Errorf("the returned asset: %+v", got)
		}

		// An identification's own rules.
		_, err = w.S.IdentifyAsset(ctx, w.Prosecutor, c.ID, assets.NewAsset{Type: "yacht", Jurisdiction: "XB", Description: "x", Value: "1", Currency: "EUR",
			IdentifiedOn: "2024-03-10", Instrument: "i", Authority: "a"})
		refused(t, "an asset of an unknown type", err, "enum", "type")
		_, err = w.S.IdentifyAsset(ctx, w.Prosecutor, c.ID, assets.NewAsset{Type: "vessel", Jurisdiction: "XB", Description: "x", Value: "1", Currency: "EUR",
			IdentifiedOn: "2024-02-10", Instrument: "i", Authority: "a"})
		refused(t, "an asset identified before its case was opened", err, "measure_date_order", "identified_on")
		_, err = w.S.IdentifyAsset(ctx, w.Prosecutor, c.ID, assets.NewAsset{Type: "vessel", Jurisdiction: "XB", Description: "x", Value: "1", Currency: "EUR",
			IdentifiedOn: "2024-03-10", Instrument: "i", Authority: "a", HolderID: "RP-nobody"})
		refused(t, "an asset held by no person of the case", err, "holder", "holder_id")
	})
}

// TestCurrencies: a currency is one of ISO 4217's list in use, and an
// amount is not more precise than its currency's minor unit; a made-up
// code would block the statistics of every reader (no rate for it).
func TestCurrencies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		c, a := w.caseWithAsset(t, "CUR")
		if _, err := w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, measure(assets.StepFrozen, "2024-04-01", "2000")); err != nil {
			t.Fatal(err)
		}
		before := w.measures(t, c.ID)
		bad := func(what, amt, cur, rule, field string) {
			t.Helper()
			m := measure(assets.StepSeized, "2024-05-01", amt)
			m.Currency = cur
			_, err := w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, m)
			refused(t, what, err, rule, field)
			_, err = w.S.IdentifyAsset(ctx, w.Prosecutor, c.ID, assets.NewAsset{Type: "vessel", Jurisdiction: "XB", Description: "x", Value: amt, Currency: cur,
				IdentifiedOn: "2024-03-10", Instrument: "i", Authority: "a"})
			if field == "amount" {
				field = "value"
			}
			refused(t, what+" (identified)", err, rule, field)
		}
		bad("a made-up currency", "100", "XYZ", "currency", "currency")
		bad("a currency no longer in use", "100", "DEM", "currency", "currency")
		bad("a currency replaced by the euro in 2023", "100", "HRK", "currency", "currency")
		bad("gold, which has no minor unit", "100", "XAU", "currency", "currency")
		bad("the code for testing", "100", "XTS", "currency", "currency")
		bad("cents of a thousandth", "1000.123", "EUR", "amount", "amount")
		bad("half a yen", "1000.5", "JPY", "amount", "amount")
		bad("a ten-thousandth of a dinar", "1.1255", "KWD", "amount", "amount")
		// One written form: no space, no leading zero, no point without
		// digits, no more decimals written than the currency has.
		bad("an amount after a space", " 100", "EUR", "amount", "amount")
		bad("an amount before a space", "100 ", "EUR", "amount", "amount")
		bad("an amount with leading zeros", "00100", "EUR", "amount", "amount")
		bad("a cent with two zeros before the point", "00.01", "EUR", "amount", "amount")
		bad("an amount ending with its point", "100.", "EUR", "amount", "amount")
		bad("an amount beginning with its point", ".5", "EUR", "amount", "amount")
		bad("a third decimal of a euro, zero", "1000.120", "EUR", "amount", "amount")
		bad("a decimal of a yen, zero", "1000.0", "JPY", "amount", "amount")
		if after := w.measures(t, c.ID); after != before {
			t.Errorf("after the refusals the case holds %d measures, want %d", after, before)
		}
		// The refusal says what the code is: XYZ and XQQ begin with X like
		// gold and the SDR, but are no code of ISO 4217, with or without a
		// minor unit.
		says := func(cur string, without bool) {
			t.Helper()
			_, err := w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, assets.NewMeasure{Step: assets.StepSeized, DecidedOn: "2024-05-01", Instrument: "i",
				Amount: "100", Currency: cur, Authority: "a"})
			e, ok := errs.As(err)
			if !ok || e.Rule != "currency" {
				t.Fatalf("%s: %v, want a refusal of rule currency", cur, err)
			}
			if got := strings.Contains(e.Message, "without a minor unit"); got != without {
				t.Errorf("%s refused %q: says it is an ISO 4217 code without a minor unit: %v, want %v", cur, e.Message, got, without)
			}
		}
		for _, cur := range []string{"XYZ", "XQQ"} {
			says(cur, false)
		}
		for _, cur := range []string{"XAU", "XAG", "XDR", "XTS", "XXX", "XUA", "XBA"} {
			says(cur, true)
		}
		_, err := w.S.RecordRate(ctx, w.CA, assets.Rate{Currency: "XYZ", To: "USD", Year: 2024, Rate: "1", Source: "s"})
		refused(t, "a rate from a made-up currency", err, "currency", "currency")
		// An asset recorded in it before the currency rules (a leaf of an
		// older release): its rate may be recorded, the correction that
		// lets the statistics count it.
		if _, err := w.App.Writer.Submit(ctx, w.Prosecutor.Actor(), "identify an asset (an older release)", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
			return ledger.NewEntry(assets.TypeAssetIdentified, map[string]any{"id": "RA-LEGACYXYZ1", "case_id": c.ID, "type": "vessel", "jurisdiction": "XB",
				"description": "recorded before the currency rules", "value": "100", "currency": "XYZ", "measure_id": "RM-LEGACYXYZ1", "identified_on": "2023-03-10",
				"instrument": "i", "authority": "a"})
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.S.RecordRate(ctx, w.CA, assets.Rate{Currency: "XYZ", To: "USD", Year: 2023, Rate: "2", Source: "the ministry's correction"}); err != nil {
			t.Errorf("a rate for a made-up currency that an older release recorded: %v", err)
		}
		_, err = w.S.RecordRate(ctx, w.CA, assets.Rate{Currency: "QQQ", To: "USD", Year: 2023, Rate: "2", Source: "s"})
		refused(t, "a rate from a made-up currency nothing holds", err, "currency", "currency")
		_, err = w.S.Statistics(ctx, w.CA, assets.StatsQuery{Currency: "XYZ"})
		refused(t, "statistics in a made-up currency", err, "currency", "currency")

		// Currencies with 0, 2, 3 and 4 decimals, read back with their
		// minor unit's digits; codes in use since recently (VES 2018, SLE
		// 2022).
		for _, ok := range []struct{ amt, cur, kept string }{
			{"1000", "JPY", "1000"}, {"1000.10", "EUR", "1000.10"}, {"1.125", "KWD", "1.125"}, {"1.1255", "CLF", "1.1255"},
			{"10.5", "VES", "10.50"}, {"7", "SLE", "7.00"}, {"0.5", "EUR", "0.50"}, {"0.05", "EUR", "0.05"},
		} {
			got, err := w.S.IdentifyAsset(ctx, w.Prosecutor, c.ID, assets.NewAsset{Type: "vessel", Jurisdiction: "XB", Description: "x", Value: ok.amt, Currency: ok.cur,
				IdentifiedOn: "2024-03-10", Instrument: "i", Authority: "a"})
			if err != nil || got.Value != ok.kept {
				t.Errorf("%s %s: %+v, %v, want %s kept", ok.amt, ok.cur, got, err, ok.kept)
			}
		}
		if _, err := w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, measure(assets.StepSeized, "2024-05-01", "1999.90")); err != nil {
			t.Errorf("1999.90 EUR seized: %v", err)
		}
	})
}

// TestMeasureCurrencyChange: a change of currency does not get around
// measure_amount. Without a rate for the step's year it is refused; with
// one, the amount converted is compared (the rate either way).
func TestMeasureCurrencyChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		c, a := w.caseWithAsset(t, "FX")
		for _, m := range []assets.NewMeasure{measure(assets.StepFrozen, "2024-04-01", "2000"), measure(assets.StepSeized, "2024-04-02", "1999.99")} {
			if _, err := w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, m); err != nil {
				t.Fatal(err)
			}
		}
		inUSD := func(step, amt string) assets.NewMeasure {
			m := measure(step, "2024-06-01", amt)
			m.Currency = "USD"
			return m
		}
		before := w.measures(t, c.ID)
		_, err := w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, inUSD(assets.StepConfiscated, "99999999"))
		refused(t, "a confiscation in another currency without a rate", err, "measure_currency", "currency")
		if _, err := w.S.RecordRate(ctx, w.CA, assets.Rate{Currency: "EUR", To: "USD", Year: 2024, Rate: "1.0821", Source: "central bank"}); err != nil {
			t.Fatal(err)
		}
		_, err = w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, inUSD(assets.StepConfiscated, "99999999"))
		refused(t, "a confiscation of more than seized, in another currency", err, "measure_amount", "amount")
		_, err = w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, inUSD(assets.StepConfiscated, "2164.19")) // 1999.99 × 1.0821 = 2164.189179
		refused(t, "a confiscation a cent more than seized, in another currency", err, "measure_amount", "amount")
		if after := w.measures(t, c.ID); after != before {
			t.Errorf("after the refusals the case holds %d measures, want %d", after, before)
		}
		if _, err := w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, inUSD(assets.StepConfiscated, "2164.18")); err != nil {
			t.Fatalf("a confiscation of what was seized, in USD: %v", err)
		}
		// Back to EUR (the rate read the other way): 2000 EUR is 2164.20 USD.
		ret := measure(assets.StepReturned, "2024-07-01", "2000")
		_, err = w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, ret)
		refused(t, "a return of more than confiscated, in the earlier currency", err, "measure_amount", "amount")
		ret.Currency, ret.Amount = "GBP", "1"
		_, err = w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, ret)
		refused(t, "a return in a third currency without a rate", err, "measure_currency", "currency")
		ret.Currency, ret.Amount = "EUR", "1999"
		if _, err := w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, ret); err != nil {
			t.Fatalf("a return of what was confiscated, in EUR: %v", err)
		}
	})
}

// TestBirthDateNotFuture: a natural person's birth date in the future is
// refused (dates_in_order, birth_date) through the API, and nothing added.
func TestBirthDateNotFuture(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		c, _ := w.caseWithAsset(t, "BORN")
		path := "/api/v1/assets/cases/" + c.ID + "/persons"
		person := func(born string) map[string]any {
			return map[string]any{"kind": "natural", "role": "suspect", "country": "XA", "name": "Ada Synthetic", "birth_date": born}
		}
		for _, born := range []string{"2099-01-01", time.Now().UTC().AddDate(0, 0, 2).Format("2006-01-02")} {
			r := w.Do(t, "POST", path, w.ProsecToken, person(born))
			if r.Status != 422 || r.Str("error.rule") != "dates_in_order" || r.Str("error.field") != "birth_date" {
				t.Errorf("born %s: %d %s", born, r.Status, r.Raw)
			}
			if strings.Contains(string(r.Raw), "Ada") {
				t.Errorf("the refusal shows the sealed name: %s", r.Raw)
			}
		}
		f, err := w.S.CaseFile(ctx, w.Prosecutor, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Persons) != 0 {
			t.Errorf("after the refusals the case holds %d persons", len(f.Persons))
		}
		w.Must(t, 201, "POST", path, w.ProsecToken, person(time.Now().UTC().Format("2006-01-02")))
	})
}
