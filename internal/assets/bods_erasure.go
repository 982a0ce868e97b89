package assets

import (
	"context"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/store"
)

// ---- Beneficial ownership: the erasure of a person's personal data (docs/personal-data.md, "Erasure") ----
//
// A person of the BODS statements is erased as the core erases the other
// personal data it holds: on a ground of GDPR art. 17(1) and the reference
// of the decision, by the regulator, in one transaction with a
// privacy.subject_erased entry (subject "bods:" and the recordId). Every
// statement of the person loses its wrapped key and sealed bytes
// (crypto-shredding); what the graph needs (the statement without personal
// data) stays, so the chains still answer. Lookups name the person as
// erased, exports write the statements without personal data, and log
// verify checks the chunks against the commitments kept
// (erased_commitment) and the erased statements against the erasures.

// EraseOwnershipPerson is the action: the regulator's only, as the core's
// erasure (a decision of the controller, not of those who read the data).
var EraseOwnershipPerson = auth.NewAction("erase a person's personal data from the beneficial ownership statements", auth.Regulator)

// Erase is the input of an erasure: the legal ground (privacy.Grounds) and
// the reference of the decision, which enters the log: never personal data.
type Erase struct {
	Ground    string `json:"ground" api:"required"`
	Reference string `json:"reference" api:"required"`
}

// bodsSubject is the subject an erasure of a BODS person names.
func bodsSubject(recordID string) string { return "bods:" + recordID }

// bodsOfState is the condition that a statement is of the register of a
// state (the argument): of an import of that state.
const bodsOfState = "import_id IN (SELECT id FROM assets_bods_imports WHERE jurisdiction = ?)"

// EraseBODSPerson erases the personal data of the person recordID from
// every statement of the register of p's state (another state's register
// is not p's to change: its persons are not found, erased or not). A second erasure is refused as a read of an
// erased subject is (rule subject_erased); a record that is no person, or
// none, is refused and nothing changes; so is a person with a statement
// imported before persons were sealed (rule imported_before_sealing): its
// data is in clear, with no key to shred.
func (s *Service) EraseBODSPerson(ctx context.Context, p *auth.Principal, recordID string, in Erase) (*privacy.Erasure, error) {
	if err := p.Require(EraseOwnershipPerson); err != nil {
		return nil, err
	}
	recordID, err := check.Line("record_id", recordID, 200, true)
	if err != nil {
		return nil, err
	}
	if err := check.OneOf("ground", in.Ground, privacy.GroundNames()); err != nil {
		return nil, err
	}
	if in.Reference, err = check.Line("reference", in.Reference, 200, true); err != nil {
		return nil, err
	}
	subject := bodsSubject(recordID)
	eid := s.W.IDs().New("ER")
	_, err = s.W.Submit(ctx, p.Actor(), "erase a person's beneficial ownership data", func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		// Whose register first: a record of another state's register is
		// not found, as one of none, before whether it was erased (the
		// erasure is one per record id in the deployment, and its refusal
		// names the day and the entry).
		var types string
		if err := tx.QueryRow(ctx, "SELECT COALESCE(MIN(record_type), '') || ' ' || COALESCE(MAX(record_type), '') FROM assets_bods_statements WHERE record_id = ? AND "+bodsOfState,
			recordID, p.Jurisdiction).Scan(&types); err != nil {
			return nil, err
		}
		switch strings.TrimSpace(types) {
		case "":
			return nil, errs.New(errs.NotFound, "reference", "record_id", "no person or entity %s in the beneficial ownership statements", recordID)
		case "person", "person person":
		default:
			return nil, errs.Invalidf("not_a_person", "record_id", "%s is not a person of the beneficial ownership statements: only a person's data is erased", recordID)
		}
		if done, err := privacy.ErasureOf(ctx, tx, subject); err != nil {
			return nil, err
		} else if done != nil {
			return nil, privacy.ErasedRefusal(done)
		}
		// A statement imported before persons were sealed (assets
		// migration 4) holds the person's data in clear (name, body), in
		// rows the import's chunk digests were made over: there is no key
		// to shred, and clearing the row would fail log verify. Erasing
		// the sealed statements alone would record an erasure while the
		// data is still readable, so nothing is erased (decided
		// 2026-12-07, docs/assets.md).
		var clear int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM assets_bods_statements WHERE record_id = ? AND record_type = 'person' AND sealed IS NULL AND erased_commitment = '' AND "+bodsOfState,
			recordID, p.Jurisdiction).Scan(&clear); err != nil {
			return nil, err
		}
		if clear > 0 {
			return nil, errs.New(errs.Conflict, "imported_before_sealing", "record_id",
				"%s has %d statements imported before persons were sealed (migration assets 4): they hold the person's data in clear, in rows the log's digests cover, which custos cannot erase without failing log verify; nothing was erased (docs/assets.md, Erasure, says what to do)", recordID, clear)
		}
		rows, err := tx.Query(ctx, "SELECT id, wrapped_key, sealed FROM assets_bods_statements WHERE record_id = ? AND sealed IS NOT NULL AND "+bodsOfState+" ORDER BY id",
			recordID, p.Jurisdiction)
		if err != nil {
			return nil, err
		}
		type row struct {
			id              string
			wrapped, sealed []byte
		}
		list, err := store.Rows(rows, func(r store.Scanner, x *row) error { return r.Scan(&x.id, &x.wrapped, &x.sealed) })
		if err != nil {
			return nil, err
		}
		refs := make([]string, 0, len(list))
		for _, x := range list {
			if _, err := tx.Exec(ctx, "UPDATE assets_bods_statements SET wrapped_key = NULL, sealed = NULL, erased_commitment = ? WHERE id = ?",
				ledger.SealCommitment(x.wrapped, x.sealed), x.id); err != nil {
				return nil, err
			}
			refs = append(refs, x.id)
		}
		return privacy.ErasureEntry(privacy.Erasure{ID: eid, SubjectID: subject, Ground: in.Ground, Reference: in.Reference}, refs)
	})
	if err != nil {
		return nil, err
	}
	return privacy.ErasureOf(ctx, s.DB.Read(), subject)
}

