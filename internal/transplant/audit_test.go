package transplant_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

func reimbursement(donor string, f func(*transplant.NewReimbursement)) transplant.NewReimbursement {
	in := transplant.NewReimbursement{DonorID: donor, Payee: transplant.PayeeDonor, Category: transplant.ExpenseTravel,
		Amount: "1250.40", Currency: "eur", IncurredOn: daysAgo(1), EvidenceRef: "train tickets, receipt 2026/114"}
	if f != nil {
		f(&in)
	}
	return in
}

// TestReimbursementRules records reimbursements and breaks each of their
// rules, on SQLite and PostgreSQL: what is not a reasonable, verifiable
// expense of a donation, or lacks evidence, is refused and alerted as a
// possible payment for an organ; amounts are exact decimals.
func TestReimbursementRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newRuleWorld(t, dsn)
		s := w.svc
		r, err := s.RecordReimbursement(ctx, w.coordA, reimbursement(w.living, nil))
		if err != nil {
			t.Fatal(err)
		}
		if r.Amount != "1250.40" || r.Currency != "EUR" || r.CentreID != w.CentreA || r.Category != "travel" {
			t.Errorf("recorded %+v", r)
		}
		record := func(p *auth.Principal, in transplant.NewReimbursement) func() error {
			return func() error { _, err := s.RecordReimbursement(ctx, p, in); return err }
		}
		checkRefusals(t, w, []refusalCase{
			{"an auditor records nothing", record(w.auditor, reimbursement(w.living, nil)), errs.Forbidden, "role", "", false},
			{"a gift is no expense", record(w.coordA, reimbursement(w.living, func(in *transplant.NewReimbursement) { in.Category = "gift" })),
				errs.Forbidden, "reimbursable_expense", "category", true},
			{"an expense needs its category", record(w.coordA, reimbursement(w.living, func(in *transplant.NewReimbursement) { in.Category = " " })),
				errs.Forbidden, "reimbursable_expense", "category", true},
			{"an expense needs evidence", record(w.coordA, reimbursement(w.living, func(in *transplant.NewReimbursement) { in.EvidenceRef = "" })),
				errs.Forbidden, "reimbursement_evidence", "evidence_ref", true},
			{"a funeral where the law does not allow it", record(w.coordA, reimbursement(w.donor, func(in *transplant.NewReimbursement) {
				in.Payee, in.Category = transplant.PayeeFamily, transplant.ExpenseFuneral
			})), errs.Forbidden, "reimbursable_expense", "category", true},
			{"a deceased donor is not paid", record(w.coordA, reimbursement(w.donor, nil)), errs.Forbidden, "reimbursement_payee", "payee", true},
			{"another centre's donor", record(w.coordB, reimbursement(w.living, nil)), errs.Forbidden, "own_centre", "donor_id", true},
			{"an unknown donor", record(w.coordA, reimbursement("DN-NOPE", nil)), errs.NotFound, "reference", "donor_id", false},
			{"a payee from the list", record(w.coordA, reimbursement(w.living, func(in *transplant.NewReimbursement) { in.Payee = "broker" })),
				errs.Invalid, "enum", "payee", false},
			{"no float exponent", record(w.coordA, reimbursement(w.living, func(in *transplant.NewReimbursement) { in.Amount = "1e3" })),
				errs.Invalid, "amount", "amount", false},
			{"no fraction of a minor unit", record(w.coordA, reimbursement(w.living, func(in *transplant.NewReimbursement) { in.Amount = "10.1234" })),
				errs.Invalid, "amount", "amount", false},
			{"a positive amount", record(w.coordA, reimbursement(w.living, func(in *transplant.NewReimbursement) { in.Amount = "-5" })),
				errs.Invalid, "amount", "amount", false},
			{"a zero amount", record(w.coordA, reimbursement(w.living, func(in *transplant.NewReimbursement) { in.Amount = "0.00" })),
				errs.Invalid, "amount", "amount", false},
			{"an ISO 4217 currency", record(w.coordA, reimbursement(w.living, func(in *transplant.NewReimbursement) { in.Currency = "EURO" })),
				errs.Invalid, "iso4217", "currency", false},
			{"an expense already incurred", record(w.coordA, reimbursement(w.living, func(in *transplant.NewReimbursement) { in.IncurredOn = daysAgo(-2) })),
				errs.Invalid, "dates_in_order", "incurred_on", false},
		})
		// Where the law allows it, a deceased donor's family is reimbursed
		// the funeral.
		s.Cfg.FuneralExpenses = true
		defer func() { s.Cfg.FuneralExpenses = false }()
		if _, err := s.RecordReimbursement(ctx, w.coordA, reimbursement(w.donor, func(in *transplant.NewReimbursement) {
			in.Payee, in.Category, in.Amount = transplant.PayeeFamily, transplant.ExpenseFuneral, "3000"
		})); err != nil {
			t.Fatal(err)
		}
		list, err := s.Reimbursements(ctx, w.coordB, "", 0)
		if err != nil || len(list) != 0 {
			t.Errorf("centre B's coordinator reads %v, %v; want none of centre A's", list, err)
		}
		if list, err := s.Reimbursements(ctx, w.coordB, w.CentreA, 0); errs.CodeOf(err) != errs.Forbidden || ruleOf(err) != "own_centre" || list != nil {
			t.Errorf("centre B's coordinator asks for centre A's: %v, %v; want refused (own_centre), as every list of a centre", list, err)
		}
		if list, err = s.Reimbursements(ctx, w.regulator, w.CentreA, 0); err != nil || len(list) != 2 || list[0].Amount != "3000" {
			t.Errorf("the regulator reads %+v, %v", list, err)
		}
	})
}

