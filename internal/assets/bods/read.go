package bods

import (
	"bufio"
	"encoding/json"
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
	br := bufio.NewReaderSize(r, 64<<10)
	first, err := firstByte(br)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(br)
	array := first == '['
	if array {
		if _, err := dec.Token(); err != nil {
			return errs.New(errs.Malformed, "json", "statements", "the file is not a JSON array or JSON Lines of BODS statements")
		}
	} else if first != '{' {
		return errs.New(errs.Malformed, "json", "statements", "the file is not a JSON array or JSON Lines of BODS statements")
	}
	seen := map[string]int{}
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
			if prev, dup := seen[s.StatementID]; dup {
				return errs.Invalidf("duplicate_statement", fmt.Sprintf("statements[%d].statementId", n+i),
					"statement %d repeats the statementId of statement %d", n+i, prev)
			}
			seen[s.StatementID] = n + i
			if err := fn(n+i, s); err != nil {
				return err
			}
		}
		n += len(raws)
		raws = raws[:0]
		return nil
	}
	for {
		if array && !dec.More() {
			break
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if !array && errors.Is(err, io.EOF) {
				break
			}
			return errs.New(errs.Malformed, "json", fmt.Sprintf("statements[%d]", n+len(raws)), "statement %d is not valid JSON", n+len(raws))
		}
		raws = append(raws, raw)
		if len(raws) == batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if array {
		if _, err := dec.Token(); err != nil {
			return errs.New(errs.Malformed, "json", "statements", "the JSON array of statements does not end")
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return errs.New(errs.Malformed, "json", "statements", "the file holds more than one JSON array")
		}
	}
	return nil
}

func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, errs.Invalidf("required", "statements", "the file holds no statements")
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		case 0xEF: // a UTF-8 byte order mark
			continue
		case 0xBB, 0xBF:
			continue
		}
		return b, br.UnreadByte()
	}
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