// verifyBODSErasures is log verify's check of the erased statements: each
// is of a person the log erased, and no statement of an erased person
// imported before the erasure holds sealed data again.
func verifyBODSErasures(ctx context.Context, c ledger.CheckRun) error {
	rows, err := c.Live.Query(ctx, `SELECT s.record_id, CASE WHEN s.erased_commitment <> '' THEN 'erased' ELSE 'sealed' END, MIN(i.log_index)
		FROM assets_bods_statements s JOIN assets_bods_imports i ON i.id = s.import_id
		WHERE s.erased_commitment <> '' OR s.sealed IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2`)
	if err != nil {
		return err
	}
	type state struct {
		id, what string
		first    int64
	}
	live, err := store.Rows(rows, func(r store.Scanner, x *state) error { return r.Scan(&x.id, &x.what, &x.first) })
	if err != nil {
		return err
	}
	// The log's erasures of persons, read whole: the replay of a full
	// verification has its tables' keys, not their other indexes.
	rows, err = c.Replay.Query(ctx, "SELECT subject_id, log_index FROM erasures WHERE substr(subject_id, 1, 5) = 'bods:'")
	if err != nil {
		return err
	}
	type erasure struct {
		subject string
		at      int64
	}
	list, err := store.Rows(rows, func(r store.Scanner, e *erasure) error { return r.Scan(&e.subject, &e.at) })
	if err != nil {
		return err
	}
	erased := map[string]int64{}
	for _, e := range list {
		erased[e.subject] = e.at
	}
	var sealed, gone int
	for _, x := range live {
		at, done := erased[bodsSubject(x.id)]
		if x.what == "erased" {
			gone++
		} else {
			sealed++
		}
		switch {
		case x.what == "erased" && !done:
			if c.Problem("assets_bods_statements: the person %s is erased but no entry of the log erased it (erased behind custos's back)", x.id) {
				return nil
			}
		case x.what == "sealed" && done && x.first < at: // a later import brings the person anew
			if c.Problem("assets_bods_statements: the person %s holds sealed data though entry %d erased it (restored behind custos's back)", x.id, at) {
				return nil
			}
		}
	}
	c.Covered("assets_bods_statements: %d persons whose statements are sealed and %d erased, each against the log's erasures", sealed, gone)
	return nil
}
