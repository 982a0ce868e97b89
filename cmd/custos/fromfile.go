package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/strictjson"
)

// fromFile is --from-file of a command that takes a person's data (a name,
// a date of birth, an identity document, a national identifier) or free
// text that may hold it (the facts of a request, a note, a reason): the
// command's fields as one JSON object with the API's field names, read
// from a file or, with -, from standard input. A command line is seen by
// every user of the machine (ps, /proc/PID/cmdline) and kept in the shell's
// history; a file only its owner reads, or standard input, is neither. The
// flags still work.
type fromFile struct {
	path string
	// given holds the fields the object named, once read.
	given map[string]bool
}

// fieldOf is the API's field name of a command's flag: the flag's name, -
// for _, but for the flags named shorter than their field.
func fieldOf(flag string) string {
	if f, ok := map[string]string{"cases": "case_ids", "peer": "peer_id", "holder": "holder_id"}[flag]; ok {
		return f
	}
	return strings.ReplaceAll(flag, "-", "_")
}

// add declares --from-file; fields names the object's fields.
func (f *fromFile) add(fs *flag.FlagSet, fields string) {
	fs.StringVar(&f.path, "from-file", "", "read the fields from this file, or from standard input with -: one JSON object with the API's field names ("+fields+
		"); it keeps personal data out of the process list (ps, /proc) and the shell's history, where flags are seen. A field is given as a flag or in it, not both")
}

// read decodes the object of --from-file, when given, into v, over what
// the flags set: as the API decodes a request body (one object of v's
// fields, UTF-8, no key twice, at most httpapi.MaxBody bytes), each failure
// naming its field. A field given both as a flag (its name, - for _) and
// in the object is refused.
func (f *fromFile) read(fs *flag.FlagSet, v any) error {
	if f.path == "" {
		return nil
	}
	in, name := io.Reader(os.Stdin), "standard input"
	if f.path != "-" {
		file, err := os.Open(f.path)
		if err != nil {
			return &exitError{2, fmt.Sprintf("--from-file: %v", err)}
		}
		defer file.Close()
		in, name = file, f.path
	}
	b, err := io.ReadAll(io.LimitReader(in, httpapi.MaxBody+1))
	if err != nil {
		return fmt.Errorf("--from-file: read %s: %w", name, err)
	}
	if len(b) > httpapi.MaxBody {
		return &exitError{2, fmt.Sprintf("--from-file: %s is larger than %d bytes", name, httpapi.MaxBody)}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return &exitError{2, fmt.Sprintf("--from-file: %s is empty; give one JSON object of the fields", name)}
	}
	// The fields given both ways are looked for in a document that reads
	// as written; any other goes to DecodeBytes, which names its fault.
	var keys map[string]json.RawMessage
	if strictjson.Unmarshal(b, &keys) == nil {
		var both []string
		fs.Visit(func(fl *flag.Flag) {
			if _, ok := keys[fieldOf(fl.Name)]; ok {
				both = append(both, "--"+fl.Name)
			}
		})
		if len(both) > 0 {
			return &exitError{2, fmt.Sprintf("%s given both as a flag and in %s (--from-file): give each field once", strings.Join(both, ", "), name)}
		}
	}
	if err := httpapi.DecodeBytes(b, v); err != nil {
		return fmt.Errorf("--from-file %s: %w", name, err)
	}
	f.given = map[string]bool{}
	for k := range keys {
		f.given[k] = true
	}
	return nil
}
