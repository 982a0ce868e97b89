package ledger

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/tick"
)

// Entry types of the work on alerts. alert.repeated is the writer's: the
// refusals retried within its window, counted on the open alert they repeat
// instead of raising another (at most one leaf a RepeatPeriod per alert:
// AlertRepeated). The others are the regulator's commands (internal/alerts).
const (
	TypeAlertAcknowledged = "alert.acknowledged"
	TypeAlertAssigned     = "alert.assigned"
	TypeAlertCommented    = "alert.commented"
	TypeAlertClosed       = "alert.closed"
	TypeAlertRepeated     = "alert.repeated"
)

// The states of an alert: raised open, acknowledged by a regulator, closed
// with an outcome. A closed alert stays closed.
const (
	StateOpen         = "open"
	StateAcknowledged = "acknowledged"
	StateClosed       = "closed"
)

// AlertStates lists the states, in the order an alert goes through them.
var AlertStates = []string{StateOpen, StateAcknowledged, StateClosed}

// AlertOutcomes are what closing an alert may conclude: nothing to do, the
// centre corrected what was refused, referred to another body (inspection,
// police, prosecutor), or the alert was a false alarm.
var AlertOutcomes = []string{"no_action", "corrected", "referred", "false_alarm"}

// AlertRef is the data of alert.acknowledged.
type AlertRef struct {
	AlertID string `json:"alert_id"`
}

// AlertRepeated is the data of alert.repeated: Count refusals retried since
// the alert's last leaf, this one included (the repeats counted meanwhile in
// the alert_repeats table, outside the log). Absent (as in the leaves
// written before it existed), it is one. LastRepeatedAt is set when the
// registry logs counted repeats on its own (Writer.LogRepeats, no principal):
// when the last of them came, which is not the leaf's time.
type AlertRepeated struct {
	AlertID        string `json:"alert_id"`
	Count          int64  `json:"count,omitempty"`
	LastRepeatedAt string `json:"last_repeated_at,omitempty"`
}

// AlertAssigned is the data of alert.assigned: who works the alert now.
type AlertAssigned struct {
	AlertID    string `json:"alert_id"`
	AssigneeID string `json:"assignee_id"`
}

// AlertComment is the data of alert.commented, and a comment as read.
type AlertComment struct {
	ID          string `json:"id"`
	AlertID     string `json:"alert_id"`
	Text        string `json:"text"`
	At          string `json:"at,omitempty"`
	PrincipalID string `json:"principal_id,omitempty"`
}

// AlertClosed is the data of alert.closed: the outcome and why. Repeats are
// the repeats not yet logged when it was closed, and LastRepeatedAt the
// latest of them: closing brings them into the log, so the count of a
// closed alert is the log's whole.
type AlertClosed struct {
	AlertID        string `json:"alert_id"`
	Outcome        string `json:"outcome"`
	Note           string `json:"note"`
	Repeats        int64  `json:"repeats,omitempty"`
	LastRepeatedAt string `json:"last_repeated_at,omitempty"`
}

