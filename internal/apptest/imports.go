package apptest

import (
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/storetest"
)

// Imported are organs a registry of the same engine sent a world: Held,
// sent to centre A by its identifier and transplanted there today into
// Recipient (an organ from abroad that centre A holds); Named, a kidney sent
// to centre A by its name, no outcome yet; Unnamed, a liver sent with no
// receiving centre named, no outcome yet: no centre holds it until a
// regulator assigns it.
type Imported struct {
	Held, Named, Unnamed, Recipient string
	Origin                          *World // the registry that sent them
	ToW                             string // w, a peer of Origin
	ToOrigin                        string // Origin, a peer of w (traceability and vigilance both ways)
}

// Send has im's Origin send w more organs, of a new donor (two kidneys at
// most), to destination (a centre here, by its identifier or name; "" for
// none), and returns their identifiers.
func (im Imported) Send(t testing.TB, w *World, destination string, organs ...string) []string {
	t.Helper()
	return im.SendOf(t, w, DeceasedDonor(im.Origin.CentreA), destination, organs...)
}

// SendOf is Send with the origin's donor given: a registration of a
// deceased donor at the origin's centre A (DeceasedDonor, its blood group
// changed, say).
func (im Imported) SendOf(t testing.TB, w *World, donorIn map[string]any, destination string, organs ...string) []string {
	t.Helper()
	o := im.Origin
	donor := o.Must(t, 201, "POST", "/api/v1/transplant/donors", o.CoordA, donorIn).Str("id")
	o.Must(t, 201, "POST", "/api/v1/transplant/donors/"+donor+"/consents", o.CoordA, map[string]any{"kind": "family_authorization",
		"given_on": time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02"), "assessed_by": "Dr Test", "voluntary": true, "informed": true})
	var ids []string
	for _, x := range o.Must(t, 201, "POST", "/api/v1/transplant/procurements", o.CoordA, map[string]any{"donor_id": donor, "procured_at": Hours(3),
		"organs": organs}).Body["organs"].([]any) {
		id := x.(map[string]any)["id"].(string)
		o.Must(t, 201, "POST", "/api/v1/transplant/exports", o.CoordA, map[string]any{"organ_id": id, "peer_id": im.ToW, "destination_centre": destination})
		ids = append(ids, id)
	}
	// The outbox holds the messages received before too: w answers them
	// as replays.
	w.ReceiveOutbox(t, o.Env)
	return ids
}

// ImportedOrgans has a registry of the same engine as dsn send w the organs
// of Imported, over the exchange, and centre A record Held transplanted.
func ImportedOrgans(t testing.TB, w *World, dsn string) Imported {
	t.Helper()
	second := storetest.SQLite(t)
	if strings.HasPrefix(dsn, "postgres") {
		second = storetest.Postgres(t)
	}
	origin := NewWorld(t, second)
	toW := origin.Peer(t, w.Env, "traceability", "vigilance")
	toOrigin := w.Peer(t, origin.Env, "traceability", "vigilance")
	donor := origin.Must(t, 201, "POST", "/api/v1/transplant/donors", origin.CoordA, DeceasedDonor(origin.CentreA)).Str("id")
	origin.Must(t, 201, "POST", "/api/v1/transplant/donors/"+donor+"/consents", origin.CoordA, map[string]any{"kind": "family_authorization",
		"given_on": time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02"), "assessed_by": "Dr Test", "voluntary": true, "informed": true})
	organs := origin.Must(t, 201, "POST", "/api/v1/transplant/procurements", origin.CoordA, map[string]any{"donor_id": donor, "procured_at": Hours(3),
		"organs": []string{"kidney", "kidney", "liver"}}).Body["organs"].([]any)
	im := Imported{Origin: origin, ToW: toW, ToOrigin: toOrigin}
	for i, o := range []struct {
		id          *string
		destination string
	}{{&im.Held, w.CentreA}, {&im.Named, "Centre A"}, {&im.Unnamed, ""}} {
		*o.id = organs[i].(map[string]any)["id"].(string)
		origin.Must(t, 201, "POST", "/api/v1/transplant/exports", origin.CoordA, map[string]any{"organ_id": *o.id, "peer_id": toW, "destination_centre": o.destination})
	}
	w.ReceiveOutbox(t, origin.Env)
	im.Recipient = w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, Recipient(w.CentreA, "kidney")).Str("id")
	w.Must(t, 201, "POST", "/api/v1/transplant/imports/"+im.Held+"/outcome", w.CoordA, map[string]any{"outcome": "transplanted", "recipient_id": im.Recipient,
		"on": time.Now().UTC().Format("2006-01-02")})
	return im
}
