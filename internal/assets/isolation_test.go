package assets_test

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/storetest"
)

// TestRoleIsolation: a central authority of another state sees none of
// Demoland's cases, and cannot read, add to, link or move them; the
// central authority and prosecutor of Demoland and the auditor do.
func TestRoleIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		c, a := w.caseWithAsset(t, "XA-1")
		other, err := w.S.OpenCase(ctx, w.CAB, assets.NewCase{Reference: "XB-1", Title: "Otherland's case", Kind: assets.CaseIncoming,
			Offences: []string{"07041"}, OpenedOn: "2024-05-01"})
		if err != nil {
			t.Fatal(err)
		}
		if other.State != "XB" || c.State != "XA" {
			t.Fatalf("states %s %s, want the authorities' XB and XA", other.State, c.State)
		}
		ids := func(cs []assets.Case) []string {
			var out []string
			for _, c := range cs {
				out = append(out, c.ID)
			}
			return out
		}
		for _, tc := range []struct {
			who  string
			list []string
		}{{"Demoland's central authority", []string{c.ID}}, {"Demoland's prosecutor", []string{c.ID}}, {"Otherland's central authority", []string{other.ID}},
			{"the auditor", []string{other.ID, c.ID}}} {
			p := map[string]any{"Demoland's central authority": w.CA, "Demoland's prosecutor": w.Prosecutor, "Otherland's central authority": w.CAB, "the auditor": w.Auditor}[tc.who]
			cs, err := w.S.Cases(ctx, p.(*auth.Principal), assets.CaseFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ids(cs), " "); got != strings.Join(tc.list, " ") {
				t.Errorf("%s lists %q, want %q", tc.who, got, strings.Join(tc.list, " "))
			}
		}
		// Another state's case is as if it did not exist.
		notFound := func(what string, err error) {
			t.Helper()
			if errs.CodeOf(err) != errs.NotFound {
				t.Errorf("%s: %v, want not found", what, err)
			}
		}
		_, err = w.S.CaseFile(ctx, w.CAB, c.ID)
		notFound("Otherland reads Demoland's case", err)
		_, err = w.S.RecordMeasure(ctx, w.CAB, a.ID, measure(assets.StepFrozen, "2024-04-01", "10"))
		notFound("Otherland freezes Demoland's asset", err)
		_, err = w.S.AddPerson(ctx, w.CAB, c.ID, assets.NewPerson{Kind: assets.PersonLegal, Role: "owner", Country: "XB", Name: "Shell Co"})
		notFound("Otherland adds a person to Demoland's case", err)
		_, err = w.S.LinkCases(ctx, w.CAB, other.ID, c.ID, "same accused")
		notFound("Otherland links its case to Demoland's", err)
		_, err = w.S.IdentifyAsset(ctx, w.CAB, c.ID, assets.NewAsset{Type: "cash", Jurisdiction: "XB", Description: "x", Value: "1", Currency: "EUR",
			IdentifiedOn: "2024-05-02", Instrument: "i", Authority: "a"})
		notFound("Otherland identifies an asset in Demoland's case", err)
		if f, err := w.S.CaseFile(ctx, w.Auditor, c.ID); err != nil || len(f.Assets) != 1 {
			t.Errorf("the auditor reads Demoland's case: %v", err)
		}
		if _, err := w.S.OpenCase(ctx, w.Auditor, assets.NewCase{}); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("the auditor opens a case: %v, want forbidden", err)
		}
		// Statistics: each central authority counts its own state's.
		fig, err := w.S.Statistics(ctx, w.CAB, assets.StatsQuery{Currency: "EUR"})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range fig.Lines {
			if l.Measure == assets.MeasureCases && l.Kind == assets.CaseOutgoing && l.Cases != "0" {
				t.Errorf("Otherland's statistics count Demoland's outgoing case: %+v", l)
			}
		}

		// A natural person's data is sealed; opening it is logged.
		pn, err := w.S.AddPerson(ctx, w.Prosecutor, c.ID, assets.NewPerson{Kind: assets.PersonNatural, Role: "accused", Country: "XA",
			Name: "Ada Synthetic", BirthDate: "1971-02-03", Document: "P1234567"})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM assets_persons WHERE name LIKE '%Ada%' OR registration LIKE '%P123%'").Scan(&n); err != nil || n != 0 {
			t.Errorf("the person's name is in clear in assets_persons (%d, %v)", n, err)
		}
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM log_leaves WHERE data LIKE '%Ada Synthetic%'").Scan(&n); err != nil || n != 0 {
			t.Errorf("the person's name is in the log (%d, %v)", n, err)
		}
		if _, err := w.S.OpenPerson(ctx, w.CAB, pn.ID, "check"); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("Otherland opens Demoland's person: %v", err)
		}
		got, err := w.S.OpenPerson(ctx, w.CA, pn.ID, "prepare a request to Otherland")
		if err != nil || got.Name != "Ada Synthetic" || got.Document != "P1234567" {
			t.Fatalf("open the person: %+v %v", got, err)
		}
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM personal_data_reads WHERE subject_id = ?", pn.ID).Scan(&n); err != nil || n != 1 {
			t.Errorf("reads of the person logged: %d (%v), want 1", n, err)
		}

		// Offences are ICCS codes of the classification stats ships.
		_, err = w.S.OpenCase(ctx, w.Prosecutor, assets.NewCase{Reference: "XA-2", Title: "t", Kind: assets.CaseDomestic, Offences: []string{"0703", "0799"}, OpenedOn: "2024-01-01"})
		refused(t, "an offence code the ICCS lacks", err, "iccs_code", "offences[1]")
		_, err = w.S.OpenCase(ctx, w.Prosecutor, assets.NewCase{Reference: "XA-1", Title: "t", Kind: assets.CaseDomestic, Offences: []string{"0703"}, OpenedOn: "2024-01-01"})
		refused(t, "a reference the state has", err, "case_reference", "reference")
		_, err = w.S.LinkCases(ctx, w.Prosecutor, c.ID, c.ID, "x")
		refused(t, "a case linked to itself", err, "link_self", "other_id")
		recs, err := assets.OffenceRecords(ctx, w.App.DB.Read())
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		for _, r := range recs {
			if r.Stage != stats.StageProsecution {
				t.Errorf("record %+v", r)
			}
			codes = append(codes, r.ICCS)
		}
		if strings.Join(codes, " ") != "07032 07041 07041" && strings.Join(codes, " ") != "07041 07032 07041" {
			t.Errorf("offence records %v, want embezzlement and two money laundering", codes)
		}
	})
}

