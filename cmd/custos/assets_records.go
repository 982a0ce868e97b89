package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/auth"
)

const assetsRecordsUsage = `Usage: custos assets directory|persons|assets|rates COMMAND [flags]

The directory, a case's persons and assets, and the exchange rates, as the principal whose
token is given (--token or CUSTOS_TOKEN), with the API's rules and refusals:

  directory list [--state XB] [--kind K] [--basis B] [--q TEXT]
  directory import FILE [--source NAME]       a directory CSV: every entry, or nothing and every refused line
  persons list [--state XA] [--kind K] [--role R] [--q TEXT]
  persons add CASE_ID --kind natural|legal --role R --country XA --name N
                 [--birth-date YYYY-MM-DD] [--document D] [--registration R]
                                              a natural person's name, birth date and document are sealed
  persons add CASE_ID --kind natural --role R --country XA --from-file FILE|-
                                              the same, the fields read from a file or standard input
                                              ({"name": ..., "birth_date": ..., "document": ...}): out of
                                              the process list and the shell's history, unlike flags
  persons open PERSON_ID --purpose TEXT       open a natural person's sealed data; the read is logged
  assets add CASE_ID --type T --jurisdiction XB --description D --value 123.45 --currency EUR
                 --identified-on YYYY-MM-DD --instrument TEXT --authority TEXT [--holder PERSON_ID]
                                              (--from-file FILE|- too, the API's field names)
  rates list
  rates add --currency EUR --to USD --year 2025 --rate 1.0821 --source TEXT

The lists open the registry read-only. See docs/assets.md.`

// assetsCommand is one of these commands: its positional arguments, its
// flags and what it does as p. A command that only reads (lists, a case
// file, a request's completeness) opens the registry read-only.
type assetsCommand struct {
	args     []string
	flags    func(fs *flag.FlagSet)
	run      func(ctx context.Context, s *assets.Service, p *auth.Principal, pos []string, stdout io.Writer) error
	readOnly bool
	// body, when set, is what --from-file fills (the object the flags
	// fill), and fields the JSON names it takes: a command whose fields
	// may hold personal data (a name, the facts of a case, a note) takes
	// them from a file or standard input, out of the process list and the
	// shell's history.
	body   any
	fields string
}

// runAssetsCommand parses the flags of one of cmds (the first argument
// names it) and runs it as the principal of --token.
func runAssetsCommand(ctx context.Context, group, usage string, cmds map[string]assetsCommand, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(stdout, usage)
		return nil
	}
	if len(args) == 0 {
		return &exitError{2, usage}
	}
	c, ok := cmds[args[0]]
	if !ok {
		return &exitError{2, fmt.Sprintf("unknown assets %s command %q\n\n%s", group, args[0], usage)}
	}
	fs := flags("assets "+group+" "+args[0], strings.Join(c.args, " ")+" [flags]", "asset recovery: "+group, stdout)
	token := fs.String("token", os.Getenv("CUSTOS_TOKEN"), "the acting principal's token (env CUSTOS_TOKEN)")
	if c.flags != nil {
		c.flags(fs)
	}
	var from fromFile
	if c.body != nil {
		from.add(fs, c.fields)
	}
	d, pos, err := parseDB(fs, args[1:], len(c.args), fmt.Sprintf("give %s", strings.Join(c.args, " and ")))
	if err != nil {
		return err
	}
	if err := from.read(fs, c.body); err != nil {
		return err
	}
	app, s, p, err := assetsActor(ctx, d, *token, stderr, c.readOnly)
	if err != nil {
		return err
	}
	defer app.Close()
	return c.run(ctx, s, p, pos, stdout)
}

