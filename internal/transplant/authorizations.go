package transplant

import (
	"context"
	"database/sql"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// ---- Per-procedure authorization (para 6 g) ----

// NewTransplantAuthorization is the input of AuthorizeTransplant.
type NewTransplantAuthorization struct {
	OrganID                 string `json:"organ_id" api:"required"`
	RecipientID             string `json:"recipient_id" api:"required"`
	CentreID                string `json:"centre_id"`
	AuthorizedBy            string `json:"authorized_by" api:"required"`
	CompatibilityDocumented bool   `json:"compatibility_documented" api:"required"`
	ConsentVerified         bool   `json:"consent_verified" api:"required"`
	NoPaymentDeclared       bool   `json:"no_payment_declared" api:"required"`
}

// TransplantAuthorization authorizes one organ for one recipient at one centre.
type TransplantAuthorization struct {
	ID                      string `json:"id"`
	OrganID                 string `json:"organ_id"`
	RecipientID             string `json:"recipient_id"`
	CentreID                string `json:"centre_id"`
	AuthorizedAt            string `json:"authorized_at"`
	AuthorizedBy            string `json:"authorized_by"`
	CompatibilityDocumented bool   `json:"compatibility_documented"`
	ConsentVerified         bool   `json:"consent_verified"`
	NoPaymentDeclared       bool   `json:"no_payment_declared"`
	OnWaitingList           bool   `json:"on_waiting_list"`
}

// AuthorizeTransplant checks the criteria of a transplantation before it
// happens: the organ is available and of the type the recipient waits for, the
// recipient is on the waiting list, compatibility and consent are documented,
// no payment was declared, and the centre is authorized. A recipient of
// another centre is refused first (recipient_centre), before the input and
// the organ's state.
func (s *Service) AuthorizeTransplant(ctx context.Context, p *auth.Principal, in NewTransplantAuthorization) (*TransplantAuthorization, error) {
	const command = "authorize transplant"
	centre, oid, err := s.procedure(ctx, p, command, in.CentreID, in.OrganID, in.RecipientID)
	if err != nil {
		return nil, err
	}
	by, err := authorizationInput(in)
	if err != nil {
		return nil, s.recipientFirst(ctx, p, command, centre, in.RecipientID, err)
	}
	id := s.W.IDs().New("TA")
	return ledger.SubmitAs[TransplantAuthorization](ctx, s.W, p.Actor(), command, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		f, err := readProcedure(ctx, tx, centre, oid.String(), in.RecipientID, day(now))
		if err != nil {
			return nil, err
		}
		if err := centreRefusal("centre_id", centre, f.centreKind); err != nil {
			return nil, err
		}
		if err := f.recipientRefusal(in.RecipientID, centre); err != nil {
			return nil, err
		}
		o, r := f.organ, f.recipient
		if o == nil {
			return nil, noOrgan(oid.String())
		}
		if o.Status == DispositionDiscarded || o.Status == DispositionResearch {
			return nil, disposedOrgan(o)
		}
		if o.Status != "procured" {
			return nil, errs.Alertf(errs.Conflict, "organ_available", "organ_id", "organ %s is already %s", o.ID, o.Status)
		}
		if err := recipientWaits(r, o.ID, o.Organ, "organ_id"); err != nil {
			return nil, err
		}
		if err := centreAuthorizedFor(f.centreAuthorized, centre, o.Organ, day(now)); err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeTransplantAuthorized, TransplantAuthorization{ID: id, OrganID: o.ID, RecipientID: r.ID, CentreID: centre,
			AuthorizedAt: ledger.FormatTime(now), AuthorizedBy: by, CompatibilityDocumented: true, ConsentVerified: true,
			NoPaymentDeclared: true, OnWaitingList: true})
	})
}

// authorizationInput checks the declarations of a per-procedure
// authorization and returns who authorized it.
func authorizationInput(in NewTransplantAuthorization) (string, error) {
	by, err := check.Line("authorized_by", in.AuthorizedBy, 200, true)
	if err != nil {
		return "", err
	}
	if !in.NoPaymentDeclared {
		// Para 6 b: no payment to a donor, their family or anyone else.
		return "", errs.Alertf(errs.Forbidden, "no_payment", "no_payment_declared",
			"a transplantation is not authorized unless it is declared that no payment or reward of monetary value was made")
	}
	if !in.CompatibilityDocumented {
		return "", errs.Invalidf("compatibility", "compatibility_documented", "document donor-recipient compatibility before authorizing")
	}
	if !in.ConsentVerified {
		return "", errs.Invalidf("consent_verified", "consent_verified", "verify the donation's consent before authorizing")
	}
	return by, nil
}

