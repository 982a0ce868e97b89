package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/custos-project/custos/internal/export"
)

const exportSummary = "check an export's file against the log: its rows, size and SHA-256 as its export.completed entry records them"

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(stdout, "Usage: custos export check FILE [flags]   (custos export check --help for its flags)")
			return nil
		}
		return &exitError{2, "want: custos export check FILE [flags]"}
	}
	fs := flags("export check", "FILE [flags]", exportSummary+"; the database is opened read-only", stdout)
	var d dbFlags
	d.add(fs, "custos.db")
	pos, err := parseArgs(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &exitError{2, "want: custos export check FILE [flags], one file"}
	}
	file, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	db, err := d.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	c, err := export.Check(ctx, db.Read(), file)
	if err != nil {
		return err
	}
	if c.ID != "" {
		fmt.Fprintf(stdout, "export %s, log entry %d\n", c.ID, c.Made)
	}
	if c.Logged != nil {
		fmt.Fprintf(stdout, "completed at log entry %d: %d rows, %d bytes, sha256 %s\n", c.Completed, c.Logged.Rows, c.Logged.Bytes, c.Logged.SHA256)
	}
	if !c.OK() {
		for _, p := range c.Problems {
			fmt.Fprintln(stdout, "FAIL", p)
		}
		return &exitError{1, fmt.Sprintf("%s is not the file its export sent: %d problem(s)", pos[0], len(c.Problems))}
	}
	fmt.Fprintf(stdout, "OK: %s is the file export %s sent, byte for byte\n", pos[0], c.ID)
	return nil
}

// exportFile is the file a command writes an export to (--out, FILE):
// created, readable by its owner only, at the export's first byte, so
// that an export refused (before anything is logged) leaves no file, and
// an existing one as it was.
type exportFile struct {
	name string
	f    *os.File
}

func (e *exportFile) Write(p []byte) (int, error) {
	if e.f == nil {
		f, err := os.OpenFile(e.name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return 0, err
		}
		e.f = f
	}
	return e.f.Write(p)
}

// Close closes the file, if it was created.
func (e *exportFile) Close() error {
	if e.f == nil {
		return nil
	}
	return e.f.Close()
}
