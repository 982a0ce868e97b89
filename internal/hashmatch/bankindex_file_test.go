package hashmatch

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/custos-project/custos/internal/hashmatch/index"
)

// TestLoadIndexFile follows a bank's index file through restarts: the
// first load builds and writes it, the next maps it without rewriting it,
// a damaged file or one of other hashes is rebuilt, a new generation
// replaces the old file, and an unwritable directory falls back to an
// index in memory. Every index it returns finds a planted hash.
func TestLoadIndexFile(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	hashes := make([]index.Hash, 20000) // over the size that gets tables
	for i := range hashes {
		hashes[i] = index.Hash{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
	}
	dir := t.TempDir()
	inode := func(path string) uint64 {
		t.Helper()
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Sys().(*syscall.Stat_t).Ino
	}
	key := []byte("this registry's index file key!!")
	logs := &strings.Builder{}
	files := indexFiles{dir, key, slog.New(slog.NewTextHandler(logs, nil))}
	load := func(gen int64, hs []index.Hash) *index.Index {
		t.Helper()
		x, _, err := files.load("HB-1", gen, hs)
		if err != nil {
			t.Fatal(err)
		}
		q := hs[777]
		q[0] ^= 0xff // 8 bits away
		ms, err := x.Search(q, 31)
		if err != nil || len(ms) != 1 || ms[0].ID != 777 || ms[0].Distance != 8 {
			t.Fatalf("search = %v, %v; want id 777 at 8", ms, err)
		}
		if !x.HoldsExactly(hs) {
			t.Fatal("index does not hold the bank's hashes")
		}
		return x
	}
	path := filepath.Join(dir, "pdq-48422d31-3.idx") // hex of "HB-1"
	load(3, hashes)
	first := inode(path)
	load(3, hashes)
	if inode(path) != first {
		t.Fatal("a valid file was rewritten instead of mapped")
	}

	if logs.Len() != 0 {
		t.Fatalf("building and mapping a file logged: %s", logs)
	}

	// A changed table whose header checksum is recomputed (as anyone who
	// can write the directory could), or a file sealed under another key:
	// refused by the MAC, logged as a warning, rebuilt.
	for name, change := range map[string]func(b []byte){
		"table changed": func(b []byte) {
			b[len(b)-1000] ^= 0x10
			binary.LittleEndian.PutUint32(b[60:], crc32.Checksum(b[:60], crc32.MakeTable(crc32.Castagnoli)))
		},
		"another key": func(b []byte) {
			f := filepath.Join(t.TempDir(), "other.idx")
			if err := index.BuildFile(f, hashes, []byte("another registry's index key")); err != nil {
				t.Fatal(err)
			}
			other, err := os.ReadFile(f)
			if err != nil || len(other) != len(b) {
				t.Fatal(err, len(other), len(b))
			}
			copy(b, other)
		},
	} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		change(b)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		logs.Reset()
		damaged := inode(path)
		load(3, hashes)
		if inode(path) == damaged {
			t.Fatalf("%s: the file was kept", name)
		}
		if !strings.Contains(logs.String(), `level=WARN msg="hash bank index file refused; rebuilt from the database" bank=HB-1`) ||
			!strings.Contains(logs.String(), "keyed MAC mismatch") {
			t.Errorf("%s: logged %s", name, logs)
		}
	}

	// A file of the previous format (version 1, before the index kept
	// dense clusters in groups), checksums valid: Open refuses it, and it
	// is rebuilt in the current format.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint32(b[8:], 1)
	binary.LittleEndian.PutUint32(b[60:], crc32.Checksum(b[:60], crc32.MakeTable(crc32.Castagnoli)))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := index.Open(path, key); !errors.Is(err, index.ErrFile) {
		t.Fatalf("Open of a version-1 file = %v; want ErrFile", err)
	}
	oldVersion := inode(path)
	load(3, hashes)
	if inode(path) == oldVersion {
		t.Fatal("a version-1 file was kept")
	}
	if b, err = os.ReadFile(path); err != nil || binary.LittleEndian.Uint32(b[8:]) != 3 {
		t.Fatalf("rebuilt file: version %d, %v; want 3", binary.LittleEndian.Uint32(b[8:]), err)
	}

	// Same generation, other hashes (a file copied from elsewhere): rebuilt.
	other := append([]index.Hash(nil), hashes...)
	other[5][2] ^= 1
	before := inode(path)
	load(3, other)
	if inode(path) == before {
		t.Fatal("a file of other hashes was kept")
	}

	// A new generation writes its own file and removes the old one.
	load(4, hashes)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("old generation's file still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pdq-48422d31-4.idx")); err != nil {
		t.Fatal(err)
	}

	// An unwritable directory: the index is built in memory.
	ro := filepath.Join(t.TempDir(), "absent", "dir")
	x, how, err := indexFiles{ro, key, nil}.load("HB-1", 1, hashes)
	if err != nil || !x.HoldsExactly(hashes) || how != "in memory" {
		t.Fatalf("fallback: %s, %v", how, err)
	}

	// Without a key no file is written nor trusted: the index is built
	// in memory.
	unkeyed := t.TempDir()
	x, how, err = indexFiles{unkeyed, nil, nil}.load("HB-1", 1, hashes)
	if err != nil || !x.HoldsExactly(hashes) || how != "in memory" {
		t.Fatalf("without a key: %s, %v", how, err)
	}
	if left, _ := os.ReadDir(unkeyed); len(left) != 0 {
		t.Fatalf("without a key, files were written: %v", left)
	}
}
