package httpapi

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestUploadHeadersDigestedByName: the idempotency digest of a raw upload
// names its upload headers as they are sent (Custos-*), as a batch's parts'
// headers are named (partsDigest). Before, they were labelled by their old
// X-Custos-* names, so that a raw upload's retry across the rename matched
// while a batch's did not; decided in bodyDigest: neither does.
func TestUploadHeadersDigestedByName(t *testing.T) {
	h := http.Header{}
	h.Set("Content-Type", "image/png")
	h.Set(hdrContentRef, "up/1")
	h.Set(hdrUserID, "u-1")
	got, err := bodyDigest(h, func() (io.Reader, error) { return strings.NewReader("bytes"), nil })
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.New()
	io.WriteString(want, "bytes")
	fmt.Fprintf(want, "\n%s: %q\n%s: %q", "Custos-Content-Ref", "up/1", "Custos-User-Id", "u-1")
	if !bytes.Equal(got, want.Sum(nil)) {
		t.Errorf("the digest of an upload with Custos-Content-Ref and Custos-User-Id is %x, want %x: the headers labelled by their names", got, want.Sum(nil))
	}
}
