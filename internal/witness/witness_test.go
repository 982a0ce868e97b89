package witness_test

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/ledger"
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
		st, _ = witness.LoadState(state)
		ahead := *st
		ahead.Size += 10
		alarm("rollback", "rollback", "it was rolled back", &ahead, &witness.Watcher{URL: w.URL})
		fork := *st
		fork.Root = forked
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
