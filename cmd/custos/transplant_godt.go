package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/transplant"
)

const transplantUsage = `Usage: custos transplant COMMAND [flags]

Commands:
  godt --db DB --year YEAR --population N [--country CC] [--format json|csv|xlsx]
                      the WHO GODT annual report of the registry's country for a year:
                      donors and transplants under the GODT export's field names, as
                      numbers and per million population (a file export is logged)

The operator on the server host acts as an auditor; the log records "cli:" and the operating-system account that ran it.
See docs/oversight.md.`

func runTransplant(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, transplantUsage)
		return &exitError{2, ""}
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, transplantUsage)
		return nil
	case "godt":
		return runGODT(ctx, args[1:], stdout, stderr)
	}
	return &exitError{2, fmt.Sprintf("unknown transplant command %q; want godt", args[0])}
}

func runGODT(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("transplant godt", "--year YEAR --population N [flags]", "the WHO GODT annual report for a year", stdout)
	var d dbFlags
	d.add(fs, "custos.db")
	year := fs.Int("year", 0, "the year reported (required)")
	population := fs.Int64("population", 0, "the country's population that year (required)")
	country := fs.String("country", "", "the registry's country (default: its jurisdiction)")
	format := fs.String("format", "json", "json, csv or xlsx")
	if err := parse(fs, args); err != nil {
		return err
	}
	if !slices.Contains([]string{"json", "csv", "xlsx"}, *format) {
		return &exitError{2, fmt.Sprintf("--format must be one of json, csv, xlsx, not %q", *format)}
	}
	// The report read as JSON changes nothing; a file export is logged.
	open := d.openReadOnly
	if *format != "json" {
		open = d.open
	}
	app, err := open(ctx, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	if *country == "" {
		if *country, err = app.Transplant.Jurisdiction(ctx); err != nil {
			return err
		}
	}
	operator := hostOperator(auth.Auditor, "")
	q := url.Values{"country": {*country}, "year": {strconv.Itoa(*year)}, "population": {strconv.FormatInt(*population, 10)}}
	if *format == "json" {
		g, err := transplant.GODTQueryOf(q)
		if err != nil {
			return err
		}
		rep, err := app.Transplant.GODT(ctx, operator, g)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	q.Set("format", *format)
	req, err := app.Transplant.GODTExport(operator, q)
	if err != nil {
		return err
	}
	var made export.Meta
	if _, err = export.Export(ctx, app.DB, app.Writer, operator.Actor(), req, func(m export.Meta) { made = m }, stdout); err != nil {
		return err
	}
	fmt.Fprintln(stderr, export.CheckpointLine(made.Checkpoint, made.Entry))
	return nil
}