// recipientWaits refuses an organ of type organ (organID, named by field)
// for recipient r when r is no longer on the waiting list (transplanted) or
// waits for another organ: the rules of a per-procedure authorization, and
// of an organ from abroad transplanted here, which has none.
func recipientWaits(r *Recipient, organID, organ, field string) error {
	if r.Status != "waiting" {
		return errs.Invalidf("waiting_list", "recipient_id", "recipient %s is not on the waiting list (%s)", r.ID, r.Status)
	}
	if !companion(r.OrganNeeded, organ) {
		return errs.Invalidf("organ_type", field, "organ %s is a %s; recipient %s waits for a %s", organID, organ, r.ID, r.OrganNeeded)
	}
	return nil
}

// centreAuthorizedFor refuses, and alerts the regulator, a transplantation
// (or its authorization) of organ at a centre that holds no valid
// authorization for it on the day (authorized, read by the caller).
func centreAuthorizedFor(authorized bool, centre, organ, onDay string) error {
	if !authorized {
		return errs.Alertf(errs.Forbidden, "centre_authorization", "centre_id",
			"centre %s holds no valid authorization for transplantation of %s on %s", centre, organ, onDay)
	}
	return nil
}

// registrationClosed refuses, and alerts the regulator, a transplantation
// on a waiting-list registration closed by an outcome (status died waiting
// or removed) or by a transplant abroad (abroad): an organ going to a
// patient off the list bypasses its allocation (docs/oversight.md).
func registrationClosed(recipientID string, status sql.NullString, abroad sql.NullInt64) error {
	st := status.String
	if st != WaitlistDiedWaiting && st != WaitlistRemoved && abroad.Int64 == 0 {
		return nil
	}
	if abroad.Int64 != 0 {
		st = "transplanted abroad"
	}
	return errs.Alertf(errs.Conflict, "waitlist_closed", "recipient_id",
		"the waiting-list registration of recipient %s is closed (%s): no transplantation is recorded on it", recipientID, st)
}

// recipientFirst answers refused, the refusal of a transplantation's input,
// after refusing a coordinator another centre's recipient (recipient_centre,
// through scopeFirst): the recipient's id tells whose the transplantation
// is, and the centre learns nothing from the input's rules. It reads the
// recipient only when the input is refused: with good input, the command's
// Decide checks the recipient before anything else in its one read, and the
// transplantation (the registry's hot path) costs no read more.
func (s *Service) recipientFirst(ctx context.Context, p *auth.Principal, command, centre, recipientID string, refused error) error {
	err := s.scopeFirst(ctx, p, command, func(ctx context.Context, q store.Queryer) error {
		r, err := getRecipient(ctx, q, recipientID)
		if err != nil {
			return err
		}
		return recipientCentre(r, centre)
	})
	if err != nil {
		return err
	}
	return s.refuseWithAlert(ctx, p, command, refused)
}

// recipientRefusal refuses a transplantation of a recipient not in the
// registry, or of another centre's: the first of the rules on what f read.
func (f *procedureFacts) recipientRefusal(recipientID, centre string) error {
	if f.recipient == nil {
		return noRecipient(recipientID)
	}
	return recipientCentre(f.recipient, centre)
}

// recipientCentre refuses, and alerts the regulator, when the recipient is
// on another centre's waiting list than the centre that would authorize or
// perform the transplantation: an organ goes to a patient of the list it was
// allocated on, and a patient who moves is registered at the new centre
// first (the old registration removed, reason transferred). An organ may
// come from any centre: organs travel, patients' registrations do not.
func recipientCentre(r *Recipient, centre string) error {
	if r.CentreID != centre {
		return errs.Alertf(errs.Forbidden, "recipient_centre", "recipient_id",
			"recipient %s is on the waiting list of centre %s, not %s: register the patient at %s first (the registration at %s removed, reason transferred)", r.ID, r.CentreID, centre, centre, r.CentreID)
	}
	return nil
}

// procedureFacts is what the rules of a per-procedure authorization and of a
// transplantation check: the centre's kind (NULL when there is no such
// authority), the organ with its procurement and the recipient (nil when
// absent), whether the centre may transplant that organ type on the day, and
// the latest authorization of that organ for that recipient (NULL when none).
type procedureFacts struct {
	centreKind                 sql.NullString
	organ                      *Organ
	recipient                  *Recipient
	centreAuthorized           bool
	authID, authAt, authCentre sql.NullString
	// listStatus is the registration's last waiting-list status and abroad
	// whether a transplant abroad ended it (equity_registrations).
	listStatus sql.NullString
	abroad     sql.NullInt64
	// donorKind is the kind of the organ's donor: the screening for
	// trafficking indicators (screenTransplant) reads nothing for a donor
	// that is not living.
	donorKind sql.NullString
}

