package witness_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/witness"
)

// TestWitnessFollowsAndCosigns runs a Watcher against a real registry: only
// a registered witness's cosignature is kept; a cosignature of a checkpoint
// that is not the log's, or of a tree the log does not have, is refused;
// and the Watcher raises each alarm: rollback, fork, and a key it did not pin.
func TestWitnessFollowsAndCosigns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := apptest.NewWorld(t, dsn)
		dir := t.TempDir()
		key, err := witness.NewKey(filepath.Join(dir, "w.key"), "auditor.example")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := witness.NewKey(filepath.Join(dir, "w.key"), "auditor.example"); err == nil {
			t.Error("NewKey overwrote a key file")
		}
		state := filepath.Join(dir, "state.json")
		wt := &witness.Watcher{URL: w.URL, StatePath: state, Key: key, PinKey: w.App.Keys.LogKey}

		out, err := wt.Check(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !out.First || out.Cosigned || !strings.Contains(out.CosignNote, "the checkpoint carries no cosignature by a registered witness") || !strings.Contains(out.CosignNote, "once the registry's operator has registered its public key") {
			t.Errorf("an unregistered witness: %+v", out)
		}

		// Registering: the administrator's, once per name and key.
		w.Must(t, 403, "POST", "/api/v1/log/witnesses", w.Regulator, map[string]any{"public_key": key.Verifier})
		if r := w.Must(t, 422, "POST", "/api/v1/log/witnesses", w.Admin, map[string]any{"public_key": ""}); r.Str("error.field") != "public_key" || r.Str("error.rule") != "required" {
			t.Errorf("an empty key: %s", r.Raw)
		}
		if r := w.Must(t, 422, "POST", "/api/v1/log/witnesses", w.Admin, map[string]any{"public_key": "auditor.example+00000000+AAAA"}); r.Str("error.rule") != "witness_key" {
			t.Errorf("a malformed key: %s", r.Raw)
		}
		reg := w.Must(t, 201, "POST", "/api/v1/log/witnesses", w.Admin, map[string]any{"public_key": key.Verifier})
		if fp, _ := ledger.KeyFingerprint(key.Verifier); reg.Str("name") != "auditor.example" || reg.Str("fingerprint") != fp {
			t.Errorf("registered: %s", reg.Raw)
		}
		if r := w.Must(t, 409, "POST", "/api/v1/log/witnesses", w.Admin, map[string]any{"public_key": key.Verifier}); r.Str("error.rule") != "witness_registered" {
			t.Errorf("registered twice: %s", r.Raw)
		}

		out, err = wt.Check(ctx)
		if err != nil || !out.Cosigned || out.Previous == 0 || out.Size <= out.Previous {
			t.Fatalf("a registered witness, after the registration's leaf: %+v %v", out, err)
		}
		cp := w.Must(t, 200, "GET", "/api/v1/log/checkpoint", "", nil)
		v, err := fnote.NewVerifierForCosignatureV1(key.Verifier)
		if err != nil {
			t.Fatal(err)
		}
		logV, err := note.NewVerifier(w.App.Keys.LogKey)
		if err != nil {
			t.Fatal(err)
		}
		n, err := note.Open([]byte(cp.Str("cosigned.checkpoint")), note.VerifierList(v, logV))
		if err != nil || len(n.Sigs) != 2 {
			t.Errorf("the cosigned checkpoint does not carry both signatures: %v %s", err, cp.Raw)
		}

		// Refused cosignatures.
		st, err := witness.LoadState(state)
		if err != nil {
			t.Fatal(err)
		}
		signer, err := fnote.NewSignerForCosignatureV1(key.Signer)
		if err != nil {
			t.Fatal(err)
		}
		cosign := func(head ledger.Head, logSigner note.Signer) string {
			text, err := ledger.SignCheckpoint(logSigner, logV.Name(), head)
			if err != nil {
				t.Fatal(err)
			}
			i := strings.LastIndex(text, "\n\n")
			own, err := note.Sign(&note.Note{Text: text[:i+1]}, signer)
			if err != nil {
				t.Fatal(err)
			}
			return text + string(own[i+2:])
		}
		other := func() note.Signer {
			skey, _, err := note.GenerateKey(rand.Reader, logV.Name())
			if err != nil {
				t.Fatal(err)
			}
			s, err := note.NewSigner(skey)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}()
		forked := append([]byte(nil), st.Root...)
		forked[0] ^= 1
		for _, c := range []struct {
			name, checkpoint, rule string
			status                 int
		}{
			{"another root", cosign(ledger.Head{Size: st.Size, Root: forked}, w.App.Signer), "cosignature_root", 409},
			{"a tree the log does not have", cosign(ledger.Head{Size: st.Size + 100, Root: st.Root}, w.App.Signer), "cosignature_size", 409},
			{"signed by another key", cosign(ledger.Head{Size: st.Size, Root: st.Root}, other), "cosignature", 422},
			{"no cosignature", st.Checkpoint, "cosignature", 422},
			{"not a note", "hello\n", "cosignature", 422},
		} {
			r := w.Do(t, "POST", "/api/v1/log/cosignatures", "", map[string]any{"checkpoint": c.checkpoint})
			if r.Status != c.status || r.Str("error.rule") != c.rule || r.Str("error.field") != "checkpoint" {
				t.Errorf("%s: %d %s", c.name, r.Status, r.Raw)
			}
		}
		ws := w.Must(t, 200, "GET", "/api/v1/log/witnesses", "", nil)
		if !strings.Contains(string(ws.Raw), `"last_size": `) || strings.Contains(string(ws.Raw), `"last_size": 0`) {
			t.Errorf("the witnesses: %s", ws.Raw)
		}

		// Alarms: the state is left as it was.
		alarm := func(name, kind, want string, s *witness.State, wt *witness.Watcher) {
			t.Helper()
			p := filepath.Join(t.TempDir(), "s.json")
			if s != nil {
				if err := s.Save(p); err != nil {
					t.Fatal(err)
				}
			}
			wt.StatePath = p
			_, err := wt.Check(ctx)
			var a *witness.Alarm
			if !errors.As(err, &a) || a.Kind != kind || !strings.Contains(a.Msg, want) {
				t.Errorf("%s: %v, want a %s alarm saying %q", name, err, kind, want)
			}
			if after, _ := witness.LoadState(p); s != nil && (after == nil || after.Size != s.Size) {
				t.Errorf("%s: the state moved after the alarm", name)
			}
		}
		// What a witness keeps of a registry that later rolled back or
		// forked: checkpoints the log's key signed (a state whose size or
		// root is not its signed checkpoint's is refused as edited).
		signed := func(h ledger.Head) string {
			text, err := ledger.SignCheckpoint(w.App.Signer, logV.Name(), h)
			if err != nil {
				t.Fatal(err)
			}
			return text
		}
		st, _ = witness.LoadState(state)
		ahead := *st
		ahead.Size += 10
		ahead.Checkpoint = signed(ledger.Head{Size: ahead.Size, Root: ahead.Root})
		alarm("rollback", "rollback", "it was rolled back", &ahead, &witness.Watcher{URL: w.URL})
		fork := *st
		fork.Root = forked
		fork.Checkpoint = signed(ledger.Head{Size: fork.Size, Root: fork.Root})
		alarm("fork at the same size", "fork", "it was rewritten (a fork)", &fork, &witness.Watcher{URL: w.URL})
		w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Later", "role": "auditor", "authority_id": w.RegulatorAuthority})
		alarm("fork behind", "fork", "does not extend the one", &fork, &witness.Watcher{URL: w.URL})
		otherKey := func() string {
			_, vkey, err := note.GenerateKey(rand.Reader, logV.Name())
			if err != nil {
				t.Fatal(err)
			}
			return vkey
		}()
		alarm("another pinned key", "signature", "does not verify with the pinned key", nil, &witness.Watcher{URL: w.URL, PinKey: otherKey})
		alarm("another fingerprint", "signature", "not the SHA256:0000 you pinned", nil, &witness.Watcher{URL: w.URL, PinFingerprint: "SHA256:0000"})
	})
}

