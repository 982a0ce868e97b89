package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/mail"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
)

// mailFlags configure how a server sends e-mail; custos mail test takes
// the same but the delivery schedule, to check them. The password is never
// a flag: command lines are visible to every user of the machine and land
// in shell histories.
type mailFlags struct {
	addr, tls, user, passwordFile, from, ca, baseURL, language string
	retryBase, retryMax, giveUp                                time.Duration
	// schedule tells that the delivery schedule's flags are declared
	// (addSchedule).
	schedule bool
}

// add declares the flags of the SMTP server and of the e-mails written,
// which custos serve and custos mail test take.
func (m *mailFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&m.addr, "smtp-addr", os.Getenv("CUSTOS_SMTP_ADDR"), "e-mail: the SMTP server, host:port (env CUSTOS_SMTP_ADDR); none: e-mails wait in the outbox")
	fs.StringVar(&m.tls, "smtp-tls", mail.StartTLS, "e-mail: "+strings.Join(mail.TLSModes, ", ")+" (STARTTLS required, STARTTLS when offered, clear, TLS from the first byte)")
	fs.StringVar(&m.user, "smtp-user", os.Getenv("CUSTOS_SMTP_USER"), "e-mail: the SMTP user name (env CUSTOS_SMTP_USER); the password from --smtp-password-file or CUSTOS_SMTP_PASSWORD")
	fs.StringVar(&m.passwordFile, "smtp-password-file", "", "e-mail: a file (mode 0600) holding the SMTP password")
	fs.StringVar(&m.from, "smtp-from", os.Getenv("CUSTOS_SMTP_FROM"), "e-mail: the sender's address (env CUSTOS_SMTP_FROM)")
	fs.StringVar(&m.ca, "smtp-ca", "", "e-mail: PEM file of the certificates that may sign the SMTP server's (default: the system's)")
	fs.StringVar(&m.baseURL, "mail-base-url", os.Getenv("CUSTOS_BASE_URL"), "e-mail: the web UI's address as readers reach it, https://host, written before each e-mail's link (env CUSTOS_BASE_URL)")
	fs.StringVar(&m.language, "mail-language", i18n.Default, "e-mail: the language of e-mails to recipients who chose none ("+strings.Join(i18n.CoreOnly().Codes(), ", ")+")")
}

// addSchedule declares the flags of the outbox's delivery schedule: custos
// serve's, not mail test's, which sends one e-mail once, at once.
func (m *mailFlags) addSchedule(fs *flag.FlagSet) {
	m.schedule = true
	fs.DurationVar(&m.retryBase, "mail-retry", mail.DefaultRetryBase, "e-mail: wait after a first failed attempt, doubled at each failure")
	fs.DurationVar(&m.retryMax, "mail-retry-max", mail.DefaultRetryMax, "e-mail: longest wait between attempts")
	fs.DurationVar(&m.giveUp, "mail-give-up", mail.DefaultMaxAge, "e-mail: mark an e-mail failed when still not accepted this long after it was queued")
}

// config checks the flags and reads the password and the CA.
func (m *mailFlags) config() (mail.Config, error) {
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"mail-retry", m.retryBase}, {"mail-retry-max", m.retryMax}, {"mail-give-up", m.giveUp}} {
		if m.schedule && f.v <= 0 {
			return mail.Config{}, &exitError{2, fmt.Sprintf("--%s must be positive", f.name)}
		}
	}
	if !slices.Contains(i18n.CoreOnly().Codes(), m.language) {
		return mail.Config{}, &exitError{2, fmt.Sprintf("--mail-language must be one of %s, not %q", strings.Join(i18n.CoreOnly().Codes(), ", "), m.language)}
	}
	c := mail.Config{Addr: m.addr, TLS: m.tls, User: m.user, From: m.from, BaseURL: m.baseURL, Language: m.language,
		RetryBase: m.retryBase, RetryMax: m.retryMax, MaxAge: m.giveUp}
	c.Password = os.Getenv("CUSTOS_SMTP_PASSWORD")
	if m.passwordFile != "" {
		b, err := os.ReadFile(m.passwordFile)
		if err != nil {
			return mail.Config{}, fmt.Errorf("--smtp-password-file: %w", err)
		}
		c.Password = strings.TrimRight(string(b), "\r\n")
	}
	if m.ca != "" {
		pool, err := mail.LoadCA(m.ca)
		if err != nil {
			return mail.Config{}, fmt.Errorf("--smtp-ca: %w", err)
		}
		c.RootCAs = pool
	}
	if err := c.Check(); err != nil {
		return mail.Config{}, &exitError{2, err.Error()}
	}
	return c, nil
}

func (m *mailFlags) apply(cfg *server.Config) error {
	c, err := m.config()
	cfg.Mail = c
	return err
}

const mailUsage = `Usage: custos mail test --to ADDRESS|--from-file FILE [flags]
                                                send a test e-mail now with the --smtp-* settings
       custos mail outbox [--state S] [flags]   list the e-mail outbox, newest first
       custos mail contact --authority ID --email ADDRESS [--language L] [flags]
                                                set the address an authority's notifications are e-mailed to
       custos mail contact --authority ID --remove [flags]
                                                notify the authority in the web UI only`

func runMail(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, mailUsage)
		return &exitError{2, ""}
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, mailUsage)
		return nil
	case "test":
		return runMailTest(ctx, args[1:], stdout, stderr)
	case "outbox":
		return runMailOutbox(ctx, args[1:], stdout)
	case "contact":
		return runMailContact(ctx, args[1:], stdout, stderr)
	}
	return &exitError{2, fmt.Sprintf("unknown mail command %q; want test, outbox or contact", args[0])}
}

func runMailTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("mail test", "--to ADDRESS|--from-file FILE [flags]", "send a test e-mail at once with the e-mail settings of custos serve, and say what the SMTP server answered", stdout)
	var in struct {
		To string `json:"to"`
	}
	fs.StringVar(&in.To, "to", "", "the address to send the test e-mail to (it may name a person: as a flag it is seen in the process list and the shell's history; prefer --from-file)")
	var from fromFile
	from.add(fs, "to")
	var m mailFlags
	m.add(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := from.read(fs, &in); err != nil {
		return err
	}
	if in.To == "" {
		return &exitError{2, "give --to (or --from-file), the address to send the test e-mail to"}
	}
	cfg, err := m.config()
	if err != nil {
		return err
	}
	if !cfg.Enabled() {
		return &exitError{2, "give --smtp-addr, the SMTP server to send through"}
	}
	s := mail.New(nil, cfg, i18n.CoreOnly(), logger(stderr, false))
	if err := s.Test(ctx, in.To, ""); err != nil {
		return fmt.Errorf("the test e-mail was not sent: %w", err)
	}
	fmt.Fprintf(stdout, "the SMTP server %s accepted the test e-mail to %s\n", cfg.Addr, in.To)
	return nil
}

func runMailOutbox(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flags("mail outbox", "[flags]", "list the e-mail outbox, newest first: pending e-mails and their next attempt, failed ones and the server's last reply, sent ones; one changed in the database behind custos's back (its MAC, checked with the key file, does not match) is marked TAMPERED, one the log says was queued and the outbox lacks is named on a MISSING line, and either makes it exit 1", stdout)
	var d dbFlags
	d.add(fs, "custos.db")
	state := fs.String("state", "", "only e-mails in this state: "+strings.Join(mail.States, ", "))
	limit := fs.String("limit", "", "e-mails per page (default 100, at most 500)")
	cursor := fs.String("cursor", "", "the page after the one that printed this cursor")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := d.existing(); err != nil {
		return err
	}
	q := url.Values{}
	for name, v := range map[string]string{"state": *state, "limit": *limit, "cursor": *cursor} {
		if v != "" {
			q.Set(name, v)
		}
	}
	f, err := mail.FilterOf(q)
	if err != nil {
		return err
	}
	db, err := store.OpenReadOnly(ctx, d.db)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := server.CheckInitialised(ctx, db, d.db); err != nil {
		return err
	}
	// Each e-mail is checked against its MAC, which only the key file's
	// master key makes: one changed in the database is marked tampered.
	keys, err := server.RegistryKeys(ctx, db, server.Config{DSN: d.db, KeyFile: d.keyFile})
	if err != nil {
		return err
	}
	p, err := mail.List(ctx, db.Read(), keys.Derive(mail.KeyLabel), f)
	if err != nil {
		return err
	}
	tampered := 0
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tQUEUED\tSTATE\tATTEMPTS\tTO\tREFERENCE\tSENT OR NEXT ATTEMPT\tLAST ERROR")
	for _, i := range p.Items {
		when := i.SentAt
		if i.State == mail.Pending {
			when = i.NextAttemptAt
		}
		state := i.State
		if i.Tampered {
			state = "TAMPERED (says " + i.State + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", i.ID, i.CreatedAt, state, i.Attempts, i.Address, i.Reference, when, i.LastError)
		if i.Tampered {
			tampered++
		}
	}
	tw.Flush()
	if p.Next != "" {
		fmt.Fprintf(stdout, "next page: --cursor %s\n", p.Next)
	}
	// The e-mails the log says were queued that the outbox lacks: deleted
	// behind custos's back (log verify names them too).
	missing, n, err := mail.Missing(ctx, db.Read(), 100)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(stdout, "MISSING: %d e-mail(s) the log says were queued are not in the outbox (deleted in the database behind custos's back: not sent, or nothing shows they were): %s\n",
			n, strings.Join(missing, " "))
	}
	// The list is printed whole; the exit status tells a script (a
	// cron job, a monitoring check) that the outbox is not what the log
	// says, as log verify's does.
	if tampered > 0 || n > 0 {
		return &exitError{1, fmt.Sprintf("the outbox does not match the log: %d e-mail(s) listed TAMPERED on this page, %d MISSING; custos log verify names them", tampered, n)}
	}
	return nil
}

func runMailContact(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("mail contact", "--authority ID (--email ADDRESS [--language L] | --remove) [flags]",
		"set the functional address an authority's notifications are e-mailed to (a log entry by the operator, \"cli\")", stdout)
	var d dbFlags
	d.add(fs, "custos.db")
	id := fs.String("authority", "", "the authority's id")
	email := fs.String("email", "", "the address, such as vigilance@centre.example: a desk's, not a person's")
	language := fs.String("language", "", "the language of its e-mails (default: the registry's, --mail-language of custos serve)")
	remove := fs.Bool("remove", false, "remove the address: the authority is notified in the web UI only")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *id == "" || (*email == "") == !*remove {
		return &exitError{2, "give --authority ID and either --email ADDRESS or --remove"}
	}
	app, err := d.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	// The operator on the server host acts as an administrator.
	op := hostOperator(auth.Admin, "")
	a, err := app.Authorities.SetContact(ctx, op, *id, auth.Contact{Email: *email, Language: *language})
	if err != nil {
		return err
	}
	if a.NotifyEmail == "" {
		fmt.Fprintf(stdout, "authority %s (%s) has no notification e-mail: it is notified in the web UI only\n", a.ID, a.Name)
		return nil
	}
	lang := a.NotifyLanguage
	if lang == "" {
		lang = "the registry's (--mail-language)"
	}
	fmt.Fprintf(stdout, "authority %s (%s) is notified at %s; language: %s\n", a.ID, a.Name, a.NotifyEmail, lang)
	return nil
}
