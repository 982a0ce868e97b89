package hashmatch_test

import (
	"context"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/storetest"
)

// TestBankExportChecksAgainstTheLog: a bank's list exported in each list
// format is logged as every export is, export.made then export.completed
// (the entries written, the bytes, their SHA-256), so that the file checks
// against the log (export.Check finds it by its digest: a list format has
// no header) and a file with one byte changed does not. Before, a bank's
// export wrote its own export.made and no completed entry: no file of it
// checked.
func TestBankExportChecksAgainstTheLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := newBank(t, w, "NCMEC feed")
		importList(t, w, bank, hashmatch.FormatNCMEC, ncmecPage(t, "page1.xml"))
		ctx := context.Background()
		for _, format := range hashmatch.Formats {
			file := exportList(t, w, bank, format)
			c, err := export.Check(ctx, w.App.DB.Read(), file)
			if err != nil {
				t.Fatal(err)
			}
			if !c.OK() || c.Logged == nil {
				t.Fatalf("%s: the file does not check: %q", format, c.Problems)
			}
			made, err := ledger.ReadEntry(ctx, w.App.DB.Read(), c.Made)
			if err != nil {
				t.Fatal(err)
			}
			var m export.Made
			if err := made.Decode(&m); err != nil || made.Type != export.TypeMade || m.ID != c.ID || m.Registry != "hashmatch" ||
				m.List != hashmatch.ListBank || m.Format != format || m.Filter != "bank_id="+bank+"&version=1" {
				t.Errorf("%s: the completed entry's export.made is %s %+v (%v)", format, made.Type, m, err)
			}
			if c.Logged.Bytes != int64(len(file)) || c.Logged.Rows < 1 {
				t.Errorf("%s: completed %+v for a file of %d bytes", format, c.Logged, len(file))
			}
			// One byte changed: the file is no longer the one sent.
			edited := []byte(strings.Replace(string(file), bank, bank[:len(bank)-1]+"x", 1))
			if string(edited) == string(file) {
				edited = append(edited[:len(edited)-1:len(edited)-1], edited[len(edited)-1]^1)
			}
			if c, err := export.Check(ctx, w.App.DB.Read(), edited); err != nil || c.OK() {
				t.Errorf("%s: a changed byte checks: %+v %v", format, c, err)
			}
		}
	})
}
