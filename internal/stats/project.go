package stats

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// mappingPublished is the data of stats.mapping_published: the whole
// version, its rows included (a mapping is a few hundred codes).
type mappingPublished struct {
	ID             string       `json:"id"`
	Version        int          `json:"version"`
	Name           string       `json:"name"`
	Classification string       `json:"classification"`
	SHA256         string       `json:"sha256"`
	Rows           []MappingRow `json:"rows"`
}

// recordsImported is the data of stats.records_imported: what was imported
// and the SHA-256 of the stored columns, never the records (millions; they
// are statistics, kept in stats_columns), and no name of anyone.
type recordsImported struct {
	ID             string `json:"id"`
	Mapping        string `json:"mapping"`
	MappingVersion int    `json:"mapping_version"`
	Source         string `json:"source"`
	FileSHA256     string `json:"file_sha256"`
	ColumnsSHA256  string `json:"columns_sha256"`
	// RowSHA256 names each stored column's digest (rowSum), by chunk and
	// column, "" for a column not stored (a count column of ones), so
	// that log verify names the row that differs (absent in the entries
	// made before it existed: verify then names the import).
	RowSHA256 [][]string `json:"row_sha256,omitempty"`
	// RecordsDigest is the records' multiset digest (absent in the
	// entries made before it existed).
	RecordsDigest string     `json:"records_digest,omitempty"`
	Records       int64      `json:"records"`
	Total         int64      `json:"total"`
	Chunks        int        `json:"chunks"`
	FirstDate     string     `json:"first_date"`
	LastDate      string     `json:"last_date"`
	Dictionary    Dictionary `json:"dictionary"`
}

// importWithdrawn is the data of stats.import_withdrawn: the import no
// longer counted, and why.
type importWithdrawn struct {
	ImportID string `json:"import_id"`
	Reason   string `json:"reason"`
}

// Dictionary holds an import's coded texts: the stored columns region and
// offence hold indexes into these lists.
type Dictionary struct {
	Regions  []string `json:"regions"`
	Offences []string `json:"offences"`
}

func mappingKey(id string, version int) string { return fmt.Sprintf("%s/%06d", id, version) }

// Project adds the registry's projectors and tables.
func Project(reg *ledger.Projections) {
	ledger.On(reg, TypeMappingPublished, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, m *mappingPublished) error {
		key := mappingKey(m.ID, m.Version)
		if _, err := q.Exec(ctx, `INSERT INTO stats_mappings (id, mapping_id, version, name, classification, codes, sha256, published_at, published_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, key, m.ID, m.Version, m.Name, m.Classification, len(m.Rows), m.SHA256, e.At, e.By, idx); err != nil {
			return err
		}
		for i, r := range m.Rows {
			if _, err := q.Exec(ctx, `INSERT INTO stats_mapping_rows (id, mapping_id, version, national_code, national_label, iccs, log_index)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, fmt.Sprintf("%s/%06d", key, i), m.ID, m.Version, r.NationalCode, r.NationalLabel, r.ICCS, idx); err != nil {
				return err
			}
		}
		return nil
	})
	ledger.On(reg, TypeRecordsImported, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, im *recordsImported) error {
		dict, err := json.Marshal(im.Dictionary)
		if err != nil {
			return err
		}
		var rows []byte
		if im.RowSHA256 != nil {
			if rows, err = json.Marshal(im.RowSHA256); err != nil {
				return err
			}
		}
		_, err = q.Exec(ctx, `INSERT INTO stats_imports (id, mapping_id, mapping_version, source, file_sha256, columns_sha256, row_sha256, records_digest, records, total, chunks,
			first_date, last_date, dictionary, imported_at, imported_by, log_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			im.ID, im.Mapping, im.MappingVersion, im.Source, im.FileSHA256, im.ColumnsSHA256, string(rows), im.RecordsDigest, im.Records, im.Total, im.Chunks,
			im.FirstDate, im.LastDate, string(dict), e.At, e.By, idx)
		if err != nil {
			return err
		}
		// Its chunks are counted from now on: no longer being written.
		_, err = q.Exec(ctx, "DELETE FROM stats_writing WHERE import_id = ?", im.ID)
		return err
	})
	ledger.On(reg, TypeImportWithdrawn, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, w *importWithdrawn) error {
		res, err := q.Exec(ctx, "UPDATE stats_imports SET withdrawn_at = ?, withdrawn_by = ?, withdrawal_reason = ?, withdrawal_index = ? WHERE id = ? AND withdrawn_at = ''",
			e.At, e.By, w.Reason, idx, w.ImportID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return fmt.Errorf("import %s does not exist or is withdrawn already", w.ImportID)
		}
		return nil
	})
	reg.Tables(
		ledger.Table{Name: "stats_mappings", Order: "id"},
		ledger.Table{Name: "stats_mapping_rows", Order: "id"},
		ledger.Table{Name: "stats_imports", Order: "id"},
	)
	reg.Check("stats_columns", verifyColumns) // verify.go
}
