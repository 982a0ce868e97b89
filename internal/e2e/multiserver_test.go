package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/storetest"
)

// checkpoint is a signed tree head as a client saw it.
type checkpoint struct {
	From string // the server that served it
	Size uint64
	Root []byte
}

// TestTwoServersOneDatabase runs two custos serve processes on one PostgreSQL
// schema and writes through both at once: recipients (some refused), and
// donor → consent → procurement chains whose steps alternate between the
// servers. Meanwhile it collects the checkpoints both servers publish and runs
// log verify on the live database. Then one server is killed with SIGKILL
// while both take writes, and restarted. Afterwards the log is one linear history:
// leaves 0..N-1 without a gap, the head's size is N, every checkpoint seen is
// a prefix of the final tree (consistency proofs), no two servers signed
// different roots for one size, organ identifiers (donation numbers) are
// unique, every acknowledged write is present and no refused one is, and log
// verify passes.
func TestTwoServersOneDatabase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		if !isPostgres(dsn) {
			t.Skip("several servers on one database need PostgreSQL; a SQLite registry is served by one process")
		}
		start := time.Now()
		reg := initRegistry(t, dsn)
		a, b := startServer(t, reg), startServer(t, reg)
		urls := []string{a.URL, b.URL}
		w := newWorld(t, a.URL, reg.Admin)

		// Checkpoints, polled from both servers while the load runs.
		var cps []checkpoint
		var cpMu sync.Mutex
		pollDone := make(chan struct{})
		var stopPoll atomic.Bool
		go func() {
			defer close(pollDone)
			for i := 0; !stopPoll.Load(); i++ {
				u := urls[i%2]
				r := call(u, "GET", "/api/v1/log/checkpoint", "", nil)
				if r.Err == nil && r.Status == 200 {
					cp, err := ledger.OpenCheckpoint(r.str("checkpoint"), reg.PublicKey, "custos/XA")
					cpMu.Lock()
					if err != nil {
						t.Errorf("checkpoint from %s does not verify: %v", u, err)
					} else {
						cps = append(cps, checkpoint{From: u, Size: cp.Size, Root: cp.Root})
					}
					cpMu.Unlock()
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()

		const clients, rounds = 12, 12
		l := newLoadResult()
		var seq atomic.Int64
		var organMu sync.Mutex
		organs := map[string]string{} // organ id -> donor id
		var chainErrs []string
		var wg sync.WaitGroup
		for g := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				token := w.CoordA
				if g%3 == 2 {
					token = w.CoordB
				}
				for i := range rounds {
					srv := urls[(g+i)%2]
					n := int(seq.Add(1))
					invalid := n%6 == 0
					body, dob := recipient(n, invalid)
					l.record(call(srv, "POST", "/api/v1/transplant/recipients", token, body), dob, invalid, false)
					if token != w.CoordA || i%3 != 0 {
						continue
					}
					// A donation whose steps go to alternating servers: each
					// must see what the other has just committed.
					other := urls[(g+i+1)%2]
					d := call(srv, "POST", "/api/v1/transplant/donors", token, donor(n))
					c := call(other, "POST", "/api/v1/transplant/donors/"+d.str("id")+"/consents", token, consent())
					p := call(srv, "POST", "/api/v1/transplant/procurements", token, procurement(d.str("id")))
					if d.Status != 201 || c.Status != 201 || p.Status != 201 {
						organMu.Lock()
						chainErrs = append(chainErrs, fmt.Sprintf("donor %d %s / consent %d %s / procurement %d %s",
							d.Status, d.Raw, c.Status, c.Raw, p.Status, p.Raw))
						organMu.Unlock()
						continue
					}
					os, _ := p.Body["organs"].([]any)
					organMu.Lock()
					for _, o := range os {
						id, _ := o.(map[string]any)["id"].(string)
						if prev, dup := organs[id]; dup {
							chainErrs = append(chainErrs, fmt.Sprintf("organ id %s given to donors %s and %s", id, prev, d.str("id")))
						}
						organs[id] = d.str("id")
					}
					organMu.Unlock()
				}
			}()
		}
		// log verify on the live database, while both servers write: it reads
		// one snapshot, so it must not report writes in progress as tampering.
		l.waitAcked(20)
		verifyLog(t, dsn, reg.PublicKey)
		wg.Wait()
		stopPoll.Store(true)
		<-pollDone
		for _, e := range chainErrs {
			t.Error(e)
		}
		if len(organs) == 0 {
			t.Error("no procurement was recorded")
		}

		// Phase 2: server A dies (SIGKILL) under load, possibly holding the
		// log lock; B goes on taking writes, and A comes back.
		var killed atomic.Bool
		var phase2 sync.WaitGroup
		b0 := l.ackedCount()
		deadline := time.Now().Add(20 * time.Second)
		for g := range 8 {
			phase2.Add(1)
			go func() {
				defer phase2.Done()
				srv, token := urls[g%2], w.CoordA
				if g%4 >= 2 {
					token = w.CoordB
				}
				for {
					n := int(seq.Add(1))
					invalid := n%6 == 0
					body, dob := recipient(n, invalid)
					r := call(srv, "POST", "/api/v1/transplant/recipients", token, body)
					k := killed.Load()
					l.record(r, dob, invalid, k && srv == a.URL)
					if (k && srv == a.URL) || l.ackedCount() >= b0+120 || time.Now().After(deadline) {
						return
					}
				}
			}()
		}
		l.waitAcked(b0 + 60)
		atKill := l.ackedCount() - b0
		killed.Store(true)
		a.kill()
		phase2.Wait()
		if l.ackedCount() < b0+120 {
			t.Errorf("server B stopped taking writes when A was killed: %d acknowledged since, want 120", l.ackedCount()-b0)
		}
		a = startServer(t, reg)
		urls[0] = a.URL
		t.Logf("phase 2: server A killed after %d more acknowledged writes; %d in total, %d unknown", atKill, len(l.acked), len(l.unknown))

		// The final head, from each server: the same.
		var final checkpoint
		for _, u := range urls {
			r := must(t, 200, u, "GET", "/api/v1/log/checkpoint", "", nil)
			cp, err := ledger.OpenCheckpoint(r.str("checkpoint"), reg.PublicKey, "custos/XA")
			if err != nil {
				t.Fatal(err)
			}
			if final.Root != nil && (cp.Size != final.Size || !bytes.Equal(cp.Root, final.Root)) {
				t.Fatalf("the servers publish different heads: %d %x and %d %x", final.Size, final.Root, cp.Size, cp.Root)
			}
			final = checkpoint{From: u, Size: cp.Size, Root: cp.Root}
		}

		// Every checkpoint seen is a prefix of the final tree; one root per size.
		bySize := map[uint64][]byte{}
		for _, cp := range cps {
			if prev, ok := bySize[cp.Size]; ok {
				if !bytes.Equal(prev, cp.Root) {
					t.Errorf("fork: two roots signed for size %d (%x, %x)", cp.Size, prev, cp.Root)
				}
				continue
			}
			bySize[cp.Size] = cp.Root
			if cp.Size == final.Size {
				if !bytes.Equal(cp.Root, final.Root) {
					t.Errorf("fork: size %d has root %x, the final head %x", cp.Size, cp.Root, final.Root)
				}
				continue
			}
			r := must(t, 200, urls[int(cp.Size)%2], "GET", fmt.Sprintf("/api/v1/log/consistency?from=%d&to=%d", cp.Size, final.Size), "", nil)
			var proof [][]byte
			ps, _ := r.Body["proof"].([]any)
			for _, p := range ps {
				h, err := base64.StdEncoding.DecodeString(p.(string))
				if err != nil {
					t.Fatal(err)
				}
				proof = append(proof, h)
			}
			if err := ledger.VerifyConsistency(cp.Size, final.Size, proof, cp.Root, final.Root); err != nil {
				t.Errorf("checkpoint of size %d from %s is not a prefix of the final tree: %v", cp.Size, cp.From, err)
			}
		}
		t.Logf("%d checkpoints of %d sizes seen, final size %d; %d recipients acknowledged, %d refused, %d organs",
			len(cps), len(bySize), final.Size, len(l.acked), len(l.refused), len(organs))
		if len(bySize) < 3 {
			t.Errorf("only %d distinct checkpoints seen during the load", len(bySize))
		}

		// The stored log: leaves 0..N-1, and the head says N.
		ctx := context.Background()
		db := openStore(t, dsn)
		var count, lo, hi, size int64
		if err := db.Read().QueryRow(ctx, "SELECT COUNT(*), MIN(idx), MAX(idx) FROM log_leaves").Scan(&count, &lo, &hi); err != nil {
			t.Fatal(err)
		}
		if err := db.Read().QueryRow(ctx, "SELECT size FROM log_state WHERE id = 1").Scan(&size); err != nil {
			t.Fatal(err)
		}
		var dupIdx int64
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT log_index FROM recipients GROUP BY log_index HAVING COUNT(*) > 1) d`).Scan(&dupIdx); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if count != size || lo != 0 || hi != size-1 || uint64(size) != final.Size {
			t.Errorf("log leaves: %d stored with indices %d..%d; head size %d; checkpoint size %d", count, lo, hi, size, final.Size)
		}
		if dupIdx != 0 {
			t.Errorf("%d leaf indices carry two recipients", dupIdx)
		}

		// Every acknowledged write, read through the server that did not take it.
		checkOutcomes(t, l, dsn, b.URL, w.Regulator)
		for id := range organs {
			must(t, 200, a.URL, "GET", "/api/v1/transplant/trace/organs/"+id, w.Regulator, nil)
		}
		a.stop()
		b.stop()
		verifyLog(t, dsn, reg.PublicKey)
		t.Logf("took %v", time.Since(start).Round(time.Millisecond))
	})
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}
