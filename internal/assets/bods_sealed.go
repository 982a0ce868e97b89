package assets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// Beneficial ownership and personal data (docs/personal-data.md): a person
// statement is stored without its personal data, the statement as given
// sealed beside it (spillStatement); the graph reads only what is in clear.
// Who may open personal data (OpenPersonalData) gets the persons' names in
// answers and the statements as given in exports, and the lookup's entry
// says so (personal).

// verifyBODS is log verify's check of the stored statements: every import
// in the log has its statements, and each chunk of them (bodies, and the
// commitments to sealed persons) hashes to the digest its entry names.
func verifyBODS(ctx context.Context, c ledger.CheckRun) error {
	rows, err := c.Replay.Query(ctx, "SELECT id, statements, chunks, digests FROM assets_bods_imports ORDER BY log_index")
	if err != nil {
		return err
	}
	type imp struct {
		id, digests string
		n           int64
		chunks      []string
	}
	imps, err := store.Rows(rows, func(r store.Scanner, m *imp) error {
		var chunks string
		if err := r.Scan(&m.id, &m.n, &chunks, &m.digests); err != nil {
			return err
		}
		return json.Unmarshal([]byte(chunks), &m.chunks)
	})
	if err != nil {
		return err
	}
	for _, im := range imps {
		got, n, err := bodsChunkDigests(ctx, c.Live, im.id, im.digests)
		if err != nil {
			return err
		}
		if n != im.n {
			if c.Problem("assets_bods_statements: import %s holds %d statements, its entry says %d", im.id, n, im.n) {
				return nil
			}
			continue
		}
		for i := range im.chunks {
			if i >= len(got) || got[i] != im.chunks[i] {
				if c.Problem("assets_bods_statements: chunk %d of import %s does not match its digest in the log (changed behind custos's back)", i, im.id) {
					return nil
				}
				break
			}
		}
	}
	var orphans int64
	if err := c.Live.QueryRow(ctx, `SELECT COUNT(*) FROM assets_bods_statements s WHERE NOT EXISTS (SELECT 1 FROM assets_bods_imports i WHERE i.id = s.import_id)`).Scan(&orphans); err != nil {
		return err
	}
	if orphans > 0 {
		c.Note("assets_bods_statements: %d statements of an import not in the log (an import stopped before its entry; never read)", orphans)
	}
	return verifyBODSErasures(ctx, c)
}

// bodsChunkDigests recomputes the chunk digests of import id from the
// stored statements, and counts them.
func bodsChunkDigests(ctx context.Context, q store.Queryer, id, digests string) ([]string, int64, error) {
	rows, err := q.Query(ctx, "SELECT pos, body, wrapped_key, sealed, erased_commitment FROM assets_bods_statements WHERE import_id = ? ORDER BY id", id)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var sums []string
	var h hash.Hash
	var n int64
	for rows.Next() {
		var pos int64
		var body, erased string
		var wrapped, sealed []byte
		if err := rows.Scan(&pos, &body, &wrapped, &sealed, &erased); err != nil {
			return nil, 0, err
		}
		if n%bodsChunk == 0 {
			if h != nil {
				sums = append(sums, hex.EncodeToString(h.Sum(nil)))
			}
			h = sha256.New()
		}
		if erased != "" {
			// An erased person statement: its digest over the commitment
			// kept, as bodsDigest made it over the sealed row.
			fmt.Fprintf(h, "%d:%d:%s:%s", pos, len(body), body, erased)
		} else {
			bodsDigest(h, digests, pos, body, wrapped, sealed)
		}
		n++
	}
	if h != nil {
		sums = append(sums, hex.EncodeToString(h.Sum(nil)))
	}
	return sums, n, rows.Err()
}
