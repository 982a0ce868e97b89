package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/transplant"
)

func runTrace(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("trace", "organ|donation|donor|recipient ID [flags]", "trace an organ both ways between donor and recipients (a donation: its number, such as XA-26-000123); the registry is opened read-only and left as it was, so a backup may be traced (give its --key-file)", stdout)
	var d dbFlags
	d.add(fs, "custos.db")
	asJSON := fs.Bool("json", false, "print the trace as JSON")
	// Accept flags before or after the positional arguments.
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fs.Usage()
		return &exitError{2, "want: custos trace organ|donation|donor|recipient ID"}
	}
	// Read-only: a trace changes nothing, and may be run on a backup.
	app, err := d.openReadOnly(ctx, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	operator := hostOperator(auth.Auditor, "")
	var tr *transplant.Trace
	switch pos[0] {
	case "organ":
		tr, err = app.Transplant.TraceOrgan(ctx, operator, pos[1])
	case "donation":
		tr, err = app.Transplant.TraceDonation(ctx, operator, pos[1])
	case "donor":
		tr, err = app.Transplant.TraceDonor(ctx, operator, pos[1])
	case "recipient":
		tr, err = app.Transplant.TraceRecipient(ctx, operator, pos[1])
	default:
		return &exitError{2, fmt.Sprintf("trace what? %q is not organ, donation, donor or recipient", pos[0])}
	}
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(tr)
	}
	printTrace(stdout, tr)
	return nil
}

func printTrace(w io.Writer, tr *transplant.Trace) {
	if len(tr.Donors) == 0 {
		fmt.Fprintf(w, "%s %s has received no organ recorded in this registry\n", tr.From, tr.ID)
		return
	}
	for _, dt := range tr.Donors {
		fmt.Fprintf(w, "donor %s (%s, blood group %s)\n", dt.Donor.ID, strings.ReplaceAll(dt.Donor.Kind, "_", " "), dt.Donor.BloodGroup)
		if dom := dt.Donor.Domino; dom != nil {
			fmt.Fprintf(w, "  the explanted liver of recipient %s, given in procedure %s\n", dom.RecipientID, dom.ProcedureID)
		}
		tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
		for _, o := range dt.Organs {
			dest := "not transplanted (" + o.Status + ")"
			if t := o.Transplant; t != nil {
				dest = fmt.Sprintf("-> recipient %s\t%s\t%s", t.Recipient.ID, t.PerformedAt[:10], t.Centre.Name)
				if pr := t.Procedure; pr != nil {
					dest += fmt.Sprintf("\tprocedure %s (%s)", pr.ID, strings.ReplaceAll(pr.Kind, "_", " "))
					if pr.DominoOrganID != "" {
						dest += ", explanted liver donated as " + pr.DominoOrganID + " (domino)"
					}
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\tprocured %s\t%s\t%s\n", o.ID, o.Organ, o.ProcuredAt[:10], o.ProcuredBy.Name, dest)
		}
		tw.Flush()
	}
}
