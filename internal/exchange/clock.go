package exchange

import (
	"time"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
)

// ClockSkew is how far two registries' clocks may differ: seconds, not
// minutes. A time a peer gives further ahead of this registry's clock, or a
// receipt's time further before the message it answers was sent, is the
// peer's clock wrong (or its word false), not a time that happened.
const ClockSkew = 5 * time.Minute

// ReadSentAt reads a time at which a peer says it sent something (field: a
// message's sent_at, or a module's payload.sent_at), refusing one that is
// not an RFC 3339 time (rule date_format), is before 1900 (date_range), or
// is more than ClockSkew ahead of now, this registry's clock
// (dates_in_order): the receiver would keep the sender's wrong clock as the
// time it was sent.
func ReadSentAt(field, v string, now time.Time) (time.Time, error) {
	at, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return at, errs.Invalidf("date_format", field, "%s %q is not a time such as 2026-01-05T10:00:00Z", field, v)
	}
	if at.Year() < 1900 {
		return at, errs.Invalidf("date_range", field, "%s %s is before 1900", field, v)
	}
	if at.After(now.Add(ClockSkew)) {
		return at, errs.Invalidf("dates_in_order", field, "%s says %s, but it is %s here: the sending registry's clock is ahead", field, v, ledger.FormatTime(now))
	}
	return at, nil
}

// receiptTime is the time a receipt for message d was signed, as this
// registry takes it: the receipt's at, when it is a time no earlier than
// ClockSkew before the message was sent (by this registry's clock) and no
// later than ClockSkew after now; ok is false otherwise, and the time is
// now. A receipt cannot have been signed before the message it answers was
// sent, nor after it arrived here: a time outside is the peer's clock
// wrong, which the outbox must not show as when the peer answered. The
// answer is still recorded (the receipt verifies, and the peer would
// answer a message sent again with the same receipt, so refusing it would
// send the message for ever), at this registry's time.
func receiptTime(d due, at string, now time.Time) (t time.Time, ok bool) {
	claimed, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return now, false
	}
	sent, err := time.Parse(time.RFC3339Nano, d.sentAt)
	if err != nil || claimed.Before(sent.Add(-ClockSkew)) || claimed.After(now.Add(ClockSkew)) {
		return now, false
	}
	return claimed, true
}