// TestAuditsAndPack plans an audit with a finding and corrective actions,
// breaks the audits' rules, and builds centre A's audit pack: its counts,
// refusals, unreconciled organs, overdue action and flags, and its CSV row
// by row, on SQLite and PostgreSQL.
func TestAuditsAndPack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newRuleWorld(t, dsn)
		s := w.svc
		for _, amount := range []string{"0.10", "0.20", "1250.40"} {
			if _, err := s.RecordReimbursement(ctx, w.coordA, reimbursement(w.living, func(in *transplant.NewReimbursement) { in.Amount = amount })); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.RecordReimbursement(ctx, w.coordA, reimbursement(w.living, func(in *transplant.NewReimbursement) { in.Category = "bonus" })); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("a bonus: %v", err)
		}
		a, err := s.PlanAudit(ctx, w.regulator, transplant.NewAudit{CentreID: w.CentreA, PlannedOn: daysAgo(1), Scope: "Living donation files, 2026"})
		if err != nil {
			t.Fatal(err)
		}
		later, err := s.PlanAudit(ctx, w.regulator, transplant.NewAudit{CentreID: w.CentreB, ProfessionalRef: "LIC-0042", PlannedOn: daysAgo(-30), Scope: "Surgeon's consent records"})
		if err != nil {
			t.Fatal(err)
		}
		f, err := s.RecordFinding(ctx, w.regulator, a.ID, transplant.NewFinding{Severity: "major", Description: "Two consent forms lack the independent assessor's signature"})
		if err != nil {
			t.Fatal(err)
		}
		act, err := s.SetCorrectiveAction(ctx, w.regulator, f.ID, transplant.NewCorrectiveAction{Action: "Countersign and file both forms", DueOn: daysAgo(-7)})
		if err != nil {
			t.Fatal(err)
		}
		done, err := s.SetCorrectiveAction(ctx, w.regulator, f.ID, transplant.NewCorrectiveAction{Action: "Train the team", DueOn: daysAgo(-7)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CloseCorrectiveAction(ctx, w.regulator, done.ID, daysAgo(0), "attendance sheet seen"); err != nil {
			t.Fatal(err)
		}
		checkRefusals(t, w, []refusalCase{
			{"a coordinator plans no audit", func() error {
				_, err := s.PlanAudit(ctx, w.coordA, transplant.NewAudit{CentreID: w.CentreA, PlannedOn: daysAgo(0), Scope: "x"})
				return err
			}, errs.Forbidden, "role", "", false},
			{"an audit of a centre", func() error {
				_, err := s.PlanAudit(ctx, w.regulator, transplant.NewAudit{CentreID: w.RegulatorAuthority, PlannedOn: daysAgo(0), Scope: "x"})
				return err
			}, errs.Invalid, "reference", "centre_id", false},
			{"an audit has a scope", func() error {
				_, err := s.PlanAudit(ctx, w.regulator, transplant.NewAudit{CentreID: w.CentreA, PlannedOn: daysAgo(0)})
				return err
			}, errs.Invalid, "required", "scope", false},
			{"findings of an audit held", func() error {
				_, err := s.RecordFinding(ctx, w.regulator, later.ID, transplant.NewFinding{Severity: "minor", Description: "x"})
				return err
			}, errs.Invalid, "audit_held", "audit_id", false},
			{"a severity from the list", func() error {
				_, err := s.RecordFinding(ctx, w.regulator, a.ID, transplant.NewFinding{Severity: "awful", Description: "x"})
				return err
			}, errs.Invalid, "enum", "severity", false},
			{"an action is due ahead", func() error {
				_, err := s.SetCorrectiveAction(ctx, w.regulator, f.ID, transplant.NewCorrectiveAction{Action: "x", DueOn: daysAgo(1)})
				return err
			}, errs.Invalid, "dates_in_order", "due_on", false},
			{"an action of a finding", func() error {
				_, err := s.SetCorrectiveAction(ctx, w.regulator, "AF-NOPE", transplant.NewCorrectiveAction{Action: "x", DueOn: daysAgo(0)})
				return err
			}, errs.NotFound, "reference", "finding_id", false},
			{"an action is done once", func() error {
				_, err := s.CloseCorrectiveAction(ctx, w.regulator, done.ID, daysAgo(0), "again")
				return err
			}, errs.Conflict, "action_open", "action_id", false},
		})
		if od, err := s.OverdueActions(ctx, w.regulator, ""); err != nil || len(od) != 0 {
			t.Errorf("overdue today: %v, %v", od, err)
		}
		if _, err := s.Audits(ctx, w.coordA, ""); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("a coordinator reads audits: %v", err)
		}

		// Ten days on: the first action is overdue, and the organs procured
		// ten hours ago and never transplanted are past the 72 h deadline.
		s.Now = func() time.Time { return time.Now().AddDate(0, 0, 10) }
		defer func() { s.Now = nil }()
		od, err := s.OverdueActions(ctx, w.auditor, w.CentreA)
		if err != nil || len(od) != 1 || od[0].ID != act.ID || !od[0].Overdue {
			t.Fatalf("overdue in ten days: %+v, %v", od, err)
		}
		st, err := s.CentreStandings(ctx, w.auditor)
		if err != nil {
			t.Fatal(err)
		}
		flags := map[string][]string{}
		for _, c := range st {
			flags[c.CentreID] = c.Flags
		}
		if want := []string{transplant.FlagReportingBehind, transplant.FlagActionsOverdue}; !slices.Equal(flags[w.CentreA], want) {
			t.Errorf("centre A flagged %v, want %v", flags[w.CentreA], want)
		}
		// Centre B's pancreas procurement authorization was revoked today
		// and not renewed.
		if want := []string{transplant.FlagAuthorizationLapsed}; !slices.Equal(flags[w.CentreB], want) {
			t.Errorf("centre B flagged %v, want %v", flags[w.CentreB], want)
		}

		pk, err := s.AuditPack(ctx, w.auditor, w.CentreA, daysAgo(5), daysAgo(-10))
		if err != nil {
			t.Fatal(err)
		}
		want := transplant.PackActivity{DonorsRegistered: 2, Procurements: 1, OrgansProcured: 3, Transplants: 1,
			Reimbursements: []transplant.CurrencyTotal{{Currency: "EUR", Total: "1250.70", Count: 3}}}
		if !equalActivity(pk.Activity, want) {
			t.Errorf("activity %+v, want %+v", pk.Activity, want)
		}
		if len(pk.Refusals) != 1 || pk.Refusals[0].Rule != "reimbursable_expense" || len(pk.Alerts) != 0 {
			t.Errorf("refusals %+v, alerts %+v", pk.Refusals, pk.Alerts)
		}
		if len(pk.Unreconciled) != 2 || pk.Unreconciled[0].ID != w.organs[1] && pk.Unreconciled[1].ID != w.organs[1] {
			t.Errorf("unreconciled %+v, want %v", pk.Unreconciled, w.organs[1:])
		}
		if len(pk.Audits) != 1 || len(pk.Audits[0].Findings) != 1 || len(pk.Audits[0].Findings[0].Actions) != 2 || len(pk.OverdueActions) != 1 {
			t.Errorf("audits %+v, overdue %+v", pk.Audits, pk.OverdueActions)
		}
		if len(pk.OverdueFollowUps) != 0 {
			t.Errorf("overdue follow-ups %+v, want none: every transplant here is days old", pk.OverdueFollowUps)
		}

		// The CSV holds the same, row by row.
		req, err := s.AuditPackExport(w.auditor, map[string][]string{"centre_id": {w.CentreA}, "from": {daysAgo(5)}, "to": {daysAgo(-10)}, "format": {"csv"}})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := export.Export(ctx, w.App.DB, w.App.Writer, w.auditor.Actor(), req, func(export.Meta) {}, &buf); err != nil {
			t.Fatal(err)
		}
		rd := csv.NewReader(&buf)
		rd.FieldsPerRecord = -1
		recs, err := rd.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		in := false
		for _, r := range recs {
			if in && r[0] != "rows" {
				got = append(got, strings.Join([]string{r[0], r[1], r[3], r[5], r[6]}, "|"))
			}
			in = in || slices.Equal(r, transplant.AuditPackColumns)
		}
		u0, u1 := pk.Unreconciled[0], pk.Unreconciled[1]
		wantRows := []string{
			"centre|" + w.CentreA + "||Centre A|" + daysAgo(5) + "/" + daysAgo(-10),
			"activity|donors_registered||2|", "activity|procurements||1|", "activity|organs_procured||3|", "activity|transplants||1|", "activity|transplants_from_abroad||0|",
			"activity|dispositions||0|",
			"reimbursements|EUR||1250.70|3",
			"refusal|" + pk.Refusals[0].ID + "|reimbursable_expense|open|" + pk.Refusals[0].Message,
			"unreconciled_organ|" + u0.ID + "|" + u0.Organ + "|" + w.donor + "|no final disposition",
			"unreconciled_organ|" + u1.ID + "|" + u1.Organ + "|" + w.donor + "|no final disposition",
			"audit|" + a.ID + "||1|Living donation files, 2026",
			"finding|" + f.ID + "|major|" + a.ID + "|Two consent forms lack the independent assessor's signature",
			"overdue_action|" + act.ID + "||" + f.ID + "|Countersign and file both forms",
			"flag|" + w.CentreA + "|reporting_behind||", "flag|" + w.CentreA + "|corrective_actions_overdue||",
		}
		if !slices.Equal(got, wantRows) {
			t.Errorf("CSV rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantRows, "\n"))
		}
		if _, err := s.AuditPackExport(w.coordA, map[string][]string{"centre_id": {w.CentreA}, "from": {daysAgo(5)}, "to": {daysAgo(0)}, "format": {"csv"}}); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("a coordinator exports the pack: %v", err)
		}
		if _, err := s.AuditPack(ctx, w.auditor, w.CentreA, daysAgo(0), daysAgo(5)); ruleOf(err) != "dates_in_order" {
			t.Errorf("a period backwards: %v", err)
		}
	})
}

