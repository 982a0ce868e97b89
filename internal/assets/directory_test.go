package assets_test

import (
	"bytes"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/storetest"
)

const directoryCSV = "state,kind,name,legal_bases,treaty,languages,channels,email,phone,available_24_7,contact_24_7\n" +
	"XA,central_authority,Demoland Ministry of Justice,uncac_46;untoc_18,,en;fr,email;post,mla@justice.example,,yes,+999 1 24 24\n" +
	"XB,contact_point,Otherland Asset Recovery Office,bilateral_treaty,Demoland-Otherland MLA Treaty 2001,en,email,aro@otherland.example,,no,\n"

// TestDirectoryImport: a file with refused lines records nothing and names
// every refused line; a good file records each entry; an entry is replaced
// by id; a line naming an id that is no entry, or one of another state, is
// a refused line like the others, named with every other refused line; the
// directory filters.
func TestDirectoryImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		bad := directoryCSV +
			"Xa,contact_point,Lowercase State,uncac_46,,en,email,x@y.example,,no,\n" +
			"XC,central_authority,No Way To Reach,uncac_46,,en,,,,no,\n" +
			"XD,central_authority,Treaty Unnamed,bilateral_treaty,,en,email,a@b.example,,no,\n" +
			"XE,central_authority,Always On,reciprocity,,en,email,a@b.example,,yes,\n" +
			"XF,central_authority,Short Line,reciprocity\n" +
			"AB,central_authority,No Such State,reciprocity,,en,email,a@b.example,,no,\n" +
			"XG,central_authority,No Such Language,reciprocity,,zz,email,a@b.example,,no,\n"
		im, err := w.S.ImportDirectory(ctx, w.Administrator, "bad.csv", strings.NewReader(bad))
		if e, ok := errs.As(err); !ok || e.Rule != "country" || e.Field != "state" {
			t.Fatalf("a file with refused lines: %v", err)
		}
		want := []struct {
			line        int
			rule, field string
		}{{4, "country", "state"}, {5, "contact", "email"}, {6, "treaty", "treaty"}, {7, "contact_24_7", "contact_24_7"}, {8, "columns", "file"}, {9, "country", "state"}, {10, "language", "languages[0]"}}
		if len(im.Refused) != len(want) {
			t.Fatalf("refused %+v, want %d lines", im.Refused, len(want))
		}
		for i, l := range want {
			if got := im.Refused[i]; got.Line != l.line || got.Rule != l.rule || got.Field != l.field {
				t.Errorf("refused line %+v, want %+v", got, l)
			}
		}
		if all, _ := w.S.Directory(ctx, w.CA, assets.DirectoryFilter{}); len(all) != 0 {
			t.Errorf("a refused file recorded %d entries", len(all))
		}
		im, err = w.S.ImportDirectory(ctx, w.Administrator, "directory.csv", strings.NewReader(directoryCSV))
		if err != nil || im.Recorded != 2 {
			t.Fatalf("import: %+v %v", im, err)
		}
		xa, err := w.S.Directory(ctx, w.Prosecutor, assets.DirectoryFilter{State: "XA"})
		if err != nil || len(xa) != 1 || !xa[0].Available247 || strings.Join(xa[0].LegalBases, " ") != "uncac_46 untoc_18" || xa[0].Source != "directory.csv" {
			t.Fatalf("XA's entries: %+v %v", xa, err)
		}
		if got, _ := w.S.Directory(ctx, w.CA, assets.DirectoryFilter{Basis: assets.BasisBilateral, Q: "otherland"}); len(got) != 1 || got[0].State != "XB" {
			t.Errorf("filtered by basis and text: %+v", got)
		}
		c := xa[0]
		c.Phone = "+999 1 00 00"
		if _, err := w.S.RecordContact(ctx, w.CA, c); err != nil {
			t.Fatal(err)
		}
		if got, _ := w.S.Directory(ctx, w.CA, assets.DirectoryFilter{State: "XA"}); len(got) != 1 || got[0].Phone != "+999 1 00 00" || got[0].Source != "form" {
			t.Errorf("after the update: %+v", got)
		}
		c.ID = "DI-unknown"
		if _, err := w.S.RecordContact(ctx, w.CA, c); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("an update of no entry: %v", err)
		} else if e, _ := errs.As(err); e.Field != "id" {
			t.Errorf("an update of no entry names the field %q, want id", e.Field)
		}

		// Lines naming entries by id: one of no entry, one not of the
		// directory's form, one moved to another state; with a bad line
		// beside them, all four are named, in line order, and nothing is
		// recorded.
		byID := "id,state,kind,name,legal_bases,languages,email\n" +
			"DI-NOTHERE,XA,central_authority,Unknown Entry,uncac_46,en,a@b.example\n" +
			xa[0].ID + ",XA,central_authority,Demoland Ministry of Justice,uncac_46,en,mla@justice.example\n" +
			"XX-1,XA,central_authority,Not An Id,uncac_46,en,a@b.example\n" +
			xa[0].ID + ",XB,central_authority,Moved,uncac_46,en,a@b.example\n"
		im, err = w.S.ImportDirectory(ctx, w.CA, "by-id.csv", strings.NewReader(byID))
		if e, ok := errs.As(err); !ok || e.Code != errs.Invalid || e.Rule != "reference" || e.Field != "id" || !strings.Contains(e.Message, "line 2: no directory entry DI-NOTHERE") {
			t.Errorf("a file naming no entry: %v", err)
		}
		wantByID := []assets.LineError{{Line: 2, Rule: "reference", Field: "id", Message: "no directory entry DI-NOTHERE"},
			{Line: 4, Rule: "reference", Field: "id", Message: "no directory entry XX-1"},
			{Line: 5, Rule: "directory_state", Field: "state", Message: "the directory entry " + xa[0].ID + " is of XA: it does not move to XB; record the other state's entry without an id"}}
		if im == nil || !slices.Equal(im.Refused, wantByID) {
			t.Errorf("refused %+v, want %+v", im, wantByID)
		}
		im, err = w.S.ImportDirectory(ctx, w.CA, "by-id.csv", strings.NewReader(byID+",XC,central_authority,No Way To Reach,uncac_46,en,\n"))
		if e, ok := errs.As(err); !ok || e.Rule != "reference" || e.Field != "id" || im == nil || len(im.Refused) != 4 ||
			im.Refused[3] != (assets.LineError{Line: 6, Rule: "contact", Field: "email", Message: "give at least one way to reach the authority: email, phone or address"}) {
			t.Errorf("a file naming no entry and with a bad line: %+v %v", im, err)
		}
		if got, _ := w.S.Directory(ctx, w.CA, assets.DirectoryFilter{}); len(got) != 2 || got[0].Phone != "+999 1 00 00" && got[1].Phone != "+999 1 00 00" {
			t.Errorf("refused files changed the directory: %+v", got)
		}
		if _, err := w.S.RecordContact(ctx, w.Prosecutor, c); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("a prosecutor records the directory: %v", err)
		}
		for _, f := range []string{"", "name\nx\n", "state,kind,name,legal_bases,languages,fax_number\n", "state,state,kind,name,legal_bases,languages\n"} {
			if _, _, err := assets.ParseDirectory(strings.NewReader(f)); errs.CodeOf(err) != errs.Invalid {
				t.Errorf("file %q: %v, want refused", f, err)
			}
		}
	})
}

