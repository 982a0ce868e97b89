package transplant

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/store"
)

// ---- The audit pack of a centre, and the centres flagged (resolution VI,
// para 6 f; docs/oversight.md) ----
//
// The pack is what an auditor takes to a centre for a period: its activity,
// the alerts addressed to it and the refusals among them, its overdue
// follow-ups, its organs with no final disposition, its audits and their
// overdue corrective actions, and its flags. It is read from the registry
// at the moment it is asked for; the CSV goes through internal/export (a log
// entry names it), the printable page is the web UI's.

// PackFollowUp is an overdue follow-up as the pack lists it.
type PackFollowUp struct {
	ID       string `json:"id"`
	Person   string `json:"person"` // donor or recipient
	RecordID string `json:"record_id"`
	DueOn    string `json:"due_on"`
}

// packFollowUps lists a centre's follow-ups whose window closed in the
// period from <= closes < end before now with no follow-up recorded
// (OverdueFollowUps, on the registry's schedule), as the pack lists them.
func (s *Service) packFollowUps(ctx context.Context, q store.Queryer, centre, from, end string, now time.Time) ([]PackFollowUp, error) {
	occ, err := OverdueFollowUps(ctx, q, s.FollowUpSchedule(), centre, from, end, now)
	if err != nil {
		return nil, err
	}
	out := make([]PackFollowUp, 0, len(occ))
	for _, o := range occ {
		out = append(out, PackFollowUp{ID: fmt.Sprintf("%s/%d", o.SubjectID, o.DueMonth), Person: o.Subject, RecordID: o.SubjectID, DueOn: o.DueOn})
	}
	return out, nil
}

// CurrencyTotal is the sum of the reimbursements in one currency.
type CurrencyTotal struct {
	Currency string `json:"currency"`
	Total    string `json:"total"`
	Count    int    `json:"count"`
}

// PackActivity counts what the centre recorded in the period.
type PackActivity struct {
	DonorsRegistered int `json:"donors_registered"`
	Procurements     int `json:"procurements"`
	OrgansProcured   int `json:"organs_procured"`
	// Transplants counts the transplantations the centre performed, of
	// organs of the registry and of organs received from abroad (their
	// outcome transplanted); TransplantsFromAbroad the latter alone.
	Transplants           int             `json:"transplants"`
	TransplantsFromAbroad int             `json:"transplants_from_abroad"`
	Dispositions          int             `json:"dispositions"`
	Reimbursements        []CurrencyTotal `json:"reimbursements"`
}

// PackImport is an organ received from abroad that the centre transplanted
// in the period, with what an auditor checks it by at the registry of
// origin: the organ's identifier there (the one it is known by here) and
// the origin's country.
type PackImport struct {
	OrganID        string `json:"organ_id"`
	OriginCountry  string `json:"origin_country"`
	Organ          string `json:"organ"`
	TransplantedOn string `json:"transplanted_on"`
	RecipientID    string `json:"recipient_id"`
}

// AuditPack is a centre's audit pack for a period (From to To, both days
// included).
type AuditPack struct {
	CentreID string       `json:"centre_id"`
	Centre   string       `json:"centre"`
	From     string       `json:"from"`
	To       string       `json:"to"`
	Activity PackActivity `json:"activity"`
	// Alerts are those the registry raised of itself (screening,
	// deadlines); Refusals the commands refused with an alert.
	Alerts           []ledger.RaisedAlert `json:"alerts"`
	Refusals         []ledger.RaisedAlert `json:"refusals"`
	OverdueFollowUps []PackFollowUp       `json:"overdue_follow_ups"`
	// Imports are the organs from abroad the centre transplanted in the
	// period, by day.
	Imports []PackImport `json:"imports"`
	// Unreconciled are the organs procured in the period, past the
	// disposition deadline, with neither a transplantation nor a final
	// disposition.
	Unreconciled []Organ `json:"unreconciled"`
	// UnreconciledImports are the organs received from abroad in the
	// period, past the disposition deadline from their receipt, that the
	// centre holds with no outcome recorded.
	UnreconciledImports []AwaitingImport   `json:"unreconciled_imports"`
	Audits              []Audit            `json:"audits"`
	OverdueActions      []CorrectiveAction `json:"overdue_actions"`
	Standing            CentreStanding     `json:"standing"`
}

