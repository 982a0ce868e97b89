package ledger

import (
	"encoding/json"
	"io"
	"strings"
	"sync"
	"time"
)

// TimeLayout is how every timestamp is written in leaves and tables: UTC with
// microseconds and a fixed width, so that text order is time order on both
// database engines.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// FormatTime writes t in TimeLayout.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// IDs hands out record ids: a short prefix naming the kind of record and ten
// Crockford base-32 characters (50 random bits), e.g. "DN-7K2M9QX4AB". The
// alphabet has no I, L, O or U, so an id read aloud or typed back is unambiguous.
type IDs struct {
	mu  sync.Mutex
	src io.Reader
	buf [8]byte
}

// NewIDs returns an id source reading randomness from src (crypto/rand in
// production, a seeded generator for the deterministic demo).
func NewIDs(src io.Reader) *IDs { return &IDs{src: src} }

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// New returns a fresh id with the given prefix.
func (g *IDs) New(prefix string) string {
	g.mu.Lock()
	if _, err := io.ReadFull(g.src, g.buf[:]); err != nil {
		g.mu.Unlock()
		panic("ledger: id source failed: " + err.Error())
	}
	v := uint64(0)
	for _, b := range g.buf {
		v = v<<8 | uint64(b)
	}
	g.mu.Unlock()
	var sb strings.Builder
	sb.WriteString(prefix)
	sb.WriteByte('-')
	for i := 0; i < 10; i++ {
		sb.WriteByte(crockford[v&31])
		v >>= 5
	}
	return sb.String()
}

func encodeEntry(e *Entry) ([]byte, error) { return json.Marshal(e) }
