package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/custos-project/custos/internal/auth"
)

// The principals from the server host: the way back in for an operator
// whose administrator token is lost (init hands it over once and keeps
// only its hash), and the way to revoke a token at once without one.
// Whoever can run custos with the registry's database and key file may
// do anything an administrator may; the log records it as "cli:" and
// the account (hostOperator).
const principalUsage = `Usage: custos principal list [flags]       list the principals: id, role, authority, created, revoked
       custos principal add --name NAME --role ROLE --authority ID [--token-file FILE] [flags]
                                                create a principal and hand its token over once
       custos principal revoke ID [flags]       revoke a principal's token`

func runPrincipal(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, principalUsage)
		return &exitError{2, ""}
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, principalUsage)
		return nil
	case "list":
		return runPrincipalList(ctx, args[1:], stdout, stderr)
	case "add":
		return runPrincipalAdd(ctx, args[1:], stdout, stderr)
	case "revoke":
		return runPrincipalRevoke(ctx, args[1:], stdout, stderr)
	}
	return &exitError{2, fmt.Sprintf("unknown principal command %q; want list, add or revoke", args[0])}
}

func runPrincipalList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("principal list", "[flags]", "list the registry's principals, revoked ones included, never their tokens", stdout)
	var d dbFlags
	d.add(fs, "custos.db")
	if err := parse(fs, args); err != nil {
		return err
	}
	app, err := d.openReadOnly(ctx, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	ps, err := auth.ListPrincipals(ctx, app.DB.Read())
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tAUTHORITY\tCREATED\tREVOKED\tNAME")
	for _, p := range ps {
		revoked := p.RevokedAt
		if revoked == "" {
			revoked = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s (%s)\t%s\t%s\t%s\n", p.ID, p.Role, p.AuthorityID, p.Authority, p.CreatedAt, revoked, p.Name)
	}
	return tw.Flush()
}

func runPrincipalAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("principal add", "--name NAME --role ROLE --authority ID [--token-file FILE] [flags]",
		"create a principal as the operator on the server host (a log entry by \"cli\"), such as a new administrator when the token init gave is lost, and hand its token over once", stdout)
	var d dbFlags
	d.add(fs, "custos.db")
	name := fs.String("name", "", "the principal's name, as the People page shows it")
	role := fs.String("role", "", "its role: admin, regulator, auditor, coordinator, ... (a role of the authority's kind)")
	authority := fs.String("authority", "", "the id of its authority (custos principal list shows the administrators'; init made the registry's own, AU-...)")
	tokenFile := fs.String("token-file", "", "write the token to this file (mode 0600; an existing file is refused) instead of printing it")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *name == "" || *role == "" || *authority == "" {
		return &exitError{2, "give --name, --role and --authority"}
	}
	if err := checkTokenFile(*tokenFile, "--token-file"); err != nil {
		return err
	}
	app, err := d.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	p, err := app.Authorities.CreatePrincipal(ctx, hostOperator(auth.Admin, ""), auth.NewPrincipal{Name: *name, Role: auth.Role(*role), AuthorityID: *authority})
	if err != nil {
		return err
	}
	what := fmt.Sprintf("created principal %s (%s of %s)", p.ID, p.Role, p.AuthorityID)
	return handOverToken(stdout, p.Token, *tokenFile, what, "token")
}

func runPrincipalRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("principal revoke", "ID [flags]", "revoke a principal's token as the operator on the server host (a log entry by \"cli\"): it signs in no more, in the API and every browser", stdout)
	d, pos, err := parseDB(fs, args, 1, "give the principal's id (custos principal list shows them)")
	if err != nil {
		return err
	}
	app, err := d.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	id := strings.TrimSpace(pos[0])
	if err := app.Authorities.RevokePrincipal(ctx, hostOperator(auth.Admin, ""), id); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "revoked principal %s: its token signs in no more\n", id)
	return nil
}

// checkTokenFile refuses a token file that exists, before anything is
// made: a token is handed over once and never overwrites another.
func checkTokenFile(path, flag string) error {
	if path == "" {
		return nil
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s already exists; remove it or choose another %s", path, flag)
	}
	return nil
}

// handOverToken writes a new token to file (mode 0600, never over another
// file), or prints it once when no file is given, after the line that says
// what was made; noun names the token.
func handOverToken(stdout io.Writer, token, file, what, noun string) error {
	if file == "" {
		fmt.Fprintf(stdout, "%s\n%s (shown once, keep it safe):\n%s\n", what, noun, token)
		return nil
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write the token: %w", err)
	}
	if _, err := f.WriteString(token + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("write the token: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write the token: %w", err)
	}
	fmt.Fprintf(stdout, "%s; the %s is in %s\n", what, noun, file)
	return nil
}
