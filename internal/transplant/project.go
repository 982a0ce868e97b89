package transplant

import (
	"context"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// Entry types of the registry.
const (
	TypeCentreAuthorized           = "transplant.centre_authorized"
	TypeCentreAuthorizationRevoked = "transplant.centre_authorization_revoked"
	TypeDonorRegistered            = "transplant.donor_registered"
	TypeConsentRecorded            = "transplant.consent_recorded"
	TypeRecipientRegistered        = "transplant.recipient_registered"
	TypeProcurementRecorded        = "transplant.procurement_recorded"
	TypeTransplantAuthorized       = "transplant.transplant_authorized"
	TypeTransplantRecorded         = "transplant.transplant_recorded"
)

// Project adds the registry's projectors and tables.
func Project(reg *ledger.Projections) {
	projectRights(reg)
	ledger.On(reg, TypeCentreAuthorized, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, a *CentreAuthorization) error {
		_, err := q.Exec(ctx, `INSERT INTO centre_authorizations (id, centre_id, activity, organ, valid_from, valid_to, granted_at, granted_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.ID, a.CentreID, a.Activity, a.Organ, a.ValidFrom, nullable(a.ValidTo), a.GrantedAt, e.By, idx)
		return err
	})
	ledger.On(reg, TypeCentreAuthorizationRevoked, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, r *authorizationRevoked) error {
		_, err := q.Exec(ctx, "UPDATE centre_authorizations SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE id = ?", r.On, e.By, r.Reason, r.ID)
		return err
	})
	ledger.On(reg, TypeDonorRegistered, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, d *Donor) error {
		return insertDonor(ctx, q, idx, e, d)
	})
	ledger.On(reg, TypeConsentRecorded, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, c *Consent) error {
		return insertConsent(ctx, q, idx, e, c)
	})
	ledger.On(reg, TypeRecipientRegistered, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, r *Recipient) error {
		_, err := q.Exec(ctx, `INSERT INTO recipients (id, subject_ref, person_pseudonym, centre_id, sex, blood_group, date_of_birth,
			residence, region, organ_needed, listed_on, duplicate_of, not_duplicate_reason, recorded_at, recorded_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.SubjectRef, r.PersonPseudonym, r.CentreID, r.Sex,
			r.BloodGroup, r.DateOfBirth, r.Residence, r.Region, r.OrganNeeded, r.ListedOn, nullable(r.DuplicateOf), nullable(r.NotDuplicateReason), e.At, e.By, idx)
		if err != nil {
			return err
		}
		return reportRowsOnRecipient(ctx, q, r)
	})
	ledger.On(reg, TypeProcurementRecorded, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, p *Procurement) error {
		return insertProcurement(ctx, q, idx, e, p)
	})
	ledger.On(reg, TypeTransplantAuthorized, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, a *TransplantAuthorization) error {
		_, err := q.Exec(ctx, `INSERT INTO transplant_authorizations (id, organ_id, recipient_id, centre_id, authorized_at, authorized_by,
			compatibility_documented, consent_verified, no_payment_declared, on_waiting_list, recorded_at, recorded_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.ID, a.OrganID, a.RecipientID, a.CentreID, a.AuthorizedAt, a.AuthorizedBy,
			boolInt(a.CompatibilityDocumented), boolInt(a.ConsentVerified), boolInt(a.NoPaymentDeclared), boolInt(a.OnWaitingList), e.At, e.By, idx)
		return err
	})
	// The organ's and the recipient's status follow from this row (see
	// organStatus and recipientStatus).
	ledger.On(reg, TypeTransplantRecorded, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, t *Transplant) error {
		return insertTransplant(ctx, q, idx, e, t, "", ProcedureSingle)
	})
	// The name index is not in the log (personal.go): its repair's entry
	// records what was rewritten, and projects nothing.
	ledger.On(reg, TypeNameIndexRepaired, func(context.Context, store.Queryer, int64, *ledger.Entry, *NameIndexRepair) error { return nil })
	projectProcedures(reg)
	projectTrafficking(reg)
	projectOversight(reg)
	projectAssessments(reg)
	reg.Tables(
		ledger.Table{Name: "centre_authorizations", Order: "id"},
		ledger.Table{Name: "donors", Order: "id"},
		ledger.Table{Name: "consents", Order: "id"},
		ledger.Table{Name: "recipients", Order: "id"},
		ledger.Table{Name: "procurements", Order: "id"},
		ledger.Table{Name: "organs", Order: "id"},
		ledger.Table{Name: "transplant_authorizations", Order: "id"},
		ledger.Table{Name: "transplants", Order: "id"},
	)
	reg.Tables(reportRowsTables...)
	projectVigilance(reg)
	projectHandoffs(reg)
	projectCrossBorder(reg)
	projectReimbursements(reg)
	projectAudits(reg)
	projectPayer(reg)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(v *int) any {
	if v == nil {
		return nil
	}
	return int64(*v)
}

func insertDonor(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, d *Donor) error {
	_, err := q.Exec(ctx, `INSERT INTO donors (id, kind, subject_ref, person_pseudonym, centre_id, sex, blood_group, date_of_birth,
		estimated_age, weight_kg, height_cm, cause_of_death, date_of_death, iv_drug_use, malignancy, transmissible_disease,
		hiv, hcv, hbv, organ_function, duplicate_of, not_duplicate_reason, recorded_at, recorded_by, log_index)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.Kind, d.SubjectRef, d.PersonPseudonym, d.CentreID, d.Sex, d.BloodGroup, nullable(d.DateOfBirth),
		nullInt(d.EstimatedAge), nullInt(d.WeightKg), nullInt(d.HeightCm), nullable(d.CauseOfDeath), nullable(d.DateOfDeath),
		d.IVDrugUse, d.Malignancy, d.TransmissibleDisease, d.HIV, d.HCV, d.HBV, d.OrganFunction, nullable(d.DuplicateOf), nullable(d.NotDuplicateReason), e.At, e.By, idx)
	return err
}

func insertConsent(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, c *Consent) error {
	_, err := q.Exec(ctx, `INSERT INTO consents (id, donor_id, kind, given_on, assessed_by, assessor_independent, voluntary, informed, recorded_at, recorded_by, log_index)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, c.DonorID, c.Kind, c.GivenOn, c.AssessedBy,
		boolInt(c.AssessorIndependent), boolInt(c.Voluntary), boolInt(c.Informed), e.At, e.By, idx)
	return err
}

func insertProcurement(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, p *Procurement) error {
	if _, err := q.Exec(ctx, `INSERT INTO procurements (id, donor_id, centre_id, procured_at, donation_year, donation_seq, recorded_at, recorded_by, log_index)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.ID, p.DonorID, p.CentreID, p.ProcuredAt, p.DonationYear, p.DonationSeq, e.At, e.By, idx); err != nil {
		return err
	}
	for _, o := range p.Organs {
		if _, err := q.Exec(ctx, `INSERT INTO organs (id, procurement_id, donor_id, organ, log_index) VALUES (?, ?, ?, ?, ?)`,
			o.ID, p.ID, p.DonorID, o.Organ, idx); err != nil {
			return err
		}
	}
	return reportRowsOnProcurement(ctx, q, p)
}

// insertTransplant writes a transplantation; procedure is the procedure it
// is part of, "" for one recorded alone, and kind that procedure's kind. The
// organ's and the recipient's status follow from this row (see organStatus
// and recipientStatus); the reports' rows are kept with it, in the same
// statement on PostgreSQL (store.ExecTogether).
func insertTransplant(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, t *Transplant, procedure, kind string) error {
	return store.ExecTogether(ctx, q, append([]store.Write{{SQL: `INSERT INTO transplants (id, organ_id, recipient_id, centre_id, authorization_id, performed_at, procedure_id, recorded_at, recorded_by, log_index)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, Args: []any{t.ID, t.OrganID, t.RecipientID, t.CentreID, t.AuthorizationID, t.PerformedAt, nullable(procedure), e.At, e.By, idx}}},
		reportRowsOnTransplant(t, procedure, kind)...)...)
}
