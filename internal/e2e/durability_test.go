package e2e

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/storetest"
)

// loadResult is what concurrent clients learnt about their writes.
type loadResult struct {
	mu         sync.Mutex
	acked      map[string]string // recipient id -> its date of birth (201)
	refused    map[string]bool   // dates of birth of writes refused with a 4xx
	unknown    map[string]bool   // dates of birth of writes whose answer never came
	unexpected []string
}

// registering is two clients that register valid recipients at a server,
// one after another, until Stop, while a test backs up or moves the
// registry under them.
type registering struct {
	*loadResult
	seq  atomic.Int64
	stop atomic.Bool
	wg   sync.WaitGroup
}

// keepRegistering starts the clients, as token, at url, and waits for 20
// acknowledged registrations.
func keepRegistering(url, token string) *registering {
	r := &registering{loadResult: newLoadResult()}
	for range 2 {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			for !r.stop.Load() {
				body, dob := r.next()
				r.record(call(url, "POST", "/api/v1/transplant/recipients", token, body), dob, false, false)
			}
		}()
	}
	r.waitAcked(20)
	return r
}

// next is the next recipient's registration.
func (r *registering) next() (map[string]any, string) { return recipient(int(r.seq.Add(1)), false) }

// Stop stops the clients and waits for their last registrations.
func (r *registering) Stop() {
	r.stop.Store(true)
	r.wg.Wait()
}

// servesAcked checks that the registry at url serves every recipient whose
// registration was acknowledged (id -> date of birth), with the date of
// birth the client sent; where, if not empty, says which copy in a failure
// (" in the moved registry").
func servesAcked(t testing.TB, url, token string, acked map[string]string, where string) {
	t.Helper()
	for _, id := range slices.Sorted(maps.Keys(acked)) {
		r := call(url, "GET", "/api/v1/transplant/recipients/"+id, token, nil)
		if r.Err != nil || r.Status != 200 {
			t.Errorf("acknowledged recipient %s is lost%s: GET gave %d %v %s", id, where, r.Status, r.Err, r.Raw)
			continue
		}
		if got := r.str("recipient.date_of_birth"); got != acked[id] {
			t.Errorf("recipient %s%s has date of birth %q, the client sent %q", id, where, got, acked[id])
		}
	}
}

// procuredOrgan records a deceased donor, consent and a procurement at
// url as coordinator, and returns the donor and the first organ procured.
func procuredOrgan(t *testing.T, url, coordinator string) (donorID, organ string) {
	t.Helper()
	donorID = must(t, 201, url, "POST", "/api/v1/transplant/donors", coordinator, donor(1)).str("id")
	must(t, 201, url, "POST", "/api/v1/transplant/donors/"+donorID+"/consents", coordinator, consent())
	p := must(t, 201, url, "POST", "/api/v1/transplant/procurements", coordinator, procurement(donorID))
	return donorID, p.Body["organs"].([]any)[0].(map[string]any)["id"].(string)
}

func newLoadResult() *loadResult {
	return &loadResult{acked: map[string]string{}, refused: map[string]bool{}, unknown: map[string]bool{}}
}

func (l *loadResult) ackedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// waitAcked waits until n writes are acknowledged, or 20 s have passed.
func (l *loadResult) waitAcked(n int) {
	deadline := time.Now().Add(20 * time.Second)
	for l.ackedCount() < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}

// record files the outcome of one recipient registration. brokenOK tells
// whether a broken connection is expected (the server is being killed).
func (l *loadResult) record(r reply, dob string, invalid, brokenOK bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case r.Err != nil && brokenOK:
		l.unknown[dob] = true
	case r.Err != nil:
		l.unexpected = append(l.unexpected, fmt.Sprintf("%s: %v", dob, r.Err))
	case r.Status == 201 && !invalid && r.str("id") != "":
		l.acked[r.str("id")] = dob
	case r.Status >= 400 && r.Status < 500 && invalid:
		l.refused[dob] = true
	default:
		l.unexpected = append(l.unexpected, fmt.Sprintf("%s (invalid=%v): status %d: %s", dob, invalid, r.Status, r.Raw))
	}
}

