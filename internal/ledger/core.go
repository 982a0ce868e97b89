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
	_, err := q.Exec(ctx, `INSERT INTO alerts (id, raised_at, rule, field, message, command, authority_id, principal_id, log_index, logged_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.ID, at, a.Rule, a.Field, a.Message, a.Command, authority, principal, index, at)
	return err
}