// backgroundCommands are the commands of the alerts the registry raises of
// itself; every other alert is a refused command's.
var backgroundCommands = map[string]bool{"screen for trafficking indicators": true, "escalate vigilance deadlines": true}

// packPeriod checks a pack's centre and period: to on or after from, at
// most ten years.
func packPeriod(centre, from, to string) (string, string, error) {
	if err := check.Required("centre_id", centre); err != nil {
		return "", "", err
	}
	from, err := check.Date("from", from, true)
	if err != nil {
		return "", "", err
	}
	if to, err = check.Date("to", to, true); err != nil {
		return "", "", err
	}
	if to < from {
		return "", "", errs.Invalidf("dates_in_order", "to", "to is before from")
	}
	if mustYear(to)-mustYear(from) > 10 {
		return "", "", errs.Invalidf("period", "from", "an audit pack covers at most ten years")
	}
	return from, to, nil
}

func mustYear(d string) int {
	t, _ := time.Parse(DateLayout, d)
	return t.Year()
}

// AuditPack reads centre's audit pack for the period from to to.
func (s *Service) AuditPack(ctx context.Context, p *auth.Principal, centre, from, to string) (*AuditPack, error) {
	if err := p.Require(ReadAudits); err != nil {
		return nil, err
	}
	from, to, err := packPeriod(centre, from, to)
	if err != nil {
		return nil, err
	}
	return s.auditPack(ctx, s.DB.Read(), centre, from, to)
}

// The organs from abroad a centre transplanted in a period (from <= the
// outcome's day < end): their count, and their list.
const (
	packImportsWhere = "FROM organ_imports WHERE centre_id = ? AND outcome = 'transplanted' AND outcome_on >= ? AND outcome_on < ?"
	packImportsCount = "SELECT COUNT(*) " + packImportsWhere
	packImportsSQL   = "SELECT organ_id, origin_country, organ, outcome_on, recipient_id " + packImportsWhere + " ORDER BY outcome_on, organ_id"
)

