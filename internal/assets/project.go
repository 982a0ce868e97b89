package assets

import (
	"context"
	"fmt"
	"strings"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// directoryRecorded is the data of assets.directory_recorded: entries of
// the directory, new or replacing those of the same id, from a form or an
// imported file (Source).
type directoryRecorded struct {
	Source  string         `json:"source"`
	Entries []ContactPoint `json:"entries"`
}

// caseOpened is the data of assets.case_opened: the case as read, without
// OpenedAt (the entry's time; empty in the entry, so not in its JSON).
type caseOpened Case

// personAdded is the data of assets.person_added: a natural person's data
// is sealed under SubjectRef (the entry's Sealed commits to it).
type personAdded struct {
	ID           string `json:"id"`
	CaseID       string `json:"case_id"`
	Kind         string `json:"kind"`
	Role         string `json:"role"`
	Country      string `json:"country"`
	Name         string `json:"name,omitempty"`
	Registration string `json:"registration,omitempty"`
	SubjectRef   string `json:"subject_ref,omitempty"`
}

// casesLinked is the data of assets.cases_linked: the link as read.
type casesLinked Link

// assetIdentified is the data of assets.asset_identified: the asset and its
// first step, identification.
type assetIdentified struct {
	ID           string `json:"id"`
	CaseID       string `json:"case_id"`
	Type         string `json:"type"`
	Jurisdiction string `json:"jurisdiction"`
	Description  string `json:"description"`
	Value        string `json:"value"`
	Currency     string `json:"currency"`
	HolderID     string `json:"holder_id,omitempty"`
	MeasureID    string `json:"measure_id"`
	IdentifiedOn string `json:"identified_on"`
	Instrument   string `json:"instrument"`
	Authority    string `json:"authority"`
}

// measureRecorded is the data of assets.measure_recorded.
type measureRecorded struct {
	ID           string `json:"id"`
	AssetID      string `json:"asset_id"`
	CaseID       string `json:"case_id"`
	Seq          int    `json:"seq"`
	Step         string `json:"step"`
	Confiscation string `json:"confiscation,omitempty"`
	DecidedOn    string `json:"decided_on"`
	Instrument   string `json:"instrument"`
	Amount       string `json:"amount"`
	Currency     string `json:"currency"`
	Authority    string `json:"authority"`
	ReturnedTo   string `json:"returned_to,omitempty"`
	Notes        string `json:"notes,omitempty"`
}

// rateRecorded is the data of assets.rate_recorded.
type rateRecorded Rate

func rateKey(from, to string, year int) string { return fmt.Sprintf("%s/%s/%04d", from, to, year) }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Project adds the registry's projectors and tables.
func Project(reg *ledger.Projections) {
	projectBODS(reg)     // beneficial ownership (bods.go)
	projectRequests(reg) // requests between states (requests_project.go)
	ledger.On(reg, TypeDirectoryRecorded, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, d *directoryRecorded) error {
		for _, c := range d.Entries {
			if _, err := q.Exec(ctx, "DELETE FROM assets_directory WHERE id = ?", c.ID); err != nil {
				return err
			}
			if _, err := q.Exec(ctx, `INSERT INTO assets_directory (id, state, kind, name, legal_bases, treaty, languages, channels, email, phone,
				address, available_247, contact_247, notes, source, recorded_at, recorded_by, log_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				c.ID, c.State, c.Kind, c.Name, strings.Join(c.LegalBases, " "), c.Treaty, strings.Join(c.Languages, " "), strings.Join(c.Channels, " "),
				c.Email, c.Phone, c.Address, b2i(c.Available247), c.Contact247, c.Notes, d.Source, e.At, e.By, idx); err != nil {
				return err
			}
		}
		return nil
	})
	ledger.On(reg, TypeCaseOpened, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, c *caseOpened) error {
		_, err := q.Exec(ctx, `INSERT INTO assets_cases (id, state, authority_id, reference, title, kind, offences, opened_on, opened_at, opened_by, log_index, reference_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, c.State, c.AuthorityID, c.Reference, c.Title, c.Kind, strings.Join(c.Offences, " "),
			c.OpenedOn, e.At, e.By, idx, referenceKey(c.Reference))
		return err
	})
	ledger.On(reg, TypePersonAdded, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, p *personAdded) error {
		_, err := q.Exec(ctx, `INSERT INTO assets_persons (id, case_id, kind, role, country, name, registration, subject_ref, added_at, added_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.ID, p.CaseID, p.Kind, p.Role, p.Country, p.Name, p.Registration, p.SubjectRef, e.At, e.By, idx)
		return err
	})
	ledger.On(reg, TypeCasesLinked, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, l *casesLinked) error {
		for _, p := range [][2]string{{l.CaseID, l.OtherID}, {l.OtherID, l.CaseID}} {
			if _, err := q.Exec(ctx, `INSERT INTO assets_case_links (id, case_id, other_id, reason, linked_at, linked_by, log_index) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				p[0]+"/"+p[1], p[0], p[1], l.Reason, e.At, e.By, idx); err != nil {
				return err
			}
		}
		return nil
	})
	ledger.On(reg, TypeAssetIdentified, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, a *assetIdentified) error {
		if _, err := q.Exec(ctx, `INSERT INTO assets_assets (id, case_id, type, jurisdiction, description, value, currency, holder_id, status, status_on,
			identified_on, identified_at, identified_by, log_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.CaseID, a.Type, a.Jurisdiction, a.Description, a.Value, a.Currency, a.HolderID, StepIdentified, a.IdentifiedOn,
			a.IdentifiedOn, e.At, e.By, idx); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `INSERT INTO assets_measures (id, asset_id, case_id, seq, step, confiscation, decided_on, instrument, amount, currency,
			authority, returned_to, notes, recorded_at, recorded_by, log_index) VALUES (?, ?, ?, 0, ?, '', ?, ?, ?, ?, ?, '', '', ?, ?, ?)`,
			a.MeasureID, a.ID, a.CaseID, StepIdentified, a.IdentifiedOn, a.Instrument, a.Value, a.Currency, a.Authority, e.At, e.By, idx)
		return err
	})
	ledger.On(reg, TypeMeasureRecorded, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, m *measureRecorded) error {
		if _, err := q.Exec(ctx, `INSERT INTO assets_measures (id, asset_id, case_id, seq, step, confiscation, decided_on, instrument, amount, currency,
			authority, returned_to, notes, recorded_at, recorded_by, log_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.ID, m.AssetID, m.CaseID, m.Seq, m.Step, m.Confiscation, m.DecidedOn, m.Instrument, m.Amount, m.Currency, m.Authority,
			m.ReturnedTo, m.Notes, e.At, e.By, idx); err != nil {
			return err
		}
		_, err := q.Exec(ctx, "UPDATE assets_assets SET status = ?, status_on = ? WHERE id = ?", m.Step, m.DecidedOn, m.AssetID)
		return err
	})
	ledger.On(reg, TypeRateRecorded, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, r *rateRecorded) error {
		key := rateKey(r.Currency, r.To, r.Year)
		if _, err := q.Exec(ctx, "DELETE FROM assets_rates WHERE id = ?", key); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `INSERT INTO assets_rates (id, currency, to_currency, year, rate, source, recorded_at, recorded_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, key, r.Currency, r.To, r.Year, r.Rate, r.Source, e.At, e.By, idx)
		return err
	})
	reg.Tables(
		ledger.Table{Name: "assets_directory", Order: "id"},
		ledger.Table{Name: "assets_cases", Order: "id"},
		ledger.Table{Name: "assets_case_links", Order: "id"},
		ledger.Table{Name: "assets_persons", Order: "id"},
		ledger.Table{Name: "assets_assets", Order: "id"},
		ledger.Table{Name: "assets_measures", Order: "id"},
		ledger.Table{Name: "assets_rates", Order: "id"},
	)
}
