package ledger

import (
	"context"

	"github.com/custos-project/custos/internal/store"
)

// Entry types the ledger itself writes.
const (
	TypeInitialized = "registry.initialized"
	TypeAlert       = "alert.raised"
)

// Initialized is the first leaf of every custos log: the settings the registry
// runs under.
type Initialized struct {
	Jurisdiction string `json:"jurisdiction"` // ISO 3166-1 alpha-2 of the issuing registry
	Origin       string `json:"origin"`       // checkpoint origin line
	LogKey       string `json:"log_key"`      // note verifier key of the checkpoint signer
}

func projectInitialized(ctx context.Context, q store.Queryer, _ int64, e *Entry) error {
	var d Initialized
	if err := e.Decode(&d); err != nil {
		return err
	}
	for _, kv := range [][2]string{{"jurisdiction", d.Jurisdiction}, {"origin", d.Origin}, {"log_key", d.LogKey}} {
		if _, err := q.Exec(ctx, "INSERT INTO settings (name, value) VALUES (?, ?)", kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// Alert is a refusal that matters to oversight, recorded for the regulator.
type Alert struct {
	ID      string `json:"id"`
	Rule    string `json:"rule"`
	Field   string `json:"field"`
	Message string `json:"message"`
	Command string `json:"command"`
}

func projectAlert(ctx context.Context, q store.Queryer, index int64, e *Entry) error {
	var a Alert
	if err := e.Decode(&a); err != nil {
		return err
	}
	return ProjectAlert(ctx, q, index, e.At, e.Authority, e.By, a)
}

// ProjectAlert writes an alert into the alerts table: the one way, for the
// alert.raised leaf and for modules whose own leaves raise one (a hash bank
// entry quarantined when its case opens), addressed to authority.
func ProjectAlert(ctx context.Context, q store.Queryer, index int64, at, authority, principal string, a Alert) error {
	_, err := q.Exec(ctx, `INSERT INTO alerts (id, raised_at, rule, field, message, command, authority_id, principal_id, log_index)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.ID, at, a.Rule, a.Field, a.Message, a.Command, authority, principal, index)
	return err
}

// RaisedAlert is an alert as the regulator reads it.
type RaisedAlert struct {
	ID          string `json:"id"`
	RaisedAt    string `json:"raised_at"`
	Rule        string `json:"rule"`
	Field       string `json:"field"`
	Message     string `json:"message"`
	Command     string `json:"command"`
	AuthorityID string `json:"authority_id"`
	Authority   string `json:"authority"`
	PrincipalID string `json:"principal_id"`
	LogIndex    int64  `json:"log_index"`
}

// Alerts lists the newest alerts, at most limit (200 when limit is not 1 to
// 1000). It checks no role: callers refuse whoever may not read alerts.
func Alerts(ctx context.Context, q store.Queryer, limit int) ([]RaisedAlert, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rows, err := q.Query(ctx, `SELECT al.id, al.raised_at, al.rule, al.field, al.message, al.command, al.authority_id,
		COALESCE(a.name, ''), al.principal_id, al.log_index FROM alerts al LEFT JOIN authorities a ON a.id = al.authority_id
		ORDER BY al.log_index DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, a *RaisedAlert) error {
		return r.Scan(&a.ID, &a.RaisedAt, &a.Rule, &a.Field, &a.Message, &a.Command, &a.AuthorityID, &a.Authority, &a.PrincipalID, &a.LogIndex)
	})
}