func (s *Service) auditPack(ctx context.Context, q store.Queryer, centre, from, to string) (*AuditPack, error) {
	var kind string
	pk := &AuditPack{CentreID: centre, From: from, To: to}
	if err := q.QueryRow(ctx, "SELECT name, kind FROM authorities WHERE id = ?", centre).Scan(&pk.Centre, &kind); err != nil || kind != KindCentre {
		if err := requireCentre(ctx, q, "centre_id", centre); err != nil {
			return nil, err
		}
		return nil, err
	}
	end := nextDay(to)
	a := &pk.Activity
	for _, c := range []struct {
		n   *int
		sql string
	}{
		{&a.DonorsRegistered, "SELECT COUNT(*) FROM donors WHERE centre_id = ? AND recorded_at >= ? AND recorded_at < ?"},
		{&a.Procurements, "SELECT COUNT(*) FROM procurements WHERE centre_id = ? AND procured_at >= ? AND procured_at < ?"},
		{&a.OrgansProcured, "SELECT COUNT(*) FROM organs o JOIN procurements p ON p.id = o.procurement_id WHERE p.centre_id = ? AND p.procured_at >= ? AND p.procured_at < ?"},
		{&a.Transplants, "SELECT COUNT(*) FROM transplants WHERE centre_id = ? AND performed_at >= ? AND performed_at < ?"},
		{&a.TransplantsFromAbroad, packImportsCount},
		{&a.Dispositions, "SELECT COUNT(*) FROM organ_dispositions WHERE centre_id = ? AND disposed_at >= ? AND disposed_at < ?"},
	} {
		if err := q.QueryRow(ctx, c.sql, centre, from, end).Scan(c.n); err != nil {
			return nil, err
		}
	}
	a.Transplants += a.TransplantsFromAbroad
	rows, err := q.Query(ctx, packImportsSQL, centre, from, end)
	if err != nil {
		return nil, err
	}
	if pk.Imports, err = store.Rows(rows, func(r store.Scanner, im *PackImport) error {
		return r.Scan(&im.OrganID, &im.OriginCountry, &im.Organ, &im.TransplantedOn, &im.RecipientID)
	}); err != nil {
		return nil, err
	}
	rows, err = q.Query(ctx, "SELECT currency, amount FROM donor_reimbursements WHERE centre_id = ? AND incurred_on >= ? AND incurred_on <= ? ORDER BY currency, id", centre, from, to)
	if err != nil {
		return nil, err
	}
	amounts, err := store.Rows(rows, func(r store.Scanner, x *[2]string) error { return r.Scan(&x[0], &x[1]) })
	if err != nil {
		return nil, err
	}
	sums := map[string]decimal.Decimal{}
	counts, places := map[string]int{}, map[string]int32{}
	for _, x := range amounts {
		d, err := decimal.NewFromString(x[1])
		if err != nil {
			return nil, err
		}
		sums[x[0]] = sums[x[0]].Add(d)
		counts[x[0]]++
		places[x[0]] = max(places[x[0]], -d.Exponent())
	}
	for c, d := range sums {
		// As many places as the amounts were written with: 84.50 + 0.50 is 85.00.
		a.Reimbursements = append(a.Reimbursements, CurrencyTotal{Currency: c, Total: d.StringFixed(places[c]), Count: counts[c]})
	}
	sort.Slice(a.Reimbursements, func(i, j int) bool { return a.Reimbursements[i].Currency < a.Reimbursements[j].Currency })

	for after := (*page.Key)(nil); ; {
		f := ledger.AlertFilter{AuthorityID: centre, From: from, End: end}
		f.Limit, f.After = 1000, after
		pg, err := s.W.Alerts(ctx, q, f)
		if err != nil {
			return nil, err
		}
		for _, al := range pg.Items {
			if backgroundCommands[al.Command] {
				pk.Alerts = append(pk.Alerts, al)
			} else {
				pk.Refusals = append(pk.Refusals, al)
			}
		}
		if pg.Next == "" {
			break
		}
		k, err := page.ParseCursor(pg.Next)
		if err != nil {
			return nil, err
		}
		after = &k
	}
	now := s.now()
	if pk.OverdueFollowUps, err = s.packFollowUps(ctx, q, centre, from, end, now); err != nil {
		return nil, err
	}
	before := ledger.FormatTime(now.Add(-s.DispositionAfter()))
	rows, err = q.Query(ctx, `SELECT o.id, o.organ, o.donor_id, o.procurement_id, p.procured_at FROM organs o JOIN procurements p ON p.id = o.procurement_id
		WHERE p.centre_id = ? AND p.procured_at >= ? AND p.procured_at < ? AND p.procured_at < ? AND NOT `+organTransplanted+` AND NOT `+organDisposed+`
		ORDER BY p.procured_at, o.id`, centre, from, end, before)
	if err != nil {
		return nil, err
	}
	if pk.Unreconciled, err = store.Rows(rows, func(r store.Scanner, o *Organ) error {
		o.Status = "procured"
		return r.Scan(&o.ID, &o.Organ, &o.DonorID, &o.ProcurementID, &o.ProcuredAt)
	}); err != nil {
		return nil, err
	}
	rows, err = q.Query(ctx, awaitingImportsSQL+" AND "+importHolderSQL+" = ? AND received_at >= ? AND received_at < ? ORDER BY received_at, organ_id",
		before, centre, from, end)
	if err != nil {
		return nil, err
	}
	if pk.UnreconciledImports, err = store.Rows(rows, scanAwaitingImport); err != nil {
		return nil, err
	}
	all, err := s.auditsOf(ctx, q, centre)
	if err != nil {
		return nil, err
	}
	for _, au := range all {
		if au.PlannedOn >= from && au.PlannedOn <= to {
			pk.Audits = append(pk.Audits, au)
		}
	}
	if pk.OverdueActions, err = s.overdueActions(ctx, q, centre); err != nil {
		return nil, err
	}
	st, err := s.standings(ctx, q, centre)
	if err != nil {
		return nil, err
	}
	if len(st) == 1 {
		pk.Standing = st[0]
	}
	return pk, nil
}

