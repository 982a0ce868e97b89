package ledger_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestVerifyPinsTheKey checks how log verify pins the log's key: the key
// itself or its fingerprint pins it; nothing leaves the report unpinned;
// a wrong fingerprint is a problem. A checkpoint a witness kept must still be
// the log's prefix, and a cut tail names its first missing leaf.
func TestVerifyPinsTheKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, reg, w, _, vkey := newLog(t, dsn)
		for i := range 5 {
			if _, err := w.Submit(ctx, ledger.Actor{}, "note", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
				return ledger.NewEntry("test.note", noteData{ID: fmt.Sprintf("pin-%d", i), N: i})
			}); err != nil {
				t.Fatal(err)
			}
		}
		fp, err := ledger.KeyFingerprint(vkey)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(fp, "SHA256:") || len(fp) != len("SHA256:")+64+15 {
			t.Fatalf("fingerprint %q", fp)
		}
		if !ledger.SameFingerprint(fp, strings.ToUpper(strings.ReplaceAll(strings.TrimPrefix(fp, "SHA256:"), ":", ""))) || ledger.SameFingerprint(fp, "") {
			t.Errorf("SameFingerprint does not read %s as people write it", fp)
		}
		verify := func(opt ledger.VerifyOptions) *ledger.Report {
			t.Helper()
			rep, err := ledger.Verify(ctx, db, reg, opt)
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		if rep := verify(ledger.VerifyOptions{}); !rep.OK() || !rep.KeyFromLog {
			t.Errorf("unpinned: %v, key from log %v; want OK and unpinned", rep.Problems, rep.KeyFromLog)
		}
		if rep := verify(ledger.VerifyOptions{KeyFingerprint: fp}); !rep.OK() || rep.KeyFromLog {
			t.Errorf("pinned by fingerprint: %v, key from log %v", rep.Problems, rep.KeyFromLog)
		}
		other := "SHA256:" + strings.Repeat("0", 64)
		if rep := verify(ledger.VerifyOptions{KeyFingerprint: other}); len(rep.Problems) != 1 ||
			!strings.Contains(rep.Problems[0], "has fingerprint "+fp+", not the "+other+" you pinned: the log was re-signed with another key") {
			t.Errorf("a wrong fingerprint: %q", rep.Problems)
		}
		head, _, err := ledger.ReadHead(ctx, db.Read())
		if err != nil {
			t.Fatal(err)
		}
		root3, err := ledger.RootAt(ctx, db.Read(), 3)
		if err != nil {
			t.Fatal(err)
		}
		if rep := verify(ledger.VerifyOptions{VerifierKey: vkey, Witnessed: &ledger.Head{Size: 3, Root: root3}}); !rep.OK() {
			t.Errorf("a witnessed prefix: %q", rep.Problems)
		}
		forked := append([]byte(nil), root3...)
		forked[0] ^= 1
		if rep := verify(ledger.VerifyOptions{VerifierKey: vkey, Witnessed: &ledger.Head{Size: 3, Root: forked}}); len(rep.Problems) != 1 ||
			!strings.Contains(rep.Problems[0], "the first 3 leaves make root") || !strings.Contains(rep.Problems[0], "the log was rewritten after the witness saw it") {
			t.Errorf("a witnessed root the log no longer has: %q", rep.Problems)
		}
		if rep := verify(ledger.VerifyOptions{VerifierKey: vkey, Witnessed: &ledger.Head{Size: head.Size + 2, Root: forked}}); len(rep.Problems) != 1 ||
			rep.Problems[0] != fmt.Sprintf("log_leaves: the log has %d leaves, but a witness saw it with %d: it was rolled back or cut", head.Size, head.Size+2) {
			t.Errorf("a witnessed size the log no longer reaches: %q", rep.Problems)
		}
		// The checkpoint re-signed with another key of the same name, and
		// that key pinned: the checkpoint verifies, but the log's first leaf
		// names its own key.
		oskey, ovkey, err := note.GenerateKey(rand.Reader, signerName(t, vkey))
		if err != nil {
			t.Fatal(err)
		}
		osigner, err := note.NewSigner(oskey)
		if err != nil {
			t.Fatal(err)
		}
		_, signed, err := ledger.ReadHead(ctx, db.Read())
		if err != nil {
			t.Fatal(err)
		}
		resigned, err := ledger.SignCheckpoint(osigner, osigner.Name(), head)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Read().Exec(ctx, "UPDATE log_state SET checkpoint = ?", resigned); err != nil {
			t.Fatal(err)
		}
		if rep := verify(ledger.VerifyOptions{VerifierKey: ovkey}); len(rep.Problems) != 1 ||
			rep.Problems[0] != "settings: the log's first leaf names the verifier key "+vkey+", not the "+ovkey+" you pinned: either the pin is not this registry's key or the log was re-signed with another key" {
			t.Errorf("a checkpoint re-signed with the pinned key, another than the log's: %q", rep.Problems)
		}
		if _, err := db.Read().Exec(ctx, "UPDATE log_state SET checkpoint = ?", signed); err != nil {
			t.Fatal(err)
		}
		// A settings row the first leaf projected (the log's key, its
		// origin), changed behind custos's back: the log was not re-signed
		// nor its checkpoint swapped, and verify names the row as any other
		// changed one, whichever way the key is pinned.
		for _, c := range []struct{ name, value string }{{"log_key", ovkey}, {"origin", "custos/XB"}} {
			var was string
			if err := db.Read().QueryRow(ctx, "SELECT value FROM settings WHERE name = ?", c.name).Scan(&was); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Read().Exec(ctx, "UPDATE settings SET value = ? WHERE name = ?", c.value, c.name); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("table settings: row name=%q: column value is %q in the database but %q in the log (changed behind custos's back)", c.name, c.value, was)
			for _, opt := range []ledger.VerifyOptions{{VerifierKey: vkey}, {KeyFingerprint: fp}} {
				if rep := verify(opt); len(rep.Problems) != 1 || rep.Problems[0] != want {
					t.Errorf("settings %s changed, pinned %+v: %q, want %q", c.name, opt, rep.Problems, want)
				}
			}
			if _, err := db.Read().Exec(ctx, "UPDATE settings SET value = ? WHERE name = ?", was, c.name); err != nil {
				t.Fatal(err)
			}
		}
		// A long value put in its place: verify says where it differs from
		// the log's, with a window of it, not the whole value.
		var origin string
		if err := db.Read().QueryRow(ctx, "SELECT value FROM settings WHERE name = 'origin'").Scan(&origin); err != nil {
			t.Fatal(err)
		}
		long := origin + strings.Repeat("ü", 2000)
		if _, err := db.Read().Exec(ctx, "UPDATE settings SET value = ? WHERE name = 'origin'", long); err != nil {
			t.Fatal(err)
		}
		start := fmt.Sprintf("table settings: row name=\"origin\": column value is a value of %d bytes (sha256 ", len(long))
		window := fmt.Sprintf("they first differ at byte %d: the database has %q… where the log has %q (changed behind custos's back)", len(origin), origin+strings.Repeat("ü", 60), origin)
		if rep := verify(ledger.VerifyOptions{VerifierKey: vkey}); len(rep.Problems) != 1 || !strings.HasPrefix(rep.Problems[0], start) || !strings.HasSuffix(rep.Problems[0], window) {
			t.Errorf("settings origin made long: %q, want it to start %q and end %q", rep.Problems, start, window)
		}
		if _, err := db.Read().Exec(ctx, "UPDATE settings SET value = ? WHERE name = 'origin'", origin); err != nil {
			t.Fatal(err)
		}
		// The tail cut: the last two leaves deleted.
		if _, err := db.Read().Exec(ctx, "DELETE FROM log_leaves WHERE idx >= ?", int64(head.Size-2)); err != nil {
			t.Fatal(err)
		}
		rep := verify(ledger.VerifyOptions{VerifierKey: vkey})
		want := fmt.Sprintf("log_leaves: the log is cut: leaf %d is the first missing one (%d leaves stored, the signed checkpoint says %d)", head.Size-2, head.Size-2, head.Size)
		if len(rep.Problems) == 0 || rep.Problems[0] != want {
			t.Errorf("a cut tail: %q, want first %q", rep.Problems, want)
		}
	})
}