func runAssetsDirectory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f assets.DirectoryFilter
	var source string
	return runAssetsCommand(ctx, "directory", assetsRecordsUsage, map[string]assetsCommand{
		"list": {readOnly: true, flags: func(fs *flag.FlagSet) {
			fs.StringVar(&f.State, "state", "", "the state (ISO 3166-1 alpha-2)")
			fs.StringVar(&f.Kind, "kind", "", "the kind of entry: "+strings.Join(assets.EntryKinds, ", "))
			fs.StringVar(&f.Basis, "basis", "", "a legal basis: "+strings.Join(assets.LegalBases, ", "))
			fs.StringVar(&f.Q, "q", "", "text of its name, treaty or notes")
		}, run: func(ctx context.Context, s *assets.Service, p *auth.Principal, _ []string, stdout io.Writer) error {
			es, err := s.Directory(ctx, p, f)
			if err != nil {
				return err
			}
			for _, e := range es {
				fmt.Fprintf(stdout, "%-14s %-2s %-26s %-30s %s %s\n", e.ID, e.State, e.Kind, strings.Join(e.LegalBases, ","), strings.Join(e.Languages, ","), e.Name)
			}
			fmt.Fprintf(stdout, "%d entr(y/ies)\n", len(es))
			return nil
		}},
		"import": {args: []string{"FILE"}, flags: func(fs *flag.FlagSet) {
			fs.StringVar(&source, "source", "", "the file's source, recorded with its entries (default: the file's name)")
		}, run: func(ctx context.Context, s *assets.Service, p *auth.Principal, pos []string, stdout io.Writer) error {
			file, err := os.Open(pos[0])
			if err != nil {
				return err
			}
			defer file.Close()
			if source == "" {
				source = filepath.Base(pos[0])
			}
			im, err := s.ImportDirectory(ctx, p, source, file)
			if im != nil {
				for _, l := range im.Refused {
					fmt.Fprintf(stdout, "line %d: %s: %s (field %s)\n", l.Line, l.Rule, l.Message, l.Field)
				}
			}
			if err != nil {
				return err
			}
			for _, e := range im.Entries {
				fmt.Fprintf(stdout, "%-14s %-2s %-26s %s\n", e.ID, e.State, e.Kind, e.Name)
			}
			fmt.Fprintf(stdout, "recorded %d entr(y/ies)\n", im.Recorded)
			return nil
		}},
	}, args, stdout, stderr)
}

func runAssetsPersons(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var in assets.NewPerson
	var f assets.PersonFilter
	var purpose string
	return runAssetsCommand(ctx, "persons", assetsRecordsUsage, map[string]assetsCommand{
		"list": {readOnly: true, flags: func(fs *flag.FlagSet) {
			fs.StringVar(&f.State, "state", "", "the state of the cases (regulator and auditor only; others see their own)")
			fs.StringVar(&f.Kind, "kind", "", "natural or legal")
			fs.StringVar(&f.Role, "role", "", "the role in the case: "+strings.Join(assets.PersonRoles, ", "))
			fs.StringVar(&f.Q, "q", "", "text of a legal person's name or registration, or of an id (a natural person's name is sealed)")
		}, run: func(ctx context.Context, s *assets.Service, p *auth.Principal, _ []string, stdout io.Writer) error {
			ps, err := s.Persons(ctx, p, f)
			if err != nil {
				return err
			}
			for _, x := range ps {
				name := x.Name + " " + x.Registration
				if x.Sealed {
					name = "(personal data sealed)"
				}
				fmt.Fprintf(stdout, "%-14s %-14s %-7s %-11s %-2s %s\n", x.ID, x.CaseID, x.Kind, x.Role, x.Country, strings.TrimSpace(name))
			}
			fmt.Fprintf(stdout, "%d person(s)\n", len(ps))
			return nil
		}},
		"add": {args: []string{"CASE_ID"}, flags: func(fs *flag.FlagSet) {
			fs.StringVar(&in.Kind, "kind", "", "natural or legal")
			fs.StringVar(&in.Role, "role", "", "the role in the case: "+strings.Join(assets.PersonRoles, ", "))
			fs.StringVar(&in.Country, "country", "", "the country (ISO 3166-1 alpha-2)")
			fs.StringVar(&in.Name, "name", "", "the name (a natural person's is sealed; as a flag it is seen in the process list and the shell's history: prefer --from-file)")
			fs.StringVar(&in.BirthDate, "birth-date", "", "a natural person's birth date (YYYY-MM-DD; sealed; prefer --from-file)")
			fs.StringVar(&in.Document, "document", "", "a natural person's identity document (sealed; prefer --from-file)")
			fs.StringVar(&in.Registration, "registration", "", "a legal person's registration number")
		}, body: &in, fields: "kind, role, country, name, birth_date, document, registration", run: func(ctx context.Context, s *assets.Service, p *auth.Principal, pos []string, stdout io.Writer) error {
			x, err := s.AddPerson(ctx, p, pos[0], in)
			if err != nil {
				return err
			}
			return writeJSON(stdout, x)
		}},
		"open": {args: []string{"PERSON_ID"}, flags: func(fs *flag.FlagSet) {
			fs.StringVar(&purpose, "purpose", "", "why the sealed data is opened (logged)")
		}, run: func(ctx context.Context, s *assets.Service, p *auth.Principal, pos []string, stdout io.Writer) error {
			np, err := s.OpenPerson(ctx, p, pos[0], purpose)
			if err != nil {
				return err
			}
			return writeJSON(stdout, np)
		}},
	}, args, stdout, stderr)
}

