package transplant

import (
	"context"
	"database/sql"
	"errors"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/store"
)

// Trace is the answer to "where did this organ come from and where did the
// donor's other organs go": each donor involved, every organ procured from
// them, and the recipient of each organ transplanted, with centres and dates.
type Trace struct {
	From   string       `json:"from"` // organ, donor or recipient
	ID     string       `json:"id"`
	Donors []DonorTrace `json:"donors"`
}

// DonorTrace is one donor and the fate of each of their organs.
type DonorTrace struct {
	Donor  TraceDonor   `json:"donor"`
	Organs []TraceOrgan `json:"organs"`
}

// TraceDonor is what a trace shows of a donor: no personal data.
type TraceDonor struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	BloodGroup string `json:"blood_group"`
	CentreID   string `json:"centre_id"`
}

// TraceOrgan is one organ, where it was procured and where it went.
type TraceOrgan struct {
	ID            string           `json:"id"`
	Organ         string           `json:"organ"`
	Status        string           `json:"status"`
	ProcurementID string           `json:"procurement_id"`
	ProcuredAt    string           `json:"procured_at"`
	ProcuredBy    TraceCentre      `json:"procured_by"`
	Transplant    *TraceTransplant `json:"transplant,omitempty"`
}

// TraceCentre names a centre.
type TraceCentre struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// TraceTransplant is the transplantation of an organ.
type TraceTransplant struct {
	ID          string      `json:"id"`
	PerformedAt string      `json:"performed_at"`
	Centre      TraceCentre `json:"centre"`
	Recipient   struct {
		ID         string `json:"id"`
		BloodGroup string `json:"blood_group"`
		Residence  string `json:"residence"`
	} `json:"recipient"`
}

const traceOrgansSQL = `SELECT o.id, o.organ, o.status, p.id, p.procured_at, p.centre_id, pc.name,
	COALESCE(t.id, ''), COALESCE(t.performed_at, ''), COALESCE(t.centre_id, ''), COALESCE(tc.name, ''),
	COALESCE(r.id, ''), COALESCE(r.blood_group, ''), COALESCE(r.residence, '')
	FROM organs o
	JOIN procurements p ON p.id = o.procurement_id
	JOIN authorities pc ON pc.id = p.centre_id
	LEFT JOIN transplants t ON t.organ_id = o.id
	LEFT JOIN authorities tc ON tc.id = t.centre_id
	LEFT JOIN recipients r ON r.id = t.recipient_id
	WHERE o.donor_id = ? ORDER BY o.id`

// TraceDonor traces from a donor to every recipient of their organs.
func (s *Service) TraceDonor(ctx context.Context, p *auth.Principal, id string) (*Trace, error) {
	if err := p.Require(auth.Read); err != nil {
		return nil, err
	}
	tr := &Trace{From: "donor", ID: id}
	dt, err := traceDonor(ctx, s.DB.Read(), id)
	if err != nil {
		return nil, err
	}
	tr.Donors = []DonorTrace{*dt}
	return tr, nil
}

// TraceOrgan traces from an organ back to its donor and on to every recipient
// of that donor's organs.
func (s *Service) TraceOrgan(ctx context.Context, p *auth.Principal, id string) (*Trace, error) {
	if err := p.Require(auth.Read); err != nil {
		return nil, err
	}
	oid, err := ParseOrganID(id)
	if err != nil {
		return nil, err
	}
	q := s.DB.Read()
	var donor string
	err = q.QueryRow(ctx, "SELECT donor_id FROM organs WHERE id = ?", oid.String()).Scan(&donor)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "reference", "organ_id", "no organ %s", oid)
	}
	if err != nil {
		return nil, err
	}
	dt, err := traceDonor(ctx, q, donor)
	if err != nil {
		return nil, err
	}
	return &Trace{From: "organ", ID: oid.String(), Donors: []DonorTrace{*dt}}, nil
}

// TraceRecipient traces from a recipient back to the donor of every organ they
// received, and on to every other recipient of those donors' organs: the
// look-back a doctor needs when a recipient develops a donor-derived disease.
func (s *Service) TraceRecipient(ctx context.Context, p *auth.Principal, id string) (*Trace, error) {
	if err := p.Require(auth.Read); err != nil {
		return nil, err
	}
	q := s.DB.Read()
	if _, err := getRecipient(ctx, q, id); err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT DISTINCT o.donor_id FROM transplants t JOIN organs o ON o.id = t.organ_id
		WHERE t.recipient_id = ? ORDER BY o.donor_id`, id)
	if err != nil {
		return nil, err
	}
	var donors []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return nil, err
		}
		donors = append(donors, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	tr := &Trace{From: "recipient", ID: id, Donors: []DonorTrace{}}
	for _, d := range donors {
		dt, err := traceDonor(ctx, q, d)
		if err != nil {
			return nil, err
		}
		tr.Donors = append(tr.Donors, *dt)
	}
	return tr, nil
}

func traceDonor(ctx context.Context, q store.Queryer, id string) (*DonorTrace, error) {
	var dt DonorTrace
	err := q.QueryRow(ctx, "SELECT id, kind, blood_group, centre_id FROM donors WHERE id = ?", id).
		Scan(&dt.Donor.ID, &dt.Donor.Kind, &dt.Donor.BloodGroup, &dt.Donor.CentreID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "reference", "donor_id", "no donor %s", id)
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, traceOrgansSQL, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	dt.Organs = []TraceOrgan{}
	for rows.Next() {
		var o TraceOrgan
		var t TraceTransplant
		if err := rows.Scan(&o.ID, &o.Organ, &o.Status, &o.ProcurementID, &o.ProcuredAt, &o.ProcuredBy.ID, &o.ProcuredBy.Name,
			&t.ID, &t.PerformedAt, &t.Centre.ID, &t.Centre.Name, &t.Recipient.ID, &t.Recipient.BloodGroup, &t.Recipient.Residence); err != nil {
			return nil, err
		}
		if t.ID != "" {
			o.Transplant = &t
		}
		dt.Organs = append(dt.Organs, o)
	}
	return &dt, rows.Err()
}
