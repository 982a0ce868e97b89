package web

import (
	"context"
	"html"
	"html/template"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/store"
)

// ---- Principals on pages: who did it, as the reader may see it ----
//
// Records keep a principal's id, as the log does (and the API answers it),
// and a person reading a page is shown who it was. A staff member's name is
// personal data, and some pages are read across authorities (another
// centre, the designated authority, a platform's team, another state's
// officer through the exchange): a page shows it only to whoever needs it
// (data minimisation, GDPR art. 5(1)(c), Convention 108+ art. 5(4)(c)), a
// reader of the principal's own authority, or a regulator, who oversees
// them all. Any other reader is shown the principal's authority ("someone
// at Centre A"), never the person's name; the id is kept, as the title, for
// an audit (docs/personal-data.md).

// person is what a page shows of one principal: the person's name, or
// their authority's (Authority) for a reader who may not see the name.
type person struct {
	Name      string
	Authority bool
}

// people maps principal ids to what a page shows of each (who).
type people map[string]person

// principalNames is what reader is shown of the principals among ids
// (people). An id no principal has (the empty one, say) is left out, and
// the page shows the id (who). No id reads nothing.
func principalNames(ctx context.Context, q store.Queryer, reader *auth.Principal, ids ...string) (people, error) {
	if !hasID(ids) {
		return people{}, nil
	}
	ps, err := auth.ListPrincipals(ctx, q)
	if err != nil {
		return nil, err
	}
	return namesOf(ps, reader, ids...), nil
}

// namesOf is principalNames for a page that has listed the principals
// already (an alert's, for its assignees).
func namesOf(ps []auth.PrincipalRecord, reader *auth.Principal, ids ...string) people {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	names := people{}
	for _, p := range ps {
		if !want[p.ID] {
			continue
		}
		if seesName(reader, p) {
			names[p.ID] = person{Name: p.Name}
		} else {
			names[p.ID] = person{Name: p.Authority, Authority: true}
		}
	}
	return names
}

// seesName is whether reader may read p's name: a reader of p's authority,
// or a regulator.
func seesName(reader *auth.Principal, p auth.PrincipalRecord) bool {
	return reader != nil && (reader.AuthorityID == p.AuthorityID || reader.Role == auth.Regulator)
}

func hasID(ids []string) bool {
	for _, id := range ids {
		if id != "" {
			return true
		}
	}
	return false
}

// someoneAt is what a reader of another authority is shown of a principal.
var someoneAt = i18n.M("someone at %s")

// who writes a principal for a person to read, in l's language: the name
// names has for it (the person's, or "someone at" their authority), its id
// kept as the title (what the log and the API name, for an auditor), or the
// id alone when names has none. A template's function.
func who(l *i18n.Localizer, names people, id string) template.HTML {
	p, ok := names[id]
	if !ok || p.Name == "" {
		return template.HTML(`<span class="id" dir="ltr">` + html.EscapeString(id) + `</span>`)
	}
	if p.Authority {
		return template.HTML(`<span class="principal authority" title="` + html.EscapeString(id) + `">` + html.EscapeString(l.T(someoneAt, p.Name)) + `</span>`)
	}
	return template.HTML(`<span class="principal" title="` + html.EscapeString(id) + `">` + html.EscapeString(p.Name) + `</span>`)
}
