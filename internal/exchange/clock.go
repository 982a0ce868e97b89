package exchange

import (
	"fmt"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
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

// clockAheadPrefix begins the last error of every attempt a peer refused
// for now with RuleClockAhead (clockAheadOf): the peer answered, and the
// peers page shows it reachable with a clock problem (ReachableClockAhead),
// the outbox page what an operator can do about a message that waits
// (ClockAheadWait). Each sentence below starts with it.
const clockAheadPrefix = "the peer answered, but refuses the message for now: its sent_at is ahead of the peer's clock"

// ClockAheadWait is how long a message may be refused RuleClockAhead
// before the outbox page says what to do about it (OutboxMessage.ClockWait):
// a clock put right takes minutes, and past them the sender's own clock
// may have been ahead when it signed the message, which only time or a
// message sent again cures.
const ClockAheadWait = 10 * time.Minute

// clockAheadOf is the error of an attempt on d that the peer refused for
// now as its sent_at is ahead of the peer's clock (receipt r, read at now):
// how far ahead this registry's clock is of the peer's, by the receipt's
// time, when it is more than ClockSkew; otherwise it is not ahead now
// and this registry's was ahead when it signed the message, which then
// waits until the peer's clock reaches its sent_at, or is abandoned and
// sent again. The seconds are about: the answer's time on the way is in
// them. The peer's field and reason are its words, cut and escaped.
func clockAheadOf(d due, r *Receipt, now time.Time) error {
	field, reason := errs.Echo(r.Field, errs.MaxEchoed), errs.Echo(r.Reason, maxReason)
	theirs, err := time.Parse(time.RFC3339Nano, r.At)
	sent, serr := time.Parse(time.RFC3339Nano, d.sentAt)
	if err != nil || serr != nil {
		return fmt.Errorf(i18n.M("the peer answered, but refuses the message for now: its sent_at is ahead of the peer's clock (rule clock_ahead, field \"%s\"): %s; sent again later"),
			field, reason)
	}
	if ahead := now.Sub(theirs); ahead > ClockSkew {
		return fmt.Errorf(i18n.M("the peer answered, but refuses the message for now: its sent_at is ahead of the peer's clock, and our clock is ahead of the peer's by about %d s (rule clock_ahead, field \"%s\"): %s; sent again later"),
			seconds(ahead), field, reason)
	}
	return fmt.Errorf(i18n.M("the peer answered, but refuses the message for now: its sent_at is ahead of the peer's clock by about %d s, as our clock was when it was sent (rule clock_ahead, field \"%s\"): %s; it waits for the peer's clock, or abandon it and send it again"),
		seconds(sent.Sub(theirs)), field, reason)
}

// seconds is d in whole seconds, rounded.
func seconds(d time.Duration) int { return int(d.Round(time.Second) / time.Second) }

// isClockAhead tells whether a last error is that of an attempt the peer
// refused for now with RuleClockAhead (clockAheadOf).
func isClockAhead(lastError string) bool { return strings.HasPrefix(lastError, clockAheadPrefix) }
