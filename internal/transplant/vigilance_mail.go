package transplant

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/mail"
	"github.com/custos-project/custos/internal/store"
)

// ---- Vigilance by e-mail (docs/vigilance.md, "Notifications by e-mail") ----
//
// Every notification of an SAE, and every escalation, is also queued as an
// e-mail (internal/mail) in the transaction of the entry that makes it, to
// the notification address of each authority concerned that has one
// (auth.SetContact), in that authority's language, else the registry's. An
// e-mail carries the report's id, what happened in a line (the kind, the
// registry's donor id, the reporting centre, dates) and a link to the page
// where the centre acknowledges: never the report's texts, nor anything of
// a recipient or a donor beyond the registry's identifier. The entry lists
// the e-mails it queued (its mail field), which the mail package commits
// as queued when the entry is projected (mail.Queuer).

// The e-mails' texts: message IDs of the transplant module's catalogue,
// written in each recipient's language when they are sent.
var (
	saeMailSubject = i18n.M("Serious adverse event report %s: please acknowledge receipt")
	saeMailEvent   = i18n.M("A serious adverse event was reported by %[1]s (report %[2]s, detected %[3]s). It concerns donor %[4]s, an organ of whom your centre procured or transplanted. Sign in to read the report and acknowledge receipt within %[5]s hours: a notification not acknowledged is escalated to the regulator.")
	saeMailReact   = i18n.M("A serious adverse reaction was reported by %[1]s (report %[2]s, detected %[3]s). It concerns donor %[4]s, an organ of whom your centre procured or transplanted. Sign in to read the report and acknowledge receipt within %[5]s hours: a notification not acknowledged is escalated to the regulator.")

	lateMailSubject    = i18n.M("Reminder: notification %s is not acknowledged")
	lateMailBody       = i18n.M("Your centre has not acknowledged notification %[1]s of serious adverse event report %[2]s, sent %[3]s. It is now escalated to the regulator (alert %[4]s). Sign in to acknowledge it.")
	escalatedMailSubj  = i18n.M("Escalated: centre %[1]s has not acknowledged report %[2]s")
	escalatedMailBody  = i18n.M("Centre %[1]s has not acknowledged notification %[2]s of serious adverse event report %[3]s, sent %[4]s. Alert %[5]s is raised.")
	overdueMailSubject = i18n.M("Final report overdue: %s")
	overdueMailBody    = i18n.M("The final report of serious adverse event report %[1]s was due at %[2]s and has not been made. Alert %[3]s is raised for the regulator. Sign in to make the final report.")
	overdueRegMailSubj = i18n.M("Final report overdue: %[1]s (reported by %[2]s)")
	overdueRegMailBody = i18n.M("The final report of serious adverse event report %[1]s, reported by %[2]s, was due at %[3]s and has not been made. Alert %[4]s is raised.")
)

// saeMailLinkTemplate is the link of every vigilance e-mail: the report's
// page, where a centre acknowledges its notification.
const saeMailLinkTemplate = "/transplant/sae/%s"

// QueuedMail names the e-mails the report's notifications queued
// (mail.Queuer).
func (s *SAE) QueuedMail() []string { return s.Mail }

// QueuedMail names the e-mails the escalation queued (mail.Queuer).
func (e *escalation) QueuedMail() []string { return e.Mail }

// recipients are the e-mail recipients of contacts, in the order of ids.
func recipients(contacts map[string]auth.Contact) []mail.Recipient {
	var out []mail.Recipient
	for _, id := range slices.Sorted(maps.Keys(contacts)) {
		c := contacts[id]
		out = append(out, mail.Recipient{Address: c.Email, Language: c.Language})
	}
	return out
}

// enqueue queues one e-mail to each of to, returning their ids (none when
// to is empty).
func (s *Service) enqueue(ctx context.Context, tx *store.Tx, now time.Time, to []mail.Recipient, ref, link string,
	subject i18n.Msg, subjectArgs []string, body i18n.Msg, bodyArgs []string) ([]string, error) {
	if len(to) == 0 {
		return nil, nil
	}
	return mail.Enqueue(ctx, tx, s.MailKey, mail.Message{ID: s.W.IDs().New("ML"), At: now, To: to, Subject: subject, SubjectArgs: subjectArgs,
		Body: body, BodyArgs: bodyArgs, Reference: ref, Link: link})
}

// mailSAE queues the e-mails of an initial report's notifications: one to
// each notified centre that has an address, but the reporting one.
func (s *Service) mailSAE(ctx context.Context, tx *store.Tx, sae *SAE, now time.Time) ([]string, error) {
	var ids []string
	for _, n := range sae.Notifications {
		if n.CentreID != "" && n.CentreID != sae.ReportingAuthorityID {
			ids = append(ids, n.CentreID)
		}
	}
	contacts, err := auth.ContactOf(ctx, tx, ids)
	if err != nil || len(contacts) == 0 {
		return nil, err
	}
	reporter, err := auth.GetAuthority(ctx, tx, sae.ReportingAuthorityID)
	if err != nil {
		return nil, err
	}
	body := saeMailEvent
	if sae.Kind == SAEReaction {
		body = saeMailReact
	}
	hours := fmt.Sprint(int(s.AcknowledgeWithin().Hours()))
	return s.enqueue(ctx, tx, now, recipients(contacts), sae.ReportID, fmt.Sprintf(saeMailLinkTemplate, sae.ID),
		saeMailSubject, []string{sae.ReportID}, body, []string{reporter.Name, sae.ReportID, sae.DetectedAt[:10], sae.DonorID, hours})
}

// mailEscalation queues the e-mails of an escalation: to the authority
// that is late (the centre that has not acknowledged, or the one that has
// not made the final report), and to the regulator's authorities.
func (s *Service) mailEscalation(ctx context.Context, tx *store.Tx, e *escalation, now time.Time) ([]string, error) {
	late, err := auth.ContactOf(ctx, tx, []string{e.AuthorityID})
	if err != nil {
		return nil, err
	}
	regulators, err := auth.ContactsOfKind(ctx, tx, auth.KindRegulator)
	if err != nil {
		return nil, err
	}
	delete(regulators, e.AuthorityID)
	link := fmt.Sprintf(saeMailLinkTemplate, e.SAEID)
	var first, second []string
	if e.NotificationID != "" {
		first, err = s.enqueue(ctx, tx, now, recipients(late), e.ReportID, link, lateMailSubject, []string{e.NotificationID},
			lateMailBody, []string{e.NotificationID, e.ReportID, e.Since, e.AlertID})
		if err == nil {
			second, err = s.enqueue(ctx, tx, now, recipients(regulators), e.ReportID, link, escalatedMailSubj, []string{e.AuthorityID, e.ReportID},
				escalatedMailBody, []string{e.AuthorityID, e.NotificationID, e.ReportID, e.Since, e.AlertID})
		}
	} else {
		first, err = s.enqueue(ctx, tx, now, recipients(late), e.ReportID, link, overdueMailSubject, []string{e.ReportID},
			overdueMailBody, []string{e.ReportID, e.Since, e.AlertID})
		if err == nil {
			second, err = s.enqueue(ctx, tx, now, recipients(regulators), e.ReportID, link, overdueRegMailSubj, []string{e.ReportID, e.AuthorityID},
				overdueRegMailBody, []string{e.ReportID, e.AuthorityID, e.Since, e.AlertID})
		}
	}
	return append(first, second...), err
}
