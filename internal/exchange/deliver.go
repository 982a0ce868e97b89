package exchange

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/strictjson"
	"github.com/custos-project/custos/internal/tick"
)

// InboxPath is where a registry receives messages, under a peer's URL.
const InboxPath = "/api/v1/exchange/inbox"

// Run delivers the outbox until ctx ends: every message not yet answered,
// oldest first, is sent to its peer, again and again with backoff until the
// peer answers with a signed receipt. The outbox is the database's, so a
// restart resumes where the last run stopped; several processes on one
// database may run it at once (the inbox is idempotent, and an answer is
// recorded once). Beside it, the refusals kept are committed to the log
// every RefusalPeriod (RunRefusals).
func (s *Service) Run(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.RunRefusals(ctx, func(err error) { s.Log.Error("exchange: commit the refusals kept", "err", err) })
	}()
	tick.Run(ctx, s.Cfg.Poll, s.wake, s.DeliverDue, func(err error) { s.Log.Error("exchange deliverer", "err", err) })
	<-done
}

type due struct {
	id, peerID, message, key, sig string
	sentAt                        string // by this registry's clock
	attempts                      int64
	next                          string // when the schedule said to try, "" when never tried
}

// scheduleSlack is how far past the longest wait (Cfg.RetryMax) a next
// attempt may lie before the schedule is taken for wrong.
const scheduleSlack = time.Minute

// maxPeerRound is how many messages one round delivers to one peer.
const maxPeerRound = 100

