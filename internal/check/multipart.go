package check

import (
	"errors"
	"net/textproto"

	"github.com/custos-project/custos/internal/errs"
)

// PartHeader is the refusal of an upload (a multipart/form-data body) whose
// part header Go's MIME reader refused, nil for any other error: 400, rule
// part_header, field the file input the upload sends its files as. The web
// UI's upload forms, the API's image batch and HMA's uploads answer it
// alike.
//
// A browser writes a file's name as it is into its part's
// Content-Disposition header, and the reader refuses a header line holding
// a control character (a byte under 0x20 but tab, or DEL), and with it the
// whole body; that is the case a person meets. The same error type
// (textproto.ProtocolError) also says that a header line is malformed
// otherwise (no colon, say), so the rule names the header, not the
// character. The case is told by the error's type alone, never its words:
// they quote the header line, and with it the file's name, which is the
// user's and may say who they are, so neither the line nor the name is
// repeated. The reader stays as strict.
func PartHeader(err error, field string) error {
	var pe textproto.ProtocolError
	if !errors.As(err, &pe) {
		return nil
	}
	return errs.New(errs.Malformed, "part_header", field,
		"the upload cannot be read: a part's header line is malformed (a file name with a control character does this); rename the file chosen for %s and send it again", field)
}