// projectAlertWork registers the projectors of the work on alerts.
func projectAlertWork(r *Projections) {
	On(r, TypeAlertAcknowledged, func(ctx context.Context, q store.Queryer, _ int64, e *Entry, d *AlertRef) error {
		return updateAlert(ctx, q, d.AlertID, "state = ?, acknowledged_at = ?, acknowledged_by = ?", StateAcknowledged, e.At, e.By)
	})
	On(r, TypeAlertAssigned, func(ctx context.Context, q store.Queryer, _ int64, e *Entry, d *AlertAssigned) error {
		return updateAlert(ctx, q, d.AlertID, "assignee_id = ?", d.AssigneeID)
	})
	On(r, TypeAlertCommented, func(ctx context.Context, q store.Queryer, index int64, e *Entry, d *AlertComment) error {
		_, err := q.Exec(ctx, "INSERT INTO alert_comments (id, alert_id, at, principal_id, text, log_index) VALUES (?, ?, ?, ?, ?, ?)",
			d.ID, d.AlertID, e.At, e.By, d.Text, index)
		return err
	})
	On(r, TypeAlertClosed, func(ctx context.Context, q store.Queryer, _ int64, e *Entry, d *AlertClosed) error {
		if d.Repeats > 0 {
			if err := updateAlert(ctx, q, d.AlertID, "repeats = repeats + ?, last_repeated_at = ?", d.Repeats, d.LastRepeatedAt); err != nil {
				return err
			}
		}
		if err := clearRepeats(ctx, q, d.AlertID); err != nil {
			return err
		}
		return updateAlert(ctx, q, d.AlertID, "state = ?, closed_at = ?, closed_by = ?, outcome = ?, close_note = ?, logged_at = ''",
			StateClosed, e.At, e.By, d.Outcome, d.Note)
	})
	On(r, TypeAlertRepeated, func(ctx context.Context, q store.Queryer, _ int64, e *Entry, d *AlertRepeated) error {
		if err := clearRepeats(ctx, q, d.AlertID); err != nil {
			return err
		}
		return updateAlert(ctx, q, d.AlertID, "repeats = repeats + ?, last_repeated_at = ?, logged_at = ?", max(d.Count, 1), cmp.Or(d.LastRepeatedAt, e.At), e.At)
	})
}

// clearRepeats forgets the repeats of an alert counted outside the log, once
// a leaf has counted them. On a replay the table is empty and this does
// nothing.
func clearRepeats(ctx context.Context, q store.Queryer, id string) error {
	_, err := q.Exec(ctx, "DELETE FROM alert_repeats WHERE alert_id = ?", id)
	return err
}

// updateAlert sets columns of one alert, which must exist.
func updateAlert(ctx context.Context, q store.Queryer, id, set string, args ...any) error {
	res, err := q.Exec(ctx, "UPDATE alerts SET "+set+" WHERE id = ?", append(args, id)...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return fmt.Errorf("alert %s does not exist", id)
	}
	return nil
}

// RaisedAlert is an alert as the regulator reads it.
type RaisedAlert struct {
	ID             string `json:"id"`
	RaisedAt       string `json:"raised_at"`
	Rule           string `json:"rule"`
	Field          string `json:"field"`
	Message        string `json:"message"`
	Command        string `json:"command"`
	AuthorityID    string `json:"authority_id"`
	Authority      string `json:"authority"`
	PrincipalID    string `json:"principal_id"`
	LogIndex       int64  `json:"log_index"`
	State          string `json:"state"`
	AcknowledgedAt string `json:"acknowledged_at,omitempty"`
	AcknowledgedBy string `json:"acknowledged_by,omitempty"`
	AssigneeID     string `json:"assignee_id,omitempty"`
	ClosedAt       string `json:"closed_at,omitempty"`
	ClosedBy       string `json:"closed_by,omitempty"`
	Outcome        string `json:"outcome,omitempty"`
	CloseNote      string `json:"close_note,omitempty"`
	// Repeats counts the same refusal retried within the writer's window
	// while the alert was open; LastRepeatedAt is the latest.
	// RepeatsUnlogged are those of them not in the log yet: counted since
	// the alert's last leaf, in the alert_repeats table, and logged by the
	// next alert.repeated a RepeatPeriod after it, or by the closing.
	Repeats         int64          `json:"repeats"`
	LastRepeatedAt  string         `json:"last_repeated_at,omitempty"`
	RepeatsUnlogged int64          `json:"repeats_unlogged,omitempty"`
	Comments        []AlertComment `json:"comments,omitempty"`
}

// AlertFilter selects alerts; empty fields select all. From and End bound
// when they were raised: from From (a date or a time) to before End.
type AlertFilter struct {
	Rule        string
	AuthorityID string
	State       string
	From, End   string
	// Request is the page: at most Limit alerts (200 when not 1 to 1000)
	// after the cursor.
	page.Request
}

