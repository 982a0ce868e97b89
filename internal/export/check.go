package export

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// Checked is what Check found of a file: what the file is, what the log
// says was sent, and how they differ.
type Checked struct {
	// ID and Made are the export the file's header names: its identifier
	// and the log index of its TypeMade entry (-1: the file names none).
	ID   string
	Made int64
	// Rows counts the file's rows (-1: a file without a header block,
	// whose rows Check does not count), Bytes and SHA256 are its size and
	// digest.
	Rows   int
	Bytes  int64
	SHA256 string
	// Completed is the log index of the export's TypeCompleted entry (-1:
	// none), Logged its data.
	Completed int64
	Logged    *Completed
	// Problems say what differs, one a line; none: the file is the one
	// the export sent, byte for byte.
	Problems []string
}

// OK says that the file is what its export sent.
func (c *Checked) OK() bool { return len(c.Problems) == 0 }

func (c *Checked) problem(format string, args ...any) {
	c.Problems = append(c.Problems, fmt.Sprintf(format, args...))
}

// Check checks an export's file against the log q reads: its header names
// the export's TypeMade entry, which must be there with the export's
// identifier, and the export's TypeCompleted entry must hold the file's row
// count, size and SHA-256. A file without a header block (SDMX-CSV) is
// looked for by its digest among the completed exports. Only an error
// reading the log is returned; what differs is in Problems.
func Check(ctx context.Context, q store.Queryer, file []byte) (*Checked, error) {
	sum := sha256.Sum256(file)
	c := &Checked{Made: -1, Rows: -1, Bytes: int64(len(file)), SHA256: hex.EncodeToString(sum[:]), Completed: -1}
	hdr, rows, herr := readFile(file)
	if herr != nil {
		// No header: the digest alone can find the export.
		err := ledger.EntriesAfter(ctx, q, TypeCompleted, -1, func(idx int64, e *ledger.Entry) error {
			var d Completed
			if err := e.Decode(&d); err != nil {
				return fmt.Errorf("leaf %d: %w", idx, err)
			}
			if d.SHA256 == c.SHA256 && d.Bytes == c.Bytes && c.Logged == nil {
				c.Completed, c.Logged, c.ID, c.Made = idx, &d, d.ID, d.Made
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if c.Logged == nil {
			c.problem("the file has no export header (%v), and no completed export has its sha256 %s", herr, c.SHA256)
		}
		return c, nil
	}
	c.ID, c.Rows = hdr.id, rows
	var err error
	if c.Made, err = strconv.ParseInt(hdr.entry, 10, 64); err != nil || c.Made < 0 {
		c.Made = -1
		c.problem("the header's export log entry %q is not a log index", hdr.entry)
		return c, nil
	}
	made, err := ledger.ReadEntry(ctx, q, c.Made)
	if errors.Is(err, sql.ErrNoRows) {
		c.problem("the log has no entry %d, the export log entry the header names", c.Made)
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	var md Made
	if made.Type != TypeMade || made.Decode(&md) != nil || md.ID != c.ID {
		c.problem("log entry %d is not the %s entry of export %s that the header names (it is %s %s)", c.Made, TypeMade, c.ID, made.Type, md.ID)
		return c, nil
	}
	err = ledger.EntriesAfter(ctx, q, TypeCompleted, c.Made, func(idx int64, e *ledger.Entry) error {
		var d Completed
		if err := e.Decode(&d); err != nil {
			return fmt.Errorf("leaf %d: %w", idx, err)
		}
		if d.Made == c.Made && c.Logged == nil {
			c.Completed, c.Logged = idx, &d
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	d := c.Logged
	if d == nil {
		c.problem("export %s (log entry %d) has no %s entry: it was cut short (the client went away, or an error ended it) and no file of it is complete", c.ID, c.Made, TypeCompleted)
		return c, nil
	}
	if d.ID != c.ID {
		c.problem("%s entry %d names export %s, the header %s", TypeCompleted, c.Completed, d.ID, c.ID)
	}
	if d.Rows != c.Rows {
		c.problem("rows: the file holds %d, the log says %d were sent", c.Rows, d.Rows)
	}
	if d.Bytes != c.Bytes {
		c.problem("bytes: the file has %d, the log says %d were sent", c.Bytes, d.Bytes)
	}
	if d.SHA256 != c.SHA256 {
		c.problem("sha256: the file's is %s, the log says %s was sent", c.SHA256, d.SHA256)
	}
	return c, nil
}

// fileHeader is what Check reads of a file's header block.
type fileHeader struct{ entry, id string }

// The lines of the header block (Meta.header) that name the export: by
// their place, the same in every language.
const (
	entryLine = 7
	idLine    = 8
)

// readFile reads the header block of an export's file (CSV or XLSX) and
// counts its rows.
func readFile(file []byte) (fileHeader, int, error) {
	var hdr [][]string
	rows := 0
	if bytes.HasPrefix(file, []byte("PK\x03\x04")) {
		f, err := excelize.OpenReader(bytes.NewReader(file))
		if err != nil {
			return fileHeader{}, 0, err
		}
		defer f.Close()
		sheets := f.GetSheetList()
		if len(sheets) != 2 {
			return fileHeader{}, 0, fmt.Errorf("an XLSX export has 2 sheets, this file %d", len(sheets))
		}
		if hdr, err = f.GetRows(sheets[0]); err != nil {
			return fileHeader{}, 0, err
		}
		list, err := f.GetRows(sheets[1])
		if err != nil {
			return fileHeader{}, 0, err
		}
		rows = max(len(list)-1, 0)
	} else {
		head, body, ok := bytes.Cut(file, []byte("\n\n"))
		if !ok {
			return fileHeader{}, 0, errors.New("no empty line after a header block")
		}
		r := csv.NewReader(bytes.NewReader(head))
		var err error
		if hdr, err = r.ReadAll(); err != nil {
			return fileHeader{}, 0, err
		}
		r = csv.NewReader(bytes.NewReader(body))
		r.FieldsPerRecord = -1
		recs, err := r.ReadAll()
		if err != nil {
			return fileHeader{}, 0, err
		}
		// The column names, the rows, and the closing "rows,N" (absent in
		// a file cut short).
		rows = len(recs) - 1
		if n := len(recs); n > 0 && len(recs[n-1]) == 2 && recs[n-1][0] == rowsName {
			rows--
		}
		rows = max(rows, 0)
	}
	if len(hdr) <= idLine || len(hdr[entryLine]) < 2 || len(hdr[idLine]) < 2 || !strings.HasPrefix(hdr[idLine][1], "EX-") {
		return fileHeader{}, 0, errors.New("its header block does not name an export")
	}
	return fileHeader{entry: hdr[entryLine][1], id: hdr[idLine][1]}, rows, nil
}
