package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/custos-project/custos/internal/server"
)

// exchangeFlags tune the deliverer of the exchange between deployments.
type exchangeFlags struct {
	retryBase, retryMax, overdue time.Duration
}

func (x *exchangeFlags) add(fs *flag.FlagSet) {
	fs.DurationVar(&x.retryBase, "exchange-retry", time.Second, "exchange: wait after a first failed delivery to a peer, doubled at each failure")
	fs.DurationVar(&x.retryMax, "exchange-retry-max", 5*time.Minute, "exchange: longest wait between deliveries of a message a peer has not acknowledged")
	fs.DurationVar(&x.overdue, "exchange-overdue", time.Hour, "exchange: show a message overdue when unacknowledged this long")
}

func (x *exchangeFlags) apply(cfg *server.Config) error {
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"exchange-retry", x.retryBase}, {"exchange-retry-max", x.retryMax}, {"exchange-overdue", x.overdue}} {
		if f.v <= 0 {
			return &exitError{2, fmt.Sprintf("--%s must be positive", f.name)}
		}
	}
	cfg.Exchange.RetryBase, cfg.Exchange.RetryMax, cfg.Exchange.OverdueAfter = x.retryBase, x.retryMax, x.overdue
	return nil
}