// TestStatistics: amounts frozen, seized, confiscated and returned by year
// and kind in a chosen currency at the recorded rates, small counts
// suppressed with their amounts; the export.
func TestStatistics(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		w.S.Threshold = 2
		for i, ref := range []string{"S-1", "S-2"} {
			_, a := w.caseWithAsset(t, ref)
			amt := []string{"1000000", "500000.50"}[i]
			for _, m := range []assets.NewMeasure{measure(assets.StepFrozen, "2024-04-01", amt), measure(assets.StepConfiscated, "2024-06-01", amt), measure(assets.StepReturned, "2025-01-10", amt)} {
				if _, err := w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, m); err != nil {
					t.Fatal(err)
				}
			}
		}
		_, err := w.S.Statistics(ctx, w.CA, assets.StatsQuery{Currency: "USD"})
		refused(t, "statistics in a currency without rates", err, "exchange_rate", "currency")
		for _, r := range []assets.Rate{{Currency: "EUR", To: "USD", Year: 2024, Rate: "1.08", Source: "Demoland central bank"},
			{Currency: "USD", To: "EUR", Year: 2025, Rate: "0.9", Source: "Demoland central bank"}} {
			if _, err := w.S.RecordRate(ctx, w.CA, r); err != nil {
				t.Fatal(err)
			}
		}
		_, err = w.S.RecordRate(ctx, w.CA, assets.Rate{Currency: "EUR", To: "EUR", Year: 2024, Rate: "1", Source: "x"})
		refused(t, "a rate of a currency to itself", err, "rate_currencies", "to")
		// One rate a pair of currencies a year, in either direction: the
		// opposite of a rate recorded for the year is its inverse, refused
		// as a rate of its own, and writes nothing; the same direction
		// replaces it, another year is another rate.
		leaves := leavesOf(t, w)
		_, err = w.S.RecordRate(ctx, w.CA, assets.Rate{Currency: "USD", To: "EUR", Year: 2024, Rate: "0.5", Source: "a contradicting source"})
		refused(t, "USD to EUR for 2024, which holds EUR to USD", err, "rate_inverse", "to")
		_, err = w.S.RecordRate(ctx, w.CA, assets.Rate{Currency: "EUR", To: "USD", Year: 2025, Rate: "2", Source: "a contradicting source"})
		refused(t, "EUR to USD for 2025, which holds USD to EUR", err, "rate_inverse", "to")
		if n := leavesOf(t, w); n != leaves {
			t.Errorf("refused opposite rates wrote %d leaves", n-leaves)
		}
		if _, err := w.S.RecordRate(ctx, w.CA, assets.Rate{Currency: "EUR", To: "USD", Year: 2024, Rate: "1.08", Source: "Demoland central bank, again"}); err != nil {
			t.Errorf("EUR to USD for 2024 recorded again: %v", err)
		}
		if _, err := w.S.RecordRate(ctx, w.CA, assets.Rate{Currency: "USD", To: "EUR", Year: 2023, Rate: "0.92", Source: "Demoland central bank"}); err != nil {
			t.Errorf("USD to EUR for 2023, a year without EUR to USD: %v", err)
		}
		// A year is written in digits alone: +2024 is no year.
		for _, v := range []string{"+2024", " 2024", "02024", "2024.0", "twenty"} {
			_, err := assets.ParseStatsQuery(url.Values{"currency": {"USD"}, "from": {v}})
			refused(t, "statistics from "+v, err, "range", "from")
		}
		if q, err := assets.ParseStatsQuery(url.Values{"currency": {"USD"}, "from": {"2024"}, "to": {"2025"}}); err != nil || q.From != 2024 || q.To != 2025 {
			t.Errorf("statistics from 2024 to 2025: %+v %v", q, err)
		}
		_, err = w.S.RecordRate(ctx, w.Prosecutor, assets.Rate{Currency: "EUR", To: "USD", Year: 2024, Rate: "1", Source: "x"})
		if errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("a prosecutor records a rate: %v", err)
		}
		fig, err := w.S.Statistics(ctx, w.CA, assets.StatsQuery{Currency: "USD"})
		if err != nil {
			t.Fatal(err)
		}
		get := func(year int, kind, measure string) assets.StatsLine {
			for _, l := range fig.Lines {
				if l.Year == year && l.Kind == kind && l.Measure == measure {
					return l
				}
			}
			t.Fatalf("no line %d %s %s", year, kind, measure)
			return assets.StatsLine{}
		}
		// 1,500,000.50 EUR at 1.08 = 1,620,000.54 USD; returned in 2025 at
		// 1/0.9 USD per EUR: 1,666,667.22 USD (1,111,111.11 + 555,556.11).
		if l := get(2024, assets.CaseOutgoing, assets.StepFrozen); l.Cases != "2" || l.Amount != "1620000.54" {
			t.Errorf("frozen in 2024: %+v", l)
		}
		if l := get(2025, assets.CaseOutgoing, assets.StepReturned); l.Cases != "2" || l.Amount != "1666667.22" {
			t.Errorf("returned in 2025: %+v", l)
		}
		if l := get(2024, "_T", assets.MeasureCases); l.Cases != "2" {
			t.Errorf("cases opened in 2024: %+v", l)
		}
		// One more case with one frozen asset in 2023: its count, 1, is
		// below the threshold: suppressed, and its amount with it.
		c, err := w.S.OpenCase(ctx, w.Prosecutor, assets.NewCase{Reference: "S-3", Title: "t", Kind: assets.CaseDomestic, Offences: []string{"0703"}, OpenedOn: "2023-01-01"})
		if err != nil {
			t.Fatal(err)
		}
		a, err := w.S.IdentifyAsset(ctx, w.Prosecutor, c.ID, assets.NewAsset{Type: "cash", Jurisdiction: "XA", Description: "Cash", Value: "10", Currency: "USD",
			IdentifiedOn: "2023-01-02", Instrument: "i", Authority: "a"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, assets.NewMeasure{Step: assets.StepSeized, DecidedOn: "2023-01-03", Instrument: "i", Amount: "10", Currency: "USD", Authority: "a"}); err != nil {
			t.Fatal(err)
		}
		if fig, err = w.S.Statistics(ctx, w.CA, assets.StatsQuery{Currency: "USD"}); err != nil {
			t.Fatal(err)
		}
		if l := get(2023, assets.CaseDomestic, assets.StepSeized); l.Cases != "x" || l.Amount != "x" {
			t.Errorf("one case's seizure in 2023 published: %+v", l)
		}
		if l := get(2023, assets.CaseDomestic, assets.StepFrozen); l.Cases != "0" || l.Amount != "0.00" {
			t.Errorf("no freeze in 2023: %+v", l)
		}
		req, err := w.S.StatisticsExport(w.CA, assets.StatsQuery{Currency: "USD", From: 2024}, export.CSV)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := export.Export(ctx, w.App.DB, w.App.Writer, w.CA.Actor(), req, nil, &b); err != nil {
			t.Fatal(err)
		}
		if s := b.String(); !strings.Contains(s, "2024,outgoing,frozen,2,1620000.54,USD") || strings.Contains(s, "2023,") {
			t.Errorf("the export:\n%s", s)
		}
	})
}