func equalActivity(a, b transplant.PackActivity) bool {
	return a.DonorsRegistered == b.DonorsRegistered && a.Procurements == b.Procurements && a.OrgansProcured == b.OrgansProcured &&
		a.Transplants == b.Transplants && a.TransplantsFromAbroad == b.TransplantsFromAbroad && a.Dispositions == b.Dispositions &&
		slices.Equal(a.Reimbursements, b.Reimbursements)
}

// TestPayerCheck links a transplantation to a trafficking case and asks
// as a payer, on SQLite and PostgreSQL: payable until the assessment
// confirms trafficking, then not, with its reason; care and medicines stay
// payable; every question is a log entry; only payers ask.
func TestPayerCheck(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newRuleWorld(t, dsn)
		s := w.svc
		payer, assessor := payerAndAssessor(t, w)
		var tx, performed string
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT id, performed_at FROM transplants WHERE recipient_id = ?", w.done).Scan(&tx, &performed); err != nil {
			t.Fatal(err)
		}
		ask := func(q transplant.PayerQuery) *transplant.PayerAnswer {
			t.Helper()
			a, err := s.CheckPayer(ctx, payer, q)
			if err != nil {
				t.Fatal(err)
			}
			if !a.FollowUpCarePayable || !a.MedicinesPayable {
				t.Errorf("care withheld: %+v", a)
			}
			return a
		}
		if a := ask(transplant.PayerQuery{TransplantID: tx}); !a.ProcedurePayable || a.Reason != transplant.ReasonPayable || a.PerformedOn != performed[:10] {
			t.Errorf("before any case: %+v", a)
		}
		rep, err := s.FileTraffickingReport(ctx, w.coordA, transplant.NewTraffickingReport{Indicators: []string{"finance.payment_to_donor"}, Text: "synthetic"})
		if err != nil {
			t.Fatal(err)
		}
		var reportID string
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT id FROM trafficking_reports").Scan(&reportID); err != nil {
			t.Fatal(err)
		}
		_ = rep
		if err := s.LinkTraffickingCase(ctx, assessor, reportID, tx); ruleOf(err) != "assessment_status" {
			t.Errorf("a report received is linked: %v", err)
		}
		if _, err := s.SetTraffickingStatus(ctx, assessor, reportID, transplant.TraffickingUnderAssessment); err != nil {
			t.Fatal(err)
		}
		if err := s.LinkTraffickingCase(ctx, w.regulator, reportID, tx); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("the regulator links: %v", err)
		}
		if err := s.LinkTraffickingCase(ctx, assessor, reportID, "TX-0000000000"); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("an unknown transplantation: %v", err)
		}
		// Text that is no identifier is refused without being repeated.
		if err := s.LinkTraffickingCase(ctx, assessor, reportID, "Jane Roe (synthetic)"); ruleOf(err) != "id_format" || fieldOf(err) != "transplant_id" || strings.Contains(err.Error(), "Jane Roe") {
			t.Errorf("a name as the transplantation: %v; want id_format on transplant_id, the name not repeated", err)
		}
		if err := s.LinkTraffickingCase(ctx, assessor, reportID, tx); err != nil {
			t.Fatal(err)
		}
		if err := s.LinkTraffickingCase(ctx, assessor, reportID, tx); ruleOf(err) != "duplicate" {
			t.Errorf("linked twice: %v", err)
		}
		// The report's page lists what its case is linked to, by whom: the
		// authority sees which procedures its assessment makes not payable.
		if rep, err := s.GetTraffickingReport(ctx, assessor, reportID); err != nil || len(rep.Transplants) != 1 || rep.Transplants[0].TransplantID != tx || rep.Transplants[0].LinkedBy != assessor.ID {
			t.Errorf("the report's links: %+v, %v; want %s linked by %s", rep, err, tx, assessor.ID)
		}
		// Linked, not yet confirmed: payable.
		if a := ask(transplant.PayerQuery{TransplantID: tx}); !a.ProcedurePayable {
			t.Errorf("linked, unassessed: %+v", a)
		}
		assess := func(conclusion string) {
			t.Helper()
			if _, err := s.AssessTraffickingReport(ctx, assessor, reportID, transplant.TraffickingAssessment{Conclusion: conclusion, Year: time.Now().Year(), Organ: "kidney",
				Donor:     transplant.CasePerson{Nationality: "XA", Sex: "male", AgeBand: "25-34"},
				Recipient: transplant.CasePerson{Nationality: "XA", Sex: "male", AgeBand: "45-54"}}); err != nil {
				t.Fatal(err)
			}
		}
		assess(transplant.AssessmentInconclusive)
		if a := ask(transplant.PayerQuery{TransplantID: tx}); !a.ProcedurePayable {
			t.Errorf("inconclusive: %+v", a)
		}
		assess(transplant.AssessmentConfirmed)
		a := ask(transplant.PayerQuery{TransplantID: tx})
		if a.ProcedurePayable || a.Reason != transplant.ReasonTraffickingConfirmed {
			t.Errorf("confirmed: %+v", a)
		}
		var pseudonym string
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT person_pseudonym FROM recipients WHERE id = ?", w.done).Scan(&pseudonym); err != nil {
			t.Fatal(err)
		}
		if b := ask(transplant.PayerQuery{RecipientPseudonym: pseudonym, Date: performed[:10]}); b.TransplantID != tx || b.ProcedurePayable {
			t.Errorf("by pseudonym and date: %+v", b)
		}
		// A question that finds nothing is refused, and logged too.
		nf, err := s.CheckPayer(ctx, payer, transplant.PayerQuery{RecipientPseudonym: pseudonym, Date: "2001-01-01"})
		if errs.CodeOf(err) != errs.NotFound || fieldOf(err) != "recipient_pseudonym" || nf == nil || nf.Reason != transplant.ReasonNotFound {
			t.Errorf("nothing found: %+v, %v", nf, err)
		}
		if _, err := s.CheckPayer(ctx, payer, transplant.PayerQuery{TransplantID: tx, Date: "2001-01-01"}); ruleOf(err) != "payer_query" {
			t.Errorf("two questions at once: %v", err)
		}
		// A question that names no transplantation's id, or no pseudonym, is
		// refused with its rule and field and not logged: the log, which
		// nothing erases, keeps no text a payer typed (a name, a claim's file).
		for i, c := range []struct {
			q           transplant.PayerQuery
			rule, field string
		}{
			{transplant.PayerQuery{TransplantID: "Jane Roe, born 1970-01-02"}, "id_format", "transplant_id"},
			{transplant.PayerQuery{TransplantID: tx + "0"}, "id_format", "transplant_id"},
			{transplant.PayerQuery{TransplantID: "DN" + tx[2:]}, "id_format", "transplant_id"},
			{transplant.PayerQuery{TransplantID: strings.Repeat("A", 5000)}, "id_format", "transplant_id"},
			{transplant.PayerQuery{RecipientPseudonym: "Jane Roe", Date: performed[:10]}, "pseudonym_format", "recipient_pseudonym"},
			{transplant.PayerQuery{RecipientPseudonym: pseudonym + "A", Date: performed[:10]}, "pseudonym_format", "recipient_pseudonym"},
		} {
			if a, err := s.CheckPayer(ctx, payer, c.q); a != nil || errs.CodeOf(err) != errs.Invalid || ruleOf(err) != c.rule || fieldOf(err) != c.field {
				t.Errorf("question %d: answered %v, %.200v; want refused (%s, %s)", i, a != nil, err, c.rule, c.field)
			}
		}
		for _, p := range []*auth.Principal{w.regulator, w.auditor, w.coordA, assessor} {
			if _, err := s.CheckPayer(ctx, p, transplant.PayerQuery{TransplantID: tx}); errs.CodeOf(err) != errs.Forbidden {
				t.Errorf("%s asks: %v", p.Role, err)
			}
		}
		checks, err := s.PayerChecks(ctx, w.regulator, 0)
		if err != nil {
			t.Fatal(err)
		}
		var reasons []string
		for _, c := range checks {
			reasons = append(reasons, c.Reason)
			if c.AskedBy != payer.ID {
				t.Errorf("asked by %s, want %s", c.AskedBy, payer.ID)
			}
			// A question that found nothing has no answer on payment.
			if found := c.Reason != transplant.ReasonNotFound; (c.ProcedurePayable != nil) != found || (c.MedicinesPayable != nil) != found {
				t.Errorf("question %s (%s) answers on payment: %v", c.ID, c.Reason, c.ProcedurePayable != nil)
			}
		}
		if want := []string{"not_found", "trafficking_confirmed", "trafficking_confirmed", "payable", "payable", "payable"}; !slices.Equal(reasons, want) {
			t.Errorf("logged %v, want %v", reasons, want)
		}
		// The regulator reads each question beside its answer: the two
		// newest were asked by pseudonym and day, the third by id.
		if len(checks) == 6 {
			if c := checks[0]; c.RecipientPseudonym != pseudonym || c.Date != "2001-01-01" || c.TransplantID != "" || c.PerformedOn != "" {
				t.Errorf("the question that found nothing, as listed: %+v", c)
			}
			if c := checks[1]; c.RecipientPseudonym != pseudonym || c.Date != performed[:10] || c.TransplantID != tx || c.PerformedOn != performed[:10] {
				t.Errorf("the question by pseudonym and day, as listed: %+v", c)
			}
			if c := checks[2]; c.RecipientPseudonym != "" || c.Date != "" || c.TransplantID != tx || c.PerformedOn != performed[:10] {
				t.Errorf("the question by id, as listed: %+v", c)
			}
		}
		// The payer reads nothing else of the registry.
		if _, err := s.PayerChecks(ctx, payer, 0); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("a payer reads the questions: %v", err)
		}
		if _, err := s.Reimbursements(ctx, payer, "", 0); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("a payer reads reimbursements: %v", err)
		}
		if _, err := s.AuditPack(ctx, payer, w.CentreA, daysAgo(1), daysAgo(0)); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("a payer reads a pack: %v", err)
		}
	})
}

