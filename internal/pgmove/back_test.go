package pgmove

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestBackRefusesBrokenForeignKeys copies back a PostgreSQL registry in
// which a row names a parent that is not there (the constraint dropped
// behind custos's back): the copy checks every foreign key once its
// indexes are built again, refuses, and leaves no file, copy or key file.
// The way back with the keys intact is move.txtar's and
// TestMoveBackToSQLite's.
func TestBackRefusesBrokenForeignKeys(t *testing.T) {
	ctx := context.Background()
	e := apptest.Start(t, storetest.Postgres(t))
	e.Tamper(t, "ALTER TABLE principals DROP CONSTRAINT principals_authority_id_fkey")
	e.Tamper(t, "UPDATE principals SET authority_id = 'AU-GONE'")
	dir := t.TempDir()
	to := filepath.Join(dir, "back.db")
	_, err := Back(ctx, Options{From: e.Cfg.DSN, FromKeyFile: e.Cfg.KeyFile, To: to})
	if err == nil || !strings.Contains(err.Error(), "foreign keys do not hold") || !strings.Contains(err.Error(), "principals row") {
		t.Fatalf("Back = %v, want the broken foreign key of principals named", err)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 0 {
		t.Fatalf("a refused copy left %v in its folder", left)
	}
}
