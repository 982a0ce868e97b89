package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/server"
)

const assetsBodsUsage = `usage: custos assets bods COMMAND [flags]

Beneficial ownership (BODS 0.4) on the server host:

  import FILE        validate a BODS file (JSON array or JSON Lines) in full, then import it
  owners RECORD_ID   who ultimately owns or controls this entity (logged)
  controls RECORD_ID which entities this person or entity holds interests in (logged)
  export [FILE]      write every imported statement as a BODS package (logged)

The operator on the server host acts as a central authority officer; the log records "cli".
See docs/assets.md.`

// assetsOperator is the operator on the server host, acting as a central
// authority officer.
var assetsOperator = &auth.Principal{ID: "cli", Name: "operator", Role: assets.RoleCentralAuthority}

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
	}
	return &exitError{2, fmt.Sprintf("unknown assets bods command %q; want import, owners, controls or export", args[0])}
}

func openAssets(ctx context.Context, d dbFlags, stderr io.Writer) (*server.App, *assets.Service, error) {
	return openModule[*assets.Service](ctx, d, stderr, "assets", "asset-recovery")
}

func runBodsImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("assets bods import", "FILE [flags]", "validate a BODS 0.4 file in full, then import it", stdout)
	return runImport(ctx, fs, args, stderr, "assets", "asset-recovery", "statements", func(in fileImport[*assets.Service]) error {
		im, err := in.S.ImportBODS(ctx, assetsOperator, in.Name, in.File, in.Size, in.Progress)
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
	var d dbFlags
	d.add(fs, "custos.db")
	asJSON := fs.Bool("json", false, "write the whole answer as JSON")
	pos, err := interleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &exitError{2, "give one RECORD_ID"}
	}
	app, s, err := openAssets(ctx, d, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	a, err := s.Ownership(ctx, assetsOperator, question, pos[0], "cli")
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(a)
	}
	fmt.Fprintf(stdout, "%s of %s %s (%s), as of import %s, read %s; log entry %d\n", question, a.Root.Type, a.Root.ID, a.Root.Name, a.Source, a.RetrievedAt, a.LogIndex)
	for _, h := range a.Holdings {
		share := bods.ShareText(h.Lo, h.Hi, h.AnyShare)
		if share == "" {
			share = "no share given"
		} else if !h.Known {
			share += " and more without a share"
		}
		fmt.Fprintf(stdout, "  %-8s %-24s %-30s %s through %d path(s)\n", h.Node.Type, h.Node.ID, h.Node.Name, share, h.PathCount)
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
	fs := flags("assets bods export", "[FILE] [flags]", "write every imported statement as a BODS 0.4 package (JSON array); the export is logged", stdout)
	var d dbFlags
	d.add(fs, "custos.db")
	lines := fs.Bool("lines", false, "write JSON Lines rather than a JSON array")
	pos, err := interleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return &exitError{2, "give at most one FILE"}
	}
	app, s, err := openAssets(ctx, d, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	w := stdout
	if len(pos) == 1 {
		f, err := os.Create(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	return s.ExportBODS(ctx, assetsOperator, "cli", *lines, w)
}

// runAssets runs the asset-recovery registry's commands on the server host.
func runAssets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "bods":
			return runAssetsBods(ctx, args[1:], stdout, stderr)
		case "cases":
			return runAssetsCases(ctx, args[1:], stdout, stderr)
		case "measures":
			return runAssetsMeasures(ctx, args[1:], stdout, stderr)
		}
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(stdout, assetsBodsUsage+"\n\n"+assetsCasesUsage)
		return nil
	}
	fmt.Fprintln(stderr, assetsBodsUsage+"\n\n"+assetsCasesUsage)
	return &exitError{2, ""}
}
