package httpapi

import (
	"net/http"
	"reflect"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/mail"
	"github.com/custos-project/custos/internal/page"
)

// MailOutbox is a page of the e-mail outbox as the API answers it: the
// e-mails, the link to the next page, and, whatever the page, the e-mails
// the log says were queued that the outbox lacks (up to 100, of
// MissingCount), as custos mail outbox and the web page report them.
type MailOutbox struct {
	Emails       []mail.Item `json:"emails"`
	Next         string      `json:"next,omitempty"`
	Missing      []string    `json:"missing"`
	MissingCount int         `json:"missing_count"`
}

// Mail lists the routes of the e-mail outbox: its list, for the
// administrators who see it in the web UI and on the host (mail.Administer).
// It holds the addresses of the authorities' notification contacts, which
// the administrator sets: no other role reads it, and it has no export
// (docs/operations.md#e-mail).
func Mail(s *mail.Service) []Route {
	states := []Enum{{Type: reflect.TypeFor[mail.Item](), Field: "State", Values: mail.States}}
	return []Route{
		{Method: "GET", Path: "/api/v1/mail/outbox", Allow: []auth.Action{mail.Administer}, Out: MailOutbox{}, Enums: states,
			Summary: "The e-mail outbox, newest first, a page at a time (query state, limit, cursor): each e-mail's address, reference, state, attempts and the SMTP server's last answer, " +
				"tampered when its row is not as custos wrote it; and the e-mails the log says were queued that the outbox lacks (admin)",
			Query: pageQuery(page.Lists, []string{"state"}, map[string]Param{"state": {Doc: "only the e-mails in this state", Values: mail.States}}),
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				f, err := mail.FilterOf(r.URL.Query())
				if err != nil {
					return 0, nil, err
				}
				list, err := s.Outbox(r.Context(), p, f)
				if err != nil {
					return 0, nil, err
				}
				missing, n, err := s.MissingOf(r.Context(), p)
				if err != nil {
					return 0, nil, err
				}
				out := MailOutbox{Emails: list.Items, Missing: missing, MissingCount: n}
				if out.Missing == nil {
					out.Missing = []string{}
				}
				if list.Next != "" {
					out.Next = page.Next(r.URL.Path, r.URL.Query(), list.Next)
				}
				return http.StatusOK, out, nil
			}},
	}
}