// payerAndAssessor creates an insurer with its payer, and the designated
// authority for trafficking reports with its assessor.
func payerAndAssessor(t *testing.T, w *ruleWorld) (payer, assessor *auth.Principal) {
	t.Helper()
	ins := w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "Demoland Health Insurance Fund", "kind": "payer"}).Str("id")
	tok := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Claims officer", "role": "payer", "authority_id": ins}).Str("token")
	da := w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "National Rapporteur", "kind": "trafficking_authority"}).Str("id")
	as := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Assessor", "role": "trafficking_assessor", "authority_id": da}).Str("token")
	w.Must(t, 422, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Wrong kind", "role": "payer", "authority_id": w.CentreA})
	return w.Principal(t, tok), w.Principal(t, as)
}

// fieldOf is the field a refusal names.
func fieldOf(err error) string {
	e, _ := errs.As(err)
	if e == nil {
		return ""
	}
	return e.Field
}

// TestReimbursementDominoDonor reimburses a domino donor, on SQLite and
// PostgreSQL: the recipient who gave their explanted liver gave it alive, so
// they are reimbursed as a living donor is (their travel, to them), and a
// funeral is no expense of their donation even where the law allows funerals.
// Refusing them as "deceased" would raise an alert of a payment to a dead
// donor about a lawful reimbursement.
func TestReimbursementDominoDonor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newGODTWorld(t, dsn, time.Now().UTC())
		_, organs := w.donor(transplant.DonorBrainDeath, "liver")
		pr, _ := w.procedure(transplant.ProcedureSingle, true, organs[0])
		if pr.Domino == nil || pr.Domino.Donor.Kind != transplant.DonorDomino {
			t.Fatalf("the procedure records no domino donor: %+v", pr.Domino)
		}
		domino := pr.Domino.Donor.ID
		r, err := w.svc.RecordReimbursement(ctx, w.coord, reimbursement(domino, nil))
		if err != nil {
			t.Fatalf("the domino donor's travel: %v", err)
		}
		if r.Payee != transplant.PayeeDonor || r.DonorID != domino {
			t.Errorf("recorded %+v", r)
		}
		w.svc.Cfg.FuneralExpenses = true
		defer func() { w.svc.Cfg.FuneralExpenses = false }()
		_, err = w.svc.RecordReimbursement(ctx, w.coord, reimbursement(domino, func(in *transplant.NewReimbursement) {
			in.Payee, in.Category = transplant.PayeeFamily, transplant.ExpenseFuneral
		}))
		if e, ok := errs.As(err); !ok || e.Rule != "reimbursable_expense" || e.Field != "category" || !e.Alert {
			t.Errorf("a funeral of a domino donor: %v, want refused and alerted (reimbursable_expense, category)", err)
		}
	})
}

