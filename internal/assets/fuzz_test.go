package assets_test

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/errs"
)

// FuzzParseDirectory: any file is read or refused with an errs error;
// every entry read passes the checks of a form; every refused line names
// its line, rule and field.
func FuzzParseDirectory(f *testing.F) {
	f.Add(directoryCSV)
	f.Add("state,kind,name,legal_bases,languages,email\nXA,central_authority,\"Quoted, name\",uncac_46,en,a@b.example\n")
	f.Add("\ufeffname,state,kind,legal_bases,languages,phone\nN,XA,contact_point,reciprocity;uncac_46,en fr,+1\n")
	f.Add("state,kind,name,legal_bases,languages\nXA,central_authority,\"unterminated\n")
	f.Add("state,kind,name,legal_bases,languages,available_24_7\nXA,central_authority,N,uncac_46,en,maybe\n")
	f.Add("state,kind,name,legal_bases,languages\n\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, data string) {
		entries, refused, err := assets.ParseDirectory(strings.NewReader(data))
		if err != nil {
			if _, ok := errs.As(err); !ok {
				t.Fatalf("not an errs error: %v", err)
			}
			return
		}
		for _, c := range entries {
			if c.State == "" || c.Name == "" || len(c.LegalBases) == 0 || len(c.Languages) == 0 {
				t.Fatalf("an entry read without its required fields: %+v", c)
			}
		}
		for _, l := range refused {
			if l.Line < 2 || l.Rule == "" || l.Field == "" || l.Message == "" {
				t.Fatalf("a refused line without its line, rule or field: %+v", l)
			}
		}
	})
}

// TestDirectoryFileNotUTF8: a UTF-16 file is refused as such, and a header
// the directory does not know is named with its control bytes escaped,
// never written raw to a terminal.
func TestDirectoryFileNotUTF8(t *testing.T) {
	utf16 := []byte{0xff, 0xfe, 's', 0, 't', 0, 'a', 0, 't', 0, 'e', 0, '\n', 0}
	_, _, err := assets.ParseDirectory(strings.NewReader(string(utf16)))
	if e, ok := errs.As(err); !ok || e.Rule != "utf8" || e.Field != "file" || !strings.Contains(e.Message, "UTF-16") {
		t.Errorf("a UTF-16 file: %v", err)
	}
	_, _, err = assets.ParseDirectory(strings.NewReader("s\x00t\x1b[31m,kind\n"))
	if e, ok := errs.As(err); !ok || e.Rule != "column" || strings.ContainsAny(e.Message, "\x00\x1b") || !strings.Contains(e.Message, `"s\x00t\x1b[31m"`) {
		t.Errorf("a header with control bytes: %q", err)
	}
}
