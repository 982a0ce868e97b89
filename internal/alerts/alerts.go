// Package alerts is the regulator's work on alerts: acknowledging,
// assigning, commenting on and closing them with an outcome. Alerts are
// raised by the writer (ledger) when a refusal matters to oversight; this
// package records what the regulator does about them, each command one leaf
// of the log (alert.acknowledged, alert.assigned, alert.commented,
// alert.closed), projected by the ledger into the alerts and alert_comments
// tables.
package alerts

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/store"
)

// MaxText is the longest comment or closing note, in bytes.
const MaxText = 2000

// Service works alerts. Its zero value is not usable: give it the writer and
// the database.
type Service struct {
	W  *ledger.Writer
	DB *store.DB
}

// Filter is a list's filter as a caller gives it: rule, authority_id, state
// and the dates raised, from and to (YYYY-MM-DD, UTC, both included), each
// empty for all, and the page.
type Filter struct {
	Rule        string
	AuthorityID string
	State       string
	From, To    string
	page.Request
}

// Filters are the query parameters of the alerts list's filters.
var Filters = []string{"rule", "authority_id", "state", "from", "to"}

// Size is the alerts list's page size.
var Size = page.Size{Default: 200, Max: 1000}

// FilterOf reads the alerts list's filter from query parameters, with the
// page asked for; a parameter that is not the list's is refused.
func FilterOf(q url.Values) (Filter, error) {
	r, err := page.Parse(q, Size, Filters...)
	if err != nil {
		return Filter{}, err
	}
	return Filter{Rule: q.Get("rule"), AuthorityID: q.Get("authority_id"), State: q.Get("state"), From: q.Get("from"), To: q.Get("to"), Request: r}, nil
}

// List lists the alerts the filter selects, the newest first, one page at a
// time (regulator, auditor, admin). An unknown state or rule (enum: a rule
// is known when the deployment declares it or an alert was raised with it,
// Rules), an authority that does not exist (reference) or a bad date is
// refused, never read as "all"; a known rule no alert has yet is an empty
// page.
func (s *Service) List(ctx context.Context, p *auth.Principal, f Filter) (page.Of[ledger.RaisedAlert], error) {
	var none page.Of[ledger.RaisedAlert]
	if err := p.Require(auth.ReadAlerts); err != nil {
		return none, err
	}
	if err := f.Request.Check(Size, Filters, page.Filter{Name: "state", Value: f.State, Allowed: ledger.AlertStates}); err != nil {
		return none, err
	}
	from, end, err := page.Dates(f.From, f.To)
	if err != nil {
		return none, err
	}
	q := s.DB.Read()
	if f.Rule != "" {
		rules, err := s.Rules(ctx)
		if err != nil {
			return none, err
		}
		if !slices.Contains(rules, f.Rule) {
			if len(rules) == 0 {
				return none, errs.Invalidf("enum", "rule", "no alert has rule %s: no alert has been raised", f.Rule)
			}
			return none, errs.Invalidf("enum", "rule", "no alert has rule %s; rule must be one of %s", f.Rule, strings.Join(rules, ", "))
		}
	}
	if f.AuthorityID != "" {
		if _, err := auth.GetAuthority(ctx, q, f.AuthorityID); errs.CodeOf(err) == errs.NotFound {
			return none, errs.Invalidf("reference", "authority_id", "no authority %s", f.AuthorityID)
		} else if err != nil {
			return none, err
		}
	}
	return s.W.Alerts(ctx, q, ledger.AlertFilter{Rule: f.Rule, AuthorityID: f.AuthorityID, State: f.State, From: from, End: end, Request: f.Request})
}

// Rules are the rules the alerts list filters by: those the deployment's
// modules declare to raise alerts (module.Module.AlertRules), so that a
// monitor may ask for one before the first is raised, and those of the
// alerts raised (a rule a former release raised stays listed), sorted.
func (s *Service) Rules(ctx context.Context) ([]string, error) {
	raised, err := ledger.AlertRules(ctx, s.DB.Read())
	if err != nil {
		return nil, err
	}
	rules := append(s.W.AlertRules(), raised...)
	slices.Sort(rules)
	return slices.Compact(rules), nil
}

// Get reads one alert with its comments (regulator, auditor, admin).
func (s *Service) Get(ctx context.Context, p *auth.Principal, id string) (*ledger.RaisedAlert, error) {
	if err := p.Require(auth.ReadAlerts); err != nil {
		return nil, err
	}
	a, err := s.W.GetAlert(ctx, s.DB.Read(), id)
	if errors.Is(err, ledger.ErrNoAlert) {
		return nil, notFound(id)
	}
	return a, err
}

func notFound(id string) error {
	return errs.New(errs.NotFound, "alert", "id", "no alert %s", id)
}

// Assignment is the body of an assignment.
type Assignment struct {
	// AssigneeID is the principal who works the alert: a regulator, not
	// revoked.
	AssigneeID string `json:"assignee_id"`
}

// Comment is the body of a comment.
type Comment struct {
	Text string `json:"text"`
}

// Closing is the body of a closing: one of ledger.AlertOutcomes and a note.
type Closing struct {
	Outcome string `json:"outcome"`
	Note    string `json:"note"`
}

