package assets

import (
	"log/slog"
	"time"

	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/store"
)

// Service is the asset-recovery registry. Its fields are set by whoever
// opens it (server.DefaultModules).
type Service struct {
	W     *ledger.Writer
	DB    *store.DB
	Vault *privacy.Vault
	// Threshold is the disclosure control's threshold for the statistics
	// (disclosure.DefaultThreshold when 0).
	Threshold int
	// Exchange carries requests between central authorities of two
	// registries (nil: requests go by other channels only); Log reports
	// what the registry could not act on.
	Exchange *exchange.Service
	Log      *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