// FuzzOpenCheckpoint feeds OpenCheckpoint what a registry, a witness or a
// database could hold in place of a checkpoint: it never panics, and what it
// accepts is signed by the key and names the origin.
func FuzzOpenCheckpoint(f *testing.F) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "custos/XA")
	if err != nil {
		f.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		f.Fatal(err)
	}
	cp, err := ledger.SignCheckpoint(signer, "custos/XA", ledger.Head{Size: 3, Root: make([]byte, 32)})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(cp)
	f.Add(strings.Replace(cp, "\n3\n", "\n4\n", 1))
	f.Add(cp[:len(cp)-10] + "\n")
	f.Add("custos/XA\n3\n\n\u2014 custos/XA AAAA\n")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ledger.OpenCheckpoint(s, vkey, "custos/XA")
		if err != nil {
			return
		}
		v, _ := note.NewVerifier(vkey)
		if _, err := note.Open([]byte(s), note.VerifierList(v)); err != nil || c.Origin != "custos/XA" || len(c.Root) != 32 {
			t.Fatalf("accepted %q: %+v %v", s, c, err)
		}
	})
}

// FuzzKeyFingerprint feeds KeyFingerprint the keys an auditor types or a
// registry sends: it never panics, and a fingerprint it gives is one
// SameFingerprint recognises.
func FuzzKeyFingerprint(f *testing.F) {
	_, vkey, err := note.GenerateKey(rand.Reader, "custos/XA")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(vkey)
	f.Add("custos/XA+00000000+")
	f.Add("a+b+c+d")
	f.Fuzz(func(t *testing.T, key string) {
		fp, err := ledger.KeyFingerprint(key)
		if err != nil {
			return
		}
		if !ledger.SameFingerprint(fp, strings.ToUpper(fp)) {
			t.Fatalf("%q: fingerprint %q", key, fp)
		}
	})
}

// signerName is the name part of a verifier key (name+hash+key).
func signerName(t *testing.T, vkey string) string {
	t.Helper()
	name, _, ok := strings.Cut(vkey, "+")
	if !ok {
		t.Fatalf("verifier key %q", vkey)
	}
	return name
}
