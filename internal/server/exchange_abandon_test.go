package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestExchangeAbandon: between two registries, the peer receives the first
// message but its receipt never verifies at the sender (changed on the
// way), so that message stays pending and holds back the next one, shown
// waiting behind it. "Retry now" makes it due at once (the back-off is an
// hour); the operator then abandons it, saying why: a log entry, the
// message shown abandoned with who, when and why, never sent again, and the
// next message is delivered and acknowledged. Abandoning is refused to a
// role that may not suspend peers, without a reason, and for a message
// that is not pending (abandoned already, unknown, or one received),
// changing nothing and repeating neither the id nor the reason. A message
// abandoned after the deliverer picked it is not sent. log verify replays
// the new entry and compares the outbox.
func TestExchangeAbandon(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		var log apptest.LogBuffer
		a := apptest.NewWorldWith(t, dsn, func(cfg *server.Config) {
			cfg.Logger = slog.New(slog.NewJSONHandler(&log, nil))
			cfg.Exchange.RetryBase, cfg.Exchange.RetryMax = time.Hour, 2*time.Hour
		})
		b := apptest.Start(t, storetest.SQLite(t))
		ctx := context.Background()
		idB := identity(t, b)
		// B's inbox, behind an address that breaks the signature of the
		// receipt B gives for the first message: it never verifies.
		var mu sync.Mutex
		posts := map[string]int{}
		var first string
		var good exchange.SignedReceipt // B's receipt of the first, unbroken
		inbox := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			var env exchange.Envelope
			json.Unmarshal(body, &env)
			m, _ := exchange.ParseMessage(env.Message)
			mu.Lock()
			posts[m.ID]++
			broken := m.ID == first
			mu.Unlock()
			status, ans := b.App.Exchange.Receive(r.Context(), body)
			if broken {
				mu.Lock()
				good = ans.SignedReceipt
				mu.Unlock()
			}
			if sig, err := base64.StdEncoding.DecodeString(ans.Signature); broken && err == nil && len(sig) > 0 {
				sig[0] ^= 1
				ans.Signature = base64.StdEncoding.EncodeToString(sig)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(ans)
		}))
		defer inbox.Close()
		postsOf := func(id string) int {
			mu.Lock()
			defer mu.Unlock()
			return posts[id]
		}
		ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: inbox.Certificate().Raw}))
		peerB := a.Must(t, 201, "POST", "/api/v1/exchange/peers", a.Admin, map[string]any{"name": "The other registry", "jurisdiction": idB.Jurisdiction,
			"url": inbox.URL, "tls_ca": ca, "public_key": idB.PublicKey, "send_purposes": []string{"vigilance"}, "receive_purposes": []string{"vigilance"}}).Str("id")
		b.Peer(t, a.Env, "vigilance")
		send := func(text string) string {
			return a.Must(t, 201, "POST", "/api/v1/exchange/outbox", a.Admin, map[string]any{"peer_id": peerB, "type": "core.notice", "purpose": "vigilance",
				"legal_basis": "Example agreement, art. 1", "notice": "Synthetic.", "readers": []string{"admin"},
				"payload": map[string]string{"subject": "s", "text": text}}).Str("id")
		}
		deliver := func() {
			t.Helper()
			if err := a.App.Exchange.DeliverDue(ctx); err != nil {
				t.Fatal(err)
			}
		}
		outbox := func(query string) []exchange.OutboxMessage {
			t.Helper()
			var out struct{ Messages []exchange.OutboxMessage }
			if err := json.Unmarshal(a.Must(t, 200, "GET", "/api/v1/exchange/outbox"+query, a.Admin, nil).Raw, &out); err != nil {
				t.Fatal(err)
			}
			return out.Messages
		}
		first = send("first")
		second := send("second")

		deliver()
		if postsOf(first) != 1 || postsOf(second) != 0 {
			t.Fatalf("posts %v: want the first once and the second not (it waits behind the first)", posts)
		}
		m1, m2 := a.OutboxMessage(t, first), a.OutboxMessage(t, second)
		if m1.State != exchange.Pending || m1.Attempts != 1 || !strings.Contains(m1.LastError, "does not verify") || m1.WaitingBehind != "" {
			t.Fatalf("the first message, its receipt not verifying: %+v", m1)
		}
		if m2.State != exchange.Pending || m2.Attempts != 0 || m2.WaitingBehind != first {
			t.Fatalf("the second message: state %s, %d attempts, waiting behind %q; want pending, waiting behind %s", m2.State, m2.Attempts, m2.WaitingBehind, first)
		}
		deliver()
		if postsOf(first) != 1 {
			t.Fatalf("the first message posted %d times before its back-off (an hour) ended", postsOf(first))
		}

		// Retry now: due at once, through the message or its peer.
		r := a.Must(t, 200, "POST", "/api/v1/exchange/outbox/"+first+"/retry", a.Admin, nil)
		if ms, _ := r.Body["messages"].([]any); len(ms) != 1 || ms[0] != first || r.Str("peer_id") != peerB {
			t.Fatalf("retry of the first message: %s", r.Raw)
		}
		deliver()
		if postsOf(first) != 2 || postsOf(second) != 0 {
			t.Fatalf("after retry now: posts %v, want the first twice, the second not yet", posts)
		}
		r = a.Must(t, 200, "POST", "/api/v1/exchange/peers/"+peerB+"/retry", a.Admin, nil)
		if ms, _ := r.Body["messages"].([]any); len(ms) != 2 || ms[0] != first || ms[1] != second {
			t.Fatalf("retry of the peer: %s, want %s then %s", r.Raw, first, second)
		}
		deliver()
		if postsOf(first) != 3 {
			t.Fatalf("after retry now of the peer: posts %v, want the first three times", posts)
		}
		a.Must(t, 403, "POST", "/api/v1/exchange/peers/"+peerB+"/retry", a.Regulator, nil)

		// Refusals change nothing and repeat neither the id nor the reason.
		size := a.LogSize(t)
		reason := "Marie Dupont's file: the peer's receipt never verifies"
		refused := func(want int, path, token string, body any, rule, field string) {
			t.Helper()
			r := a.Must(t, want, "POST", path, token, body)
			if r.Str("error.rule") != rule || r.Str("error.field") != field {
				t.Fatalf("POST %s: %s, want rule %s at %s", path, r.Raw, rule, field)
			}
			if strings.Contains(string(r.Raw), "Marie") || strings.Contains(string(r.Raw), "XM-NOPE") {
				t.Fatalf("the refusal repeats what it was given: %s", r.Raw)
			}
		}
		refused(403, "/api/v1/exchange/outbox/"+first+"/abandon", a.Regulator, map[string]any{"reason": reason}, "role", "")
		refused(422, "/api/v1/exchange/outbox/"+first+"/abandon", a.Admin, map[string]any{"reason": "  "}, "required", "reason")
		refused(404, "/api/v1/exchange/outbox/XM-NOPE/abandon", a.Admin, map[string]any{"reason": reason}, "not_found", "id")
		// B received the first message: in its inbox, not its outbox.
		if len(b.Must(t, 200, "GET", "/api/v1/exchange/inbox", b.Admin, nil).Body["messages"].([]any)) != 1 {
			t.Fatal("B did not receive the first message")
		}
		r = b.Must(t, 404, "POST", "/api/v1/exchange/outbox/"+first+"/abandon", b.Admin, map[string]any{"reason": reason})
		if r.Str("error.rule") != "not_found" {
			t.Fatalf("abandoning a message received: %s", r.Raw)
		}
		if n := a.LogSize(t); n != size {
			t.Fatalf("the refusals wrote %d leaves", n-size)
		}
		if m := a.OutboxMessage(t, first); m.State != exchange.Pending {
			t.Fatalf("after the refusals the first message is %s", m.State)
		}

		// Abandoned: one entry, shown with who, when and why.
		r = a.Must(t, 200, "POST", "/api/v1/exchange/outbox/"+first+"/abandon", a.Admin, map[string]any{"reason": reason})
		admin := a.Principal(t, a.Admin)
		if r.Str("state") != exchange.Abandoned || r.Str("abandoned_by") != admin.ID || r.Str("abandon_reason") != reason || r.Str("abandoned_at") == "" {
			t.Fatalf("the message abandoned: %s", r.Raw)
		}
		if n := a.LogSize(t); n != size+1 {
			t.Fatalf("abandoning wrote %d leaves, want 1", n-size)
		}
		refused(409, "/api/v1/exchange/outbox/"+first+"/abandon", a.Admin, map[string]any{"reason": reason}, "not_pending", "id")
		refused(409, "/api/v1/exchange/outbox/"+first+"/retry", a.Admin, nil, "not_pending", "id")

		// The next message goes; the abandoned one never again.
		deliver()
		if postsOf(first) != 3 || postsOf(second) != 1 {
			t.Fatalf("after abandoning: posts %v, want the first still 3 times, the second once", posts)
		}
		if m := a.OutboxMessage(t, second); m.State != exchange.Acknowledged || m.WaitingBehind != "" {
			t.Fatalf("the second message after the first was abandoned: %+v", m)
		}
		if ms := outbox("?state=abandoned"); len(ms) != 1 || ms[0].ID != first || ms[0].AbandonIndex == 0 {
			t.Fatalf("the abandoned messages: %+v", ms)
		}
		// B's true receipt of the first, given by other means after it
		// was abandoned: it verifies, so B recorded the message. The
		// abandonment stands (nothing recorded), and the server log says
		// so for the operator.
		mu.Lock()
		receipt := good
		mu.Unlock()
		size = a.LogSize(t)
		if err := a.App.Exchange.RecordReceipt(ctx, first, &receipt); err != nil {
			t.Fatalf("B's true receipt of the abandoned message: %v", err)
		}
		if m := a.OutboxMessage(t, first); m.State != exchange.Abandoned || a.LogSize(t) != size {
			t.Fatalf("a receipt of an abandoned message: %s, %d leaves written", m.State, a.LogSize(t)-size)
		}
		if !strings.Contains(log.String(), "abandoned here; the peer recorded it") || !strings.Contains(log.String(), first) {
			t.Fatalf("the server log does not say a verified receipt came for the abandoned %s:\n%s", first, log.String())
		}

		// Abandoned after the deliverer picked it (another server, say):
		// not sent.
		third := send("third")
		var armed atomic.Bool
		armed.Store(true)
		// The deliverer reads the clock once it has picked the message.
		a.App.Exchange.Now = func() time.Time {
			if armed.Swap(false) {
				if _, err := a.App.Exchange.AbandonMessage(ctx, admin, third, exchange.AbandonRequest{Reason: "sent by mistake"}); err != nil {
					t.Error(err)
				}
			}
			return time.Now()
		}
		deliver()
		a.App.Exchange.Now = nil
		if postsOf(third) != 0 {
			t.Fatalf("a message abandoned after it was picked was sent %d times", postsOf(third))
		}
		if m := a.OutboxMessage(t, third); m.State != exchange.Abandoned {
			t.Fatalf("the third message: %+v", m)
		}

		// Suspended peer: retry now is refused, naming the rule.
		a.Must(t, 200, "POST", "/api/v1/exchange/peers/"+peerB+"/suspend", a.Admin, map[string]any{"note": "maintenance"})
		refused(409, "/api/v1/exchange/peers/"+peerB+"/retry", a.Admin, nil, "peer_suspended", "peer_id")

		if rep := a.Verify(t); !rep.OK() {
			t.Fatalf("log verify: %v", rep.Problems)
		}
	})
}