// TestDirectoryOwnState: each state publishes its own directory entries.
// Otherland's officer replacing Demoland's central authority (through the
// API's entry and a file's line) is refused (403, directory_own_state on
// id, alerted: it would redirect the requests drafted to it), and so is
// its new entry of Demoland's (on state: a second, false authority beside
// Demoland's), and nothing changes; Demoland's officer replaces its own
// and records new ones, the regulator copies any state's; an officer whose
// authority has no state records none.
func TestDirectoryOwnState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		im, err := w.S.ImportDirectory(ctx, w.Administrator, "directory.csv", strings.NewReader(directoryCSV))
		if err != nil || im.Recorded != 2 {
			t.Fatalf("import: %+v %v", im, err)
		}
		xa := im.Entries[0]
		if xa.State != "XA" {
			t.Fatalf("the first entry is of %s", xa.State)
		}
		alerts := func() int {
			n := 0
			for _, a := range w.Must(t, 200, "GET", "/api/v1/alerts?limit=1000", w.Admin, nil).Body["alerts"].([]any) {
				if a := a.(map[string]any); a["rule"] == "directory_own_state" {
					n += 1 + int(a["repeats"].(float64))
				}
			}
			return n
		}
		redirect := map[string]any{"id": xa.ID, "state": "XA", "kind": xa.Kind, "name": xa.Name, "legal_bases": xa.LegalBases,
			"languages": xa.Languages, "channels": xa.Channels, "email": "mla@otherland-mailbox.example", "available_24_7": false}
		r := w.Do(t, "POST", "/api/v1/assets/directory", w.CABToken, redirect)
		if r.Status != 403 || r.Str("error.rule") != "directory_own_state" || r.Str("error.field") != "id" {
			t.Fatalf("Otherland replaces Demoland's entry: %d %s", r.Status, r.Raw)
		}
		file := "id,state,kind,name,legal_bases,languages,channels,email,available_24_7\n" +
			"," + "XB,contact_point,Otherland Desk,reciprocity,en,email,desk@otherland.example,no\n" +
			xa.ID + ",XA,central_authority,Demoland Ministry of Justice,uncac_46,en,email,mla@otherland-mailbox.example,no\n"
		r = w.Upload(t, "/api/v1/assets/directory/import?source=redirect.csv", w.CABToken, "text/csv", []byte(file))
		if r.Status != 403 || r.Str("error.rule") != "directory_own_state" || !strings.Contains(r.Str("error.message"), "line 3") {
			t.Fatalf("Otherland's file replacing Demoland's entry: %d %s", r.Status, r.Raw)
		}
		// A new entry of another state: through the API's entry, and the
		// third line of a file whose second is Otherland's own.
		second := map[string]any{"state": "XA", "kind": "central_authority", "name": "Demoland Ministry of Justice (new address)", "legal_bases": []string{"uncac_46"},
			"languages": []string{"en"}, "email": "mla@otherland-mailbox.example"}
		r = w.Do(t, "POST", "/api/v1/assets/directory", w.CABToken, second)
		if r.Status != 403 || r.Str("error.rule") != "directory_own_state" || r.Str("error.field") != "state" || r.Body["error"].(map[string]any)["alert"] != true ||
			!strings.Contains(r.Str("error.message"), "an entry of XA") {
			t.Errorf("Otherland records a new entry of Demoland: %d %s", r.Status, r.Raw)
		}
		file = "state,kind,name,legal_bases,languages,email\n" +
			"XB,contact_point,Otherland Desk,reciprocity,en,desk@otherland.example\n" +
			"XA,central_authority,Demoland Ministry of Justice (new address),uncac_46,en,mla@otherland-mailbox.example\n"
		r = w.Upload(t, "/api/v1/assets/directory/import?source=second.csv", w.CABToken, "text/csv", []byte(file))
		if r.Status != 403 || r.Str("error.rule") != "directory_own_state" || r.Str("error.field") != "state" ||
			!strings.Contains(r.Str("error.message"), "nothing was recorded; the first, line 3: an entry of XA") {
			t.Errorf("Otherland's file with a new entry of Demoland: %d %s", r.Status, r.Raw)
		}
		if n := alerts(); n != 4 {
			t.Errorf("%d alerts of directory_own_state, want 4", n)
		}
		got, _ := w.S.Directory(ctx, w.CA, assets.DirectoryFilter{})
		if len(got) != 2 || got[0].Email != "mla@justice.example" {
			t.Fatalf("after the refusals: %+v", got)
		}
		// An officer whose authority has no state records no state's.
		stateless := *w.CA
		stateless.Jurisdiction = ""
		_, err = w.S.RecordContact(ctx, &stateless, assets.ContactPoint{State: "XA", Kind: assets.EntryContactPoint, Name: "Desk",
			LegalBases: []string{assets.BasisUNCAC}, Languages: []string{"en"}, Email: "desk@justice.example"})
		refused(t, "an entry by an officer of no state", err, "jurisdiction", "authority_id")
		// Otherland's officer records its own; the regulator copies a
		// state's published entry.
		if r := w.Upload(t, "/api/v1/assets/directory/import?source=own.csv", w.CABToken, "text/csv", []byte("state,kind,name,legal_bases,languages,email\n"+
			"XB,contact_point,Otherland Desk,reciprocity,en,desk@otherland.example\n")); r.Status != 201 {
			t.Errorf("Otherland's file of its own entry: %d %s", r.Status, r.Raw)
		}
		// Demoland's officer changes its own entry; the regulator curates any.
		redirect["email"] = "mla2@justice.example"
		w.Must(t, 201, "POST", "/api/v1/assets/directory", w.CAToken, redirect)
		me := w.Must(t, 200, "GET", "/api/v1/me", w.Admin, nil)
		reg := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Regulator", "role": "regulator", "authority_id": me.Str("authority_id")}).Str("token")
		redirect["email"] = "mla3@justice.example"
		w.Must(t, 201, "POST", "/api/v1/assets/directory", reg, redirect)
		if got, _ := w.S.Directory(ctx, w.CA, assets.DirectoryFilter{State: "XA"}); len(got) != 1 || got[0].Email != "mla3@justice.example" {
			t.Fatalf("after the regulator's change: %+v", got)
		}
		second["state"], second["name"], second["email"] = "XC", "Thirdland Ministry of Justice", "mla@thirdland.example"
		w.Must(t, 201, "POST", "/api/v1/assets/directory", reg, second)
		if got, _ := w.S.Directory(ctx, w.CA, assets.DirectoryFilter{}); len(got) != 4 {
			t.Errorf("after Otherland's and the regulator's new entries: %+v", got)
		}
	})
}
