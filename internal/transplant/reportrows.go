package transplant

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// ---- The reports' narrow rows (transplant migration 15) ----
//
// The GODT annual report and the equity report count from narrow rows the
// projectors keep beside the registry's tables, so that each is a GROUP BY
// read from a covering index (BENCHMARKS.md):
//
//   - godt_donations: a procurement, its donor's kind and whether an organ of
//     it was transplanted (the GODT's actual and utilized donors);
//   - godt_transplants: a transplant as the GODT counts it, one per
//     procedure and organ type, with the organ, the donor's kind and the
//     procedure's kind, and an organ from abroad transplanted here;
//   - equity_registrations: a waiting-list registration with what the equity
//     report breaks it down by, its last status, whether a transplant abroad
//     ended it, and its first transplantation here (of an organ of the
//     registry or of one received from abroad) and the wait to it.
//
// They are projected tables like the others: rebuilt by a replay and
// compared by log verify.

// reportRowsOnProcurement adds a procurement's GODT donation row; the donor
// is registered before it.
func reportRowsOnProcurement(ctx context.Context, q store.Queryer, p *Procurement) error {
	_, err := q.Exec(ctx, `INSERT INTO godt_donations (id, donor_id, donor_kind, procured_at, year, utilized)
		SELECT ?, d.id, d.kind, ?, ?, 0 FROM donors d WHERE d.id = ?`, p.ID, p.ProcuredAt, yearOf(p.ProcuredAt), p.DonorID)
	return err
}

// godtTransplantSQL adds the GODT transplant of a transplantation recorded
// alone, keyed by its id; godtProcedureSQL the one of a procedure's organ,
// keyed by the procedure's id and the organ's type, once.
const (
	godtTransplantSQL = `INSERT INTO godt_transplants (id, performed_at, year, organ, donor_kind, procedure_kind)
		SELECT ?, ?, ?, o.organ, d.kind, ? FROM organs o JOIN donors d ON d.id = o.donor_id WHERE o.id = ?`
	godtProcedureSQL = `INSERT INTO godt_transplants (id, performed_at, year, organ, donor_kind, procedure_kind)
		SELECT ? || o.organ, ?, ?, o.organ, d.kind, ? FROM organs o JOIN donors d ON d.id = o.donor_id WHERE o.id = ?
		ON CONFLICT (id) DO NOTHING`
)

// reportRowsOnTransplant returns the writes of what a transplantation
// counts: its GODT transplant (once per procedure and organ type), its
// donation utilized, and the first transplantation of its registration. kind
// is the procedure's kind, single for one recorded alone. Each changes its own
// table and reads only tables the transplantation leaves alone (organs,
// donors, and the row it changes), as store.ExecTogether asks.
func reportRowsOnTransplant(t *Transplant, procedure, kind string) []store.Write {
	key, sql := t.ID, godtTransplantSQL
	if procedure != "" {
		key, sql = procedure+":", godtProcedureSQL
	}
	return []store.Write{
		{SQL: sql, Args: []any{key, t.PerformedAt, yearOf(t.PerformedAt), kind, t.OrganID}},
		{SQL: `UPDATE godt_donations SET utilized = 1
		WHERE id = (SELECT o.procurement_id FROM organs o WHERE o.id = ?) AND utilized = 0`, Args: []any{t.OrganID}},
		{SQL: equityFirstSQL, Args: equityFirstArgs(t.RecipientID, t.PerformedAt)},
	}
}

// equityFirstSQL sets a registration's first transplantation here and the
// wait to it, unless an earlier one is on file.
const equityFirstSQL = `UPDATE equity_registrations SET first_at = ?,
		wait_months = ? - (CAST(substr(listed_on, 1, 4) AS INTEGER) * 12 + CAST(substr(listed_on, 6, 2) AS INTEGER))
		WHERE recipient_id = ? AND (first_at IS NULL OR first_at > ?)`

func equityFirstArgs(recipientID, at string) []any {
	return []any{at, monthNumber(at), recipientID, at}
}

// reportRowsOnImportTransplant writes what an organ received from abroad
// and transplanted here counts, as a transplantation of an organ of the
// registry does (docs/oversight.md): a GODT transplant, performed in the
// country whatever the organ's origin, keyed by the organ's identifier, with
// the donor's kind the registry of origin characterized (unknown when it
// sent no characterization), and the first transplantation of the
// recipient's registration. The donation is the origin's: no GODT donation
// here.
func reportRowsOnImportTransplant(ctx context.Context, q store.Queryer, o *importOutcome) error {
	var organ, char string
	if err := q.QueryRow(ctx, "SELECT organ, COALESCE(characterization, '') FROM organ_imports WHERE organ_id = ?", o.OrganID).Scan(&organ, &char); err != nil {
		return err
	}
	kind := Unknown
	if char != "" {
		var c Characterization
		if err := json.Unmarshal([]byte(char), &c); err != nil {
			return err
		}
		if c.Donor.Kind != "" {
			kind = c.Donor.Kind
		}
	}
	if _, err := q.Exec(ctx, `INSERT INTO godt_transplants (id, performed_at, year, organ, donor_kind, procedure_kind) VALUES (?, ?, ?, ?, ?, ?)`,
		o.OrganID, o.On, yearOf(o.On), organ, kind, ProcedureSingle); err != nil {
		return err
	}
	_, err := q.Exec(ctx, equityFirstSQL, equityFirstArgs(o.RecipientID, o.On)...)
	return err
}

// yearOf is the year of a time written as text.
func yearOf(at string) int64 {
	if len(at) < 4 {
		return 0
	}
	y, _ := strconv.Atoi(at[:4])
	return int64(y)
}

// monthNumber is year*12 + month of a date or time written as text.
func monthNumber(at string) int64 {
	if len(at) < 7 {
		return 0
	}
	y, _ := strconv.Atoi(at[:4])
	m, _ := strconv.Atoi(at[5:7])
	return int64(y*12 + m)
}

// ageAt is the age in whole years on day (YYYY-MM-DD) of someone born on
// dob.
func ageAt(dob, day string) int {
	if len(dob) < 10 || len(day) < 10 {
		return -1
	}
	y1, _ := strconv.Atoi(dob[:4])
	y2, _ := strconv.Atoi(day[:4])
	age := y2 - y1
	if day[5:10] < dob[5:10] {
		age--
	}
	return age
}

// reportRowsOnRecipient adds a registration's equity row.
func reportRowsOnRecipient(ctx context.Context, q store.Queryer, r *Recipient) error {
	_, err := q.Exec(ctx, `INSERT INTO equity_registrations (recipient_id, listed_on, organ, sex, age_band, region, residence, status, abroad)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)`, r.ID, r.ListedOn, r.OrganNeeded, r.Sex, ageBand(ageAt(r.DateOfBirth, r.ListedOn)), r.Region, r.Residence, WaitlistActive)
	return err
}

// reportRowsTables are the narrow rows' tables, for replay and verify.
var reportRowsTables = []ledger.Table{
	{Name: "godt_donations", Order: "id"},
	{Name: "godt_transplants", Order: "id"},
	{Name: "equity_registrations", Order: "recipient_id"},
}
