package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/server"
)

const assetsCasesUsage = `usage: custos assets cases list|show|add [flags]
       custos assets measures record ASSET_ID [flags]

Asset-recovery cases and the measure ledger, as the principal whose token is given
(--token or CUSTOS_TOKEN: a prosecutor or a central authority officer records its own state's
cases; the regulator and the auditor read every state's), with the API's rules and refusals:

  cases list [--state XA] [--kind K] [--iccs CODE] [--status STEP] [--q TEXT]
  cases show CASE_ID                   the case with its persons, links, assets and measures (JSON)
  cases add --reference R --title T --kind domestic|incoming|outgoing --offences 0703,0704 --opened-on YYYY-MM-DD
  measures record ASSET_ID --step frozen|seized|confiscated|returned|disposed|released --decided-on YYYY-MM-DD
                 --instrument TEXT --amount 123.45 --currency EUR --authority TEXT
                 [--confiscation criminal|non_conviction_based|civil] [--returned-to XB] [--notes TEXT]

See docs/assets.md.`

// assetsActor opens the registry and authenticates the acting principal.
func assetsActor(ctx context.Context, d dbFlags, token string, stderr io.Writer) (*server.App, *assets.Service, *auth.Principal, error) {
	if token == "" {
		return nil, nil, nil, &exitError{2, "give --token (or CUSTOS_TOKEN): the principal who acts"}
	}
	app, s, err := openAssets(ctx, d, stderr)
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
	if len(args) == 0 || (args[0] != "list" && args[0] != "show" && args[0] != "add") {
		return &exitError{2, assetsCasesUsage}
	}
	verb := args[0]
	fs := flags("assets cases "+verb, "[flags]", "asset-recovery cases", stdout)
	var d dbFlags
	d.add(fs, "custos.db")
	token := fs.String("token", os.Getenv("CUSTOS_TOKEN"), "the acting principal's token (env CUSTOS_TOKEN)")
	var f assets.CaseFilter
	fs.StringVar(&f.State, "state", "", "list: the state (regulator and auditor only; others see their own)")
	fs.StringVar(&f.Kind, "kind", "", "domestic, incoming or outgoing (list: a filter; add: the case's kind)")
	fs.StringVar(&f.ICCS, "iccs", "", "list: an ICCS offence code")
	fs.StringVar(&f.Status, "status", "", "list: cases with an asset at this step")
	fs.StringVar(&f.Q, "q", "", "list: text in the reference or title")
	var in assets.NewCase
	fs.StringVar(&in.Reference, "reference", "", "add: the case's reference")
	fs.StringVar(&in.Title, "title", "", "add: the case's title")
	offences := fs.String("offences", "", "add: ICCS codes, comma-separated")
	fs.StringVar(&in.OpenedOn, "opened-on", "", "add: the date the case was opened (YYYY-MM-DD)")
	pos, err := interleaved(fs, args[1:])
	if err != nil {
		return err
	}
	if (verb == "show") != (len(pos) == 1) || len(pos) > 1 {
		return &exitError{2, assetsCasesUsage}
	}
	app, s, p, err := assetsActor(ctx, d, *token, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	switch verb {
	case "list":
		cs, err := s.Cases(ctx, p, f)
		if err != nil {
			return err
		}
		for _, c := range cs {
			fmt.Fprintf(stdout, "%-14s %-2s %-9s %-10s %-20s %s\n", c.ID, c.State, c.Kind, c.OpenedOn, c.Reference, c.Title)
		}
		fmt.Fprintf(stdout, "%d case(s)\n", len(cs))
		return nil
	case "show":
		cf, err := s.CaseFile(ctx, p, pos[0])
		if err != nil {
			return err
		}
		return writeJSON(stdout, cf)
	}
	in.Kind = f.Kind
	for _, o := range strings.Split(*offences, ",") {
		if o = strings.TrimSpace(o); o != "" {
			in.Offences = append(in.Offences, o)
		}
	}
	c, err := s.OpenCase(ctx, p, in)
	if err != nil {
		return err
	}
	return writeJSON(stdout, c)
}

func runAssetsMeasures(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "record" {
		return &exitError{2, assetsCasesUsage}
	}
	fs := flags("assets measures record", "ASSET_ID [flags]", "record a step of an asset's measure ledger; logged", stdout)
	var d dbFlags
	d.add(fs, "custos.db")
	token := fs.String("token", os.Getenv("CUSTOS_TOKEN"), "the acting principal's token (env CUSTOS_TOKEN)")
	var m assets.NewMeasure
	fs.StringVar(&m.Step, "step", "", "frozen, seized, confiscated, returned, disposed or released")
	fs.StringVar(&m.Confiscation, "confiscation", "", "a confiscation: criminal, non_conviction_based or civil")
	fs.StringVar(&m.DecidedOn, "decided-on", "", "the date of the decision (YYYY-MM-DD)")
	fs.StringVar(&m.Instrument, "instrument", "", "the legal instrument (order, judgment) and its reference")
	fs.StringVar(&m.Amount, "amount", "", "the amount, an exact decimal")
	fs.StringVar(&m.Currency, "currency", "", "ISO 4217 currency code")
	fs.StringVar(&m.Authority, "authority", "", "the deciding authority")
	fs.StringVar(&m.ReturnedTo, "returned-to", "", "a return: the state returned to (ISO 3166-1)")
	fs.StringVar(&m.Notes, "notes", "", "notes")
	pos, err := interleaved(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &exitError{2, "give one ASSET_ID"}
	}
	app, s, p, err := assetsActor(ctx, d, *token, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	rec, err := s.RecordMeasure(ctx, p, pos[0], m)
	if err != nil {
		return err
	}
	return writeJSON(stdout, rec)
}
