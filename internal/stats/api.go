package stats

import (
	"context"
	"errors"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/disclosure"
	"github.com/custos-project/custos/internal/export"
)

var errNotYet = errors.New("stats: not built yet")

// Publish is a two-way table of q's counts (rows by dimension row, columns
// by dimension col; each "iccs", "period" or an id of Dimensions) after the
// disclosure control: what any published view shows.
func (s *Service) Publish(ctx context.Context, p *auth.Principal, q Query, row, col string) (disclosure.Published, error) {
	return disclosure.Published{}, errNotYet
}

// SDMX is the export of q as SDMX-CSV: one row per cell, totals "_T"
// included, suppressed cells flagged. Serve it with export.Serve or
// web.Session.Export.
func (s *Service) SDMX(p *auth.Principal, q Query) (export.Request, error) {
	return export.Request{}, errNotYet
}

// UNCTS is the export of one UN-CTS table (UNCTSTables: police, prosecution,
// courts, prisons) for a year, as CSV or XLSX, after disclosure control.
func (s *Service) UNCTS(p *auth.Principal, table string, year int, format export.Format) (export.Request, error) {
	return export.Request{}, errNotYet
}
