package auth

import (
	"fmt"
	"strings"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
)

// Kind is a kind of authority a module adds, with the prefix of its ids.
type Kind struct {
	Name   string // e.g. "transplant_centre"
	Prefix string // two capital letters that start its ids, e.g. "TC"
	Label  string // for people, e.g. "Transplant centre": a message (i18n.M), translated where shown
	// OneRefusal, when set, makes the kind one the registry holds a single
	// authority of (the designated authority for trafficking reports, whose
	// assessors read every report): creating a second is refused with it,
	// on the field kind. The module writes it with errs.New, its rule and
	// its sentence literal, as RoleSpec.KindRefusal.
	OneRefusal *errs.Error
}

// RoleSpec is a role a module adds and the authority kind its principals must
// belong to ("" for any kind).
type RoleSpec struct {
	Role  Role
	Kind  string
	Label string // what the role does, for people: a message (i18n.M), translated where shown
	// KindRefusal is the refusal to give the role to a principal of an
	// authority of another kind, on the field authority_id. The module
	// writes it with errs.Invalidf, its rule and its sentence literal
	// ("a coordinator must belong to a transplant centre"), so that the
	// sentence is a message of the module's catalogue and is answered in
	// the reader's language. A role that requires a kind must have one.
	KindRefusal *errs.Error
}

// Catalogue is every authority kind and role of a deployment: the core's and
// those of its modules. The server builds it from the module list.
type Catalogue struct {
	kinds []Kind
	roles []RoleSpec
}

// NewCatalogue builds a catalogue, refusing a kind or role declared twice or a
// role that requires an unknown kind.
func NewCatalogue(kinds []Kind, roles []RoleSpec) (*Catalogue, error) {
	c := &Catalogue{}
	for _, k := range kinds {
		if _, dup := c.Kind(k.Name); dup {
			return nil, fmt.Errorf("authority kind %q declared twice", k.Name)
		}
		if r := k.OneRefusal; r != nil && (r.Code != errs.Conflict || r.Rule == "" || r.Field != "kind") {
			return nil, fmt.Errorf("authority kind %q: its OneRefusal must be errs.New(errs.Conflict, rule, \"kind\", sentence)", k.Name)
		}
		c.kinds = append(c.kinds, k)
	}
	for _, r := range roles {
		if _, dup := c.Role(r.Role); dup {
			return nil, fmt.Errorf("role %q declared twice", r.Role)
		}
		if _, ok := c.Kind(r.Kind); r.Kind != "" && !ok {
			return nil, fmt.Errorf("role %q requires authority kind %q, which no module declares", r.Role, r.Kind)
		}
		if r.Kind != "" && (r.KindRefusal == nil || r.KindRefusal.Code != errs.Invalid || r.KindRefusal.Rule == "" || r.KindRefusal.Field != "authority_id") {
			return nil, fmt.Errorf("role %q requires authority kind %q: give it a KindRefusal, errs.Invalidf(rule, \"authority_id\", sentence)", r.Role, r.Kind)
		}
		c.roles = append(c.roles, r)
	}
	return c, nil
}

// Kinds lists the authority kinds in declaration order.
func (c *Catalogue) Kinds() []Kind { return append([]Kind(nil), c.kinds...) }

// Roles lists the roles in declaration order.
func (c *Catalogue) Roles() []RoleSpec { return append([]RoleSpec(nil), c.roles...) }

// Kind finds an authority kind by name.
func (c *Catalogue) Kind(name string) (Kind, bool) {
	for _, k := range c.kinds {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

// Role finds a role.
func (c *Catalogue) Role(r Role) (RoleSpec, bool) {
	for _, s := range c.roles {
		if s.Role == r {
			return s, true
		}
	}
	return RoleSpec{}, false
}

// RoleNames lists the roles' names, for enumerations.
func (c *Catalogue) RoleNames() []string {
	out := make([]string, len(c.roles))
	for i, r := range c.roles {
		out[i] = string(r.Role)
	}
	return out
}

// KindNames lists the authority kinds' names, for enumerations.
func (c *Catalogue) KindNames() []string {
	out := make([]string, len(c.kinds))
	for i, k := range c.kinds {
		out[i] = k.Name
	}
	return out
}

// CoreKinds are the authority kinds of the core: the regulator that runs the
// registry (created by custos init).
var CoreKinds = []Kind{{Name: KindRegulator, Prefix: "AU", Label: i18n.M("Regulator")}}

// CoreRoles are the roles of the core.
var CoreRoles = []RoleSpec{
	{Role: Admin, Label: i18n.M("Administrator: manages authorities and principals")},
	{Role: Regulator, Label: i18n.M("Regulator: authorizes, watches alerts, reads everything")},
	{Role: Auditor, Label: i18n.M("Auditor: reads everything, changes nothing")},
}

// quoted returns each string in Go quotes.
func quoted(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// orList joins "a", "a or b", "a, b or c".
func orList(ss []string) string {
	switch len(ss) {
	case 0:
		return ""
	case 1:
		return ss[0]
	}
	return strings.Join(ss[:len(ss)-1], ", ") + " or " + ss[len(ss)-1]
}
