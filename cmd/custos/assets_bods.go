package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/server"
)

const assetsBodsUsage = `Usage: custos assets bods COMMAND [flags]

Beneficial ownership (BODS 0.4) on the server host:

  import FILE        validate a BODS file (JSON array or JSON Lines) in full, then import it
  owners RECORD_ID   who ultimately owns or controls this entity (logged)
  controls RECORD_ID which entities this person or entity holds interests in (logged)
  export [FILE]      write every imported statement as a BODS package (logged)
  erase RECORD_ID --ground G --reference R
                     erase a person's personal data from every statement (the regulator; logged)

Each acts as the principal whose token is given (--token or CUSTOS_TOKEN), as the other assets
commands do, and the log records that principal: import takes a central authority officer or the administrator; the
lookups and the export take any role that reads beneficial ownership. See docs/assets.md.`

func runAssetsBods(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, assetsBodsUsage)
		return &exitError{2, ""}
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, assetsBodsUsage)
		return nil
	case "import":
		return runBodsImport(ctx, args[1:], stdout, stderr)
	case "owners", "controls":
		return runBodsLookup(ctx, args[0], args[1:], stdout, stderr)
	case "export":
		return runBodsExport(ctx, args[1:], stdout, stderr)
	case "erase":
		var in assets.Erase
		return runAssetsCommand(ctx, "bods", assetsBodsUsage, map[string]assetsCommand{
			"erase": {args: []string{"RECORD_ID"}, flags: func(fs *flag.FlagSet) {
				fs.StringVar(&in.Ground, "ground", "", "the ground (GDPR art. 17(1)): "+strings.Join(privacy.GroundNames(), ", "))
				fs.StringVar(&in.Reference, "reference", "", "the reference of the decision (it enters the log: no names)")
			}, run: func(ctx context.Context, s *assets.Service, p *auth.Principal, pos []string, stdout io.Writer) error {
				e, err := s.EraseBODSPerson(ctx, p, pos[0], in)
				if err != nil {
					return err
				}
				return writeJSON(stdout, e)
			}},
		}, args, stdout, stderr)
	}
	return &exitError{2, fmt.Sprintf("unknown assets bods command %q; want import, owners, controls, export or erase", args[0])}
}

func openAssets(ctx context.Context, d dbFlags, stderr io.Writer, readOnly bool) (*server.App, *assets.Service, error) {
	return openModule[*assets.Service](ctx, d, stderr, "assets", "asset-recovery", readOnly)
}

func runBodsImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("assets bods import", "FILE [flags]", "validate a BODS 0.4 file in full, then import it", stdout)
	token := fs.String("token", os.Getenv("CUSTOS_TOKEN"), "the acting principal's token (env CUSTOS_TOKEN)")
	return runImport(ctx, fs, args, stderr, "assets", "asset-recovery", "statements", func(in fileImport[*assets.Service]) error {
		if *token == "" {
			return &exitError{2, "give --token (or CUSTOS_TOKEN): the principal who acts"}
		}
		p, err := auth.Authenticate(ctx, in.App.DB.Read(), *token)
		if err != nil {
			return err
		}
		im, err := in.S.ImportBODS(ctx, p, in.Name, in.File, in.Size, in.Progress)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "imported %s: %d statements (%d entities, %d persons, %d relationships) in %d chunks; log entry %d; sha256 %s\n",
			im.ID, im.Statements, im.Entities, im.Persons, im.Relationships, len(im.Chunks), im.LogIndex, im.FileSHA256)
		return nil
	})
}

