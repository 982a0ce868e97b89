package auth_test

import (
	"testing"

	"github.com/custos-project/custos/internal/auth"
)

// TestValidCountry: the codes ISO 3166-1 assigns to countries now, and the
// user-assigned ones demos and tests use; not a code of two letters that
// names nothing, nor a reserved or withdrawn one.
func TestValidCountry(t *testing.T) {
	for code, want := range map[string]bool{
		"FR": true, "GB": true, "DE": true, "XK": true, // assigned (XK as the EU and UN use it)
		"XA": true, "XB": true, "QQ": true, "AA": true, "ZZ": true, // user-assigned
		"AB": false, "QA": true, "UK": false, "EU": false, "DD": false, // unassigned, reserved, withdrawn
		"fr": false, "FRA": false, "F": false, "": false, "12": false,
	} {
		if got := auth.ValidCountry(code); got != want {
			t.Errorf("ValidCountry(%q) = %v, want %v", code, got, want)
		}
	}
}
