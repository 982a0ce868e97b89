package stats

import (
	"context"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// Service is the statistics registry: mappings, imports, aggregation and
// exports. Its fields are set by whoever opens it (server.DefaultModules).
type Service struct {
	W  *ledger.Writer
	DB *store.DB
	// Threshold is the disclosure control's threshold for published tables
	// (disclosure.DefaultThreshold when 0).
	Threshold int
	// Agency is the SDMX agency id that maintains the artefacts the SDMX
	// exports name (--sdmx-agency, checked by CheckSDMXAgency): the
	// statistics office's own; SDMXAgency when empty.
	Agency string
	// Sources are the registries counted beside imported records: the
	// transplant registry's trafficking for organ removal
	// (TraffickingForOrganRemoval); asset recovery's corruption and money
	// laundering cases will be one more.
	Sources []Source
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Source is a registry whose own records are counted as statistics: its
// name (Query.Sources) and a function that returns its records, read with
// q. Records of a source carry no personal data, as imported ones do not.
type Source struct {
	Name    string
	Records func(ctx context.Context, q store.Queryer) ([]Record, error)
}

// SourceImport names imported records in Query.Sources.
const SourceImport = "import"

// Record is one record as an import file's row or a source gives it: the
// unit counted at a stage, its ICCS category, when and where, and its
// tags. Empty tags are unknown. Count is how many such units the row
// stands for (1 for a record of one offence, victim or person; more when a
// file gives aggregated counts).
type Record struct {
	NationalCode                                                 string // the national offence code (imports); empty for a source
	ICCS                                                         string // the category, any level
	Stage, Unit                                                  string
	Date                                                         string // YYYY, YYYY-MM or YYYY-MM-DD
	Region                                                       string
	Attempt, Weapon, Context, Cyber                              string
	VictimSex, VictimCitizenship, Relationship                   string
	VictimAge                                                    int // -1 unknown
	PerpetratorSex, Juvenile, PerpetratorCitizenship, Recidivism string
	PerpetratorAge                                               int // -1 unknown
	Count                                                        int64
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ICCSOrganRemoval is the ICCS category of trafficking in persons for
// organ removal.
const ICCSOrganRemoval = "02043"

// TraffickingForOrganRemoval is the transplant registry as a source: each
// suspected-trafficking report referred to law enforcement counts one
// offence of ICCS 02043 recorded by the police on the day it was referred
// (dates gives those days; transplant.ReferredTraffickingDates). The reports
// carry no tag of the ICCS's, so every tag is unknown.
func TraffickingForOrganRemoval(dates func(ctx context.Context, q store.Queryer) ([]string, error)) Source {
	return Source{Name: "transplant", Records: func(ctx context.Context, q store.Queryer) ([]Record, error) {
		ds, err := dates(ctx, q)
		if err != nil {
			return nil, err
		}
		out := make([]Record, len(ds))
		for i, d := range ds {
			out[i] = Record{ICCS: ICCSOrganRemoval, Stage: StagePolice, Unit: UnitOffence, Date: d, VictimAge: -1, PerpetratorAge: -1, Count: 1}
		}
		return out, nil
	}}
}

// authorityFirst refuses a statistician a command on another office's
// import or mapping before the command checks its input, so that the
// refusal (rule authority, with its alert, recorded as the command's would
// be) is the same whether the input was good or bad. scope is the part of
// the command's Decide that reads the record by its id and refuses it, run
// here on the read pool; any other answer (no such record, its state) is
// left to the command, whose Decide runs scope again.
func (s *Service) authorityFirst(ctx context.Context, p *auth.Principal, name string, scope func(ctx context.Context, q store.Queryer) error) error {
	err := scope(ctx, s.DB.Read())
	e, ok := errs.As(err)
	if ok && e.Rule == "authority" {
		return s.W.Refused(ctx, p.Actor(), name, e)
	}
	if err != nil && !ok {
		return err
	}
	return nil
}
