package exchange

import (
	"context"
	"slices"
	"strings"

	"github.com/custos-project/custos/internal/store"
)

// ApplyPending acts on a module's messages that were recorded in the inbox
// but not acted on (the server stopped between the two): pending selects
// their inbox ids, oldest first, a page at a time (LIMIT), reading from q;
// apply acts on each, and tells whether it did (false: a message it leaves,
// not of the types it retries, or refused for now). It returns how many
// apply acted on, and stops at apply's first error.
func (s *Service) ApplyPending(ctx context.Context, q store.Queryer, pending string, args []any,
	apply func(context.Context, *Inbound) (bool, error)) (int, error) {
	rows, err := q.Query(ctx, pending, args...)
	if err != nil {
		return 0, err
	}
	ids, err := store.Rows(rows, func(r store.Scanner, id *string) error { return r.Scan(id) })
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		m, err := s.Inbound(ctx, q, id)
		if err != nil {
			return n, err
		}
		acted, err := apply(ctx, m)
		if err != nil {
			return n, err
		}
		if acted {
			n++
		}
	}
	return n, nil
}

// PeerName is an active peer a module may send to, as a form offers it.
type PeerName struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Jurisdiction string `json:"jurisdiction"`
}

// PeersFor lists the active peers that take messages for purpose, by name.
func PeersFor(ctx context.Context, q store.Queryer, purpose string) ([]PeerName, error) {
	rows, err := q.Query(ctx, "SELECT id, name, jurisdiction, send_purposes FROM exchange_peers WHERE state = ? ORDER BY name, id", PeerActive)
	if err != nil {
		return nil, err
	}
	type row struct {
		PeerName
		purposes string
	}
	list, err := store.Rows(rows, func(r store.Scanner, x *row) error { return r.Scan(&x.ID, &x.Name, &x.Jurisdiction, &x.purposes) })
	if err != nil {
		return nil, err
	}
	out := []PeerName{}
	for _, x := range list {
		if slices.Contains(strings.Fields(x.purposes), purpose) {
			out = append(out, x.PeerName)
		}
	}
	return out, nil
}