// TestOversightOfOrgansFromAbroad has centre A transplant an organ received
// from abroad today, recorded at once, and, four days later on the
// registry's clock, record another as discarded that day, and checks on
// SQLite and PostgreSQL that the oversight reads them as the centre's
// activity: the late outcome makes the centre's reporting behind; the audit
// pack counts the organ transplanted among the centre's transplantations,
// lists it with its identifier and its country of origin, and so do the
// pack's file lines.
func TestOversightOfOrgansFromAbroad(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		var ahead atomic.Int64
		w := apptest.NewWorldWith(t, dsn, func(c *server.Config) {
			c.Now = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
		})
		im := apptest.ImportedOrgans(t, w, dsn)
		svc := w.App.Transplant
		today := time.Now().UTC().Format(transplant.DateLayout)
		ahead.Store(int64(4 * 24 * time.Hour))
		w.Must(t, 201, "POST", "/api/v1/transplant/imports/"+im.Named+"/outcome", w.CoordA,
			map[string]any{"outcome": "discarded", "reason": "organ_quality", "on": today})
		reg := w.Principal(t, w.Regulator)

		st, err := svc.CentreStandings(ctx, reg)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(st, func(c transplant.CentreStanding) bool { return c.CentreID == w.CentreA })
		if i < 0 {
			t.Fatalf("no standing of centre A among %+v", st)
		}
		if c := st[i]; c.LateRecords != 1 || !slices.Contains(c.Flags, transplant.FlagReportingBehind) {
			t.Errorf("centre A's standing %+v: want 1 late record (the outcome of the organ from abroad recorded four days late), reporting behind", c)
		}

		held, err := svc.Import(ctx, reg, im.Held)
		if err != nil {
			t.Fatal(err)
		}
		pk, err := svc.AuditPack(ctx, reg, w.CentreA, daysAgo(1), daysAgo(-5))
		if err != nil {
			t.Fatal(err)
		}
		want := []transplant.PackImport{{OrganID: im.Held, OriginCountry: held.OriginCountry, Organ: "kidney", TransplantedOn: today, RecipientID: im.Recipient}}
		if pk.Activity.Transplants != 1 || pk.Activity.TransplantsFromAbroad != 1 || !slices.Equal(pk.Imports, want) {
			t.Errorf("centre A's pack: transplants %d, from abroad %d, %+v; want 1, 1, %+v", pk.Activity.Transplants, pk.Activity.TransplantsFromAbroad, pk.Imports, want)
		}
		var lines []string
		for _, l := range pk.Lines() {
			if l[0] == "activity" || l[0] == "transplant_from_abroad" {
				lines = append(lines, fmt.Sprint(l...))
			}
		}
		for _, l := range []string{fmt.Sprint("activity", "transplants", "", "", "", 1, ""), fmt.Sprint("activity", "transplants_from_abroad", "", "", "", 1, ""),
			fmt.Sprint("transplant_from_abroad", im.Held, today, "kidney", "", im.Recipient, held.OriginCountry)} {
			if !slices.Contains(lines, l) {
				t.Errorf("the pack's lines %q lack %q", lines, l)
			}
		}
		// Centre B transplanted none.
		if pk, err := svc.AuditPack(ctx, reg, w.CentreB, daysAgo(1), daysAgo(-5)); err != nil || pk.Activity.Transplants != 0 || len(pk.Imports) != 0 {
			t.Errorf("centre B's pack: %+v, %v; want no transplantation", pk, err)
		}
	})
}