// TestStatisticsNoState: a prosecutor whose authority has no state (a
// registry from before jurisdictions, an authority not yet given one) is
// refused the statistics (rule jurisdiction, field authority_id) and their
// export, not counted every state's cases, as state "" counts for the
// regulator; its lists read nothing.
func TestStatisticsNoState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		_, a := w.caseWithAsset(t, "NS-1")
		if _, err := w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, measure(assets.StepFrozen, "2024-04-01", "1000")); err != nil {
			t.Fatal(err)
		}
		stateless := *w.Prosecutor
		stateless.Jurisdiction = ""
		fig, err := w.S.Statistics(ctx, &stateless, assets.StatsQuery{Currency: "EUR"})
		refused(t, "the statistics of a prosecutor of no state", err, "jurisdiction", "authority_id")
		if fig != nil {
			t.Errorf("figures answered: %+v", fig)
		}
		_, err = w.S.StatisticsExport(&stateless, assets.StatsQuery{Currency: "EUR"}, export.CSV)
		refused(t, "the statistics' export of a prosecutor of no state", err, "jurisdiction", "authority_id")
		if cs, err := w.S.Cases(ctx, &stateless, assets.CaseFilter{}); err != nil || len(cs) != 0 {
			t.Errorf("the cases of a prosecutor of no state: %d %v", len(cs), err)
		}
		// The auditor counts every state's, and the prosecutor its own.
		for _, p := range []*auth.Principal{w.Auditor, w.Prosecutor} {
			if _, err := w.S.Statistics(ctx, p, assets.StatsQuery{Currency: "EUR"}); err != nil {
				t.Errorf("the statistics of %s: %v", p.Name, err)
			}
		}
	})
}
