// Package ledger is custos's tamper-evident log and its single write path.
//
// Every accepted command becomes one leaf of an append-only Merkle tree hashed
// as RFC 6962 specifies. A leaf is the canonical JSON of an Entry: what
// happened, when, by whom, and everything its effect depends on (assigned ids
// included), so replaying the leaves through the registered projectors rebuilds
// every queryable table exactly. The Writer groups concurrent commands into one
// durable transaction, assigns leaf indices inside it, and signs a checkpoint
// (a C2SP signed note) of the new tree head in the same commit.
package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/custos-project/custos/internal/store"
)

// Version is the encoding version of entries this binary writes.
const Version = 1

// Entry is one accepted change, as stored in a leaf.
type Entry struct {
	V         int             `json:"v"`
	Type      string          `json:"type"`
	At        string          `json:"at"`
	By        string          `json:"by,omitempty"`
	Authority string          `json:"authority,omitempty"`
	Data      json.RawMessage `json:"data"`
	// Sealed commits to the personal-data rows the command sealed (the
	// subjects table): their references and a hash of the sealed bytes,
	// never the values. Erased names the references whose rows the command
	// deleted. Both are absent from leaves written before custos logged
	// them (see sealed.go).
	Sealed []Sealed `json:"sealed,omitempty"`
	Erased []string `json:"erased,omitempty"`
}

// Actor is who submits a command: a principal and the authority it acts for.
// The system actor (empty ids) is used by init and migrations.
type Actor struct {
	Principal string
	Authority string
}

// Pseudonymous is the actor of a command whose leaf must not name who
// submitted it (a confidential report's reporter): the leaf's by is the
// pseudonym and its authority is empty, so that whoever reads the log (a
// regulator, an auditor, a replica) learns neither the principal nor the
// authority they act for. The writer records every actor as given, so
// nothing else changes on the write path; the service that submits such a
// command authenticates the principal itself, derives the pseudonym with a
// key the readers of the log do not hold, and keeps the identity sealed
// where only those entitled may open it (docs/architecture.md, "Pseudonymous
// actors"). A refusal with Alert of such a command is recorded under the
// pseudonym too.
func Pseudonymous(pseudonym string) Actor { return Actor{Principal: pseudonym} }

// NewEntry builds an entry of the given type carrying data as JSON.
func NewEntry(typ string, data any) (*Entry, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", typ, err)
	}
	return &Entry{V: Version, Type: typ, Data: b}, nil
}

// decodeEntry reads a stored leaf as strictly as Decode reads its data: an
// unknown field, or an encoding version newer than this binary's, is refused
// rather than half-read.
func decodeEntry(leaf []byte) (*Entry, error) {
	var e Entry
	if err := strictUnmarshal(leaf, &e); err != nil {
		return nil, err
	}
	if e.V < 1 || e.V > Version {
		return nil, fmt.Errorf("entry encoding version %d; this custos reads versions 1 to %d", e.V, Version)
	}
	return &e, nil
}

// Decode unmarshals the entry's data into v, refusing unknown fields so that a
// leaf written by a newer binary is not silently half-read.
func (e *Entry) Decode(v any) error {
	if err := strictUnmarshal(e.Data, v); err != nil {
		return fmt.Errorf("decode %s entry: %w", e.Type, err)
	}
	return nil
}

// Projector applies an entry's effect to the queryable tables. It must depend
// only on the entry, its index and the tables' current state, so that a replay
// of the log from empty reproduces the tables exactly.
type Projector func(ctx context.Context, q store.Queryer, index int64, e *Entry) error

// Table names a table that is a projection of the log, with the columns that
// order its rows for comparison.
type Table struct {
	Name  string
	Order string
}

// Projections maps entry types to projectors and lists the projected tables.
// Each module (the core, transplant, hashmatch, ...) adds its own.
type Projections struct {
	mu         sync.RWMutex
	projectors map[string]Projector
	tables     []Table
	schemas    []store.Schema
	checks     []namedCheck
	// split holds, for the types registered with On, the decoding of an
	// entry's data apart from its projection, so that log verify decodes
	// beside the replay.
	split map[string]splitProjector
	// every are the projectors run after each of On's (Every).
	every []DataProjector
	// alertRules are the rules declared to raise alerts (DeclareAlertRules).
	alertRules map[string]bool
}

type splitProjector struct {
	decode func(e *Entry) (any, error)
	apply  func(ctx context.Context, q store.Queryer, index int64, e *Entry, data any) error
}

