package stats

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// SetChunksPerRead sets how many chunks one read asks for and returns a
// function that puts it back: a test splits an import of a few chunks
// among several readers with it.
func SetChunksPerRead(n int) (restore func()) {
	old := chunksPerRead
	chunksPerRead = n
	return func() { chunksPerRead = old }
}

// StoreOnly checks a records file (read with the newest version of
// mapping) and stores its chunks as Import does, under a new import id,
// and appends no entry: an import whose process died before its entry.
func (s *Service) StoreOnly(ctx context.Context, mapping string, r io.Reader) (string, error) {
	m, err := loadMapping(ctx, s.DB.Read(), mapping, 0)
	if err != nil {
		return "", err
	}
	var spill bytes.Buffer
	ps := &parser{m: m.codeMap(), now: s.now().UTC().Format(check.DateLayout), emit: func(c *chunk) error { return writeChunk(&spill, c) }}
	if _, err := ps.parse(r); err != nil {
		return "", err
	}
	id := s.W.IDs().New("SI")
	_, err = s.store(ctx, id, &spill, sha256.New(), func(int64) {})
	return id, err
}

// ImportClaiming imports a records file (read with the newest version of
// mapping) as Import does, but its entry carries digest as the records'
// digest (an entry whose records_digest is not its records', which custos
// never writes, or "", as the entries made before the digest), and its
// rows' digests only when rowDigests is set (as the entries made before
// them).
func (s *Service) ImportClaiming(ctx context.Context, p *auth.Principal, mapping string, r io.Reader, digest string, rowDigests bool) (string, error) {
	m, err := loadMapping(ctx, s.DB.Read(), mapping, 0)
	if err != nil {
		return "", err
	}
	var spill bytes.Buffer
	ps := &parser{m: m.codeMap(), now: s.now().UTC().Format(check.DateLayout), emit: func(c *chunk) error { return writeChunk(&spill, c) }}
	fileSum := sha256.New()
	out, err := ps.parse(io.TeeReader(r, fileSum))
	if err != nil {
		return "", err
	}
	id := s.W.IDs().New("SI")
	colSum := sha256.New()
	rows, err := s.store(ctx, id, &spill, colSum, func(int64) {})
	if err != nil {
		return "", err
	}
	data := recordsImported{ID: id, Mapping: m.ID, MappingVersion: m.Version, FileSHA256: hex.EncodeToString(fileSum.Sum(nil)),
		ColumnsSHA256: hex.EncodeToString(colSum.Sum(nil)), RecordsDigest: digest, Records: out.records, Total: out.total, Chunks: len(rows),
		FirstDate: out.first, LastDate: out.last, Dictionary: out.dict}
	if rowDigests {
		data.RowSHA256 = rows
	}
	_, err = s.W.Submit(ctx, p.Actor(), "import national crime records", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
		return ledger.NewEntry(TypeRecordsImported, data)
	})
	return id, err
}

// SDMXRange is sdmxRange: the days lo to hi (yyyymmdd) as an SDMX time range.
var SDMXRange = sdmxRange

// AggregateDated is Aggregate keeping the span of the counted records'
// dates, as the SDMX export of a query not counted by period does.
func (s *Service) AggregateDated(ctx context.Context, q Query) (*Result, error) {
	return s.aggregate(ctx, s.DB.Read(), q, true)
}