// procedureSQL reads procedureFacts in one statement: the writer runs it for
// every transplantation, and each statement costs more than the reads in it.
const procedureSQL = `SELECT c.kind, o.id, o.organ, ` + organStatus + `, o.donor_id, o.procurement_id, p.procured_at,
	r.id, ` + recipientStatus + `, r.organ_needed, r.centre_id,
	(SELECT COUNT(*) FROM centre_authorizations ca WHERE ca.centre_id = ? AND ca.activity = 'transplantation'
		AND ca.organ = o.organ AND ` + validOn + `),
	ta.id, ta.authorized_at, ta.centre_id, er.status, er.abroad, (SELECT d.kind FROM donors d WHERE d.id = o.donor_id)
	FROM (SELECT 1 AS one) x
	LEFT JOIN authorities c ON c.id = ?
	LEFT JOIN organs o ON o.id = ?
	LEFT JOIN procurements p ON p.id = o.procurement_id
	LEFT JOIN recipients r ON r.id = ?
	LEFT JOIN transplant_authorizations ta ON ta.organ_id = o.id AND ta.recipient_id = r.id
	LEFT JOIN equity_registrations er ON er.recipient_id = r.id
	ORDER BY ta.authorized_at DESC LIMIT 1`

// procedureAhead declares readProcedure's read for the writer to send ahead
// (ledger.Ahead). Its keys are the organ and the recipient: a transplantation
// changes what the read returns of its own organ and recipient only (the
// organ's and the recipient's status, the registration's first transplant),
// and the read's other rows (the centre's authorizations, the procurement,
// the donor) are changed by commands that declare no Ahead.
func procedureAhead(centreID, organID, recipientID, onDay string) *ledger.Ahead {
	return &ledger.Ahead{Keys: []string{"organ:" + organID, "recipient:" + recipientID},
		Read: store.Ahead{SQL: procedureSQL, Args: procedureArgs(centreID, organID, recipientID, onDay)}}
}

func procedureArgs(centreID, organID, recipientID, onDay string) []any {
	return []any{centreID, onDay, onDay, onDay, centreID, organID, recipientID}
}

func readProcedure(ctx context.Context, q store.Queryer, centreID, organID, recipientID, onDay string) (*procedureFacts, error) {
	var f procedureFacts
	var oID, oOrgan, oStatus, oDonor, oProc, oAt, rID, rStatus, rNeeded, rCentre sql.NullString
	var n int
	if err := q.QueryRow(ctx, procedureSQL, procedureArgs(centreID, organID, recipientID, onDay)...).Scan(
		&f.centreKind, &oID, &oOrgan, &oStatus, &oDonor, &oProc, &oAt, &rID, &rStatus, &rNeeded, &rCentre, &n,
		&f.authID, &f.authAt, &f.authCentre, &f.listStatus, &f.abroad, &f.donorKind); err != nil {
		return nil, err
	}
	if oID.Valid {
		f.organ = &Organ{ID: oID.String, Organ: oOrgan.String, Status: oStatus.String, DonorID: oDonor.String,
			ProcurementID: oProc.String, ProcuredAt: oAt.String}
	}
	if rID.Valid {
		f.recipient = &Recipient{ID: rID.String, Status: rStatus.String, OrganNeeded: rNeeded.String, CentreID: rCentre.String}
	}
	f.centreAuthorized = n > 0
	return &f, nil
}

// procedure checks what a per-procedure authorization and a transplantation
// both start from: a coordinator recording for their own centre, a recipient
// (of that centre: recipientFirst), and a well-formed organ identifier.
func (s *Service) procedure(ctx context.Context, p *auth.Principal, command, centreID, organID, recipientID string) (string, OrganID, error) {
	if err := p.Require(Record); err != nil {
		return "", OrganID{}, err
	}
	centre, err := centreFor(p, "centre_id", centreID)
	if err != nil {
		return "", OrganID{}, s.refuseWithAlert(ctx, p, command, err)
	}
	if err := check.Required("recipient_id", recipientID); err != nil {
		return "", OrganID{}, err
	}
	oid, err := ParseOrganID(organID)
	if err != nil {
		return "", OrganID{}, s.recipientFirst(ctx, p, command, centre, recipientID, err)
	}
	return centre, oid, nil
}
