package transplant

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// centreFor resolves the centre a principal records for: a coordinator records
// only for their own centre; the field may be left empty for it.
func centreFor(p *auth.Principal, field, centreID string) (string, error) {
	if centreID == "" {
		centreID = p.AuthorityID
	}
	if p.Role == RoleCoordinator && centreID != p.AuthorityID {
		return "", errs.Alertf(errs.Forbidden, "own_centre", field, "a coordinator records only for their own centre (%s), not %s", p.AuthorityID, centreID)
	}
	return centreID, nil
}

// scopeFirst refuses a coordinator a command on a record of another centre
// before the command checks its input, so that the refusal is the same
// whether the input was good or bad: scope is the part of the command's
// Decide that reads the record by its id and refuses it (rule own_centre,
// organ_holder for an organ the centre does not hold, recipient_centre for
// another centre's recipient), run here on the read pool. Such a refusal
// is made (with its alert, as the Decide's would be); any other answer of
// scope (no such record, its state) is left to the command, whose Decide
// runs scope again on the state it writes to.
// A scope therefore refuses for the centre before it refuses for the
// record's state: another centre learns neither. command is the name the
// command submits under, which its alert names.
func (s *Service) scopeFirst(ctx context.Context, p *auth.Principal, command string, scope func(ctx context.Context, q store.Queryer) error) error {
	if p.Role != RoleCoordinator {
		return nil
	}
	err := scope(ctx, s.DB.Read())
	if err == nil {
		return nil
	}
	e, ok := errs.As(err)
	if !ok {
		return err
	}
	if slices.Contains(scopeRules, e.Rule) {
		return s.refuseWithAlert(ctx, p, command, e)
	}
	return nil
}

// scopeRules are the rules of a refusal for the centre rather than for the
// input or the record's state: those scopeFirst answers first.
var scopeRules = []string{"own_centre", "organ_holder", "recipient_centre"}

func requireCentre(ctx context.Context, q store.Queryer, field, id string) error {
	var kind sql.NullString
	err := q.QueryRow(ctx, "SELECT kind FROM authorities WHERE id = ?", id).Scan(&kind)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return centreRefusal(field, id, kind)
}

// centreRefusal refuses an authority that is missing (kind is NULL) or not a
// transplant centre.
func centreRefusal(field, id string, kind sql.NullString) error {
	if !kind.Valid {
		return errs.New(errs.NotFound, "reference", field, "no centre %s", id)
	}
	if kind.String != KindCentre {
		return errs.Invalidf("reference", field, "%s is not a transplant centre", id)
	}
	return nil
}

