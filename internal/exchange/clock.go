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

// RuleClockAhead is the refusal, for now, of a time a peer says it sent
// something at that is more than ClockSkew ahead of this registry's clock.
const RuleClockAhead = "clock_ahead"

// ReadSentAt reads a time at which a peer says it sent something (field: a
// message's sent_at, or a module's payload.sent_at), refusing one that is
// not an RFC 3339 time (rule date_format) or is before 1900 (date_range):
// those are the message's answer for good. One more than ClockSkew ahead
// of now, this registry's clock, is refused for now (RuleClockAhead, code
// unavailable): the receiver would keep a wrong clock as the time it was
// sent, but which clock is wrong, the sender's or this registry's, is not
// known here, and either may be put right later (or time catch up with
// it). Such a refusal is not kept (final), and the sender sends the message
// again later (refusedForNow).
func ReadSentAt(field, v string, now time.Time) (time.Time, error) {
	at, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return at, errs.Invalidf("date_format", field, "%s %q is not a time such as 2026-01-05T10:00:00Z", field, v)
	}
	if at.Year() < 1900 {
		return at, errs.Invalidf("date_range", field, "%s %s is before 1900", field, v)
	}
	if at.After(now.Add(ClockSkew)) {
		return at, errs.New(errs.Unavailable, RuleClockAhead, field,
			"%s says %s, but it is %s here: the sending registry's clock is ahead, or this registry's behind; send the message again later", field, v, ledger.FormatTime(now))
	}
	return at, nil
}

// refusedForNow tells whether a peer's signed refusal with rule is one for
// now, not the message's answer: the peer could not record it
// (unavailable), or its sent_at is ahead of the peer's clock
// (RuleClockAhead). The message stays pending and is sent again, with the
// back-off of any failed attempt.
func refusedForNow(rule string) bool { return rule == "unavailable" || rule == RuleClockAhead }

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
