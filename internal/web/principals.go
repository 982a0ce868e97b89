package web

import (
	"context"
	"html"
	"html/template"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/store"
)

// principalNames maps the principals among ids to their names. Records keep
// a principal's id, as the log does (and the API answers it), and a person
// reading a page is shown who it was; an id no principal has (the empty
// one, say) is left out, and the page shows the id (who). No id reads
// nothing.
func principalNames(ctx context.Context, q store.Queryer, ids ...string) (map[string]string, error) {
	if !hasID(ids) {
		return map[string]string{}, nil
	}
	ps, err := auth.ListPrincipals(ctx, q)
	if err != nil {
		return nil, err
	}
	return namesOf(ps, ids...), nil
}

// namesOf is principalNames for a page that has listed the principals
// already (an alert's, for its assignees).
func namesOf(ps []auth.PrincipalRecord, ids ...string) map[string]string {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	names := map[string]string{}
	for _, p := range ps {
		if want[p.ID] {
			names[p.ID] = p.Name
		}
	}
	return names
}

func hasID(ids []string) bool {
	for _, id := range ids {
		if id != "" {
			return true
		}
	}
	return false
}

// who writes a principal for a person to read: its name from names, its id
// kept as the title (what the log and the API name, for an auditor), or the
// id alone when names has none. A template's function, and a message's
// argument.
func who(names map[string]string, id string) template.HTML {
	if name, ok := names[id]; ok && name != "" {
		return template.HTML(`<span class="principal" title="` + html.EscapeString(id) + `">` + html.EscapeString(name) + `</span>`)
	}
	return template.HTML(`<span class="id" dir="ltr">` + html.EscapeString(id) + `</span>`)
}
