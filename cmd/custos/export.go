package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"

	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/store"
)

const exportSummary = "check an export's file against the log: its rows, size and SHA-256 as its export.completed entry records them; list the exports made"

const exportUsage = "Usage: custos export check FILE [flags]   (custos export check --help for its flags)\n" +
	"       custos export list [flags]         (custos export list --help for its flags)"

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "check":
			return runExportCheck(ctx, args[1:], stdout)
		case "list":
			return runExportList(ctx, args[1:], stdout)
		case "--help", "-h", "help":
			fmt.Fprintln(stdout, exportUsage)
			return nil
		}
	}
	return &exitError{2, "want: custos export check FILE [flags], or custos export list [flags]"}
}

func runExportCheck(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flags("export check", "FILE [flags]", "check an export's file against the log: its rows, size and SHA-256 as its export.completed entry records them; the database is opened read-only", stdout)
	d, pos, err := parseDB(fs, args, 1, "want: custos export check FILE [flags], one file")
	if err != nil {
		return err
	}
	file, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	return readLog(ctx, &d, func(q store.Queryer) error { return printCheck(ctx, q, pos[0], file, stdout) })
}

// printCheck checks the export's file named name against the log q reads,
// and prints what it found.
func printCheck(ctx context.Context, q store.Queryer, name string, file []byte, stdout io.Writer) error {
	c, err := export.Check(ctx, q, file)
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
		return &exitError{1, fmt.Sprintf("%s is not the file its export sent: %d problem(s)", name, len(c.Problems))}
	}
	fmt.Fprintf(stdout, "OK: %s is the file export %s sent, byte for byte\n", name, c.ID)
	return nil
}

// readLog runs read on the database of d, opened read-only, and closes it.
func readLog(ctx context.Context, d *dbFlags, read func(store.Queryer) error) error {
	db, err := d.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	return read(db.Read())
}

// runExportList lists the exports the log records, newest first, as the
// API's /api/v1/log/exports does: a line each, then the cursor of the next
// page when there is one.
func runExportList(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flags("export list", "[flags]", "list the exports made, newest first: each export.made entry with what its export.completed entry says was sent (or that it has none: cut short); the database is opened read-only", stdout)
	q := url.Values{}
	for _, name := range export.Filters {
		doc := map[string]string{"registry": "only the exports of this registry (transplant, hashmatch, core, ...)", "list": "only the exports of this list (donors, bank, ...)",
			"from": "only those made from this day, YYYY-MM-DD (UTC)", "to": "only those made until this day, YYYY-MM-DD (UTC), included"}[name]
		fs.Func(name, doc, func(v string) error { q.Set(name, v); return nil })
	}
	fs.Func("limit", fmt.Sprintf("exports a page, 1 to %d (default %d)", export.Size.Max, export.Size.Default), func(v string) error { q.Set("limit", v); return nil })
	fs.Func("cursor", "the page after the one that printed this cursor", func(v string) error { q.Set("cursor", v); return nil })
	d, _, err := parseDB(fs, args, 0, "want: custos export list [flags], no arguments")
	if err != nil {
		return err
	}
	f, err := export.FilterOf(q)
	if err != nil {
		return err
	}
	return readLog(ctx, &d, func(db store.Queryer) error { return printList(ctx, db, f, stdout) })
}

// printList prints the page of exports f selects in the log q reads, and
// the cursor of the next.
func printList(ctx context.Context, q store.Queryer, f export.Filter, stdout io.Writer) error {
	l, err := export.List(ctx, q, f)
	if err != nil {
		return err
	}
	for _, e := range l.Items {
		sent := "not completed (cut short)"
		if c := e.Completed; c != nil {
			sent = fmt.Sprintf("completed at log entry %d: %d rows, %d bytes, sha256 %s", c.Entry, c.Rows, c.Bytes, c.SHA256)
		}
		by := e.By
		if e.Authority != "" {
			by += " of " + e.Authority
		}
		fmt.Fprintf(stdout, "%d %s %s %s %s %s filter %s checkpoint %d by %s; %s\n", e.Entry, e.At, e.ID, e.Registry, e.List, e.Format, e.Filter, e.CheckpointSize, by, sent)
	}
	if l.Next != "" {
		fmt.Fprintf(stdout, "more: --cursor %s\n", l.Next)
	}
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