// TestPayerCheckOfOrganFromAbroad has centre A transplant an organ received
// from abroad and asks the payer check about it, on SQLite and PostgreSQL:
// by the recipient's pseudonym and the day, and by the organ's identifier
// (as typed, in lower case), it is a transplantation here, payable, known by
// the organ's identifier; an organ from abroad with no transplantation here
// is no transplantation (not_found).
func TestPayerCheckOfOrganFromAbroad(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := apptest.NewWorld(t, dsn)
		im := apptest.ImportedOrgans(t, w, dsn)
		ins := w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "Demoland Health Insurance Fund", "kind": "payer"}).Str("id")
		payer := w.Principal(t, w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Claims officer", "role": "payer", "authority_id": ins}).Str("token"))
		var pseudonym string
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT person_pseudonym FROM recipients WHERE id = ?", im.Recipient).Scan(&pseudonym); err != nil {
			t.Fatal(err)
		}
		today := time.Now().UTC().Format(transplant.DateLayout)
		for _, q := range []transplant.PayerQuery{{RecipientPseudonym: pseudonym, Date: today}, {TransplantID: strings.ToLower(im.Held)}} {
			a, err := w.App.Transplant.CheckPayer(ctx, payer, q)
			if err != nil || a.TransplantID != im.Held || a.PerformedOn != today || !a.ProcedurePayable || a.Reason != transplant.ReasonPayable {
				t.Errorf("asked %+v: %+v, %v; want %s performed on %s, payable", q, a, err, im.Held, today)
			}
		}
		if _, err := w.App.Transplant.CheckPayer(ctx, payer, transplant.PayerQuery{TransplantID: im.Named}); ruleOf(err) != "reference" || fieldOf(err) != "transplant_id" {
			t.Errorf("asked about an organ from abroad not transplanted: %v, want reference on transplant_id", err)
		}

		// The designated authority links a trafficking case to it (by the
		// organ's identifier, as typed); confirmed, the procedure is not
		// reimbursable, asked either way.
		s := w.App.Transplant
		da := w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "National Rapporteur", "kind": "trafficking_authority"}).Str("id")
		assessor := w.Principal(t, w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Assessor", "role": "trafficking_assessor", "authority_id": da}).Str("token"))
		if _, err := s.FileTraffickingReport(ctx, w.Principal(t, w.CoordA), transplant.NewTraffickingReport{Indicators: []string{"finance.payment_to_donor"}, Text: "synthetic"}); err != nil {
			t.Fatal(err)
		}
		var reportID string
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT id FROM trafficking_reports").Scan(&reportID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetTraffickingStatus(ctx, assessor, reportID, transplant.TraffickingUnderAssessment); err != nil {
			t.Fatal(err)
		}
		if err := s.LinkTraffickingCase(ctx, assessor, reportID, im.Named); ruleOf(err) != "reference" {
			t.Errorf("linked to an organ from abroad not transplanted here: %v, want reference", err)
		}
		if err := s.LinkTraffickingCase(ctx, assessor, reportID, strings.ToLower(im.Held)); err != nil {
			t.Fatalf("linked to an organ from abroad transplanted here: %v", err)
		}
		if err := s.LinkTraffickingCase(ctx, assessor, reportID, im.Held); ruleOf(err) != "duplicate" {
			t.Errorf("linked twice: %v, want duplicate", err)
		}
		if rep, err := s.GetTraffickingReport(ctx, assessor, reportID); err != nil || len(rep.Transplants) != 1 || rep.Transplants[0].TransplantID != im.Held {
			t.Errorf("the report's links: %+v, %v; want %s", rep, err, im.Held)
		}
		if _, err := s.AssessTraffickingReport(ctx, assessor, reportID, transplant.TraffickingAssessment{Conclusion: transplant.AssessmentConfirmed, Year: time.Now().Year(), Organ: "kidney",
			Donor:     transplant.CasePerson{Nationality: "XA", Sex: "male", AgeBand: "25-34"},
			Recipient: transplant.CasePerson{Nationality: "XA", Sex: "male", AgeBand: "45-54"}}); err != nil {
			t.Fatal(err)
		}
		for _, q := range []transplant.PayerQuery{{RecipientPseudonym: pseudonym, Date: today}, {TransplantID: im.Held}} {
			a, err := s.CheckPayer(ctx, payer, q)
			if err != nil || a.TransplantID != im.Held || a.ProcedurePayable || a.Reason != transplant.ReasonTraffickingConfirmed || !a.FollowUpCarePayable || !a.MedicinesPayable {
				t.Errorf("asked %+v after a confirmed case: %+v, %v; want %s not payable, trafficking_confirmed, care payable", q, a, err, im.Held)
			}
		}
		var n int
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM trafficking_case_imports WHERE organ_id = ?", im.Held).Scan(&n); err != nil || n != 1 {
			t.Errorf("links of the organ from abroad: %d, %v", n, err)
		}
		if rep, err := ledger.Verify(ctx, w.App.DB, w.App.Projections, ledger.VerifyOptions{}); err != nil || !rep.OK() {
			t.Errorf("log verify: %+v, %v", rep, err)
		}
	})
}