// NewProjections returns projections that already know the ledger's own entries
// (registry.initialized, and alert.raised with the work on alerts).
func NewProjections() *Projections {
	r := &Projections{projectors: map[string]Projector{}, alertRules: map[string]bool{}}
	r.Register(TypeInitialized, projectInitialized)
	r.Register(TypeAlert, projectAlert)
	projectAlertWork(r)
	r.Tables(Table{"settings", "name"}, Table{"alerts", "id"}, Table{"alert_comments", "id"})
	return r
}

// Register adds the projector for an entry type. Registering a type twice is a
// programming error and panics.
func (r *Projections) Register(typ string, p Projector) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.projectors[typ]; dup {
		panic("ledger: projector registered twice for " + typ)
	}
	r.projectors[typ] = p
}

// Tables declares tables that are projections of the log.
func (r *Projections) Tables(ts ...Table) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tables = append(r.tables, ts...)
}

// DeclareAlertRules declares rules of refusals and findings that raise an
// alert for the regulator (errs.Alertf, ProjectAlert): the alerts list is
// filtered by any of them, before one was ever raised, and offers them.
// Each module, the core too, declares its own (module.Module.AlertRules);
// internal/server's TestAlertRulesDeclared reads the code for every rule an
// alert is raised with and checks it is declared.
func (r *Projections) DeclareAlertRules(rules ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rule := range rules {
		r.alertRules[rule] = true
	}
}

// AlertRules returns the rules declared to raise alerts, sorted.
func (r *Projections) AlertRules() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Sorted(maps.Keys(r.alertRules))
}

// Project applies e through its registered projector.
func (r *Projections) Project(ctx context.Context, q store.Queryer, index int64, e *Entry) error {
	r.mu.RLock()
	p := r.projectors[e.Type]
	r.mu.RUnlock()
	if p == nil {
		return fmt.Errorf("leaf %d: no projector for entry type %q", index, e.Type)
	}
	return p(ctx, q, index, e)
}

// Schema adds a module's schema: the tables its projectors write, which a
// replay creates before it projects.
func (r *Projections) Schema(s store.Schema) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.schemas = append(r.schemas, s)
}

// Schemas lists the modules' schemas in the order they were added (the
// core's first): the order Migrate applies them in.
func (r *Projections) Schemas() []store.Schema {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]store.Schema(nil), r.schemas...)
}

// Types lists the entry types that have a projector, in sorted order.
func (r *Projections) Types() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Sorted(maps.Keys(r.projectors))
}

// ProjectedTables lists the tables that replaying the log rebuilds.
func (r *Projections) ProjectedTables() []Table {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]Table(nil), r.tables...)
}

// On registers the projector of an entry type whose data decodes into a T:
// apply receives the decoded data, so each projector only writes tables.
// The projectors of Every run after it, on the same data.
func On[T any](r *Projections, typ string, apply func(ctx context.Context, q store.Queryer, index int64, e *Entry, data *T) error) {
	r.Register(typ, func(ctx context.Context, q store.Queryer, index int64, e *Entry) error {
		var data T
		if err := e.Decode(&data); err != nil {
			return err
		}
		if err := apply(ctx, q, index, e, &data); err != nil {
			return err
		}
		return r.projectEvery(ctx, q, index, e, &data)
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.split == nil {
		r.split = map[string]splitProjector{}
	}
	r.split[typ] = splitProjector{
		decode: func(e *Entry) (any, error) {
			var data T
			err := e.Decode(&data)
			return &data, err
		},
		apply: func(ctx context.Context, q store.Queryer, index int64, e *Entry, data any) error {
			if err := apply(ctx, q, index, e, data.(*T)); err != nil {
				return err
			}
			return r.projectEvery(ctx, q, index, e, data)
		},
	}
}

// decoded is an entry's data decoded ahead of its projection (prepare).
type decoded struct {
	data any
	err  error
}

// prepare decodes an entry's data for projectDecoded, when its type was
// registered with On; it returns nil otherwise.
func (r *Projections) prepare(e *Entry) *decoded {
	r.mu.RLock()
	sp, ok := r.split[e.Type]
	r.mu.RUnlock()
	if !ok {
		return nil
	}
	v, err := sp.decode(e)
	return &decoded{v, err}
}

// projectDecoded projects e as Project does, with its data as prepare
// decoded it (nil: as Project).
func (r *Projections) projectDecoded(ctx context.Context, q store.Queryer, index int64, e *Entry, d *decoded) error {
	if d == nil {
		return r.Project(ctx, q, index, e)
	}
	if d.err != nil {
		return d.err
	}
	r.mu.RLock()
	sp := r.split[e.Type]
	r.mu.RUnlock()
	return sp.apply(ctx, q, index, e, d.data)
}
