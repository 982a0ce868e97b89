package transplant

import (
	"context"
	"log/slog"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/store"
)

// Service runs the registry's commands through the ledger writer and answers
// its queries.
type Service struct {
	W     *ledger.Writer
	DB    *store.DB
	Vault *privacy.Vault
	// Cfg tunes the registry's deadlines (custos serve's flags); zero
	// fields take the defaults.
	Cfg Config
	// Now is the clock of the deadlines read with the lists (the writer's
	// own clock stamps the entries); time.Now when nil.
	Now func() time.Time
	// Exchange sends and receives the registry's messages to and from
	// foreign registries (nil: the registry does not exchange organs).
	Exchange *exchange.Service
	// Log is where the background work reports its failures (slog's
	// default when nil).
	Log *slog.Logger
	// MailKey is the e-mail outbox's key (mail.Service.Key, which the
	// server derives from the master key): each e-mail the registry
	// queues carries a MAC under it, or is not sent.
	MailKey []byte
}

// refuseWithAlert returns a refusal of the command named command decided
// before any state was read, and records its alert first when it has one.
// The alert names the command refused, as one refused in its writer's turn
// does: the regulator reads what was attempted, and a retry is counted on an
// alert only when it is the same command (a refused consent and a refused
// report on the same donor are two alerts, not one with a repeat).
func (s *Service) refuseWithAlert(ctx context.Context, p *auth.Principal, command string, err error) error {
	e, ok := errs.As(err)
	if !ok || !e.Alert {
		return err
	}
	_, err = s.W.Submit(ctx, p.Actor(), command, func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) { return nil, e })
	return err
}
