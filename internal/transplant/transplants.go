package transplant

import (
	"context"
	"fmt"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// ---- Transplantation (para 6 e, g, h) ----

// NewTransplant is the input of RecordTransplant.
type NewTransplant struct {
	OrganID         string `json:"organ_id" api:"required"`
	RecipientID     string `json:"recipient_id" api:"required"`
	CentreID        string `json:"centre_id"`
	PerformedAt     string `json:"performed_at" api:"required"`
	AuthorizationID string `json:"authorization_id"`
}

// Transplant is the transplantation of one organ into one recipient.
type Transplant struct {
	ID              string `json:"id"`
	OrganID         string `json:"organ_id"`
	RecipientID     string `json:"recipient_id"`
	CentreID        string `json:"centre_id"`
	AuthorizationID string `json:"authorization_id"`
	PerformedAt     string `json:"performed_at"`
}

// RecordTransplant records a transplantation. It is refused, and the regulator
// alerted, when the organ was never procured or is already transplanted, when
// the centre is not authorized for that organ type on that day, or when the
// per-procedure authorization is missing.
func (s *Service) RecordTransplant(ctx context.Context, p *auth.Principal, in NewTransplant) (*Transplant, error) {
	const command = "record transplant"
	centre, oid, err := s.procedure(ctx, p, command, in.CentreID, in.OrganID, in.RecipientID)
	if err != nil {
		return nil, err
	}
	at, err := check.Time("performed_at", in.PerformedAt)
	if err != nil {
		return nil, s.recipientFirst(ctx, p, command, centre, in.RecipientID, err)
	}
	id := s.W.IDs().New("TX")
	var donorKind string
	ahead := procedureAhead(centre, oid.String(), in.RecipientID, day(at))
	rec, err := ledger.SubmitAheadAs[Transplant](ctx, s.W, p.Actor(), command, ahead, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		f, err := readProcedure(ctx, tx, centre, oid.String(), in.RecipientID, day(at))
		if err != nil {
			return nil, err
		}
		if err := centreRefusal("centre_id", centre, f.centreKind); err != nil {
			return nil, err
		}
		// Another centre's recipient is refused first (the input's
		// refusals before the Decide are answered after it by
		// recipientFirst).
		if err := f.recipientRefusal(in.RecipientID, centre); err != nil {
			return nil, err
		}
		if err := check.NotFuture("performed_at", at, now); err != nil {
			return nil, err
		}
		authID, err := f.refusal("organ_id", oid.String(), in.RecipientID, centre, in.AuthorizationID, at)
		if err != nil {
			return nil, err
		}
		o, r := f.organ, f.recipient
		donorKind = f.donorKind.String
		return ledger.NewEntry(TypeTransplantRecorded, Transplant{ID: id, OrganID: o.ID, RecipientID: r.ID, CentreID: centre,
			AuthorizationID: authID, PerformedAt: ledger.FormatTime(at)})
	})
	if err != nil {
		return nil, err
	}
	// The transplantation is recorded; the screening for trafficking
	// indicators (trafficking.go) follows it, and its failure is reported
	// with the record. Its rules are about living donors: for another
	// donor it has nothing to read.
	if donorKind != DonorLiving {
		return rec, nil
	}
	return rec, s.screenTransplant(ctx, p, rec)
}

// authorizationGrace is how long before its authorization was recorded a
// transplantation may be dated (an authorization given on paper at night
// and entered in the morning).
const authorizationGrace = 24 * time.Hour

// refusal checks the rules of the transplantation of the organ f reads into
// its recipient at centre, performed at at, and returns the per-procedure
// authorization it follows. field names the organ in the refusals
// (organ_id, or organ_ids[i] in a procedure); authIn is the authorization
// the input named, if any. The centre's existence is checked before.
func (f *procedureFacts) refusal(field, oid, recipientID, centre, authIn string, at time.Time) (string, error) {
	o, r := f.organ, f.recipient
	authField := "authorization_id"
	if field != "organ_id" {
		authField = field // a procedure names no authorization: the organ's is refused
	}
	if err := f.recipientRefusal(recipientID, centre); err != nil {
		return "", err
	}
	if o == nil {
		return "", errs.Alertf(errs.NotFound, "organ_procured", field, "organ %s was never procured in this registry", oid)
	}
	if o.Status == "transplanted" {
		return "", errs.Alertf(errs.Conflict, "organ_available", field, "organ %s is already transplanted", o.ID)
	}
	if o.Status != "procured" {
		return "", disposedOrgan(o)
	}
	if err := registrationClosed(r.ID, f.listStatus, f.abroad); err != nil {
		return "", err
	}
	if err := centreAuthorizedFor(f.centreAuthorized, centre, o.Organ, day(at)); err != nil {
		return "", err
	}
	if ledger.FormatTime(at) < o.ProcuredAt {
		return "", errs.Invalidf("dates_in_order", "performed_at", "performed_at (%s) is before the organ was procured (%s)", ledger.FormatTime(at), o.ProcuredAt)
	}
	if !f.authID.Valid {
		return "", errs.Alertf(errs.Forbidden, "procedure_authorization", authField,
			"no authorization of organ %s for recipient %s is on file", o.ID, r.ID)
	}
	authID, authAt, authCentre := f.authID.String, f.authAt.String, f.authCentre.String
	if authIn != "" && authIn != authID {
		return "", errs.Invalidf("procedure_authorization", "authorization_id", "authorization %s is not the authorization of organ %s for recipient %s", authIn, o.ID, r.ID)
	}
	if authCentre != centre {
		return "", errs.Alertf(errs.Forbidden, "procedure_authorization", "centre_id", "organ %s was authorized for recipient %s at centre %s, not %s", o.ID, r.ID, authCentre, centre)
	}
	// The authorization is stamped when it is recorded. One given on paper in
	// the night and entered afterwards may be recorded after the operation, so
	// a transplantation may be dated up to authorizationGrace before that
	// stamp, never earlier: a window that does not depend on where the
	// calendar day of UTC happens to fall in the centre's time zone.
	stamped, err := time.Parse(ledger.TimeLayout, authAt)
	if err != nil {
		return "", fmt.Errorf("authorization %s: recorded at %q: %w", authID, authAt, err)
	}
	if at.Before(stamped.Add(-authorizationGrace)) {
		return "", errs.Invalidf("dates_in_order", "performed_at", "performed_at (%s) is more than 24 hours before the authorization %s was recorded (%s)", ledger.FormatTime(at), authID, authAt)
	}
	return authID, nil
}