// ListAuditPack is the audit pack's name among the exports.
const ListAuditPack = "audit_pack"

// AuditPackColumns are the columns of the pack's CSV: one row per item,
// its section first.
var AuditPackColumns = []string{"section", "item", "date", "code", "field", "value", "detail"}

// AuditPackExport is the pack as a file (query centre_id, from, to, format).
func (s *Service) AuditPackExport(p *auth.Principal, q url.Values) (export.Request, error) {
	if err := p.Require(ReadAudits); err != nil {
		return export.Request{}, err
	}
	format, filter, err := export.Query(q)
	if err != nil {
		return export.Request{}, err
	}
	for k := range filter {
		if k != "centre_id" && k != "from" && k != "to" {
			return export.Request{}, errs.Invalidf("query", k, "an audit pack takes centre_id, from and to, not %s", k)
		}
	}
	centre, from, to := filter.Get("centre_id"), filter.Get("from"), filter.Get("to")
	if from, to, err = packPeriod(centre, from, to); err != nil {
		return export.Request{}, err
	}
	return export.Request{Registry: Module.Name, List: ListAuditPack, Format: format, Filter: filter, Columns: AuditPackColumns,
		Rows: func(ctx context.Context) iter.Seq2[[]any, error] {
			return func(yield func([]any, error) bool) {
				pk, err := s.auditPack(ctx, s.DB.Read(), centre, from, to)
				if err != nil {
					yield(nil, err)
					return
				}
				for _, line := range pk.Lines() {
					if !yield(line, nil) {
						return
					}
				}
			}
		}}, nil
}

// Lines are the pack's rows as the CSV writes them (AuditPackColumns).
func (pk *AuditPack) Lines() [][]any {
	var out [][]any
	add := func(cells ...any) { out = append(out, cells) }
	add("centre", pk.CentreID, "", "", "", pk.Centre, pk.From+"/"+pk.To)
	a := pk.Activity
	for _, c := range []struct {
		name string
		n    int
	}{{"donors_registered", a.DonorsRegistered}, {"procurements", a.Procurements}, {"organs_procured", a.OrgansProcured},
		{"transplants", a.Transplants}, {"transplants_from_abroad", a.TransplantsFromAbroad}, {"dispositions", a.Dispositions}} {
		add("activity", c.name, "", "", "", c.n, "")
	}
	for _, r := range a.Reimbursements {
		add("reimbursements", r.Currency, "", "", "", r.Total, r.Count)
	}
	for _, al := range pk.Alerts {
		add("alert", al.ID, al.RaisedAt, al.Rule, al.Field, al.State, al.Message)
	}
	for _, al := range pk.Refusals {
		add("refusal", al.ID, al.RaisedAt, al.Rule, al.Field, al.State, al.Message)
	}
	for _, f := range pk.OverdueFollowUps {
		add("overdue_follow_up", f.ID, f.DueOn, f.Person, "", f.RecordID, "")
	}
	for _, im := range pk.Imports {
		add("transplant_from_abroad", im.OrganID, im.TransplantedOn, im.Organ, "", im.RecipientID, im.OriginCountry)
	}
	for _, o := range pk.Unreconciled {
		add("unreconciled_organ", o.ID, o.ProcuredAt, o.Organ, "", o.DonorID, "no final disposition")
	}
	for _, im := range pk.UnreconciledImports {
		add("unreconciled_import", im.OrganID, im.ReceivedAt, im.Organ, "", im.OriginCountry, "no outcome recorded")
	}
	for _, au := range pk.Audits {
		add("audit", au.ID, au.PlannedOn, au.ProfessionalRef, "", len(au.Findings), au.Scope)
		for _, f := range au.Findings {
			add("finding", f.ID, f.RecordedAt, f.Severity, "", au.ID, f.Description)
		}
	}
	for _, c := range pk.OverdueActions {
		add("overdue_action", c.ID, c.DueOn, "", "", c.FindingID, c.Action)
	}
	for _, f := range pk.Standing.Flags {
		add("flag", pk.CentreID, "", f, "", "", "")
	}
	return out
}