// tableDates returns the date of birth of every recipient in the database,
// read directly: a refused write must leave no row behind.
func tableDates(t testing.TB, dsn string) map[string]bool {
	t.Helper()
	ctx := context.Background()
	db := openStore(t, dsn)
	rows, err := db.Read().Query(ctx, "SELECT date_of_birth FROM recipients")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			t.Fatal(err)
		}
		if out[d] {
			t.Errorf("two recipients have the date of birth %s: one write landed twice", d)
		}
		out[d] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkOutcomes asserts the promise to clients: every acknowledged write is
// readable (through base) and in the table, no refused write is in the table,
// and nothing is there that no client sent.
func checkOutcomes(t testing.TB, l *loadResult, dsn, base, token string) {
	t.Helper()
	for _, u := range l.unexpected {
		t.Errorf("unexpected answer: %s", u)
	}
	servesAcked(t, base, token, l.acked, "")
	dates := tableDates(t, dsn)
	for _, dob := range l.acked {
		if !dates[dob] {
			t.Errorf("acknowledged recipient born %s is not in the recipients table", dob)
		}
	}
	for dob := range l.refused {
		if dates[dob] {
			t.Errorf("the write of recipient born %s was refused (4xx) but is in the table", dob)
		}
	}
	ackedDates := map[string]bool{}
	for _, dob := range l.acked {
		ackedDates[dob] = true
	}
	for dob := range dates {
		if !ackedDates[dob] && !l.unknown[dob] {
			t.Errorf("recipient born %s is in the table but no client got it acknowledged or lost its answer", dob)
		}
	}
}

// TestDurabilityKill9 is the durability drill: 16 clients register recipients
// (one request in five is refused inside the write transaction) while the
// server is killed with SIGKILL, twice, restarting it in between (log verify
// runs once on the live registry mid-load); after the
// last restart every acknowledged write is there, no refused one is, nothing
// is there that no client sent, the server takes new writes, and log verify
// passes with the public key.
func TestDurabilityKill9(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		start := time.Now()
		reg := initRegistry(t, dsn)
		srv := startServer(t, reg)
		w := newWorld(t, srv.URL, reg.Admin)

		const clients, killAfter, crashes = 16, 150, 2
		l := newLoadResult()
		var seq atomic.Int64
		for crash := range crashes {
			if crash > 0 {
				srv = startServer(t, reg)
			}
			var killed atomic.Bool
			var wg sync.WaitGroup
			for g := range clients {
				token := w.CoordA
				if g%2 == 1 {
					token = w.CoordB
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						n := int(seq.Add(1))
						invalid := n%5 == 0
						body, dob := recipient(n, invalid)
						r := call(srv.URL, "POST", "/api/v1/transplant/recipients", token, body)
						// Read the flag after the answer: a request broken by the kill sees it set.
						k := killed.Load()
						l.record(r, dob, invalid, k)
						if k {
							return
						}
					}
				}()
			}
			want := (crash + 1) * killAfter
			if crash == 0 {
				// log verify on the live registry reads one snapshot: writes
				// in progress are not reported as tampering.
				l.waitAcked(killAfter / 3)
				verifyLog(t, dsn, reg.PublicKey)
			}
			l.waitAcked(want)
			killed.Store(true)
			srv.kill()
			wg.Wait()
			t.Logf("SIGKILL %d: %d acknowledged, %d refused, %d in flight (outcome unknown) so far", crash+1, len(l.acked), len(l.refused), len(l.unknown))
			if len(l.acked) < want/2 || len(l.refused) == 0 {
				t.Fatalf("the load did not run: %d acknowledged, %d refused; unexpected: %v", len(l.acked), len(l.refused), l.unexpected)
			}
		}

		srv = startServer(t, reg)
		checkOutcomes(t, l, dsn, srv.URL, w.Regulator)
		// The restarted writer picks up the log head the crash left.
		body, _ := recipient(int(seq.Add(1)), false)
		must(t, 201, srv.URL, "POST", "/api/v1/transplant/recipients", w.CoordA, body)
		srv.stop()
		verifyLog(t, dsn, reg.PublicKey)
		t.Logf("took %v", time.Since(start).Round(time.Millisecond))
	})
}
