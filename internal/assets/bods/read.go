package bods

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/custos-project/custos/internal/errs"
)

// batch is how many statements are parsed at once, across the CPUs.
const batch = 1024

// Read reads BODS statements from r, a JSON array of statements (a BODS
// package) or JSON Lines (one statement per line), checks each (Parse) and
// hands them to fn in order. A statement id given twice in the file is
// refused (rule duplicate_statement). The first refusal stops the reading
// and is returned; fn is never called for a statement after a bad one, but
// it has been for those before it, so a caller that must change nothing on
// a bad file collects first and writes after.
func Read(r io.Reader, fn func(n int, s *Statement) error) error {
	sp := newSplitter(r)
	first, ok := sp.skip(space + "\xef\xbb\xbf") // and a UTF-8 byte order mark
	if !ok {
		if sp.rerr != nil {
			return sp.rerr
		}
		return errs.Invalidf("required", "statements", "the file holds no statements")
	}
	array := first == '['
	if array {
		sp.take()
	} else if first != '{' {
		return errs.New(errs.Malformed, "json", "statements", "the file is not a JSON array or JSON Lines of BODS statements")
	}
	seen := newIDSet()
	n := 0
	raws := make([][]byte, 0, batch)
	out := make([]*Statement, batch)
	errsOut := make([]error, batch)
	flush := func() error {
		parseBatch(n, raws, out, errsOut)
		for i := range raws {
			if errsOut[i] != nil {
				return errsOut[i]
			}
			s := out[i]
			if prev, dup := seen.add(s.StatementID, n+i); dup {
				return errs.Invalidf("duplicate_statement", fmt.Sprintf("statements[%d].statementId", n+i),
					"statement %d repeats the statementId of statement %d", n+i, prev)
			}
			if err := fn(n+i, s); err != nil {
				return err
			}
		}
		n += len(raws)
		raws = raws[:0]
		return nil
	}
	// notJSON refuses the statement after raws: the statements before it
	// are checked first, so that a refusal names the first bad statement
	// of the file, whatever its fault.
	notJSON := func() error {
		if err := flush(); err != nil {
			return err
		}
		if sp.rerr != nil {
			return sp.rerr
		}
		return errs.New(errs.Malformed, "json", fmt.Sprintf("statements[%d]", n+len(raws)), "statement %d is not valid JSON", n+len(raws))
	}
	for {
		c, ok := sp.skip(space)
		if !ok || array && c == ']' {
			break
		}
		raw, err := sp.value()
		if errors.Is(err, errTooLarge) {
			// The statements before it are checked first, as for notJSON.
			if err := flush(); err != nil {
				return err
			}
			return errs.Invalidf("statement_size", fmt.Sprintf("statements[%d]", n),
				"statement %d is longer than %d bytes", n, MaxStatement)
		}
		if err != nil {
			return notJSON()
		}
		raws = append(raws, raw)
		if len(raws) == batch {
			if err := flush(); err != nil {
				return err
			}
		}
		if !array {
			continue
		}
		// Statements of an array are separated by commas, and the last is
		// followed by its closing bracket.
		if c, ok := sp.skip(space); ok && c == ',' {
			sp.take()
			if c, ok := sp.skip(space); ok && c == ']' {
				return notJSON()
			}
		} else if ok && c != ']' {
			return notJSON()
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if sp.rerr != nil {
		return sp.rerr
	}
	if array {
		if c, ok := sp.skip(space); !ok || c != ']' {
			return errs.New(errs.Malformed, "json", "statements", "the JSON array of statements does not end")
		}
		sp.take()
		if _, ok := sp.skip(space); ok {
			return errs.New(errs.Malformed, "json", "statements", "the file holds more than one JSON array")
		}
	}
	return nil
}

// parseBatch parses raws (statements from position n) on every CPU.
func parseBatch(n int, raws [][]byte, out []*Statement, errsOut []error) {
	workers := min(runtime.GOMAXPROCS(0), len(raws))
	if workers <= 1 {
		for i, raw := range raws {
			out[i], errsOut[i] = Parse(n+i, raw)
		}
		return
	}
	var wg sync.WaitGroup
	per := (len(raws) + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*per, min((w+1)*per, len(raws))
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				out[i], errsOut[i] = Parse(n+i, raws[i])
			}
		}()
	}
	wg.Wait()
}

// ReadAll reads every statement of r (Read), for small files and tests.
func ReadAll(r io.Reader) ([]*Statement, error) {
	var all []*Statement
	err := Read(r, func(_ int, s *Statement) error {
		all = append(all, s)
		return nil
	})
	return all, err
}
