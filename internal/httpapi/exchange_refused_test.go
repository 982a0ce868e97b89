package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestRefusedMessageStaysRefused: B refuses a message from A while A is
// suspended; once B resumes A, the same envelope posted again is answered
// with the same signed refusal and is not received, so the sender's log
// (refused) and the receiver's agree. A new message is received. B commits
// the refusal it kept to its log (exchange.refusals_committed), and log
// verify then finds the refusal deleted or changed behind custos's back: a
// deletion would let the envelope, posted again, be received.
func TestRefusedMessageStaysRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		second := storetest.Second(t, dsn)
		ctx := context.Background()
		a := apptest.NewWorld(t, dsn)
		b := apptest.NewWorld(t, second)
		idA, _ := a.App.Exchange.Identity(ctx)
		idB, _ := b.App.Exchange.Identity(ctx)
		reg := func(w *apptest.World, name, jurisdiction, key string) string {
			return w.Must(t, 201, "POST", "/api/v1/exchange/peers", w.Admin, map[string]any{"name": name, "jurisdiction": jurisdiction,
				"url": "https://peer.invalid", "public_key": key, "send_purposes": []string{"vigilance"}, "receive_purposes": []string{"vigilance"}}).Str("id")
		}
		peerB := reg(a, "Registry B", idB.Jurisdiction, idB.PublicKey)
		peerA := reg(b, "Registry A", idA.Jurisdiction, idA.PublicKey)
		envelope := func(subject string) []byte {
			sent := a.Must(t, 201, "POST", "/api/v1/exchange/outbox", a.Regulator, map[string]any{"peer_id": peerB, "type": "core.notice",
				"purpose": "vigilance", "legal_basis": "Agreement art. 4", "notice": "No personal data.", "readers": []string{"regulator"},
				"payload": map[string]any{"subject": subject, "text": "Synthetic."}})
			env, _ := json.Marshal(exchange.Envelope{Message: sent.Str("message"), Key: sent.Str("key"), Signature: sent.Str("signature")})
			return env
		}
		inbox := func() int {
			return len(b.Must(t, 200, "GET", "/api/v1/exchange/inbox", b.Admin, nil).Body["messages"].([]any))
		}

		b.Must(t, 200, "POST", "/api/v1/exchange/peers/"+peerA+"/suspend", b.Admin, map[string]any{"note": "agreement under review"})
		env := envelope("While suspended")
		status, first := b.App.Exchange.Receive(ctx, env)
		if status != 403 || first.Error == nil || first.Error.Rule != "peer_suspended" {
			t.Fatalf("a message from a suspended peer: %d %+v, want 403 peer_suspended", status, first.Error)
		}
		b.Must(t, 200, "POST", "/api/v1/exchange/peers/"+peerA+"/resume", b.Admin, map[string]any{"note": "agreement renewed"})
		status, again := b.App.Exchange.Receive(ctx, env)
		if status != 403 || again.Error == nil || again.Error.Rule != "peer_suspended" || again.SignedReceipt != first.SignedReceipt {
			t.Fatalf("the refused message posted again once resumed: %d %+v, want the first refusal %+v", status, again, first)
		}
		if n := inbox(); n != 0 {
			t.Fatalf("B's inbox holds %d messages after the replay of a refused one, want none", n)
		}
		if status, ans := b.App.Exchange.Receive(ctx, envelope("Once resumed")); status != 200 || ans.Error != nil {
			t.Fatalf("a new message once resumed: %d %+v", status, ans.Error)
		}
		if n := inbox(); n != 1 {
			t.Fatalf("B's inbox holds %d messages, want the new one", n)
		}

		verify := func() *ledger.Report {
			t.Helper()
			rep, err := ledger.Verify(ctx, b.App.DB, server.NewProjections(), ledger.VerifyOptions{VerifierKey: b.App.Keys.LogKey})
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		if rep := verify(); !rep.OK() || !strings.Contains(strings.Join(rep.Notes, "\n"), "exchange_refusals: 1 refusal(s) not yet committed to the log") {
			t.Fatalf("before the refusal is committed: %q, notes %q", rep.Problems, rep.Notes)
		}
		if ok, err := b.App.Exchange.CommitRefusals(ctx); !ok || err != nil {
			t.Fatalf("commit the refusals: %v %v", ok, err)
		}
		if ok, err := b.App.Exchange.CommitRefusals(ctx); ok || err != nil {
			t.Fatalf("commit the refusals again: %v %v, want nothing to commit", ok, err)
		}
		var index int64
		if err := b.App.DB.Read().QueryRow(ctx, "SELECT commit_index FROM exchange_refusals").Scan(&index); err != nil || index == 0 {
			t.Fatalf("the refusal's commit_index: %d (%v)", index, err)
		}
		if rep := verify(); !rep.OK() || strings.Contains(strings.Join(rep.Notes, "\n"), "exchange_refusals") {
			t.Fatalf("once committed: %q, notes %q", rep.Problems, rep.Notes)
		}
		exec := func(q string) {
			t.Helper()
			if _, err := b.App.DB.Read().Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		want := func(what, text string) {
			t.Helper()
			if rep := verify(); len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], text) {
				t.Errorf("%s: %q, want one problem with %q", what, rep.Problems, text)
			}
		}
		exec("UPDATE exchange_refusals SET reason = 'changed'")
		want("a refusal changed", fmt.Sprintf("table exchange_refusals: the 1 rows whose commit_index is %d do not match the SHA-256 entry %d carries (changed behind custos's back)", index, index))
		exec("DELETE FROM exchange_refusals")
		want("a refusal deleted", fmt.Sprintf("table exchange_refusals: the rows whose commit_index is %d are 0, but entry %d committed 1 refusals (deleted behind custos's back", index, index))
	})
}
