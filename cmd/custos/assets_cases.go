package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/server"
)

const assetsCasesUsage = `Usage: custos assets cases list|show|add [flags]
       custos assets measures record ASSET_ID [flags]

Asset-recovery cases and the measure ledger, as the principal whose token is given
(--token or CUSTOS_TOKEN: a prosecutor or a central authority officer records its own state's
cases; the regulator and the auditor read every state's), with the API's rules and refusals:

  cases list [--state XA] [--kind K] [--iccs CODE] [--status STEP] [--q TEXT]
  cases show CASE_ID                   the case with its persons, links, assets and measures (JSON)
  cases add --reference R --title T --kind domestic|incoming|outgoing --offences 0703,0704 --opened-on YYYY-MM-DD
  cases link CASE_ID OTHER_ID --reason TEXT   link two cases, both ways
  measures record ASSET_ID --step frozen|seized|confiscated|returned|disposed|released --decided-on YYYY-MM-DD
                 --instrument TEXT --amount 123.45 --currency EUR --authority TEXT
                 [--confiscation criminal|non_conviction_based|civil] [--returned-to XB] [--notes TEXT]

cases add, cases link and measures record take --from-file FILE|- too: their fields as one JSON
object with the API's names, read from a file or standard input, so that a title, a reason or
notes naming persons stay out of the process list and the shell's history.

cases list and cases show open the registry read-only. See docs/assets.md.`

// assetsActor opens the registry (read-only for a command that only
// reads) and authenticates the acting principal.
func assetsActor(ctx context.Context, d dbFlags, token string, stderr io.Writer, readOnly bool) (*server.App, *assets.Service, *auth.Principal, error) {
	if token == "" {
		return nil, nil, nil, &exitError{2, "give --token (or CUSTOS_TOKEN): the principal who acts"}
	}
	app, s, err := openAssets(ctx, d, stderr, readOnly)
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := auth.Authenticate(ctx, app.DB.Read(), token)
	if err != nil {
		app.Close()
		return nil, nil, nil, err
	}
	return app, s, p, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func runAssetsCases(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f assets.CaseFilter
	var in assets.NewCase
	var offences string
	var link struct {
		Reason string `json:"reason"`
	}
	return runAssetsCommand(ctx, "cases", assetsCasesUsage, map[string]assetsCommand{
		"list": {readOnly: true, flags: func(fs *flag.FlagSet) {
			fs.StringVar(&f.State, "state", "", "the state (regulator and auditor only; others see their own)")
			fs.StringVar(&f.Kind, "kind", "", "domestic, incoming or outgoing")
			fs.StringVar(&f.ICCS, "iccs", "", "an ICCS offence code")
			fs.StringVar(&f.Status, "status", "", "cases with an asset at this step")
			fs.StringVar(&f.Q, "q", "", "text in the reference or title")
		}, run: func(ctx context.Context, s *assets.Service, p *auth.Principal, _ []string, stdout io.Writer) error {
			cs, err := s.Cases(ctx, p, f)
			if err != nil {
				return err
			}
			for _, c := range cs {
				fmt.Fprintf(stdout, "%-14s %-2s %-9s %-10s %-20s %s\n", c.ID, c.State, c.Kind, c.OpenedOn, c.Reference, c.Title)
			}
			fmt.Fprintf(stdout, "%d case(s)\n", len(cs))
			return nil
		}},
		"show": {readOnly: true, args: []string{"CASE_ID"}, run: func(ctx context.Context, s *assets.Service, p *auth.Principal, pos []string, stdout io.Writer) error {
			cf, err := s.CaseFile(ctx, p, pos[0])
			if err != nil {
				return err
			}
			return writeJSON(stdout, cf)
		}},
		"add": {flags: func(fs *flag.FlagSet) {
			fs.StringVar(&in.Reference, "reference", "", "the case's reference")
			fs.StringVar(&in.Title, "title", "", "the case's title")
			fs.StringVar(&in.Kind, "kind", "", "domestic, incoming or outgoing")
			fs.StringVar(&offences, "offences", "", "ICCS codes, comma-separated")
			fs.StringVar(&in.OpenedOn, "opened-on", "", "the date the case was opened (YYYY-MM-DD)")
		}, body: &in, fields: "reference, title, kind, offences, opened_on", run: func(ctx context.Context, s *assets.Service, p *auth.Principal, _ []string, stdout io.Writer) error {
			if offences != "" || in.Offences == nil {
				in.Offences = names(offences)
			}
			c, err := s.OpenCase(ctx, p, in)
			if err != nil {
				return err
			}
			return writeJSON(stdout, c)
		}},
		"link": {args: []string{"CASE_ID", "OTHER_ID"}, flags: func(fs *flag.FlagSet) {
			fs.StringVar(&link.Reason, "reason", "", "why the cases are linked")
		}, body: &link, fields: "reason", run: func(ctx context.Context, s *assets.Service, p *auth.Principal, pos []string, stdout io.Writer) error {
			l, err := s.LinkCases(ctx, p, pos[0], pos[1], link.Reason)
			if err != nil {
				return err
			}
			return writeJSON(stdout, l)
		}},
	}, args, stdout, stderr)
}

func runAssetsMeasures(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var m assets.NewMeasure
	return runAssetsCommand(ctx, "measures", assetsCasesUsage, map[string]assetsCommand{
		"record": {args: []string{"ASSET_ID"}, flags: func(fs *flag.FlagSet) {
			fs.StringVar(&m.Step, "step", "", "frozen, seized, confiscated, returned, disposed or released")
			fs.StringVar(&m.Confiscation, "confiscation", "", "a confiscation: criminal, non_conviction_based or civil")
			fs.StringVar(&m.DecidedOn, "decided-on", "", "the date of the decision (YYYY-MM-DD)")
			fs.StringVar(&m.Instrument, "instrument", "", "the legal instrument (order, judgment) and its reference")
			fs.StringVar(&m.Amount, "amount", "", "the amount, an exact decimal")
			fs.StringVar(&m.Currency, "currency", "", "ISO 4217 currency code")
			fs.StringVar(&m.Authority, "authority", "", "the deciding authority")
			fs.StringVar(&m.ReturnedTo, "returned-to", "", "a return: the state returned to (ISO 3166-1)")
			fs.StringVar(&m.Notes, "notes", "", "notes")
		}, body: &m, fields: "step, confiscation, decided_on, instrument, amount, currency, authority, returned_to, notes", run: func(ctx context.Context, s *assets.Service, p *auth.Principal, pos []string, stdout io.Writer) error {
			rec, err := s.RecordMeasure(ctx, p, pos[0], m)
			if err != nil {
				return err
			}
			return writeJSON(stdout, rec)
		}},
	}, args, stdout, stderr)
}
