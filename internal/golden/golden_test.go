package golden_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

var update = flag.Bool("update", false, "regenerate the golden log in testdata/ (only to add an entry type or a field: docs/architecture.md, \"How an entry type is versioned\")")

// projections are the deployment's: every module's projectors, as custos
// serve and custos log verify build them.
func projections() *ledger.Projections { return server.NewProjections() }

// catalogue is the default deployment's authority kinds and roles.
func catalogue() *auth.Catalogue {
	c, err := module.Catalogue(server.Modules(server.DefaultModules()))
	if err != nil {
		panic(err)
	}
	return c
}

// The golden log's files under testdata/.
const (
	dir            = "testdata"
	keyFile        = "golden.key"   // the synthetic key file (server.Keys) that signed it
	leavesFile     = "leaves.jsonl" // the leaves as log_leaves holds them, one a line
	checkpointFile = "checkpoint"   // the signed head, a C2SP signed note
	headFile       = "head.json"    // the expected tree size and root
)

const regenerate = "go test ./internal/golden -run TestGoldenLog -update"

// unreadable is what a developer reads when the golden log stops replaying.
const unreadable = `The golden log (internal/golden/testdata) is a registry written by an earlier custos,
and this custos cannot read it: nor could it read the registries in service. Leaves are decoded
strictly, so a field of an entry may be added, but never renamed, removed or given another type
(docs/architecture.md, "How an entry type is versioned"). Bring the field back; do not
regenerate the golden log to make this pass (-update refuses to while it fails).`

type head struct {
	Size uint64 `json:"size"`
	Root string `json:"root"` // hex
}

type goldenLog struct {
	keys       *server.Keys
	leaves     [][]byte
	checkpoint string
	head       head
}

func load() (*goldenLog, error) {
	keys, err := server.LoadKeys(filepath.Join(dir, keyFile))
	if err != nil {
		return nil, err
	}
	g := &goldenLog{keys: keys}
	data, err := os.ReadFile(filepath.Join(dir, leavesFile))
	if err != nil {
		return nil, err
	}
	if !bytes.HasSuffix(data, []byte("\n")) {
		return nil, fmt.Errorf("%s does not end with a newline", leavesFile)
	}
	g.leaves = bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	cp, err := os.ReadFile(filepath.Join(dir, checkpointFile))
	if err != nil {
		return nil, err
	}
	g.checkpoint = string(cp)
	h, err := os.ReadFile(filepath.Join(dir, headFile))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(h, &g.head); err != nil {
		return nil, fmt.Errorf("%s: %w", headFile, err)
	}
	return g, nil
}

// TestGoldenLog replays the golden log into a new registry on each database
// engine, through the deployment's projections: the leaves must decode and
// project, make the expected tree, whose checkpoint verifies with the golden
// key, and custos log verify must find nothing wrong. Every entry type that
// has a projector must have a leaf in it.
//
// With -update it first replays the committed log, refuses to go on if that
// fails, then writes a new golden log with the generator (history_test.go)
// and replays that.
func TestGoldenLog(t *testing.T) {
	g, err := load()
	switch {
	case err == nil:
		if !t.Run("committed", func(t *testing.T) { replay(t, g) }) && *update {
			t.Fatal("-update does not replace a golden log that no longer replays.\n\n" + unreadable)
		}
	case *update && errors.Is(err, fs.ErrNotExist):
		t.Logf("no golden log yet: %v", err)
	default:
		t.Fatal(err)
	}
	if *update {
		generate(t, dir)
		if g, err = load(); err != nil {
			t.Fatal(err)
		}
		t.Run("regenerated", func(t *testing.T) { replay(t, g) })
	}
	seen := map[string]bool{}
	for i, l := range g.leaves {
		var e struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatalf("leaf %d: %v", i, err)
		}
		seen[e.Type] = true
	}
	for _, typ := range projections().Types() {
		if !seen[typ] {
			t.Errorf("entry type %s has no leaf in the golden log: make the generator (internal/golden/history_test.go) write one, then regenerate with\n\t%s", typ, regenerate)
		}
	}
}

func replay(t *testing.T, g *goldenLog) {
	cp, err := ledger.OpenCheckpoint(g.checkpoint, g.keys.LogKey, "custos/XA")
	if err != nil {
		t.Fatalf("the golden checkpoint does not verify with the golden key: %v", err)
	}
	if cp.Size != g.head.Size || hex.EncodeToString(cp.Root) != g.head.Root {
		t.Fatalf("the golden checkpoint signs size %d root %x; %s says size %d root %s", cp.Size, cp.Root, headFile, g.head.Size, g.head.Root)
	}
	if uint64(len(g.leaves)) != g.head.Size {
		t.Fatalf("%s holds %d leaves; %s says %d", leavesFile, len(g.leaves), headFile, g.head.Size)
	}
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		p := projections()
		db := storetest.Open(t, dsn, p.Schemas()...)
		got, err := ledger.AppendLeaves(ctx, db, p, g.leaves, g.checkpoint, g.keys.LogKey)
		if err != nil {
			t.Fatalf("%v\n\n%s", err, unreadable)
		}
		if got.Size != g.head.Size || hex.EncodeToString(got.Root) != g.head.Root {
			t.Fatalf("the replayed log has size %d root %x, want %d %s", got.Size, got.Root, g.head.Size, g.head.Root)
		}
		rep, err := ledger.Verify(ctx, db, p, ledger.VerifyOptions{VerifierKey: g.keys.LogKey, WithoutPersonalData: true})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() {
			t.Fatalf("log verify of the replayed golden log:\n%s\n\n%s", strings.Join(rep.Problems, "\n"), unreadable)
		}
		if rep.Size != g.head.Size || rep.Tables != len(p.ProjectedTables()) {
			t.Fatalf("log verify checked %d leaves and %d tables, want %d and %d", rep.Size, rep.Tables, g.head.Size, len(p.ProjectedTables()))
		}
	})
}

// TestGoldenGeneratorIsDeterministic: the generator records the same
// history twice, byte for byte (leaves, checkpoint, head), with the committed
// key, so that regenerating shows in its diff exactly the leaves a change
// made. Before, an export's digest salt was drawn from crypto/rand, so its
// export.completed sha256, and every checkpoint root after it (which the
// witnesses' cosignature signs), changed on every -update.
func TestGoldenGeneratorIsDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("records the golden history twice")
	}
	keys, err := server.LoadKeys(filepath.Join(dir, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	first, second := record(t, keys), record(t, keys)
	for _, name := range []string{leavesFile, checkpointFile, headFile} {
		if a, b := first[name], second[name]; a != b {
			al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
			for i := range min(len(al), len(bl)) {
				if al[i] != bl[i] {
					t.Errorf("%s differs between two runs of the generator, from line %d:\n%s\n%s", name, i+1, al[i], bl[i])
					break
				}
			}
			if len(al) != len(bl) {
				t.Errorf("%s: %d lines, then %d", name, len(al), len(bl))
			}
		}
	}
}
