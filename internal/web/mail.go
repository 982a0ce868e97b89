package web

import (
	"embed"
	"net/http"
	"net/url"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/mail"
)

// ---- E-mail: the outbox, for administrators ----

//go:embed templates/mail/*.html
var mailFS embed.FS

type mailPages struct{ svc *mail.Service }

// mailLabels are the outbox's states as the page shows them.
var mailLabels = map[string]string{mail.Pending: i18n.M("Pending"), mail.Sent: i18n.M("Accepted by the server"), mail.Failed: i18n.M("Failed")}

// Mail returns the page of the e-mail outbox: the e-mails the registry
// queued, newest first, filtered by state and paged like every list, with
// each one's attempts and the SMTP server's last answer; and a form that
// sends a test e-mail at once, to check the server's settings.
// Administrators see it (docs/operations.md#e-mail).
func Mail(svc *mail.Service) Section {
	m := &mailPages{svc: svc}
	return Section{
		Name:  "mail",
		Title: "custos",
		Nav: func(p *auth.Principal) []Link {
			if !p.Can(mail.Administer) {
				return nil
			}
			return []Link{{Href: "/mail/outbox", Label: i18n.M("E-mail")}}
		},
		Pages:     []Page{get("/outbox", m.outbox).Allowed(mail.Administer), post("/test", m.test).Allowed(mail.Administer)},
		Templates: subFS(mailFS, "templates/mail"),
		Labels:    mailLabels,
	}
}

type mailData struct {
	Items    []mail.Item
	States   []Option
	Filtered bool
	NextPage string
	Server   string // the SMTP server, empty when none is configured
	// Missing are e-mails the log says were queued that the outbox lacks
	// (deleted behind custos's back), of MissingCount.
	Missing      []string
	MissingCount int
}

func (m *mailPages) outbox(w http.ResponseWriter, r *http.Request, s *Session) { m.show(w, r, s, nil) }

func (m *mailPages) show(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	q := r.URL.Query()
	done := s.Notice(r).Get("done")
	q.Del(noticeParam)
	var fref *Refusal
	f, err := mail.FilterOf(q)
	if err != nil {
		fref = &Refusal{Form: "filter", Values: q, Err: err}
	}
	v := s.View(r, "E-mail outbox")
	items, err := listed(r, s, v, &ref, f, fref, mail.Filter{}, m.svc.Outbox)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	if done == "test" && r.Method == http.MethodGet {
		v.Flash = s.T("The SMTP server accepted the test e-mail.")
	}
	missing, n, err := m.svc.MissingOf(r.Context(), s.P)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	v.Data = &mailData{Items: items.Items, States: optionsOf(mailLabels, mail.States), Filtered: ref == nil && f.State != "",
		NextPage: nextPage(r, items.Next), Server: m.svc.Cfg.Addr, Missing: missing, MissingCount: n}
	s.Show(w, r, "outbox", v, ref)
}

func (m *mailPages) test(w http.ResponseWriter, r *http.Request, s *Session) {
	if err := m.svc.SendTest(r.Context(), s.P, r.PostForm.Get("to")); err != nil {
		m.show(w, r, s, &Refusal{Form: "test", Values: r.PostForm, Err: err})
		return
	}
	s.RedirectDone(w, r, "/mail/outbox", url.Values{"done": {"test"}})
}
