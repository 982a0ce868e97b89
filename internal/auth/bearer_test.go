package auth

import "testing"

func TestBearerToken(t *testing.T) {
	for h, want := range map[string]string{
		"Bearer cst_abc": "cst_abc", "bearer cst_abc": "cst_abc", "BEARER  cst_abc ": "cst_abc",
		"Basic dXNlcjpwYXNz": "", "Bearer": "", "Bearer ": "", "": "", "Bearercst_abc": "",
	} {
		got, ok := BearerToken(h)
		if got != want || ok != (want != "") {
			t.Errorf("BearerToken(%q) = %q, %v; want %q", h, got, ok, want)
		}
	}
}