// TestOrgansFromAbroadAwaitingOutcome has a registry receive organs from
// abroad: one centre A transplants at once, one sent to centre A with no
// outcome, one sent to no centre. On SQLite and PostgreSQL: before the
// disposition deadline nothing is flagged; four days later, past it, the
// organ centre A holds with no outcome counts in its standing (awaiting a
// disposition, of which from abroad, reporting behind) and is listed in
// its audit pack and the pack's lines, not in centre B's; the organ no
// centre holds is in the regulator's list of unheld organs (and the API's
// standings), in no centre's standing. Assigned to centre B, it counts at
// centre B and leaves the unheld list; an outcome recorded takes an organ
// off.
func TestOrgansFromAbroadAwaitingOutcome(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		var ahead atomic.Int64
		w := apptest.NewWorldWith(t, dsn, func(c *server.Config) {
			c.Now = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
		})
		im := apptest.ImportedOrgans(t, w, dsn)
		svc := w.App.Transplant
		reg := w.Principal(t, w.Regulator)
		standing := func(centre string) transplant.CentreStanding {
			t.Helper()
			st, err := svc.CentreStandings(ctx, reg)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(st, func(c transplant.CentreStanding) bool { return c.CentreID == centre })
			if i < 0 {
				t.Fatalf("no standing of centre %s among %+v", centre, st)
			}
			return st[i]
		}
		unheld := func() []string {
			t.Helper()
			list, err := svc.UnheldImports(ctx, reg)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, x := range list {
				ids = append(ids, x.OrganID)
			}
			return ids
		}
		if c := standing(w.CentreA); c.AwaitingDisposition != 0 || c.AwaitingFromAbroad != 0 || len(c.Flags) != 0 {
			t.Errorf("centre A within the deadline: %+v, want nothing awaiting, no flag", c)
		}
		if got := unheld(); len(got) != 0 {
			t.Errorf("unheld within the deadline: %v, want none", got)
		}

		ahead.Store(int64(4 * 24 * time.Hour))
		if c := standing(w.CentreA); c.AwaitingDisposition != 1 || c.AwaitingFromAbroad != 1 || !slices.Contains(c.Flags, transplant.FlagReportingBehind) {
			t.Errorf("centre A past the deadline: %+v, want 1 awaiting, 1 from abroad, reporting behind", c)
		}
		if c := standing(w.CentreB); c.AwaitingDisposition != 0 || c.AwaitingFromAbroad != 0 || len(c.Flags) != 0 {
			t.Errorf("centre B, which holds none: %+v, want nothing awaiting, no flag", c)
		}
		if got := unheld(); !slices.Equal(got, []string{im.Unnamed}) {
			t.Errorf("unheld past the deadline: %v, want [%s]", got, im.Unnamed)
		}
		api := w.Must(t, 200, "GET", "/api/v1/transplant/centre-standings", w.Regulator, nil)
		if list, _ := api.Body["unheld_imports"].([]any); len(list) != 1 || list[0].(map[string]any)["organ_id"] != im.Unnamed {
			t.Errorf("the API's standings: unheld_imports %v, want %s", api.Body["unheld_imports"], im.Unnamed)
		}

		named, err := svc.Import(ctx, reg, im.Named)
		if err != nil {
			t.Fatal(err)
		}
		pk, err := svc.AuditPack(ctx, reg, w.CentreA, daysAgo(1), daysAgo(-5))
		if err != nil {
			t.Fatal(err)
		}
		want := []transplant.AwaitingImport{{OrganID: im.Named, OriginCountry: named.OriginCountry, Organ: "kidney", ReceivedAt: named.ReceivedAt, DestinationCentre: "Centre A"}}
		if !slices.Equal(pk.UnreconciledImports, want) || pk.Standing.AwaitingFromAbroad != 1 {
			t.Errorf("centre A's pack: %+v, standing %+v; want %+v and 1 from abroad", pk.UnreconciledImports, pk.Standing, want)
		}
		line := fmt.Sprint("unreconciled_import", im.Named, named.ReceivedAt, "kidney", "", named.OriginCountry, "no outcome recorded")
		if !slices.ContainsFunc(pk.Lines(), func(l []any) bool { return fmt.Sprint(l...) == line }) {
			t.Errorf("centre A's pack lines lack %q: %v", line, pk.Lines())
		}
		if pk, err := svc.AuditPack(ctx, reg, w.CentreA, daysAgo(-5), daysAgo(-6)); err != nil || len(pk.UnreconciledImports) != 0 {
			t.Errorf("centre A's pack of a period after the organ was received: %+v, %v; want none from abroad", pk.UnreconciledImports, err)
		}
		if pk, err := svc.AuditPack(ctx, reg, w.CentreB, daysAgo(1), daysAgo(-5)); err != nil || len(pk.UnreconciledImports) != 0 {
			t.Errorf("centre B's pack: %+v, %v; want none from abroad", pk, err)
		}

		// The list of organs awaiting a disposition lists the organ centre
		// A holds, marked from abroad, not the one no centre holds; its
		// filters read the holder, the receipt and the characterization.
		if got := awaitingAbroad(t, svc, reg, transplant.ListFilter{}); !slices.Equal(got, []string{im.Named + " " + w.CentreA + " " + im.ToOrigin + " " + named.OriginCountry + " " + named.ReceivedAt}) {
			t.Errorf("awaiting a disposition past the deadline: %v, want %s held by centre A, from %s", got, im.Named, im.ToOrigin)
		}
		group := named.Characterization.Donor.BloodGroup
		other := "O"
		if group == other {
			other = "A"
		}
		for _, c := range []struct {
			name string
			f    transplant.ListFilter
			want int
		}{
			{"centre A", transplant.ListFilter{CentreID: w.CentreA}, 1},
			{"centre B", transplant.ListFilter{CentreID: w.CentreB}, 0},
			{"its organ", transplant.ListFilter{Organ: "kidney"}, 1},
			{"another organ", transplant.ListFilter{Organ: "liver"}, 0},
			{"its donor's blood group", transplant.ListFilter{BloodGroup: group}, 1},
			{"another blood group", transplant.ListFilter{BloodGroup: other}, 0},
			{"received from its day", transplant.ListFilter{From: named.ReceivedAt[:10]}, 1},
			{"received before its day", transplant.ListFilter{To: daysAgo(1)}, 0},
			{"its identifier", transplant.ListFilter{ID: strings.ToLower(im.Named)}, 1},
		} {
			if got := awaitingAbroad(t, svc, reg, c.f); len(got) != c.want {
				t.Errorf("awaiting a disposition, filtered by %s: %v, want %d", c.name, got, c.want)
			}
		}
		coord := w.Must(t, 200, "GET", "/api/v1/transplant/organs/awaiting-disposition?centre_id="+w.CentreA, w.CoordA, nil)
		if list, _ := coord.Body["awaiting-disposition"].([]any); len(list) != 1 || list[0].(map[string]any)["status"] != transplant.OrganReceived ||
			list[0].(map[string]any)["origin_registry"] != im.ToOrigin {
			t.Errorf("the API's organs awaiting a disposition for centre A's coordinator: %s, want %s received from %s", coord.Raw, im.Named, im.ToOrigin)
		}
		file := w.Must(t, 200, "GET", "/api/v1/transplant/organs/awaiting-disposition?format=csv&centre_id="+w.CentreA, w.Regulator, nil)
		if row := strings.Join([]string{im.Named, "kidney", "", "", named.ProcuredAt, w.CentreA, im.ToOrigin, named.OriginCountry, named.ReceivedAt}, ","); !strings.Contains(string(file.Raw), row) ||
			!strings.Contains(string(file.Raw), "centre_id,origin_registry,origin_country,received_at") {
			t.Errorf("the CSV of organs awaiting a disposition lacks the row %q:\n%s", row, file.Raw)
		}

		w.Must(t, 201, "POST", "/api/v1/transplant/imports/"+im.Unnamed+"/assignment", w.Regulator, map[string]any{"centre_id": w.CentreB})
		if c := standing(w.CentreB); c.AwaitingFromAbroad != 1 || !slices.Contains(c.Flags, transplant.FlagReportingBehind) {
			t.Errorf("centre B once assigned the organ: %+v, want 1 from abroad, reporting behind", c)
		}
		if got := unheld(); len(got) != 0 {
			t.Errorf("unheld once assigned: %v, want none", got)
		}
		if got := awaitingAbroad(t, svc, reg, transplant.ListFilter{CentreID: w.CentreB}); len(got) != 1 || !strings.HasPrefix(got[0], im.Unnamed+" "+w.CentreB+" ") {
			t.Errorf("awaiting a disposition at centre B once assigned the organ: %v, want %s", got, im.Unnamed)
		}
		w.Must(t, 201, "POST", "/api/v1/transplant/imports/"+im.Named+"/outcome", w.CoordA,
			map[string]any{"outcome": "discarded", "reason": "organ_quality", "on": daysAgo(0)})
		if c := standing(w.CentreA); c.AwaitingFromAbroad != 0 || c.AwaitingDisposition != 0 {
			t.Errorf("centre A once the outcome is recorded: %+v, want nothing awaiting", c)
		}
		if got := awaitingAbroad(t, svc, reg, transplant.ListFilter{CentreID: w.CentreA}); len(got) != 0 {
			t.Errorf("awaiting a disposition at centre A once the outcome is recorded: %v, want none", got)
		}
	})
}

// awaitingAbroad lists the organs from abroad among the organs awaiting a
// disposition that f filters, each as its identifier, holder, registry of
// origin, country and receipt.
func awaitingAbroad(t *testing.T, svc *transplant.Service, p *auth.Principal, f transplant.ListFilter) []string {
	t.Helper()
	pg, err := svc.OrgansAwaitingDisposition(context.Background(), p, f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range pg.Items {
		if o.Status == transplant.OrganReceived {
			out = append(out, strings.Join([]string{o.ID, o.CentreID, o.OriginRegistry, o.OriginCountry, o.ReceivedAt}, " "))
		}
	}
	return out
}