const alertSelect = `al.id, al.raised_at, al.rule, al.field, al.message, al.command, al.authority_id,
	COALESCE(a.name, ''), al.principal_id, al.log_index, al.state, al.acknowledged_at, al.acknowledged_by, al.assignee_id,
	al.closed_at, al.closed_by, al.outcome, al.close_note, al.repeats, al.last_repeated_at,
	COALESCE(ar.count, 0), COALESCE(ar.last_at, ''), COALESCE(ar.mac, ''), al.logged_at`

// alertFrom joins the alerts with their authorities and with the repeats not
// yet logged (alert_repeats).
const alertFrom = ` FROM alerts al LEFT JOIN authorities a ON a.id = al.authority_id LEFT JOIN alert_repeats ar ON ar.alert_id = al.id`

const alertColumns = alertSelect + alertFrom

// listAlertsSQL reads a page of alerts in the order of the index on
// (log_index DESC, id) (core migration 6): the filters as pairs (empty for
// any), the cursor's condition (page.Request.Where) and the limit.
const listAlertsSQL = "SELECT " + alertSelect + `, al.log_index` + alertFrom + `
	WHERE (? = '' OR al.rule = ?) AND (? = '' OR al.authority_id = ?) AND (? = '' OR al.state = ?)
	AND (? = '' OR al.raised_at >= ?) AND (? = '' OR al.raised_at < ?) AND %s ORDER BY al.log_index DESC, al.id LIMIT ?`

// scanAlert reads an alert (alertSelect) with the repeats counted outside
// the log since its last leaf, those only when their row carries the
// registry's MAC for the alert as it stands (checkRepeats): a count
// written behind custos's back is never shown, and is reported once as the
// sweep that discards it would (unsound).
func (w *Writer) scanAlert(r store.Scanner, a *RaisedAlert) error {
	var stored storedRepeats
	var logged string
	if err := r.Scan(&a.ID, &a.RaisedAt, &a.Rule, &a.Field, &a.Message, &a.Command, &a.AuthorityID, &a.Authority, &a.PrincipalID, &a.LogIndex,
		&a.State, &a.AcknowledgedAt, &a.AcknowledgedBy, &a.AssigneeID, &a.ClosedAt, &a.ClosedBy, &a.Outcome, &a.CloseNote, &a.Repeats, &a.LastRepeatedAt,
		&stored.count, &stored.last, &stored.mac, &logged); err != nil {
		return err
	}
	n, last := w.checkRepeats(a.ID, stored, logged)
	a.Repeats += n
	a.RepeatsUnlogged = n
	if last > a.LastRepeatedAt {
		a.LastRepeatedAt = last
	}
	return nil
}

// Alerts lists a page of the alerts the filter selects, the newest first,
// each with the repeats counted outside the log that carry the registry's
// MAC (scanAlert). It checks no role and no value: callers
// (internal/alerts) refuse whoever may not read alerts, and filters that
// name nothing.
func (w *Writer) Alerts(ctx context.Context, q store.Queryer, f AlertFilter) (page.Of[RaisedAlert], error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	var args []any
	for _, v := range []string{f.Rule, f.AuthorityID, f.State, f.From, f.End} {
		args = append(args, v, v)
	}
	where, after := f.Where("al.log_index", "al.id")
	rows, err := q.Query(ctx, fmt.Sprintf(listAlertsSQL, where), append(append(args, after...), f.Limit+1)...)
	if err != nil {
		return page.Of[RaisedAlert]{}, err
	}
	return page.Read(rows, f.Request, w.scanAlert, func(a *RaisedAlert) string { return a.ID })
}

// ErrNoAlert is returned by GetAlert for an id no alert has.
var ErrNoAlert = errors.New("no such alert")

// GetAlert reads one alert with its comments, oldest first, and its
// repeats counted outside the log as Alerts does.
func (w *Writer) GetAlert(ctx context.Context, q store.Queryer, id string) (*RaisedAlert, error) {
	var a RaisedAlert
	if err := w.scanAlert(q.QueryRow(ctx, "SELECT "+alertColumns+" WHERE al.id = ?", id), &a); errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoAlert
	} else if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, "SELECT id, alert_id, text, at, principal_id FROM alert_comments WHERE alert_id = ? ORDER BY log_index", id)
	if err != nil {
		return nil, err
	}
	a.Comments, err = store.Rows(rows, func(r store.Scanner, c *AlertComment) error {
		return r.Scan(&c.ID, &c.AlertID, &c.Text, &c.At, &c.PrincipalID)
	})
	return &a, err
}

