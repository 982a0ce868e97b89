package store

import (
	"strings"
	"testing"
)

// TestRedact masks a PostgreSQL URL's password wherever pgx takes it: in
// the user information and as a parameter; the rest stays as written.
func TestRedact(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://custos:s3cret@db:5432/custos?sslmode=disable":                     "postgres://custos:xxxxx@db:5432/custos?sslmode=disable",
		"postgres://custos@db/custos?sslmode=disable&password=s3cret&search_path=reg": "postgres://custos@db/custos?sslmode=disable&password=xxxxx&search_path=reg",
		"postgresql://db/custos?PASSWORD=s3cret&sslpassword=k3y":                      "postgresql://db/custos?PASSWORD=xxxxx&sslpassword=xxxxx",
		"postgres://db/custos?pass%77ord=s3cret":                                      "postgres://db/custos?pass%77ord=xxxxx",
		"postgres://custos@db/custos?search_path=password":                            "postgres://custos@db/custos?search_path=password",
		"/var/lib/custos/custos.db":                                                   "/var/lib/custos/custos.db",
	} {
		got := Redact(dsn)
		if got != want {
			t.Errorf("Redact(%q) = %q, want %q", dsn, got, want)
		}
		if strings.Contains(got, "s3cret") || strings.Contains(got, "k3y") {
			t.Errorf("Redact(%q) = %q shows the password", dsn, got)
		}
	}
}