// DeliverDue tries the messages due now, peer by peer.
//
// Each peer's messages go in the order they were sent: a message is not
// sent while an earlier one to the same peer awaits its answer, and a
// failed attempt ends the peer's round. A peer's registry acts on what it
// receives in order (a final report refers to the notice of the adverse
// event, the notice to the organs the traceability data brought): sent out
// of order, a later message would be refused for good, naming a record the
// peer has not received yet.
//
// The peers are served side by side, so that a peer that answers slowly or
// never costs the others at most one attempt's wait (Cfg.Timeout), not one
// per message queued for it.
//
// The schedule (exchange_delivery) is outside the log: a next attempt
// further away than the longest wait the deliverer sets was not set by it
// (a row changed behind custos's back to hold a message, an SAE notice
// abroad say, or a clock put back), and the message is tried now, as if the
// row were lost.
func (s *Service) DeliverDue(ctx context.Context) error {
	rows, err := s.DB.Read().Query(ctx, `SELECT DISTINCT o.peer_id FROM exchange_outbox o JOIN exchange_peers p ON p.id = o.peer_id
		WHERE o.state = ? AND p.state = ? ORDER BY o.peer_id`, Pending, PeerActive)
	if err != nil {
		return err
	}
	peers, err := store.Rows(rows, func(sc store.Scanner, id *string) error { return sc.Scan(id) })
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errc := make(chan error, len(peers))
	for _, peer := range peers {
		wg.Go(func() {
			if err := s.deliverPeer(ctx, peer); err != nil {
				errc <- fmt.Errorf("peer %s: %w", peer, err)
			}
		})
	}
	wg.Wait()
	close(errc)
	var all []error
	for err := range errc {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// deliverPeer delivers peer's messages in order, from the oldest awaiting
// an answer, while they are due and the peer answers.
func (s *Service) deliverPeer(ctx context.Context, peer string) error {
	last := ""
	for range maxPeerRound {
		if ctx.Err() != nil {
			return nil
		}
		var d due
		err := s.DB.Read().QueryRow(ctx, `SELECT o.id, o.peer_id, o.message, o.signed_by, o.signature, o.sent_at, COALESCE(d.attempts, 0), COALESCE(d.next_attempt_at, '')
			FROM exchange_outbox o JOIN exchange_peers p ON p.id = o.peer_id LEFT JOIN exchange_delivery d ON d.message_id = o.id
			WHERE o.peer_id = ? AND o.state = ? AND p.state = ? ORDER BY o.log_index LIMIT 1`, peer, Pending, PeerActive).
			Scan(&d.id, &d.peerID, &d.message, &d.key, &d.sig, &d.sentAt, &d.attempts, &d.next)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.id == last {
			return nil // still pending after an answer (recorded by another process, say): the next round sees
		}
		last = d.id
		t := s.now()
		now, latest := ledger.FormatTime(t), ledger.FormatTime(t.Add(s.Cfg.RetryMax+scheduleSlack))
		if d.next != "" && d.next > now && d.next <= latest {
			return nil // the oldest waits its turn, and the others wait for it
		}
		if d.next > latest {
			s.event("schedule_reset")
			s.Log.Warn("exchange delivery: the message's next attempt lies beyond the longest wait between attempts (its schedule changed outside custos, or the clock went back): tried now",
				"message", d.id, "peer", d.peerID, "next_attempt_at", d.next, "retry_max", s.Cfg.RetryMax.String())
		}
		if !s.deliver(ctx, d) {
			return nil
		}
	}
	return nil
}

// deliver sends one message and records what came of it; it tells whether
// the peer answered it.
func (s *Service) deliver(ctx context.Context, d due) bool {
	pr, err := peerIn(ctx, s.DB.Read(), d.peerID)
	if err != nil {
		s.Log.Error("exchange deliverer: read peer", "peer", d.peerID, "err", err)
		return false
	}
	// Abandoned since it was picked (by an operator, on any server of the
	// registry): never sent again, and the peer's next message goes. The
	// writer's command that records an answer checks the state again.
	if ok, err := s.stillPending(ctx, d.id); err != nil || !ok {
		if err != nil {
			s.Log.Error("exchange deliverer: read message state", "message", d.id, "err", err)
		}
		return err == nil
	}
	ans, err := s.post(ctx, pr, d)
	if err == nil {
		err = s.answered(ctx, pr, d, ans)
	}
	if ctx.Err() != nil {
		return false // shutting down: the attempt did not end, the next run retries
	}
	if err != nil {
		s.event("attempt_failed")
		s.attempt(ctx, d, err)
		return false
	}
	s.attempt(ctx, d, nil)
	return true
}

// post sends the envelope and reads the peer's signed answer.
func (s *Service) post(ctx context.Context, pr *Peer, d due) (*SignedReceipt, error) {
	c, err := s.client(pr)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(Envelope{Message: d.message, Key: d.key, Signature: d.sig})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.Cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", pr.URL+InboxPath, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf(i18n.M("the peer could not be reached: %v"), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	return readAnswer(resp.Status, b)
}

// readAnswer reads the peer's answer b (status is the HTTP status, for the
// error) and returns its signed receipt, not yet verified. The answer is
// read as the peer's custos writes it, as the receipt inside is: a key in
// another case, a key twice or bytes that are not UTF-8 are a fault of the
// answer (encoding/json would have taken "RECEIPT" for the receipt, or the
// last of two), and the message is sent again. What is not JSON at all (a
// proxy's page) is an answer without a receipt.
func readAnswer(status string, b []byte) (*SignedReceipt, error) {
	// The status line's text is the peer's too (Go's client takes any
	// reason phrase): cut and escaped as its refusal's words are.
	status = errs.Echo(status, errs.MaxEchoed)
	var a InboxAnswer
	err := strictjson.Unmarshal(b, &a)
	if e, ok := errs.As(err); ok && e.Rule != "json" {
		return nil, fmt.Errorf("the peer answered %s with an answer that does not read as written: %w", status, err)
	}
	if err != nil || len(a.Receipt) == 0 {
		// A refusal of what the peer could not verify as ours is not
		// signed (unknown_sender, bad_signature): it names the rule, and
		// the message is sent again, as after any failed attempt.
		// The peer wrote its rule and field: they are cut and escaped
		// (errs.Echo) before they go into the outbox's last error, which
		// its pages and the API show.
		if a.Error != nil && a.Error.Rule != "" {
			return nil, fmt.Errorf(i18n.M("the peer answered %s without a signed receipt: rule \"%s\", field \"%s\""), status,
				errs.Echo(a.Error.Rule, errs.MaxEchoed), errs.Echo(a.Error.Field, errs.MaxEchoed))
		}
		return nil, fmt.Errorf(i18n.M("the peer answered %s without a signed receipt"), status)
	}
	return &a.SignedReceipt, nil
}

// RecordReceipt records a peer's signed receipt for a message sent, as the
// deliverer does when the peer answers; an operator may also record one the
// peer gave by other means. It verifies the receipt first.
func (s *Service) RecordReceipt(ctx context.Context, messageID string, sr *SignedReceipt) error {
	var d due
	err := s.DB.Read().QueryRow(ctx, "SELECT id, peer_id, message, signed_by, signature, sent_at FROM exchange_outbox WHERE id = ?", messageID).
		Scan(&d.id, &d.peerID, &d.message, &d.key, &d.sig, &d.sentAt)
	if errors.Is(err, sql.ErrNoRows) {
		return errs.New(errs.NotFound, "message", "id", "no message %q in the outbox", messageID)
	}
	if err != nil {
		return err
	}
	pr, err := peerIn(ctx, s.DB.Read(), d.peerID)
	if err != nil {
		return err
	}
	return s.answered(ctx, pr, d, sr)
}

// answered verifies the peer's receipt for d and records it: the message is
// acknowledged, or refused for the reason the receipt gives. A receipt that
// does not verify is an error: the message stays pending. A receipt whose
// time it cannot have been signed at (receiptTime) is recorded at this
// registry's time, said in the entry (AtFromClock), the server log and the
// receipt_time_not_taken event.
func (s *Service) answered(ctx context.Context, pr *Peer, d due, sr *SignedReceipt) error {
	r, taken, err := s.checkReceipt(ctx, pr, d, sr)
	if err != nil {
		return err
	}
	if r.Outcome == Refused && refusedForNow(r.Rule) {
		if r.Rule == RuleClockAhead {
			// Which clock is wrong is not known: the message waits,
			// said in its last error and counted, until one is put
			// right or time catches up with its sent_at.
			s.event(RuleClockAhead)
			return clockAheadOf(d, r, s.now())
		}
		return fmt.Errorf(i18n.M("the peer could not record the message now: %s"), errs.Echo(r.Reason, maxReason))
	}
	var st string
	_, err = s.W.Submit(ctx, ledger.Actor{}, "record exchange receipt", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if err := tx.QueryRow(ctx, "SELECT state FROM exchange_outbox WHERE id = ?", d.id).Scan(&st); err != nil {
			return nil, err
		}
		if st != Pending {
			return nil, errs.New(errs.Conflict, "answered", "id", "message %s is already %s", d.id, st)
		}
		at := r.At
		if !taken {
			at = ledger.FormatTime(now)
		}
		return ledger.NewEntry(TypeMessageAnswer, MessageAnswered{ID: d.id, Outcome: r.Outcome, Rule: r.Rule, Field: r.Field, Reason: r.Reason,
			At: at, AtFromClock: !taken, Receipt: sr.Receipt, Key: sr.Key, Signature: sr.Signature})
	})
	if e, ok := errs.As(err); ok && e.Rule == "answered" {
		if st == Abandoned {
			// The peer has the message after all (its receipt
			// verifies): the operator who abandoned it should know,
			// as the abandonment stands in the log.
			s.Log.Warn("exchange: a verified receipt came for a message abandoned here; the peer recorded it", "message", d.id, "peer", d.peerID, "outcome", r.Outcome)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if !taken {
		s.event("receipt_time_not_taken")
		s.Log.Warn("exchange: the receipt's time is not one it can have been signed at (before the message was sent, or ahead of this registry's clock): its answer is recorded at this registry's time",
			"message", d.id, "peer", d.peerID, "receipt_at", errs.Echo(r.At, errs.MaxEchoed), "sent_at", d.sentAt)
	}
	if r.Outcome == Refused {
		s.event("refused")
	} else {
		s.event("acknowledged")
	}
	return nil
}

// maxReason is how much of a peer's reason for an unavailable answer the
// last error keeps.
const maxReason = 200

// checkReceipt verifies that a receipt is signed by a key of the peer that
// was valid when it signed it, and answers this very message. The receipt's
// key is the peer's text until it is found among the peer's keys: the
// errors cut and escape it (errs.Echo), as they do the rule and field of a
// plain refusal.
//
// A key's validity is judged at the receipt's signing time, not at the
// time it is checked: a peer that received a message answers it again, when
// it is sent again, with the receipt it signed then (Receive's replay), so
// a receipt signed before the peer rotated its key comes back signed with
// the old key, and would never verify once the old key's overlap is over:
// the message would stay pending for ever. The peer's keys here are its key
// history: each with the end of its validity (valid_until) the operator set
// when adding the next one. A receipt signed with a key whose validity had
// ended is refused, and so is one for a message sent here after the key's
// validity ended: no receipt for it can have been signed while the key was
// valid, whatever time the receipt claims (this registry's clock, not the
// peer's word). The signing time is the peer's word otherwise, within
// what this registry's clock allows (receiptTime): whoever holds a key
// after its end can still claim a time before it for a message sent before
// it (docs/exchange.md, Rotate a key). A time the receipt cannot have been
// signed at is not taken, for the key either: the key must have been valid
// now, when the receipt is here. taken tells whether the receipt's time was
// taken.
func (s *Service) checkReceipt(ctx context.Context, pr *Peer, d due, sr *SignedReceipt) (r *Receipt, taken bool, err error) {
	var pubText, until string
	err = s.DB.Read().QueryRow(ctx, "SELECT public_key, valid_until FROM exchange_peer_keys WHERE fingerprint = ? AND peer_id = ?", sr.Key, pr.ID).Scan(&pubText, &until)
	if err != nil {
		return nil, false, fmt.Errorf(i18n.M("the receipt is signed by \"%s\", not a key of peer %s"), errs.Echo(sr.Key, errs.MaxEchoed), pr.ID)
	}
	pub, err := DecodeKey("key", pubText)
	if err != nil {
		return nil, false, err
	}
	if err := sr.Verify(pub); err != nil {
		return nil, false, fmt.Errorf(i18n.M("the receipt's signature does not verify with %s"), sr.Key)
	}
	if r, err = ParseReceipt(sr.Receipt); err != nil {
		return nil, false, err
	}
	if r.MessageSHA256 != Digest(d.message) || r.From != pr.Jurisdiction || (r.Outcome == Received && r.MessageID != d.id) {
		return nil, false, fmt.Errorf(i18n.M("the receipt does not answer message %s"), d.id)
	}
	signed, taken := receiptTime(d, r.At, s.now())
	if until != "" {
		if err := signedWhileValid(d, sr.Key, until, signed); err != nil {
			return nil, false, err
		}
	}
	return r, taken, nil
}

// signedWhileValid refuses a receipt signed with key, valid until until,
// at the time signed, for message d: signed at or after until, or for a
// message sent at or after until.
func signedWhileValid(d due, key, until string, signed time.Time) error {
	end, err := time.Parse(time.RFC3339Nano, until)
	if err != nil {
		return fmt.Errorf(i18n.M("the validity of key %s reads %q, not a time"), key, until)
	}
	if !signed.Before(end) {
		return fmt.Errorf(i18n.M("the receipt is signed by %s at %s, when the key was no longer valid (valid until %s)"), key, ledger.FormatTime(signed), until)
	}
	sent, err := time.Parse(time.RFC3339Nano, d.sentAt)
	if err != nil {
		return fmt.Errorf(i18n.M("message %s was sent at %q, not a time"), d.id, d.sentAt)
	}
	if !sent.Before(end) {
		return fmt.Errorf(i18n.M("the receipt is signed by %s, valid until %s, but message %s was sent at %s, after: no receipt for it was signed while the key was valid"), key, until, d.id, d.sentAt)
	}
	return nil
}

// attempt records a delivery attempt and when to try again (nil err: the
// peer answered).
func (s *Service) attempt(ctx context.Context, d due, failure error) {
	now := s.now()
	at := ledger.FormatTime(now)
	n := d.attempts + 1
	wait := s.Cfg.RetryBase << min(n-1, 30)
	if wait <= 0 || wait > s.Cfg.RetryMax {
		wait = s.Cfg.RetryMax
	}
	msg := ""
	if failure != nil {
		msg = lastError(failure)
		s.Log.Warn("exchange delivery failed; will try again", "message", d.id, "peer", d.peerID, "attempt", n, "retry_in", wait.String(), "err", msg)
	}
	tx, err := s.DB.BeginWrite(ctx)
	if err != nil {
		s.Log.Error("exchange deliverer: record attempt", "err", err)
		return
	}
	defer tx.Rollback()
	_, err = tx.Exec(ctx, `INSERT INTO exchange_delivery (message_id, peer_id, attempts, last_attempt_at, next_attempt_at, last_error) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (message_id) DO UPDATE SET attempts = excluded.attempts, last_attempt_at = excluded.last_attempt_at,
		next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error`, d.id, d.peerID, n, at, ledger.FormatTime(now.Add(wait)), msg)
	if err == nil {
		err = s.writeStatus(ctx, tx, d.peerID, at, msg)
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		s.Log.Error("exchange deliverer: record attempt", "err", err)
	}
}

// client is the HTTPS client for a peer: it trusts the peer's certificates
// when the operator gave them, the system's roots otherwise.
func (s *Service) client(pr *Peer) (*http.Client, error) {
	h := sha256.Sum256([]byte(pr.TLSCA))
	key := pr.ID + "/" + hex.EncodeToString(h[:8])
	if c, ok := s.clients.Load(key); ok {
		return c.(*http.Client), nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if pr.TLSCA != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(pr.TLSCA)) {
			return nil, errors.New(i18n.M("the peer's tls_ca holds no certificate"))
		}
		cfg.RootCAs = pool
	}
	c := &http.Client{Timeout: s.Cfg.Timeout, Transport: &http.Transport{TLSClientConfig: cfg, MaxIdleConnsPerHost: 2},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	s.clients.Store(key, c)
	return c, nil
}

// maxLastError is how many bytes of an attempt's error the outbox keeps.
const maxLastError = 500

// lastError is the text of a failed attempt as the outbox keeps it: at most
// maxLastError bytes, cut between characters, and valid UTF-8. Much of it
// can be the peer's (its answer's words, escaped where they are put in), and
// a text cut inside a character is one PostgreSQL refuses to store: the
// attempt would not be recorded, and the message tried again at every poll.
func lastError(failure error) string {
	msg := strings.ToValidUTF8(cmp.Or(failure.Error(), "failed"), "\uFFFD")
	if len(msg) <= maxLastError {
		return msg
	}
	cut := 0
	for i := range msg {
		if i > maxLastError {
			break
		}
		cut = i
	}
	return msg[:cut]
}