func runAssetsAssets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var in assets.NewAsset
	return runAssetsCommand(ctx, "assets", assetsRecordsUsage, map[string]assetsCommand{
		"add": {args: []string{"CASE_ID"}, flags: func(fs *flag.FlagSet) {
			fs.StringVar(&in.Type, "type", "", "the type: "+strings.Join(assets.AssetTypes, ", "))
			fs.StringVar(&in.Jurisdiction, "jurisdiction", "", "where it is (ISO 3166-1 alpha-2)")
			fs.StringVar(&in.Description, "description", "", "what it is")
			fs.StringVar(&in.Value, "value", "", "its estimated value, an exact decimal")
			fs.StringVar(&in.Currency, "currency", "", "ISO 4217 currency code")
			fs.StringVar(&in.HolderID, "holder", "", "the person of the case who holds it (RP-...)")
			fs.StringVar(&in.IdentifiedOn, "identified-on", "", "the day it was identified (YYYY-MM-DD)")
			fs.StringVar(&in.Instrument, "instrument", "", "the legal instrument it was identified by")
			fs.StringVar(&in.Authority, "authority", "", "the authority that identified it")
		}, body: &in, fields: "type, jurisdiction, description, value, currency, holder_id, identified_on, instrument, authority", run: func(ctx context.Context, s *assets.Service, p *auth.Principal, pos []string, stdout io.Writer) error {
			a, err := s.IdentifyAsset(ctx, p, pos[0], in)
			if err != nil {
				return err
			}
			return writeJSON(stdout, a)
		}},
	}, args, stdout, stderr)
}

func runAssetsRates(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var in assets.Rate
	return runAssetsCommand(ctx, "rates", assetsRecordsUsage, map[string]assetsCommand{
		"list": {readOnly: true, run: func(ctx context.Context, s *assets.Service, p *auth.Principal, _ []string, stdout io.Writer) error {
			rs, err := s.Rates(ctx, p)
			if err != nil {
				return err
			}
			for _, r := range rs {
				fmt.Fprintf(stdout, "%d %s->%s %s %s\n", r.Year, r.Currency, r.To, r.Rate, r.Source)
			}
			fmt.Fprintf(stdout, "%d rate(s)\n", len(rs))
			return nil
		}},
		"add": {flags: func(fs *flag.FlagSet) {
			fs.StringVar(&in.Currency, "currency", "", "the currency converted (ISO 4217)")
			fs.StringVar(&in.To, "to", "", "the currency it is converted to (ISO 4217)")
			fs.IntVar(&in.Year, "year", 0, "the year the rate is of")
			fs.StringVar(&in.Rate, "rate", "", "units of --to per unit of --currency, an exact decimal")
			fs.StringVar(&in.Source, "source", "", "where the rate comes from (a central bank, the IMF)")
		}, run: func(ctx context.Context, s *assets.Service, p *auth.Principal, _ []string, stdout io.Writer) error {
			r, err := s.RecordRate(ctx, p, in)
			if err != nil {
				return err
			}
			return writeJSON(stdout, r)
		}},
	}, args, stdout, stderr)
}