// Acknowledge records that a regulator has seen the alert and works it. An
// alert already acknowledged, or closed, is refused (conflict).
func (s *Service) Acknowledge(ctx context.Context, p *auth.Principal, id string) (*ledger.RaisedAlert, error) {
	return s.work(ctx, p, id, "acknowledge alert", func(ctx context.Context, tx *store.Tx, a *ledger.RaisedAlert) (*ledger.Entry, error) {
		if a.State == ledger.StateAcknowledged {
			return nil, errs.New(errs.Conflict, "alert_state", "id", "alert %s is already acknowledged", a.ID)
		}
		return ledger.NewEntry(ledger.TypeAlertAcknowledged, ledger.AlertRef{AlertID: a.ID})
	})
}

// Assign gives the alert to a regulator to work. A closed alert is refused.
func (s *Service) Assign(ctx context.Context, p *auth.Principal, id string, in Assignment) (*ledger.RaisedAlert, error) {
	if err := p.Require(auth.WorkAlerts); err != nil {
		return nil, err
	}
	assignee := strings.TrimSpace(in.AssigneeID)
	if err := check.Required("assignee_id", assignee); err != nil {
		return nil, err
	}
	return s.work(ctx, p, id, "assign alert", func(ctx context.Context, tx *store.Tx, a *ledger.RaisedAlert) (*ledger.Entry, error) {
		var role string
		var revoked sql.NullString
		err := tx.QueryRow(ctx, "SELECT role, revoked_at FROM principals WHERE id = ?", assignee).Scan(&role, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.New(errs.NotFound, "principal", "assignee_id", "no principal %s", assignee)
		} else if err != nil {
			return nil, err
		}
		if revoked.Valid {
			return nil, errs.Invalidf("revoked", "assignee_id", "principal %s is revoked", assignee)
		}
		if !(&auth.Principal{Role: auth.Role(role)}).Can(auth.WorkAlerts) {
			return nil, errs.Invalidf("assignee_role", "assignee_id", "principal %s is a %s; only a regulator works alerts", assignee, role)
		}
		return ledger.NewEntry(ledger.TypeAlertAssigned, ledger.AlertAssigned{AlertID: a.ID, AssigneeID: assignee})
	})
}

// Comment adds a comment to the alert; a closed alert may still be
// commented on (what was learnt after).
func (s *Service) Comment(ctx context.Context, p *auth.Principal, id string, in Comment) (*ledger.RaisedAlert, error) {
	if err := p.Require(auth.WorkAlerts); err != nil {
		return nil, err
	}
	text, err := check.Text("text", in.Text, MaxText, true)
	if err != nil {
		return nil, err
	}
	cid := s.W.IDs().New("AC")
	return s.work(ctx, p, id, "comment on alert", func(ctx context.Context, tx *store.Tx, a *ledger.RaisedAlert) (*ledger.Entry, error) {
		return ledger.NewEntry(ledger.TypeAlertCommented, ledger.AlertComment{ID: cid, AlertID: a.ID, Text: text})
	}, true)
}

// Close closes the alert with an outcome and a note, and logs the repeats
// not logged yet (ledger.RaisedAlert.RepeatsUnlogged). A closed alert stays
// closed.
func (s *Service) Close(ctx context.Context, p *auth.Principal, id string, in Closing) (*ledger.RaisedAlert, error) {
	if err := p.Require(auth.WorkAlerts); err != nil {
		return nil, err
	}
	if err := check.Required("outcome", in.Outcome); err != nil {
		return nil, err
	}
	if err := check.OneOf("outcome", in.Outcome, ledger.AlertOutcomes); err != nil {
		return nil, err
	}
	note, err := check.Text("note", in.Note, MaxText, true)
	if err != nil {
		return nil, err
	}
	return s.work(ctx, p, id, "close alert", func(ctx context.Context, tx *store.Tx, a *ledger.RaisedAlert) (*ledger.Entry, error) {
		// The repeats counted outside the log since its last leaf are
		// logged with the closing: a closed alert's count is the log's.
		// Only a count that carries the registry's MAC (UnloggedRepeats).
		c := ledger.AlertClosed{AlertID: a.ID, Outcome: in.Outcome, Note: note}
		n, last, err := s.W.UnloggedRepeats(ctx, tx, a.ID)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			c.Repeats, c.LastRepeatedAt = n, last
		}
		return ledger.NewEntry(ledger.TypeAlertClosed, c)
	})
}

// work submits a command on one alert: it refuses whoever may not work
// alerts, an unknown alert and (unless onClosed) a closed one, and answers the
// alert as the command left it.
func (s *Service) work(ctx context.Context, p *auth.Principal, id, name string,
	decide func(ctx context.Context, tx *store.Tx, a *ledger.RaisedAlert) (*ledger.Entry, error), onClosed ...bool) (*ledger.RaisedAlert, error) {
	if err := p.Require(auth.WorkAlerts); err != nil {
		return nil, err
	}
	id = strings.TrimSpace(id)
	_, err := s.W.Submit(ctx, p.Actor(), name, func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		a, err := s.W.GetAlert(ctx, tx, id)
		if errors.Is(err, ledger.ErrNoAlert) {
			return nil, notFound(id)
		} else if err != nil {
			return nil, err
		}
		if a.State == ledger.StateClosed && len(onClosed) == 0 {
			return nil, errs.New(errs.Conflict, "alert_state", "id", "alert %s is closed (%s); a closed alert stays closed", a.ID, a.Outcome)
		}
		return decide(ctx, tx, a)
	})
	if err != nil {
		return nil, err
	}
	return s.W.GetAlert(ctx, s.DB.Read(), id)
}
