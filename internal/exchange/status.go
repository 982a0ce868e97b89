package exchange

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"errors"

	"github.com/custos-project/custos/internal/store"
)

// What the deliverer last saw of each peer (exchange_peer_status: its last
// attempt, its last answer, its last failure) is outside the log: it is an
// operational fact, not a record, and a leaf per attempt would fill the log
// with the state of someone else's server. But the peers page shows it as a
// fact ("Reachable: yes"), and a row changed behind custos's back would show
// a peer that never answers as reachable. So each row carries an
// HMAC-SHA-256 of all its columns under a key derived from the master key
// (core migration 23), as web_sessions, alert_repeats and hm_retro_uploads
// do (store.RowMAC): a row without a valid one is shown as tampered
// (ReachableTampered), not as what it says, and reported in the server log;
// the deliverer's next attempt writes it again, taking nothing from it.

// ReachableTampered is a peer's Reachable when the row of its status does
// not carry the registry's MAC: what it says is not shown.
const ReachableTampered = "tampered"

// ReachableClockAhead is a peer's Reachable when its last answer refused a
// message for now, its sent_at ahead of the peer's clock (RuleClockAhead):
// the peer answered, and a clock, its own or this registry's, is wrong.
// The peer's LastError says by how much.
const ReachableClockAhead = RuleClockAhead

// statusKeyLabel derives the key of the peer statuses' MAC from the master
// key.
const statusKeyLabel = "custos exchange peer status key v1"

// peerStatus is a row of exchange_peer_status.
type peerStatus struct {
	peer, lastAttempt, lastOK, lastError string
}

// statusMAC is the MAC of a peer status row under the registry's key.
func (s *Service) statusMAC(r *peerStatus) string {
	s.statusOnce.Do(func() {
		key, err := hkdf.Key(sha256.New, s.master, nil, statusKeyLabel, 32)
		if err != nil {
			panic("exchange: derive the peer status key: " + err.Error()) // only a length HKDF cannot give
		}
		s.statusKey = key
	})
	return store.RowMAC(s.statusKey, "custos exchange peer status row\x00", r.peer, r.lastAttempt, r.lastOK, r.lastError)
}

// readStatus reads peer's status row; ok is false when there is none, and
// sound false when its MAC is not the registry's.
func (s *Service) readStatus(ctx context.Context, q store.Queryer, peer string) (r peerStatus, ok, sound bool, err error) {
	var mac string
	r.peer = peer
	err = q.QueryRow(ctx, "SELECT last_attempt_at, last_ok_at, last_error, mac FROM exchange_peer_status WHERE peer_id = ?", peer).
		Scan(&r.lastAttempt, &r.lastOK, &r.lastError, &mac)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, false, nil
	}
	if err != nil {
		return r, false, false, err
	}
	return r, true, hmac.Equal([]byte(mac), []byte(s.statusMAC(&r))), nil
}

// forgedStatus says in the server log that a peer's status row does not
// carry the registry's MAC.
func (s *Service) forgedStatus(ctx context.Context, peer, where string) {
	s.Log.WarnContext(ctx, "exchange peer status not shown: its row does not carry the registry's MAC (written or changed behind custos's back)",
		"peer", peer, "where", where)
}

// writeStatus records an attempt on peer at at: answered (failure "", or
// a signed refusal for now of a sent_at ahead of the peer's clock,
// isClockAhead: the peer answered, and its last answer is this attempt) or
// failed. The last answer's time is kept from the row only if the row
// carries its MAC.
func (s *Service) writeStatus(ctx context.Context, tx *store.Tx, peer, at, failure string) error {
	old, ok, sound, err := s.readStatus(ctx, tx, peer)
	if err != nil {
		return err
	}
	if ok && !sound {
		s.forgedStatus(ctx, peer, "deliverer")
	}
	r := peerStatus{peer: peer, lastAttempt: at, lastOK: at, lastError: failure}
	if failure != "" && !isClockAhead(failure) {
		r.lastOK = ""
		if sound {
			r.lastOK = old.lastOK
		}
	}
	_, err = tx.Exec(ctx, `INSERT INTO exchange_peer_status (peer_id, last_attempt_at, last_ok_at, last_error, mac) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (peer_id) DO UPDATE SET last_attempt_at = excluded.last_attempt_at, last_ok_at = excluded.last_ok_at,
		last_error = excluded.last_error, mac = excluded.mac`, r.peer, r.lastAttempt, r.lastOK, r.lastError, s.statusMAC(&r))
	return err
}