func runBodsLookup(ctx context.Context, question string, args []string, stdout, stderr io.Writer) error {
	fs := flags("assets bods "+question, "RECORD_ID [flags]", "answer from the imported statements; the lookup is logged", stdout)
	token := fs.String("token", os.Getenv("CUSTOS_TOKEN"), "the acting principal's token (env CUSTOS_TOKEN)")
	asJSON := fs.Bool("json", false, "write the whole answer as JSON")
	d, pos, err := parseDB(fs, args, 1, "give one RECORD_ID")
	if err != nil {
		return err
	}
	app, s, p, err := assetsActor(ctx, d, *token, stderr, false)
	if err != nil {
		return err
	}
	defer app.Close()
	a, err := s.Ownership(ctx, p, question, pos[0], "cli")
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(a)
	}
	// An erased person's name, one the reader may not open, and a party
	// no statement names are written in the pages' words (NameLabel),
	// never as a blank column.
	name := func(n bods.Node) string {
		label, _ := a.NameLabel(n)
		return label
	}
	fmt.Fprintf(stdout, "%s of %s %s (%s), as of import %s, read %s; log entry %d\n", question, a.Root.Type, a.Root.ID, name(a.Root), a.Source, a.RetrievedAt, a.LogIndex)
	line := func(h bods.Holding) {
		share := bods.ShareText(h.Lo, h.Hi, h.AnyShare)
		if share == "" {
			share = "no share given"
		} else if !h.Known {
			share += " and more without a share"
		}
		var notes []string
		if d := bods.ShareText(h.DirectLo, h.DirectHi, h.DirectAnyShare); d != "" {
			notes = append(notes, d+" directly")
		}
		if h.InCycle {
			notes = append(notes, "in a circle")
		} else if h.ThroughCycle {
			notes = append(notes, "through a circle")
		}
		note := ""
		if len(notes) > 0 {
			note = " (" + strings.Join(notes, ", ") + ")"
		}
		fmt.Fprintf(stdout, "  %-8s %-24s %-30s %s through %d path(s)%s\n", h.Node.Type, h.Node.ID, name(h.Node), share, h.PathCount, note)
	}
	for _, h := range a.Holdings {
		line(h)
	}
	if len(a.Holders) > 0 {
		fmt.Fprintf(stdout, "  other holders along the chains:\n")
		for _, h := range a.Holders {
			line(h)
		}
	}
	for _, g := range a.CycleGroups {
		fmt.Fprintf(stdout, "  a circle of holdings (none of them an ultimate owner): %s\n", strings.Join(g, ", "))
	}
	if len(a.Erased) > 0 {
		fmt.Fprintf(stdout, "  personal data erased: %s\n", strings.Join(a.Erased, ", "))
	}
	if a.Cycles > 0 {
		fmt.Fprintf(stdout, "  %d loop(s) in the chains were cut\n", a.Cycles)
	}
	if a.Truncated {
		fmt.Fprintf(stdout, "  chains deeper than %d or more than %d paths were cut\n", bods.MaxDepth, bods.MaxPaths)
	}
	return nil
}

func runBodsExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("assets bods export", "[FILE] [flags]", "write every imported statement as a BODS 0.4 package (JSON array); the export is logged, and its log checkpoint and export.made entry printed on stderr", stdout)
	var d dbFlags
	d.add(fs, "custos.db")
	token := fs.String("token", os.Getenv("CUSTOS_TOKEN"), "the acting principal's token (env CUSTOS_TOKEN)")
	lines := fs.Bool("lines", false, "write JSON Lines rather than a JSON array")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return &exitError{2, "give at most one FILE"}
	}
	app, s, p, err := assetsActor(ctx, d, *token, stderr, false)
	if err != nil {
		return err
	}
	defer app.Close()
	w := stdout
	if len(pos) == 1 {
		f := &exportFile{name: pos[0]}
		defer f.Close()
		w = f
	}
	format := assets.BODSJSON
	if *lines {
		format = assets.BODSLines
	}
	var made export.Meta
	if err := s.ExportBODS(ctx, p, format, func(m export.Meta) { made = m }, w); err != nil {
		return err
	}
	fmt.Fprintln(stderr, export.CheckpointLine(made.Checkpoint, made.Entry))
	return nil
}

// runAssets runs the asset-recovery registry's commands on the server host.
func runAssets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "bods":
			return runAssetsBods(ctx, args[1:], stdout, stderr)
		case "cases":
			return runAssetsCases(ctx, args[1:], stdout, stderr)
		case "directory":
			return runAssetsDirectory(ctx, args[1:], stdout, stderr)
		case "persons":
			return runAssetsPersons(ctx, args[1:], stdout, stderr)
		case "assets":
			return runAssetsAssets(ctx, args[1:], stdout, stderr)
		case "rates":
			return runAssetsRates(ctx, args[1:], stdout, stderr)
		case "measures":
			return runAssetsMeasures(ctx, args[1:], stdout, stderr)
		case "requests":
			return runAssetsRequests(ctx, args[1:], stdout, stderr)
		}
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(stdout, assetsBodsUsage+"\n\n"+assetsCasesUsage+"\n\n"+assetsRecordsUsage+"\n\n"+assetsRequestsUsage)
		return nil
	}
	fmt.Fprintln(stderr, assetsBodsUsage+"\n\n"+assetsCasesUsage+"\n\n"+assetsRecordsUsage+"\n\n"+assetsRequestsUsage)
	return &exitError{2, ""}
}
