package auth

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/errs"
)

// TestRoleOfAKindHasItsRefusal: a role that requires an authority kind is
// declared with the refusal on authority_id that gives it to another kind,
// a literal sentence; without one, or with one on another field or not a
// rule's, the catalogue is refused.
func TestRoleOfAKindHasItsRefusal(t *testing.T) {
	kinds := []Kind{{Name: KindRegulator, Prefix: "AU"}, {Name: "office", Prefix: "OF"}}
	good := errs.Invalidf("clerk_office", "authority_id", "a clerk must belong to an office")
	if _, err := NewCatalogue(kinds, []RoleSpec{{Role: "clerk", Kind: "office", KindRefusal: good}}); err != nil {
		t.Fatalf("a role with its refusal: %v", err)
	}
	for name, r := range map[string]*errs.Error{
		"none":          nil,
		"another field": errs.Invalidf("clerk_office", "authority", "a clerk must belong to an office"),
		"no rule":       errs.Invalidf("", "authority_id", "a clerk must belong to an office"),
		"not invalid":   errs.New(errs.Forbidden, "clerk_office", "authority_id", "a clerk must belong to an office"),
	} {
		_, err := NewCatalogue(kinds, []RoleSpec{{Role: "clerk", Kind: "office", KindRefusal: r}})
		if err == nil || !strings.Contains(err.Error(), "KindRefusal") {
			t.Errorf("%s: %v, want the catalogue refused for its KindRefusal", name, err)
		}
	}
	if _, err := NewCatalogue(kinds, []RoleSpec{{Role: "reader"}}); err != nil {
		t.Errorf("a role of any kind needs no refusal: %v", err)
	}
}
