package auth

import (
	"encoding/json"
	"testing"
)

// TestOIDCMatch checks the rules that map an identity provider's claims to
// roles: a string claim, a list (groups), a claim inside an object
// (Keycloak's realm_access.roles), the first matching rule winning, and no
// rule matching a value that only contains the rule's.
func TestOIDCMatch(t *testing.T) {
	cfg := OIDCConfig{Roles: []OIDCRule{
		{Claim: "groups", Value: "/health/custos-regulators", Role: Regulator, Authority: "RG-1"},
		{Claim: "realm_access.roles", Value: "custos-auditor", Role: Auditor, Authority: "RG-1"},
		{Claim: "email", Value: "admin@health.example.gov", Role: Admin, Authority: "RG-1"},
		{Claim: "groups", Value: "/health/custos-everyone", Role: Auditor, Authority: "RG-2"},
	}}
	for _, c := range []struct {
		claims string
		role   Role
		auth   string
	}{
		{`{"groups":["/health/staff","/health/custos-regulators","/health/custos-everyone"]}`, Regulator, "RG-1"},
		{`{"groups":["/health/custos-everyone"],"realm_access":{"roles":["offline_access","custos-auditor"]}}`, Auditor, "RG-1"},
		{`{"email":"admin@health.example.gov"}`, Admin, "RG-1"},
		{`{"groups":["/health/custos-everyone"]}`, Auditor, "RG-2"},
		{`{"groups":"/health/custos-regulators"}`, Regulator, "RG-1"},
		{`{"groups":["/health/custos-regulators-old"],"email":"someone@health.example.gov"}`, "", ""},
		{`{"realm_access":"custos-auditor"}`, "", ""},
		{`{}`, "", ""},
	} {
		var claims map[string]any
		if err := json.Unmarshal([]byte(c.claims), &claims); err != nil {
			t.Fatal(err)
		}
		r, ok := cfg.Match(claims)
		if ok != (c.role != "") || r.Role != c.role || r.Authority != c.auth {
			t.Errorf("%s: matched %v %s %s, want %s %s", c.claims, ok, r.Role, r.Authority, c.role, c.auth)
		}
	}
}
