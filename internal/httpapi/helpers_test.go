package httpapi_test

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"testing"

	"github.com/custos-project/custos/internal/transplant"
)

func with(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}

func without(m map[string]any, k string) map[string]any {
	out := with(m, k, nil)
	delete(out, k)
	return out
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

func toString(v any) string {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}

// checkOf returns the check character the registry would give body, found by
// trying every character, so the test does not reimplement ISO 7064.
func checkOf(t *testing.T, body string) string {
	t.Helper()
	for _, c := range "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" {
		if _, err := transplant.ParseOrganID(body + string(c)); err == nil {
			return string(c)
		}
	}
	t.Fatalf("no check character makes %s valid", body)
	return ""
}

func otherChar(c byte) string {
	if c == '0' {
		return "1"
	}
	return "0"
}

func decodeProof(t *testing.T, v any) [][]byte {
	t.Helper()
	var out [][]byte
	for _, h := range v.([]any) {
		b, err := base64.StdEncoding.DecodeString(h.(string))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}