// authorized tells whether a centre holds an authorization for an activity and
// organ type valid on the given day and not revoked by then.
func authorized(ctx context.Context, q store.Queryer, centreID, activity, organ, onDay string) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM centre_authorizations ca
		WHERE ca.centre_id = ? AND ca.activity = ? AND ca.organ = ? AND `+validOn,
		centreID, activity, organ, onDay, onDay, onDay).Scan(&n)
	return n > 0, err
}

// validOn is the condition on a centre authorization ca that it is valid on
// the day given three times, and not revoked by then.
const validOn = `ca.valid_from <= ? AND (ca.valid_to IS NULL OR ca.valid_to >= ?) AND (ca.revoked_at IS NULL OR ca.revoked_at > ?)`

// ---- Centre authorizations (para 6 e) ----

// CentreAuthorization is a centre's licence for one activity and organ type.
type CentreAuthorization struct {
	ID           string `json:"id"`
	CentreID     string `json:"centre_id"`
	Activity     string `json:"activity"`
	Organ        string `json:"organ"`
	ValidFrom    string `json:"valid_from"`
	ValidTo      string `json:"valid_to,omitempty"`
	GrantedAt    string `json:"granted_at,omitempty"`
	RevokedAt    string `json:"revoked_at,omitempty"`
	RevokeReason string `json:"revoke_reason,omitempty"`
}

// NewCentreAuthorization is the input of AuthorizeCentre.
type NewCentreAuthorization struct {
	Activity  string `json:"activity"`
	Organ     string `json:"organ"`
	ValidFrom string `json:"valid_from"`
	ValidTo   string `json:"valid_to"`
}

// AuthorizationYears is how far ahead of the day it is granted a centre's
// authorization may end (valid_to): a regulator reviews a centre's
// authorization within years, and an end decades away (9999-12-31, 2062
// for 2026) is a mistyped year that would hide its lapse
// (authorization_lapsed). An authorization without an end is given by
// leaving valid_to empty, and lasts until it is revoked.
const AuthorizationYears = 10

// AuthorizationBounds is the last day an authorization granted on a day of
// now (UTC) may start (valid_from, a year ahead) and end (valid_to,
// AuthorizationYears ahead). The web form's date inputs take them as their
// max.
func AuthorizationBounds(now time.Time) (lastFrom, lastTo string) {
	return day(now.AddDate(1, 0, 0)), day(now.AddDate(AuthorizationYears, 0, 0))
}

// AuthorizeCentre grants a centre an activity for an organ type, from
// valid_from (at most a year ahead) to valid_to (empty: until revoked),
// which is at most AuthorizationYears ahead.
func (s *Service) AuthorizeCentre(ctx context.Context, p *auth.Principal, centreID string, in NewCentreAuthorization) (*CentreAuthorization, error) {
	if err := p.Require(AuthorizeCentres); err != nil {
		return nil, err
	}
	if err := check.OneOf("activity", in.Activity, Activities); err != nil {
		return nil, err
	}
	if err := check.OneOf("organ", in.Organ, OrganTypes); err != nil {
		return nil, err
	}
	from, err := check.Date("valid_from", in.ValidFrom, true)
	if err != nil {
		return nil, err
	}
	to, err := check.Date("valid_to", in.ValidTo, false)
	if err != nil {
		return nil, err
	}
	if to != "" && to < from {
		return nil, errs.Invalidf("dates_in_order", "valid_to", "valid_to (%s) is before valid_from (%s)", to, from)
	}
	a := CentreAuthorization{ID: s.W.IDs().New("CA"), CentreID: centreID, Activity: in.Activity, Organ: in.Organ, ValidFrom: from, ValidTo: to}
	return ledger.SubmitAs[CentreAuthorization](ctx, s.W, p.Actor(), "authorize centre", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		// An authorization is granted at most a year before it starts: a
		// start further ahead is a mistyped year (2062 for 2026), which would
		// leave the centre unauthorized for decades while the list shows it
		// granted.
		first, last := AuthorizationBounds(now)
		if from > first {
			return nil, errs.Invalidf("date_range", "valid_from", "valid_from %s is more than a year ahead: an authorization starts by %s at the latest", from, first)
		}
		if to > last {
			return nil, errs.Invalidf("date_range", "valid_to", "valid_to %s is more than %d years ahead: an authorization ends by %s at the latest, or is given with no end", to, AuthorizationYears, last)
		}
		if err := requireCentre(ctx, tx, "centre_id", centreID); err != nil {
			return nil, err
		}
		a.GrantedAt = ledger.FormatTime(now)
		return ledger.NewEntry(TypeCentreAuthorized, a)
	})
}

// RevokeCentreAuthorization ends an authorization from the day of revocation.
func (s *Service) RevokeCentreAuthorization(ctx context.Context, p *auth.Principal, centreID, id, reason string) (*CentreAuthorization, error) {
	if err := p.Require(AuthorizeCentres); err != nil {
		return nil, err
	}
	reason, err := check.Text("reason", reason, 1000, true)
	if err != nil {
		return nil, err
	}
	_, err = ledger.SubmitAs[authorizationRevoked](ctx, s.W, p.Actor(), "revoke centre authorization", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		var centre string
		var revoked sql.NullString
		err := tx.QueryRow(ctx, "SELECT centre_id, revoked_at FROM centre_authorizations WHERE id = ?", id).Scan(&centre, &revoked)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && centre != centreID) {
			return nil, errs.New(errs.NotFound, "reference", "id", "centre %s has no authorization %s", centreID, id)
		}
		if err != nil {
			return nil, err
		}
		if revoked.Valid {
			return nil, errs.New(errs.Conflict, "already_revoked", "id", "authorization %s was revoked on %s", id, revoked.String)
		}
		return ledger.NewEntry(TypeCentreAuthorizationRevoked, authorizationRevoked{ID: id, Reason: reason, On: day(now)})
	})
	if err != nil {
		return nil, err
	}
	return s.GetCentreAuthorization(ctx, id)
}

type authorizationRevoked struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
	On     string `json:"on"`
}
