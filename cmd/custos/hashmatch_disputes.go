package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/custos-project/custos/internal/hashmatch"
)

// runHMDisputes prints the disputed entries of a competent authority's banks,
// ranked as its analysts see them (read only: nothing is logged).
func runHMDisputes(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("hashmatch disputes", "--authority ID [--bank ID] [--json] [flags]", "print the disputed entries of an authority's banks, the most disputed first", stdout)
	authority := fs.String("authority", "", "the competent authority that owns the banks (CM-...)")
	bank := fs.String("bank", "", "one of its banks only")
	asJSON := fs.Bool("json", false, "print the list as JSON, as the API answers it")
	d, _, err := parseDB(fs, args, 0, "give --authority ID")
	if err != nil {
		return err
	}
	if *authority == "" {
		return &exitError{2, "give --authority ID"}
	}
	app, err := d.openReadOnly(ctx, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	// The operator on the server host reads as one of the authority's analysts.
	op := hostOperator(hashmatch.RoleAnalyst, *authority)
	out, err := app.Hashmatch.DisputedEntriesOf(ctx, op, *bank)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for i, e := range out.Entries {
		fmt.Fprintf(stdout, "%d. %s %s (%s): services %d, disputes %d, latest %s\n", i+1, e.BankID, e.EntryID, e.Classification, e.Services, e.Disputes, e.LastDisputedAt)
		for _, o := range e.Open {
			fmt.Fprintf(stdout, "   %s, distance %d, %s: %s\n", o.ProviderID, o.Distance, o.DisputedAt, o.Note)
		}
	}
	for _, p := range out.PendingWithdrawals {
		fmt.Fprintf(stdout, "withdrawn, deleted by the next version: %s %s\n", p.BankID, p.EntryID)
	}
	fmt.Fprintf(stdout, "%d disputed entries, %d withdrawals waiting for a version\n", len(out.Entries), len(out.PendingWithdrawals))
	return nil
}
