package assets

import (
	"context"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/store"
)

// PersonFilter filters the list of persons across the cases p may see: by
// state (the regulator's and auditor's choice; others see their own), kind,
// role in the case, and a text of a legal person's name or registration, or
// of an id (a natural person's name is sealed: it is found by no search).
type PersonFilter struct {
	State, Kind, Role, Q string
}

// MaxPersonList is how many persons a list answers.
const MaxPersonList = 500

// Persons lists the persons of the cases p may see, by case and id.
func (s *Service) Persons(ctx context.Context, p *auth.Principal, f PersonFilter) ([]Person, error) {
	if err := p.Require(ReadCases); err != nil {
		return nil, err
	}
	state, ok, err := scopeState(p, f.State)
	if err != nil {
		return nil, err
	}
	if !ok && !seesAll(p) {
		return []Person{}, nil
	}
	for _, c := range []struct {
		field, v string
		allowed  []string
	}{{"kind", f.Kind, PersonKinds}, {"role", f.Role, PersonRoles}} {
		if c.v != "" {
			if err := check.OneOf(c.field, c.v, c.allowed); err != nil {
				return nil, err
			}
		}
	}
	text, like, err := check.Contains("q", f.Q)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, `SELECT p.id, p.case_id, p.kind, p.role, p.country, p.name, p.registration, p.subject_ref
		FROM assets_persons p JOIN assets_cases c ON c.id = p.case_id
		WHERE (? = '' OR c.state = ?) AND (? = '' OR p.kind = ?) AND (? = '' OR p.role = ?)
		AND (? = '' OR LOWER(p.id || ' ' || p.case_id || ' ' || p.name || ' ' || p.registration) LIKE ? ESCAPE '\')
		ORDER BY p.case_id, p.id LIMIT ?`,
		state, state, f.Kind, f.Kind, f.Role, f.Role, text, like, MaxPersonList)
	if err != nil {
		return nil, err
	}
	out, err := store.Rows(rows, scanPerson)
	if out == nil {
		out = []Person{}
	}
	return out, err
}

// scanPerson reads a row of id, case_id, kind, role, country, name,
// registration, subject_ref.
func scanPerson(r store.Scanner, x *Person) error {
	var ref string
	err := r.Scan(&x.ID, &x.CaseID, &x.Kind, &x.Role, &x.Country, &x.Name, &x.Registration, &ref)
	x.Sealed = ref != ""
	return err
}
