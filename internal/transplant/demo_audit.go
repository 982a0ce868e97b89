package transplant

import (
	"fmt"

	"github.com/custos-project/custos/internal/auth"
)

// DemoPayer is the name of the demo's payer, of the national health
// insurance fund, whose token the demo prints.
const DemoPayer = "Claims officer, Demoland National Health Insurance Fund"

// audit adds the demo's reimbursements and audit (docs/oversight.md),
// when the clock is at: a reimbursement of a living donor's travel and a
// refused "gift" (alerted); an audit of their centre with a finding and
// a corrective action due a month later, overdue by now when at is a year
// ago.
func (g *demoGen) audit() error {
	ctx, at := g.ctx, g.d.Clock()
	living, c, err := g.living()
	if err != nil {
		return err
	}
	today := day(at)
	in := NewReimbursement{DonorID: living, Payee: PayeeDonor, Category: ExpenseTravel, Amount: "212.40", Currency: "EUR",
		IncurredOn: today, EvidenceRef: "Rail and bus tickets, file 031 (synthetic)"}
	if _, err := g.svc.RecordReimbursement(ctx, c.coord, in); err != nil {
		return fmt.Errorf("demo reimbursement: %w", err)
	}
	in.Category, in.Amount, in.EvidenceRef = "gift", "5000", "none"
	if _, err := g.svc.RecordReimbursement(ctx, c.coord, in); err == nil {
		return fmt.Errorf("demo reimbursement: a gift was not refused")
	}
	a, err := g.svc.PlanAudit(ctx, g.regulator, NewAudit{CentreID: c.id, PlannedOn: today,
		Scope: "Living donation files: consent, independent assessment, reimbursements (synthetic)"})
	if err != nil {
		return fmt.Errorf("demo audit: %w", err)
	}
	f, err := g.svc.RecordFinding(ctx, g.regulator, a.ID, NewFinding{Severity: "major",
		Description: "Two living donors' files lack the independent assessor's signed report (synthetic)."})
	if err != nil {
		return fmt.Errorf("demo audit finding: %w", err)
	}
	if _, err := g.svc.SetCorrectiveAction(ctx, g.regulator, f.ID, NewCorrectiveAction{Action: "File the signed reports and review every living donation file of the year",
		DueOn: day(at.AddDate(0, 1, 0))}); err != nil {
		return fmt.Errorf("demo corrective action: %w", err)
	}
	return nil
}

// living finds the latest living donor and their centre.
func (g *demoGen) living() (donor string, c *demoCentre, err error) {
	var centre string
	if err := g.d.DB.Read().QueryRow(g.ctx, "SELECT id, centre_id FROM donors WHERE kind = ? ORDER BY log_index DESC LIMIT 1", DonorLiving).Scan(&donor, &centre); err != nil {
		return "", nil, fmt.Errorf("demo oversight: a living donor: %w", err)
	}
	for _, c := range g.centres {
		if c.id == centre {
			return donor, c, nil
		}
	}
	return "", nil, fmt.Errorf("demo oversight: no demo centre %s", centre)
}

// transplantation finds the latest transplantation of a living donor's
// organ, or the latest of all when there is none.
func (g *demoGen) transplantation() (string, error) {
	var tx string
	err := g.d.DB.Read().QueryRow(g.ctx, `SELECT t.id FROM transplants t JOIN organs o ON o.id = t.organ_id JOIN donors d ON d.id = o.donor_id
		ORDER BY CASE WHEN d.kind = ? THEN 0 ELSE 1 END, t.log_index DESC LIMIT 1`, DonorLiving).Scan(&tx)
	if err != nil {
		err = fmt.Errorf("demo oversight: a transplantation: %w", err)
	}
	return tx, err
}

// payer links the confirmed trafficking case to a transplantation (of a
// living donor's organ when there is one), and creates the insurance fund's payer, who asks about it
// once.
func (g *demoGen) payer() error {
	ctx := g.ctx
	tx, err := g.transplantation()
	if err != nil {
		return err
	}
	if g.confirmed != "" {
		if err := g.svc.LinkTraffickingCase(ctx, g.assessor, g.confirmed, tx); err != nil {
			return fmt.Errorf("demo trafficking case link: %w", err)
		}
	}
	fund, err := g.d.Authorities.CreateAuthority(ctx, g.d.Admin, auth.NewAuthority{Name: "Demoland National Health Insurance Fund", Kind: KindPayer})
	if err != nil {
		return err
	}
	payer, err := g.d.Principal(ctx, DemoPayer, RolePayer, fund.ID)
	if err != nil {
		return err
	}
	ans, err := g.svc.CheckPayer(ctx, payer, PayerQuery{TransplantID: tx})
	if err != nil {
		return fmt.Errorf("demo payer check: %w", err)
	}
	g.d.Progress(fmt.Sprintf("demo: a payer check of %s (%s)", tx, ans.Reason))
	return nil
}