// AlertRules lists the rules of the alerts raised so far, for filters.
func AlertRules(ctx context.Context, q store.Queryer) ([]string, error) {
	rows, err := q.Query(ctx, "SELECT DISTINCT rule FROM alerts ORDER BY rule")
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, s *string) error { return r.Scan(s) })
}

// openAlert is the open alert a refusal repeats: its id, when its last leaf
// was written (its raising or its last alert.repeated), and its row of
// alert_repeats as stored (count 0 without one), its MAC not yet checked.
type openAlert struct {
	id, logged string
	repeats    storedRepeats
}

// storedRepeats is a row of alert_repeats as stored.
type storedRepeats struct {
	count     int64
	last, mac string
}

// repeatedAlert returns the open alert that a refusal repeats: the newest not
// closed, raised at or after since, of the same rule, field, command,
// principal and authority; an empty id when there is none.
func repeatedAlert(ctx context.Context, q store.Queryer, a Alert, principal, authority, since string) (openAlert, error) {
	var o openAlert
	err := q.QueryRow(ctx, `SELECT al.id, al.logged_at, COALESCE(ar.count, 0), COALESCE(ar.last_at, ''), COALESCE(ar.mac, '')
		FROM alerts al LEFT JOIN alert_repeats ar ON ar.alert_id = al.id
		WHERE al.principal_id = ? AND al.rule = ? AND al.raised_at >= ? AND al.field = ? AND al.command = ?
		AND al.authority_id = ? AND al.state <> ? ORDER BY al.log_index DESC LIMIT 1`,
		principal, a.Rule, since, a.Field, a.Command, authority, StateClosed).Scan(&o.id, &o.logged, &o.repeats.count, &o.repeats.last, &o.repeats.mac)
	if errors.Is(err, sql.ErrNoRows) {
		return openAlert{}, nil
	}
	return o, err
}

// countRepeat keeps the count of an open alert's repeats outside the log,
// with its MAC; logged is when the alert's last leaf was written.
func (w *Writer) countRepeat(ctx context.Context, q store.Queryer, id string, count int64, at, logged string) error {
	_, err := q.Exec(ctx, `INSERT INTO alert_repeats (alert_id, count, last_at, mac) VALUES (?, ?, ?, ?)
		ON CONFLICT (alert_id) DO UPDATE SET count = excluded.count, last_at = excluded.last_at, mac = excluded.mac`,
		id, count, at, w.repeatMAC(id, count, at, logged))
	return err
}

// repeatMAC is the MAC of a repeat count kept outside the log: of the
// alert, the count, the last repeat's time, and the time of the alert's
// last leaf when it was counted (logged_at). A leaf that logs the count
// moves logged_at, so that a row put back after it (a count the log holds
// already, whose MAC was the registry's) no longer carries the MAC.
func (w *Writer) repeatMAC(id string, count int64, at, logged string) string {
	m := hmac.New(sha256.New, w.repeatKey)
	fmt.Fprintf(m, "custos alert repeats v2\n%s\n%d\n%s\n%s", id, count, at, logged)
	return hex.EncodeToString(m.Sum(nil))
}

// UnloggedRepeats reads the repeats of an alert counted outside the log
// since its last leaf, and when the last came: what the next leaf that logs
// them carries. A count whose MAC is not this registry's for the alert as
// it stands (written behind custos's back, put back after a leaf logged it,
// or kept by a release before) reads as none, and is reported once
// (checkRepeats): the registry never signs into its log a count it did not
// keep.
func (w *Writer) UnloggedRepeats(ctx context.Context, q store.Queryer, id string) (count int64, last string, err error) {
	var r storedRepeats
	var logged string
	err = q.QueryRow(ctx, `SELECT ar.count, ar.last_at, ar.mac, COALESCE(al.logged_at, '')
		FROM alert_repeats ar LEFT JOIN alerts al ON al.id = ar.alert_id WHERE ar.alert_id = ?`, id).Scan(&r.count, &r.last, &r.mac, &logged)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	} else if err != nil {
		return 0, "", err
	}
	count, last = w.checkRepeats(id, r, logged)
	return count, last, nil
}

