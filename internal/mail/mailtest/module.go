package mailtest

import (
	"context"
	"time"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/mail"
	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
)

// TypeNotified is the entry of Module's one command: e-mails queued.
const TypeNotified = "mailtest.notified"

// Notified is the data of TypeNotified: the e-mails the command queued.
type Notified struct {
	Mail []string `json:"mail"`
}

// QueuedMail names the e-mails the command queued (mail.Queuer).
func (n *Notified) QueuedMail() []string { return n.Mail }

// Module is a registry made for the tests of e-mail: no tables, and one
// command (Notify) that queues e-mails the way a module that notifies by
// e-mail does, so that its e-mails are committed in the log as the
// transplant registry's are and log verify passes on them.
var Module = server.Registry{Module: module.Module{
	Name:  "mailtest",
	Title: "E-mail test registry",
	Project: func(p *ledger.Projections) {
		ledger.On(p, TypeNotified, func(context.Context, store.Queryer, int64, *ledger.Entry, *Notified) error { return nil })
	},
}}

// Modules is the default deployment with Module, for server.Config.Modules.
func Modules() []server.Registry { return append(server.DefaultModules(), Module) }

// Notify queues m's e-mails in a command of Module as actor, as a module
// does: Enqueue in the command's Decide, under the outbox's key, at the
// command's time unless m.At is set, and their ids in its entry. It
// returns the ids, or Enqueue's refusal.
func Notify(ctx context.Context, app *server.App, actor ledger.Actor, m mail.Message) ([]string, error) {
	n, err := ledger.SubmitAs[Notified](ctx, app.Writer, actor, "notify by e-mail", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if m.At.IsZero() {
			m.At = now
		}
		ids, err := mail.Enqueue(ctx, tx, app.Mail.Key, m)
		if err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeNotified, Notified{Mail: ids})
	})
	if err != nil {
		return nil, err
	}
	return n.Mail, nil
}
