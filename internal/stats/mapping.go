package stats

import (
	"context"
	"io"

	"github.com/custos-project/custos/internal/auth"
)

// ParseMapping reads a mapping table as CSV with the header
// national_code,national_label,iccs (a UTF-8 BOM and blank lines are
// allowed). It refuses a row with a category that is not an ICCS code, a
// missing code, or a national code mapped twice to the same category,
// naming the line and field.
func ParseMapping(r io.Reader) ([]MappingRow, error) {
	return nil, errNotYet
}

// PublishMapping publishes the next version of a mapping (version 1 for a
// new id): every row is checked again, as ParseMapping does.
func (s *Service) PublishMapping(ctx context.Context, p *auth.Principal, in NewMapping) (*Mapping, error) {
	return nil, errNotYet
}

// Mappings lists the latest version of each mapping.
func (s *Service) Mappings(ctx context.Context, p *auth.Principal) ([]Mapping, error) {
	return nil, errNotYet
}

// Mapping returns a version of a mapping with its rows (the latest when
// version is 0) and the national codes it leaves ambiguous.
func (s *Service) Mapping(ctx context.Context, p *auth.Principal, id string, version int) (*Mapping, error) {
	return nil, errNotYet
}

// CheckCodes reads a national records file (its offence_code column) and
// reports the codes a mapping version does not map or maps ambiguously,
// without importing anything.
func (s *Service) CheckCodes(ctx context.Context, p *auth.Principal, mapping string, version int, r io.Reader) (*MappingReport, error) {
	return nil, errNotYet
}