// checkRepeats gives a stored repeat count and its time when its MAC is
// this registry's for the alert whose last leaf was written at logged, and
// none when not: the count is then reported (unsound), once.
func (w *Writer) checkRepeats(id string, r storedRepeats, logged string) (int64, string) {
	if r.count == 0 && r.mac == "" {
		return 0, "" // no row
	}
	if !hmac.Equal([]byte(r.mac), []byte(w.repeatMAC(id, r.count, r.last, logged))) {
		w.unsound(id, r)
		return 0, ""
	}
	return r.count, r.last
}

// unsoundRepeats are the repeat counts kept outside the log that a writer
// found without its MAC: each is said once in the server's log, and raised
// once as an alert by the next LogRepeats (pending).
type unsoundRepeats struct {
	sync.Mutex
	seen    map[string]bool // the rows said, by alert, count, time and MAC
	pending []unsoundCount
}

type unsoundCount struct {
	id    string
	count int64
}

// unsound reports a repeat count kept outside the log that the registry
// discards: once in the server's log, and queued for an alert (LogRepeats
// raises it). A row is reported once however often it is met: by the
// sweep that deletes it, by a repeat that replaces it, by a closing that
// logs the repeats, in a batch run again.
func (w *Writer) unsound(id string, r storedRepeats) {
	key := fmt.Sprintf("%s\n%d\n%s\n%s", id, r.count, r.last, r.mac)
	u := &w.unsoundRepeats
	u.Lock()
	defer u.Unlock()
	if u.seen[key] {
		return
	}
	if u.seen == nil || len(u.seen) >= 4096 {
		u.seen = map[string]bool{}
	}
	u.seen[key] = true
	u.pending = append(u.pending, unsoundCount{id, r.count})
	w.log.Error("an alert's repeat count kept outside the log does not carry this registry's MAC for the alert as it stands: it was written behind custos's back (or put back after a leaf logged it, or kept by an older release) and is discarded, not logged",
		"alert", id, "count", r.count)
}

// discardUnsound deletes the repeat counts kept outside the log that do
// not carry the registry's MAC for their alert as it stands (an alert
// closed or gone has none), and raises an alert for each count reported
// since the last call (unsound): so a count written behind custos's back is
// reported, and alerted, once, not each period until a repeat or the
// alert's closing replaces it.
func (w *Writer) discardUnsound(ctx context.Context) error {
	rows, err := w.db.Read().Query(ctx, `SELECT ar.alert_id, ar.count, ar.last_at, ar.mac, COALESCE(al.logged_at, '')
		FROM alert_repeats ar LEFT JOIN alerts al ON al.id = ar.alert_id ORDER BY ar.alert_id`)
	if err != nil {
		return fmt.Errorf("read the repeats counted outside the log: %w", err)
	}
	type stored struct {
		id, logged string
		r          storedRepeats
	}
	list, err := store.Rows(rows, func(r store.Scanner, x *stored) error {
		return r.Scan(&x.id, &x.r.count, &x.r.last, &x.r.mac, &x.logged)
	})
	if err != nil {
		return fmt.Errorf("read the repeats counted outside the log: %w", err)
	}
	for _, x := range list {
		if hmac.Equal([]byte(x.r.mac), []byte(w.repeatMAC(x.id, x.r.count, x.r.last, x.logged))) {
			continue
		}
		// Deleted only as read: a repeat may have replaced it meanwhile.
		tx, err := w.db.BeginWrite(ctx)
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, "DELETE FROM alert_repeats WHERE alert_id = ? AND count = ? AND last_at = ? AND mac = ?", x.id, x.r.count, x.r.last, x.r.mac)
		var n int64
		if err == nil {
			n, err = res.RowsAffected()
		}
		if err == nil {
			err = tx.Commit()
		}
		tx.Rollback()
		if err != nil {
			return fmt.Errorf("discard the repeat count of alert %s: %w", x.id, err)
		}
		if n == 1 {
			w.unsound(x.id, x.r)
		}
	}
	u := &w.unsoundRepeats
	u.Lock()
	pending := u.pending
	u.pending = nil
	u.Unlock()
	for i, c := range pending {
		err := w.Refused(ctx, Actor{}, "discard a repeat count kept outside the log", errs.Alertf(errs.Conflict, "repeat_count_discarded", "alert_id",
			"the count of %d repeats of alert %s kept outside the log does not carry this registry's MAC for the alert as it stands (written behind custos's back, put back after a leaf logged it, or kept by an older release): it was discarded, not logged",
			c.count, c.id))
		if _, refused := errs.As(err); !refused {
			u.Lock()
			u.pending = append(pending[i:], u.pending...)
			u.Unlock()
			return fmt.Errorf("alert of a discarded repeat count: %w", err)
		}
	}
	return nil
}