// TestForgedCosignatures writes cosignatures into log_cosignatures behind
// custos's back (the auditor's F4): a registered witness's old signature
// line on the log's newer checkpoint, and a row in the name of a witness
// nobody registered. GET /api/v1/log/checkpoint and /api/v1/log/witnesses
// show neither (the cosigned checkpoint and last size stay the witness's
// real ones), the server log reports them, and log verify fails naming
// each witness and size. A cosignature that verifies, by the registered
// witness, of a checkpoint the log's key signed with another root (a fork)
// fails log verify too. Before any of it, log verify passes with the
// witness's real cosignature.
func TestForgedCosignatures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		logs := &apptest.LogBuffer{}
		w := apptest.NewWorldWith(t, dsn, func(cfg *server.Config) {
			cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
		})
		dir := t.TempDir()
		key, wt := registeredWitness(t, w, dir)
		out, err := wt.Check(ctx)
		if err != nil || !out.Cosigned {
			t.Fatalf("the witness's first check: %+v %v", out, err)
		}
		real := out.Size
		if rep := w.Verify(t); len(rep.Problems) != 0 {
			t.Fatalf("log verify with the witness's real cosignature: %v", rep.Problems)
		}

		// The log moves on; its new head gets the witness's old signature
		// line, and another row names a witness nobody registered.
		w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Later", "role": "auditor", "authority_id": w.RegulatorAuthority})
		head := uint64(w.LogSize(t))
		for _, name := range []string{"auditor.example", "witness.example"} {
			w.Tamper(t, `INSERT INTO log_cosignatures (witness, size, root, checkpoint, signature, signed_at, received_at)
				SELECT ?, s.size, s.root, s.checkpoint, c.signature, c.signed_at, c.received_at FROM log_state s, log_cosignatures c WHERE c.witness = 'auditor.example' AND c.size = ?`,
				name, int64(real))
		}
		cp := w.Must(t, 200, "GET", "/api/v1/log/checkpoint", "", nil)
		if cp.Body["size"] != float64(head) || cp.Body["cosigned"].(map[string]any)["size"] != float64(real) ||
			strings.Contains(string(cp.Raw), "witness.example") {
			t.Errorf("the checkpoint after the forged rows: %s, want the cosigned checkpoint of size %d by auditor.example alone", cp.Raw, real)
		}
		ws := w.Must(t, 200, "GET", "/api/v1/log/witnesses", "", nil)
		if !strings.Contains(string(ws.Raw), fmt.Sprintf(`"last_size": %d`, real)) {
			t.Errorf("the witnesses after the forged rows: %s, want last_size %d", ws.Raw, real)
		}
		for _, want := range []string{`"msg":"witness cosignature not shown`, `"witness":"auditor.example","size":` + fmt.Sprint(head), `"witness":"witness.example","size":` + fmt.Sprint(head)} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("the server log lacks %q:\n%s", want, logs.String())
			}
		}
		rep := w.Verify(t)
		for _, want := range []string{
			fmt.Sprintf("log_cosignatures: the cosignature by auditor.example of size %d: ", head),
			fmt.Sprintf("log_cosignatures: the cosignature by witness.example of size %d: no witness of that name is registered", head),
		} {
			if !slices.ContainsFunc(rep.Problems, func(p string) bool { return strings.HasPrefix(p, want) }) {
				t.Errorf("log verify does not report %q: %v", want, rep.Problems)
			}
		}
		if len(rep.Problems) != 2 {
			t.Errorf("log verify reports %d problems, want the 2 forged rows: %v", len(rep.Problems), rep.Problems)
		}
		w.Tamper(t, "DELETE FROM log_cosignatures WHERE size <> ?", int64(real))

		// A fork: the log's key signed another root at the witness's size,
		// which the witness cosigned. Its signatures verify; its root is
		// not the log's.
		signer, err := fnote.NewSignerForCosignatureV1(key.Signer)
		if err != nil {
			t.Fatal(err)
		}
		st, err := witness.LoadState(wt.StatePath)
		if err != nil {
			t.Fatal(err)
		}
		forked := append([]byte(nil), st.Root...)
		forked[0] ^= 1
		logV, err := note.NewVerifier(w.App.Keys.LogKey)
		if err != nil {
			t.Fatal(err)
		}
		text, err := ledger.SignCheckpoint(w.App.Signer, logV.Name(), ledger.Head{Size: st.Size, Root: forked})
		if err != nil {
			t.Fatal(err)
		}
		i := strings.LastIndex(text, "\n\n")
		own, err := note.Sign(&note.Note{Text: text[:i+1]}, signer)
		if err != nil {
			t.Fatal(err)
		}
		v, err := fnote.NewVerifierForCosignatureV1(key.Verifier)
		if err != nil {
			t.Fatal(err)
		}
		n, err := note.Open(own, note.VerifierList(v))
		if err != nil {
			t.Fatal(err)
		}
		at, err := fnote.CoSigV1Timestamp(n.Sigs[0])
		if err != nil {
			t.Fatal(err)
		}
		w.Tamper(t, "DELETE FROM log_cosignatures")
		w.Tamper(t, `INSERT INTO log_cosignatures (witness, size, root, checkpoint, signature, signed_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			"auditor.example", int64(st.Size), forked, text, string(own[i+2:]), at.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
		rep = w.Verify(t)
		want := fmt.Sprintf("log_cosignatures: the cosignature by auditor.example of size %d: the root it cosigned is not the log's at that size", st.Size)
		if len(rep.Problems) != 1 || !strings.HasPrefix(rep.Problems[0], want) {
			t.Errorf("log verify of a forked cosignature: %v, want %q", rep.Problems, want)
		}
	})
}

// TestCosignaturesFromState: a verification from a kept state (--from)
// does not check again the cosignatures of sizes its checkpoint covers when
// they are the rows it checked then (a digest it kept in the auditor's
// replay file), checks the ones after, and checks every row again when one
// up to the checkpoint changed: a forged row of an old size is still found.
func TestCosignaturesFromState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := apptest.NewWorld(t, dsn)
		dir := t.TempDir()
		_, wt := registeredWitness(t, w, dir)
		cosign := func() uint64 { return cosignNew(t, w, wt) }
		old := []uint64{cosign(), cosign()}
		stateKey, _, err := ledger.LoadStateKey(filepath.Join(dir, "audit.key"), true)
		if err != nil {
			t.Fatal(err)
		}
		state := filepath.Join(dir, "audit.json")
		verify := func(opt ledger.VerifyOptions) *ledger.Report {
			t.Helper()
			if opt.SaveState == "" {
				st, err := ledger.LoadAuditState(state, stateKey)
				if err != nil {
					t.Fatal(err)
				}
				opt.From = st
			}
			opt.VerifierKey, opt.StateKey = w.App.Keys.LogKey, stateKey
			rep, err := ledger.Verify(ctx, w.App.DB, w.App.Projections, opt)
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		covered := func(rep *ledger.Report) string { return strings.Join(rep.Covered, "\n") }
		// A full verify has no earlier verification to call them unchanged
		// since.
		if rep := verify(ledger.VerifyOptions{SaveState: state}); !rep.OK() || !strings.Contains(covered(rep), "log_cosignatures: 2 cosignatures checked against their witness's key and the log's root at their size; ") ||
			strings.Contains(covered(rep), "unchanged since") {
			t.Fatalf("full verify: %v\n%s", rep.Problems, covered(rep))
		}
		newer := cosign()
		notes := func(rep *ledger.Report) string { return strings.Join(rep.Notes, "\n") }
		rep := verify(ledger.VerifyOptions{})
		if !rep.OK() || !strings.Contains(notes(rep), fmt.Sprintf("log_cosignatures: 2 cosignatures of sizes up to %d unchanged since the verification the state was saved from: not checked again", rep.From)) ||
			!strings.Contains(covered(rep), "log_cosignatures: 1 cosignatures checked against their witness's key and the log's root at their size, 2 unchanged") {
			t.Fatalf("--from with the old cosignatures unchanged: %v\n%s\n%s", rep.Problems, notes(rep), covered(rep))
		}

		// A forged row after the checkpoint: checked, and found.
		forge := func(size uint64) {
			t.Helper()
			w.Tamper(t, `INSERT INTO log_cosignatures (witness, size, root, checkpoint, signature, signed_at, received_at)
				SELECT witness, ?, root, checkpoint, signature, signed_at, received_at FROM log_cosignatures WHERE size = ?`, int64(size), int64(newer))
		}
		forge(newer - 1)
		rep = verify(ledger.VerifyOptions{})
		if want := fmt.Sprintf("log_cosignatures: the cosignature by auditor.example of size %d: ", newer-1); len(rep.Problems) != 1 || !strings.HasPrefix(rep.Problems[0], want) {
			t.Fatalf("a forged cosignature after the checkpoint: %v, want %q", rep.Problems, want)
		}
		w.Tamper(t, "DELETE FROM log_cosignatures WHERE size = ?", int64(newer-1))

		// A forged row of a size the checkpoint covers: every row checked again.
		forge(old[0] - 1)
		rep = verify(ledger.VerifyOptions{})
		if want := fmt.Sprintf("log_cosignatures: the cosignature by auditor.example of size %d: ", old[0]-1); len(rep.Problems) != 1 || !strings.HasPrefix(rep.Problems[0], want) ||
			!strings.Contains(notes(rep), "the cosignatures of sizes up to") {
			t.Fatalf("a forged cosignature before the checkpoint: %v\n%s, want %q and the note that all were checked", rep.Problems, notes(rep), want)
		}
		// An old row changed (its time), and one deleted: checked again, and said.
		w.Tamper(t, "DELETE FROM log_cosignatures WHERE size = ?", int64(old[0]-1))
		w.Tamper(t, "UPDATE log_cosignatures SET signed_at = ? WHERE size = ?", "2020-01-01T00:00:00Z", int64(old[1]))
		rep = verify(ledger.VerifyOptions{})
		if want := fmt.Sprintf("log_cosignatures: the cosignature by auditor.example of size %d: the witness signed it at", old[1]); len(rep.Problems) != 1 || !strings.HasPrefix(rep.Problems[0], want) {
			t.Fatalf("an old cosignature changed: %v, want %q", rep.Problems, want)
		}
	})
}

// registeredWitness makes a witness's key in dir, registers it with w's
// registry, and returns it with a Watcher of w that keeps its state in dir.
// cosignNew adds two leaves (a size between two is no cosignature's) and
// has the witness check and cosign the new size, which it returns.
func cosignNew(t *testing.T, w *apptest.World, wt *witness.Watcher) uint64 {
	t.Helper()
	for range 2 {
		w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Reader", "role": "auditor", "authority_id": w.RegulatorAuthority})
	}
	out, err := wt.Check(context.Background())
	if err != nil || !out.Cosigned {
		t.Fatalf("the witness's check: %+v %v", out, err)
	}
	return out.Size
}

func registeredWitness(t *testing.T, w *apptest.World, dir string) (*witness.Key, *witness.Watcher) {
	t.Helper()
	key, err := witness.NewKey(filepath.Join(dir, "w.key"), "auditor.example")
	if err != nil {
		t.Fatal(err)
	}
	w.Must(t, 201, "POST", "/api/v1/log/witnesses", w.Admin, map[string]any{"public_key": key.Verifier})
	return key, &witness.Watcher{URL: w.URL, StatePath: filepath.Join(dir, "state.json"), Key: key, PinKey: w.App.Keys.LogKey}
}

// TestCosignaturesCommitted: the cosignatures the registry received are
// committed to the log by digest (log.cosignatures_committed), at most once
// a period and only when something else was logged since the last
// commitment, so that the witnesses' cosigning of the commitments does not
// grow the log by itself; log verify then names a committed cosignature
// deleted behind custos's back (its witness and size), one changed, and one
// moved out of its commitment, in a full verification and from a kept
// state; those not yet committed are a note. Before any of it, log verify
// passes.
func TestCosignaturesCommitted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		clk := &testClock{t: time.Now().UTC()}
		w := apptest.NewWorldWith(t, dsn, func(cfg *server.Config) { cfg.Now = clk.Now })
		dir := t.TempDir()
		_, wt := registeredWitness(t, w, dir)
		ws := w.App.Witnesses
		cosign := func() uint64 { return cosignNew(t, w, wt) }
		commit := func(want bool) {
			t.Helper()
			if ok, err := ws.CommitCosignatures(ctx); ok != want || err != nil {
				t.Fatalf("commit the cosignatures: %v %v, want %v", ok, err, want)
			}
		}
		sizes := []uint64{cosign(), cosign(), cosign()}
		before := w.LogSize(t)
		commit(true)
		var data string
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT data FROM log_leaves WHERE idx = ?", before).Scan(&data); err != nil {
			t.Fatal(err)
		}
		if want := `"type":"log.cosignatures_committed"`; !strings.Contains(data, want) ||
			!strings.Contains(data, fmt.Sprintf(`"cosignatures":3,"first_size":%d,"last_size":%d`, sizes[0], sizes[2])) ||
			!strings.Contains(data, fmt.Sprintf(`{"witness":"auditor.example","size":%d}`, sizes[1])) {
			t.Errorf("the commitment's leaf: %s", data)
		}
		commit(false) // none left to commit

		// The witness cosigns the commitment: nothing else logged since, so
		// it waits, even a period later, and log verify says so.
		clk.advance(witness.CommitPeriod + time.Second)
		if out, err := wt.Check(ctx); err != nil || !out.Cosigned || out.Size != uint64(before+1) {
			t.Fatalf("the witness's check of the commitment: %+v %v", out, err)
		}
		commit(false)
		rep := w.Verify(t)
		if !rep.OK() || !strings.Contains(strings.Join(rep.Notes, "\n"), fmt.Sprintf("log_cosignatures: 1 cosignature(s) of sizes %d to %d received since the last commitment, not yet committed", before+1, before+1)) {
			t.Fatalf("log verify with one cosignature not yet committed: %v\n%v", rep.Problems, rep.Notes)
		}
		// Something else is logged: committed, but not again within a period.
		fourth := cosign()
		commit(true)
		cosign()
		commit(false)
		clk.advance(witness.CommitPeriod + time.Second)
		commit(true)
		if rep := w.Verify(t); !rep.OK() {
			t.Fatalf("log verify of the committed cosignatures: %v", rep.Problems)
		}
		stateKey, _, err := ledger.LoadStateKey(filepath.Join(dir, "audit.key"), true)
		if err != nil {
			t.Fatal(err)
		}
		state := filepath.Join(dir, "audit.json")
		if rep, err := ledger.Verify(ctx, w.App.DB, w.App.Projections, ledger.VerifyOptions{VerifierKey: w.App.Keys.LogKey, StateKey: stateKey, SaveState: state}); err != nil || !rep.OK() {
			t.Fatalf("log verify saving a state: %v %v", rep, err)
		}
		fromState := func() *ledger.Report {
			t.Helper()
			st, err := ledger.LoadAuditState(state, stateKey)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := ledger.Verify(ctx, w.App.DB, w.App.Projections, ledger.VerifyOptions{VerifierKey: w.App.Keys.LogKey, StateKey: stateKey, From: st})
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}

		// A committed cosignature deleted behind custos's back: named, in
		// a full verification and from the state.
		var row struct {
			root                                      []byte
			checkpoint, signature, signedAt, received string
			commit                                    int64
		}
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT root, checkpoint, signature, signed_at, received_at, commit_index FROM log_cosignatures WHERE size = ?", int64(sizes[1])).
			Scan(&row.root, &row.checkpoint, &row.signature, &row.signedAt, &row.received, &row.commit); err != nil {
			t.Fatal(err)
		}
		w.Tamper(t, "DELETE FROM log_cosignatures WHERE size = ?", int64(sizes[1]))
		want := fmt.Sprintf("log_cosignatures: entry %d committed 3 cosignatures of sizes %d to %d, the database holds 2 of them: 1 missing (by auditor.example of size %d), deleted behind custos's back",
			before, sizes[0], sizes[2], sizes[1])
		for name, rep := range map[string]*ledger.Report{"full": w.Verify(t), "from the state": fromState()} {
			if len(rep.Problems) != 1 || rep.Problems[0] != want {
				t.Errorf("log verify (%s) after a committed cosignature was deleted: %v, want %q", name, rep.Problems, want)
			}
		}
		// Put back, but outside its commitment; then put back as it was.
		w.Tamper(t, `INSERT INTO log_cosignatures (witness, size, root, checkpoint, signature, signed_at, received_at, commit_index) VALUES (?, ?, ?, ?, ?, ?, ?, 0)`,
			"auditor.example", int64(sizes[1]), row.root, row.checkpoint, row.signature, row.signedAt, row.received)
		if rep := w.Verify(t); len(rep.Problems) != 1 || rep.Problems[0] != want {
			t.Errorf("log verify after a committed cosignature was moved out of its commitment: %v, want %q", rep.Problems, want)
		}
		w.Tamper(t, "UPDATE log_cosignatures SET commit_index = ? WHERE size = ?", row.commit, int64(sizes[1]))
		if rep := fromState(); !rep.OK() {
			t.Errorf("log verify after the row was put back as it was: %v", rep.Problems)
		}
		// Changed: the time it was received (which no signature covers).
		w.Tamper(t, "UPDATE log_cosignatures SET received_at = ? WHERE size = ?", "2020-01-01T00:00:00Z", int64(fourth))
		rep = fromState()
		if want := "do not match the SHA-256 it carries (changed behind custos's back)"; len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], want) {
			t.Errorf("log verify after a committed cosignature was changed: %v, want %q", rep.Problems, want)
		}
	})
}

// testClock is a clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestWatcherReadsAsWritten: the watcher reads the registry's answers and
// its own files as they are written. A stand-in in front of a real registry
// rewrites its checkpoint answer: a "checkpoint" given twice, the last one
// the registry's, or written "CHECKPOINT"; encoding/json took either, and
// the check went through on a checkpoint other than the one shown first.
// Each is refused now, naming the rule and the member, and the state file
// is not written; the registry's answer passed through as it is, with the
// members the watcher does not read, is taken. A state or key file with a
// key given twice is refused.
func TestWatcherReadsAsWritten(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := apptest.NewWorld(t, dsn)
		rewrite := func(b []byte) []byte { return b }
		front := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			resp, err := http.Get(w.URL + r.URL.String())
			if err != nil {
				http.Error(rw, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			rw.WriteHeader(resp.StatusCode)
			rw.Write(rewrite(b))
		}))
		t.Cleanup(front.Close)
		dir := t.TempDir()
		state := filepath.Join(dir, "state.json")
		wt := &witness.Watcher{URL: front.URL, StatePath: state, PinKey: w.App.Keys.LogKey}
		for _, c := range []struct {
			name    string
			rewrite func([]byte) []byte
			want    string
		}{
			{"a checkpoint twice", func(b []byte) []byte { return bytes.Replace(b, []byte("{"), []byte(`{"checkpoint": "forged",`), 1) },
				`duplicate_key: the key "checkpoint" is given twice in one object (field checkpoint)`},
			{"a checkpoint in capitals", func(b []byte) []byte { return bytes.Replace(b, []byte(`"checkpoint":`), []byte(`"CHECKPOINT":`), 1) },
				`unknown_field: the field "CHECKPOINT" is not part of this document: names are written as documented, here "checkpoint" (field CHECKPOINT)`},
		} {
			rewrite = c.rewrite
			_, err := wt.Check(ctx)
			if err == nil || !strings.Contains(err.Error(), "GET /api/v1/log/checkpoint: the registry's answer does not read as written: "+c.want) {
				t.Errorf("%s: %v, want %q", c.name, err, c.want)
			}
			if _, err := os.Stat(state); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: the state file was written (%v)", c.name, err)
			}
		}
		rewrite = func(b []byte) []byte { return b }
		if out, err := wt.Check(ctx); err != nil || !out.First {
			t.Fatalf("the registry's answer as it is: %+v %v", out, err)
		}
		b, err := os.ReadFile(state)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(state, bytes.Replace(b, []byte("{"), []byte(`{"size": 1,`), 1), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := witness.LoadState(state); err == nil || !strings.Contains(err.Error(), `duplicate_key: the key "size" is given twice`) {
			t.Errorf("a state file with a key twice: %v", err)
		}
		key := filepath.Join(dir, "w.key")
		if _, err := witness.NewKey(key, "auditor.example"); err != nil {
			t.Fatal(err)
		}
		b, _ = os.ReadFile(key)
		os.WriteFile(key, bytes.Replace(b, []byte(`"signer"`), []byte(`"Signer"`), 1), 0o600)
		if _, err := witness.LoadKey(key); err == nil || !strings.Contains(err.Error(), `here "signer"`) {
			t.Errorf("a key file with a key in another case: %v", err)
		}
	})
}
