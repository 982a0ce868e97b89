package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/transplant"
)

// runSubject is `custos subject erase|access|rectify ID`: a data subject's
// rights exercised from the command line, as the principal whose token is
// given (the regulator erases; a coordinator or the regulator exports and
// rectifies), each a logged command like its API route
// (docs/personal-data.md).
func runSubject(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "want: custos subject erase|access|rectify DONOR-OR-RECIPIENT-ID [flags], or custos subject check-index"
	if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
		fmt.Fprintln(stdout, "Usage: custos subject erase|access|rectify ID [flags]   (custos subject erase --help for its flags)")
		fmt.Fprintln(stdout, "       custos subject erase|access|rectify ID --from-file FILE|-  (the fields read from a file or standard input,")
		fmt.Fprintln(stdout, "                                                 out of the process list and the shell's history)")
		fmt.Fprintln(stdout, "       custos subject check-index [flags]         (the name index against the sealed data)")
		return nil
	}
	if len(args) < 1 {
		return &exitError{2, usage}
	}
	verb := args[0]
	if verb == "check-index" {
		return runSubjectCheckIndex(ctx, args[1:], stdout, stderr)
	}
	if verb != "erase" && verb != "access" && verb != "rectify" {
		return &exitError{2, usage}
	}
	fs := flags("subject "+verb, "ID [flags]", "exercise a data subject's right ("+verb+") on a donor or recipient; logged", stdout)
	token := fs.String("token", os.Getenv("CUSTOS_TOKEN"), "the acting principal's token (env CUSTOS_TOKEN)")
	var erase transplant.Erase
	fs.StringVar(&erase.Ground, "ground", "", "erase: the legal ground (no_longer_necessary, consent_withdrawn, objection, unlawfully_processed, legal_obligation)")
	fs.StringVar(&erase.Reference, "reference", "", "erase: the reference of the decision (court order, data-protection officer's decision); it enters the log: no personal data (free text: prefer --from-file)")
	var access struct {
		Purpose string `json:"purpose"`
	}
	fs.StringVar(&access.Purpose, "purpose", "", "access: why the export is made (the person's request, its reference; free text: prefer --from-file)")
	var rect transplant.Rectification
	fs.StringVar(&rect.Name, "name", "", "rectify: the corrected name (seen in the process list and the shell's history: prefer --from-file)")
	fs.StringVar(&rect.NationalID, "national-id", "", "rectify: the corrected national identifier (seen in the process list and the shell's history: prefer --from-file)")
	fs.StringVar(&rect.Reason, "reason", "", "rectify: what was wrong and why it is corrected (it enters the log: no personal data; free text: prefer --from-file)")
	// Each verb's free text may name the person (a reference, a request, a
	// reason): --from-file keeps it off the command line.
	var from fromFile
	var body any
	switch verb {
	case "erase":
		from.add(fs, "ground, reference")
		body = &erase
	case "access":
		from.add(fs, "purpose")
		body = &access
	case "rectify":
		from.add(fs, "name, national_id, reason")
		body = &rect
	}
	d, pos, err := parseDB(fs, args[1:], 1, usage)
	if err != nil {
		return err
	}
	if *token == "" {
		return &exitError{2, "give --token (or CUSTOS_TOKEN): the principal who acts"}
	}
	if err := from.read(fs, body); err != nil {
		return err
	}
	app, err := d.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	p, err := auth.Authenticate(ctx, app.DB.Read(), *token)
	if err != nil {
		return err
	}
	var out any
	switch verb {
	case "erase":
		out, err = app.Transplant.EraseSubject(ctx, p, pos[0], erase)
	case "access":
		out, err = app.Transplant.SubjectAccess(ctx, p, pos[0], transplant.AccessJSON, access.Purpose)
	case "rectify":
		out, err = app.Transplant.Rectify(ctx, p, pos[0], rect)
	}
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// runSubjectCheckIndex compares the name index of Find a person with the
// sealed data it is made from (log verify cannot: the index is keyed under
// the master key, which this command reads from the key file).
func runSubjectCheckIndex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("subject check-index", "[flags]", "check the name index (Find a person, the likely-duplicate check) against the sealed personal data; prints record ids only; --repair rewrites what differs, logged", stdout)
	var d dbFlags
	d.add(fs, "custos.db")
	repair := fs.Bool("repair", false, "rewrite the rows that differ from the sealed data, as one log entry (an administrator's --token)")
	token := fs.String("token", os.Getenv("CUSTOS_TOKEN"), "with --repair: an administrator's token (env CUSTOS_TOKEN)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *repair && *token == "" {
		return &exitError{2, "--repair needs --token (or CUSTOS_TOKEN): an administrator's, who makes the repair"}
	}
	// The check only reads; a repair is a log entry.
	open := d.openReadOnly
	if *repair {
		open = d.open
	}
	app, err := open(ctx, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	var p *auth.Principal
	if *repair {
		if p, err = auth.Authenticate(ctx, app.DB.Read(), *token); err != nil {
			return err
		}
		if err := p.Require(transplant.RepairNameIndex); err != nil {
			return err
		}
	}
	n, problems, err := app.Transplant.CheckPersonNames(ctx)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, "FAIL", p)
	}
	if len(problems) > 0 && *repair {
		rep, err := app.Transplant.RepairPersonNames(ctx, p, problems)
		if err != nil {
			return err
		}
		for _, r := range rep.Repaired {
			what := "rewritten"
			if r.Kind == transplant.IndexExtra || r.Kind == transplant.IndexOrphan {
				what = "removed"
			}
			fmt.Fprintf(stdout, "REPAIRED subject %s (%s): row %s\n", r.Subject, r.Kind, what)
		}
		fmt.Fprintf(stdout, "name index: %d subject(s) repaired, log entry %s; checking again\n", len(rep.Repaired), rep.ID)
		if n, problems, err = app.Transplant.CheckPersonNames(ctx); err != nil {
			return err
		}
		for _, p := range problems {
			fmt.Fprintln(stdout, "FAIL", p)
		}
	}
	if len(problems) > 0 {
		hint := ""
		if !*repair {
			hint = "; custos subject check-index --repair --token ADMIN-TOKEN rewrites them from the sealed data"
		}
		return &exitError{1, fmt.Sprintf("the name index does not match the sealed data: %d problem(s)%s", len(problems), hint)}
	}
	fmt.Fprintf(stdout, "name index: %d records checked (donors, recipients, transplants abroad), every row matches their sealed data\n", n)
	return nil
}

// printSealedCheck writes what log verify found of the personal-data rows:
// how many were checked against their commitments; on an OK, what each
// module's check read (the records, statements and rows the log commits
// to without replaying them), so that an auditor sees what the OK covers;
// and the notes (erased subjects, rows sealed before commitments were
// logged).
func printSealedCheck(w io.Writer, rep *ledger.Report) {
	// A verification that stopped at the log never reached the sealed rows:
	// no count is printed for a check that did not run.
	if rep.OK() || rep.SealedRows > 0 {
		fmt.Fprintf(w, "personal data: %d sealed rows checked against the log\n", rep.SealedRows-rep.Uncommitted)
	}
	if rep.OK() {
		for _, c := range rep.Covered {
			fmt.Fprintln(w, "checked:", c)
		}
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(w, "note:", n)
	}
}