// LogRepeats brings into the log the repeats of open alerts counted outside
// it (alert_repeats) whose last leaf is RepeatPeriod old or more: for each
// such alert one alert.repeated leaf by the registry itself (no principal)
// that counts them and says when the last came. custos serve runs it every
// RepeatPeriod (the core module's background work), so that while a server
// runs a repeat stays outside the log for about two periods at most, not
// until a later repeat or the alert's closing. Each alert is checked again
// inside its command, so servers sharing a database log a count once. It
// returns how many alerts it logged.
func (w *Writer) LogRepeats(ctx context.Context) (int, error) {
	if w.period <= 0 {
		return 0, nil // every repeat is logged as it comes
	}
	if err := w.discardUnsound(ctx); err != nil {
		return 0, err
	}
	before := FormatTime(w.now().UTC().Add(-w.period))
	rows, err := w.db.Read().Query(ctx, `SELECT ar.alert_id FROM alert_repeats ar JOIN alerts al ON al.id = ar.alert_id
		WHERE ar.count > 0 AND al.state <> ? AND al.logged_at <= ? ORDER BY al.log_index`, StateClosed, before)
	if err != nil {
		return 0, fmt.Errorf("find repeats to log: %w", err)
	}
	ids, err := store.Rows(rows, func(r store.Scanner, id *string) error { return r.Scan(id) })
	if err != nil {
		return 0, fmt.Errorf("find repeats to log: %w", err)
	}
	logged := 0
	for _, id := range ids {
		_, err := w.Submit(ctx, Actor{}, "log repeated refusals", func(ctx context.Context, tx *store.Tx, now time.Time) (*Entry, error) {
			var leafAt, state string
			if err := tx.QueryRow(ctx, "SELECT logged_at, state FROM alerts WHERE id = ?", id).Scan(&leafAt, &state); err != nil {
				return nil, err
			}
			count, last, err := w.UnloggedRepeats(ctx, tx, id)
			if err != nil {
				return nil, err
			}
			if count <= 0 || state == StateClosed || leafAt > FormatTime(now.Add(-w.period)) {
				// Logged or closed meanwhile (by another server), or a
				// count that is not this registry's.
				return nil, errs.New(errs.Conflict, "nothing_to_log", "alert_id", "the alert's repeats are in the log already")
			}
			return NewEntry(TypeAlertRepeated, AlertRepeated{AlertID: id, Count: count, LastRepeatedAt: last})
		})
		if _, refused := errs.As(err); refused {
			continue
		} else if err != nil {
			return logged, fmt.Errorf("log the repeats of alert %s: %w", id, err)
		}
		logged++
	}
	return logged, nil
}

// RunRepeats logs counted repeats (LogRepeats) at once and then every
// RepeatPeriod until ctx ends.
func (w *Writer) RunRepeats(ctx context.Context, log func(error)) {
	if w.period <= 0 {
		return
	}
	tick.Run(ctx, w.period, nil, func(ctx context.Context) error { _, err := w.LogRepeats(ctx); return err }, log)
}
