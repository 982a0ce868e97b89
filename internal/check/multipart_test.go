package check_test

import (
	"errors"
	"io"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
)

// TestPartHeader: a part header Go's MIME reader refuses (a file name with a
// control character, a line without a colon) is refused by its error's
// type, rule part_header naming the field given, without the line or the
// name; any other error is not this refusal.
func TestPartHeader(t *testing.T) {
	read := func(header string) error {
		body := "--b\r\n" + header + "\r\n\r\ncontent\r\n--b--\r\n"
		_, err := multipart.NewReader(strings.NewReader(body), "b").NextPart()
		return err
	}
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"a control character in a file name", read("Content-Disposition: form-data; name=\"files\"; filename=\"Jane\x01Roe.png\""), true},
		{"a line without a colon", read("Content-Disposition: form-data; name=\"files\"\r\nJane Roe"), true},
		{"cut short in a header", func() error {
			_, err := multipart.NewReader(strings.NewReader("--b\r\nContent-Disposition: form-data; name=\"fi"), "b").NextPart()
			return err
		}(), false},
		{"another error", io.ErrUnexpectedEOF, false},
		{"no error", nil, false},
	} {
		err := check.PartHeader(c.err, "files")
		if !c.want {
			if err != nil {
				t.Errorf("%s (%v): refused %v", c.name, c.err, err)
			}
			continue
		}
		var e *errs.Error
		if !errors.As(err, &e) || e.Code != errs.Malformed || e.Rule != "part_header" || e.Field != "files" {
			t.Errorf("%s (%v): %#v", c.name, c.err, err)
			continue
		}
		if strings.Contains(e.Message, "Jane") || !strings.Contains(e.Message, "rename the file chosen for files") {
			t.Errorf("%s: %q", c.name, e.Message)
		}
	}
}
