package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/image/draw"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/hashmatch/pdq"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/reftest"
	"github.com/custos-project/custos/internal/store"
)

func pdqRef(t *testing.T) string {
	t.Helper()
	return reftest.Path(t, "pdq", "data", "reg-test-input")
}

func custos(t *testing.T, want int, args ...string) (string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), args, &out, &errb); code != want {
		t.Fatalf("custos %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

// TestHashmatchCLI: hash files, import a list into a bank on a live registry,
// pull its signed snapshot with a service token, and scan a folder offline.
func TestHashmatchCLI(t *testing.T) {
	ref := pdqRef(t)
	bridge := filepath.Join(ref, "dih", "bridge-1-original.jpg")
	pen := filepath.Join(ref, "pen-and-coaster.png")

	out, _ := custos(t, 0, "hashmatch", "hash", bridge, pen)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !regexp.MustCompile(`^[0-9a-f]{64} 100 .*bridge-1-original.jpg$`).MatchString(lines[0]) {
		t.Fatalf("hash output:\n%s", out)
	}
	out, _ = custos(t, 0, "hashmatch", "hash", "--json", bridge)
	if !strings.Contains(out, `"dihedral":[`) || !strings.Contains(out, `"sha256":`) {
		t.Errorf("hash --json: %s", out)
	}

	r := newCLIRegistry(t)
	e, dsn, bank, analyst := r.Env, r.dsn, r.bank, r.Analyst

	tmp := t.TempDir()
	var list strings.Builder
	for _, e := range []struct{ id, file string }{{"bridge", bridge}, {"pen", pen}} { // in this order: the refusal lists them as the file does
		r, err := pdq.HashFile(e.file)
		if err != nil {
			t.Fatal(err)
		}
		list.WriteString(r.Hash.String() + " A1 " + e.id + "\n")
	}
	listFile := filepath.Join(tmp, "list.txt")
	os.WriteFile(listFile, []byte(list.String()), 0o600)
	out, _ = custos(t, 0, "hashmatch", "import", "--db", dsn, "--key-file", e.Cfg.KeyFile, "--bank", bank, "--format", "hex", listFile)
	if !strings.Contains(out, "version 1: 2 added") {
		t.Fatalf("import: %s", out)
	}
	// The same list again (a script run twice): nothing published, nothing
	// logged, and said so; exit 0, as for a publication sent again.
	size := r.LogSize(t)
	out, _ = custos(t, 0, "hashmatch", "import", "--db", dsn, "--key-file", e.Cfg.KeyFile, "--bank", bank, "--format", "hex", listFile)
	if !strings.Contains(out, "unchanged: "+bank+" holds the list already, nothing published (version 1 stays the current one), 2 records not imported") ||
		!strings.Contains(out, "entries the bank holds already, unchanged [bridge, pen]") {
		t.Errorf("import again: %s", out)
	}
	if got := r.LogSize(t); got != size {
		t.Errorf("an import of a list held already was logged: log %d, was %d", got, size)
	}
	// The bank's vPDQ percentages, set and read on the server host; out of
	// range is refused naming the flag's field.
	out, _ = custos(t, 0, "hashmatch", "thresholds", "--db", dsn, "--key-file", e.Cfg.KeyFile, "--bank", bank, "--query-match-threshold-pct", "65.5")
	if !strings.Contains(out, "query_match_threshold_pct 65.5, index_match_threshold_pct 0") {
		t.Errorf("thresholds: %s", out)
	}
	_, thErr := custos(t, 1, "hashmatch", "thresholds", "--db", dsn, "--key-file", e.Cfg.KeyFile, "--bank", bank, "--index-match-threshold-pct", "101")
	if !strings.Contains(thErr, "index_match_threshold_pct") {
		t.Errorf("thresholds 101: %s", thErr)
	}
	if out, _ = custos(t, 0, "hashmatch", "thresholds", "--db", dsn, "--key-file", e.Cfg.KeyFile, "--bank", bank); !strings.Contains(out, "query_match_threshold_pct 65.5, index_match_threshold_pct 0") {
		t.Errorf("thresholds after the refusal: %s", out)
	}

	bankFile, keyFile := r.pull(t, "version 1, 2 entries")
	custos(t, 1, "hashmatch", "pull", "--url", e.URL, "--token", analyst, "--bank", bank, "--out", bankFile+"2")

	dir := filepath.Join(tmp, "uploads")
	os.Mkdir(dir, 0o755)
	f, _ := os.Open(bridge)
	img, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	small := image.NewRGBA(image.Rect(0, 0, 400, 251))
	draw.ApproxBiLinear.Scale(small, small.Bounds(), img, img.Bounds(), draw.Src, nil)
	var buf bytes.Buffer
	jpeg.Encode(&buf, small, &jpeg.Options{Quality: 60})
	os.WriteFile(filepath.Join(dir, "copy.jpg"), buf.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "readme.txt"), []byte("text"), 0o644)

	out, errOut := custos(t, 0, "hashmatch", "scan", dir, "--bank", bankFile, "--public-key", keyFile)
	if !regexp.MustCompile(`match\s+\S*copy.jpg\s+bank=`+bank+`\s+version=1\s+entry=bridge`).MatchString(out) ||
		!strings.Contains(out, "scanned 2 files: 1 match, 0 no match, 0 low quality, 0 suppressed, 1 errors") {
		t.Errorf("scan:\n%s", out)
	}
	// stderr is no terminal here: no bar, unless asked for.
	if strings.Contains(errOut, "2/2") {
		t.Errorf("a progress bar into a file: %q", errOut)
	}
	if _, errOut = custos(t, 0, "hashmatch", "scan", dir, "--progress", "--bank", bankFile, "--public-key", keyFile); !strings.Contains(errOut, "2/2") {
		t.Errorf("no progress bar with --progress: %q", errOut)
	}
	out, _ = custos(t, 0, "hashmatch", "scan", "--json", "--quiet", "--bank", bankFile, "--public-key", e.App.Keys.LogKey, dir)
	if !strings.Contains(out, `"entry_id": "bridge"`) {
		t.Errorf("scan --json: %s", out)
	}
	other := strings.Replace(e.App.Keys.LogKey, "+", "x+", 1)
	custos(t, 1, "hashmatch", "scan", dir, "--bank", bankFile, "--public-key", other)

	out, _ = custos(t, 0, "log", "verify", "--db", dsn, "--public-key", e.App.Keys.LogKey)
	if !strings.HasPrefix(out, "OK: ") {
		t.Errorf("log verify: %s", out)
	}
}

// cliRegistry is a live SQLite registry with hash matching's parties, the
// first authority's empty bank, and the first provider's service subscribed
// to it.
type cliRegistry struct {
	*apptest.HashmatchWorld
	dsn, bank string
}

func newCLIRegistry(t *testing.T) *cliRegistry {
	t.Helper()
	r := &cliRegistry{dsn: filepath.Join(t.TempDir(), "r.db")}
	r.HashmatchWorld = apptest.NewHashmatchWorld(t, r.dsn, hashmatch.Config{})
	r.bank = r.Bank(t, "Known")
	r.Subscribe(t, r.bank)
	return r
}

// pull downloads the bank's signed snapshot with custos hashmatch pull,
// wanting its summary to say want, and returns the file and a file holding
// the registry's key.
func (r *cliRegistry) pull(t *testing.T, want string) (bankFile, keyFile string) {
	t.Helper()
	tmp := t.TempDir()
	bankFile, keyFile = filepath.Join(tmp, "bank.note"), filepath.Join(tmp, "registry.pub")
	os.WriteFile(keyFile, []byte(r.App.Keys.LogKey+"\n"), 0o644)
	out, _ := custos(t, 0, "hashmatch", "pull", "--url", r.URL, "--token", r.Service, "--bank", r.bank, "--out", bankFile, "--public-key", keyFile)
	if !strings.Contains(out, want) {
		t.Fatalf("pull: %s", out)
	}
	return bankFile, keyFile
}

// TestHashmatchScanVideo: an analyst hashes a known video with the CLI,
// imports its frames as a video entry (json format), a service pulls the
// bank and scans a folder offline: a trimmed, re-encoded copy matches with
// vPDQ's percentages, an unrelated video does not.
func TestHashmatchScanVideo(t *testing.T) {
	known, copyPath, other := apptest.Videos(t, t.TempDir())
	out, _ := custos(t, 0, "hashmatch", "hash", "--json", known)
	var h struct {
		Frames []map[string]any `json:"frames"`
	}
	if err := json.Unmarshal([]byte(out), &h); err != nil || len(h.Frames) != 20 {
		t.Fatalf("hash --json: %v\n%s", err, out)
	}
	r := newCLIRegistry(t)
	list, _ := json.Marshal(map[string]any{"adds": []any{map[string]any{"entry_id": "vid-1", "classification": "A1", "video": map[string]any{"frames": h.Frames}}}})
	listFile := filepath.Join(t.TempDir(), "videos.json")
	os.WriteFile(listFile, list, 0o600)
	out, _ = custos(t, 0, "hashmatch", "import", "--db", r.dsn, "--key-file", r.Cfg.KeyFile, "--bank", r.bank, "--format", "json", listFile)
	if !strings.Contains(out, "version 1: 1 added") {
		t.Fatalf("import: %s", out)
	}
	bankFile, keyFile := r.pull(t, "version 1, 1 entries")

	dir := t.TempDir()
	for _, f := range []string{copyPath, other} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644)
	}
	// --video-jobs caps the videos hashed at once; it must be positive.
	if _, errOut := custos(t, 2, "hashmatch", "scan", "--quiet", dir, "--bank", bankFile, "--public-key", keyFile, "--video-jobs", "0"); !strings.Contains(errOut, "--video-jobs must be positive") {
		t.Errorf("--video-jobs 0: %s", errOut)
	}
	out, _ = custos(t, 0, "hashmatch", "scan", "--quiet", dir, "--bank", bankFile, "--public-key", keyFile, "--video-jobs", "1")
	if !regexp.MustCompile(`match\s+\S*copy\.mp4\s+bank=`+r.bank+`\s+version=1\s+entry=vid-1\s+distance=\d+\s+quality=\d+\s+class=A1\s+at=\d+\.\ds\s+frames=100%/60%`).MatchString(out) ||
		!strings.Contains(out, "scanned 2 files: 1 match, 1 no match, 0 low quality, 0 suppressed, 0 errors") {
		t.Errorf("scan:\n%s", out)
	}
	out, _ = custos(t, 0, "log", "verify", "--db", r.dsn, "--public-key", r.App.Keys.LogKey)
	if !strings.HasPrefix(out, "OK: ") {
		t.Errorf("log verify: %s", out)
	}
}

// TestHashmatchHashVideo hashes the reference video from the command line:
// one line in text, every sampled frame in JSON.
func TestHashmatchHashVideo(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed (.ci/run installs it): video hashing not tested")
	}
	video := filepath.Join(pdqRef(t), "..", "..", "..", "vpdq", "sample-videos", "doorknob-hd-no-bar.mp4")
	out, _ := custos(t, 0, "hashmatch", "hash", video)
	if !regexp.MustCompile(`^[0-9a-f]{64} \d+ .*doorknob-hd-no-bar\.mp4 \(video: \d+ frames`).MatchString(out) {
		t.Errorf("text output: %q", out)
	}
	out, _ = custos(t, 0, "hashmatch", "hash", "--json", video)
	var got struct {
		Video  bool `json:"video"`
		Frames []struct {
			PDQ     string  `json:"pdq"`
			Seconds float64 `json:"seconds"`
		} `json:"frames"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || !got.Video || len(got.Frames) < 3 {
		t.Fatalf("JSON output %q: %v", out, err)
	}
	if got.Frames[1].Seconds != 1 || len(got.Frames[1].PDQ) != 64 {
		t.Errorf("second sampled frame %+v, want one second in", got.Frames[1])
	}
}

// TestCLIHashmatchPagesAndExport imports four NCMEC v2 pages in order (one
// version each; the fourth updates an entry), prints what each version
// added, updated and deleted, what was not imported and the next page's
// address, and exports the bank as a ThreatExchange signal file.
func TestCLIHashmatchPagesAndExport(t *testing.T) {
	r := newCLIRegistry(t)
	t.Setenv("LC_ALL", "C") // the operator's words in English; in French below
	pages := filepath.Join("..", "..", "internal", "hashmatch", "testdata", "ncmec")
	out, _ := custos(t, 0, "hashmatch", "import", "--db", r.dsn, "--key-file", r.Cfg.KeyFile, "--bank", r.bank, "--format", "ncmec",
		filepath.Join(pages, "page1.xml"), filepath.Join(pages, "page2.xml"), filepath.Join(pages, "page3.xml"), filepath.Join(pages, "page4.xml"))
	for _, want := range []string{"version 1: 3 added, 0 updated, 0 deleted, 3 records not imported", "version 2: 1 added",
		"page4.xml: published " + r.bank + " version 4: 0 added, 1 updated, 1 deleted, 0 records not imported",
		"1 record not imported (md5,sha1,pdna): images without a PDQ hash", "[image2]", "2 records not imported: deletions of entries the bank does not hold",
		"paging/next: /v2/entries?from=2017-10-20T00%3A00%3A00.000Z&to=2017-10-30T00%3A00%3A00.000Z&start=3001"} {
		if !strings.Contains(out, want) {
			t.Errorf("import: want %q in\n%s", want, out)
		}
	}
	file := filepath.Join(t.TempDir(), "bank.csv")
	_, errOut := custos(t, 0, "hashmatch", "export", "--db", r.dsn, "--key-file", r.Cfg.KeyFile, "--bank", r.bank, "--format", "te-csv", "--version", "1", "--out", file)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "collab,signal_type,signal_str,category,tags\nKnown,pdq,53ea76ff") || strings.Count(string(b), "\n") != 4 || !strings.Contains(string(b), "Known,video_md5,b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1,") ||
		!strings.Contains(errOut, "version 1, te-csv: 3 entries written, 0 left out") || !strings.Contains(errOut, "entry ids this format does not carry") {
		t.Errorf("export:\n%s\n%s", b, errOut)
	}
	checkpointLine(t, r.App.DB.Read(), errOut, string(b))
	// In the operator's language: what the format left out, in French.
	t.Setenv("LC_ALL", "fr_FR.UTF-8")
	_, errOut = custos(t, 0, "hashmatch", "export", "--db", r.dsn, "--key-file", r.Cfg.KeyFile, "--bank", r.bank, "--format", "te-csv", "--out", file)
	if !strings.Contains(errOut, "valeurs omises: identifiants d'entrée que ce format ne transporte pas") {
		t.Errorf("export in French:\n%s", errOut)
	}
	custos(t, 2, "hashmatch", "export", "--db", r.dsn, "--key-file", r.Cfg.KeyFile, "--bank", r.bank)
	custos(t, 1, "hashmatch", "export", "--db", r.dsn, "--key-file", r.Cfg.KeyFile, "--bank", r.bank, "--format", "xml")
}

// checkpointLine checks the line in which an export's stderr (errOut) ties
// its file to the log, as the HTTP export's headers do: the checkpoint
// (size, root in base64) the export.made entry it names records, and
// neither in the file.
func checkpointLine(t *testing.T, db store.Queryer, errOut, file string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^log checkpoint: size (\d+), root (\S+); export.made entry (\d+)$`).FindStringSubmatch(errOut)
	if m == nil {
		t.Fatalf("no checkpoint line in\n%s", errOut)
	}
	if strings.Contains(file, "export.made") || strings.Contains(file, m[2]) {
		t.Errorf("the checkpoint line is in the file too:\n%s", file)
	}
	index, _ := strconv.ParseInt(m[3], 10, 64)
	entry, err := ledger.ReadEntry(t.Context(), db, index)
	if err != nil {
		t.Fatalf("entry %d: %v", index, err)
	}
	var made export.Made
	if err := entry.Decode(&made); err != nil || entry.Type != export.TypeMade {
		t.Fatalf("entry %d is a %s, want %s (%v)", index, entry.Type, export.TypeMade, err)
	}
	root, err := base64.StdEncoding.DecodeString(m[2])
	if err != nil || strconv.FormatUint(made.CheckpointSize, 10) != m[1] || made.CheckpointRoot != hex.EncodeToString(root) {
		t.Errorf("the line names size %s, root %s; its entry records %d, %s (hex)", m[1], m[2], made.CheckpointSize, made.CheckpointRoot)
	}
}

// TestHashmatchHashEXIF: custos hashmatch hash gives the reference's hash
// of an EXIF-rotated phone photo (the stored pixels, as Meta's C++ and
// every other PDQ tool hash them), and --orient the hash as displayed.
func TestHashmatchHashEXIF(t *testing.T) {
	photo := filepath.Join(pdqRef(t), "exif-rotn", "exif-rotn-6.jpg")
	want, err := pdq.ParseHex(reftest.PDQPhotoHash(t, "reg-test-input/exif-rotn/exif-rotn-6.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	hashOf := func(out string) pdq.Hash {
		t.Helper()
		f := strings.Fields(out)
		if len(f) != 3 || f[1] != "100" || f[2] != photo {
			t.Fatalf("hash output %q", out)
		}
		h, err := pdq.ParseHex(f[0])
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	out, _ := custos(t, 0, "hashmatch", "hash", photo)
	stored := hashOf(out)
	d := pdq.Distance(stored, want)
	t.Logf("stored pixels: %d bits from the C++ reference", d)
	if d > 10 {
		t.Errorf("hash %v is %d bits from the reference's %v, want <= 10", stored, d, want)
	}
	out, _ = custos(t, 0, "hashmatch", "hash", "--orient", photo)
	shown := hashOf(out)
	if d := pdq.Distance(shown, want); d < 64 {
		t.Errorf("--orient: %d bits from the stored pixels' hash; the orientation seems not applied", d)
	}
	out, _ = custos(t, 0, "hashmatch", "hash", "--json", photo)
	var j struct {
		PDQ         string   `json:"pdq"`
		Orientation int      `json:"orientation"`
		Width       int      `json:"width"`
		Dihedral    []string `json:"dihedral"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	if j.PDQ != stored.String() || j.Orientation != 6 || j.Width != 4032 || len(j.Dihedral) != 8 || j.Dihedral[0] != j.PDQ {
		t.Errorf("hash --json: %s", out)
	}
}

// TestHashmatchHashAllCores: `hashmatch hash` hashes its files on every core
// and prints exactly what it prints on one core: one line per file in the
// order given (not sorted, a file given twice printed twice), each the hash
// of the stored pixels, and the files it could not hash on stderr, in order.
func TestHashmatchHashAllCores(t *testing.T) {
	ref := pdqRef(t)
	tmp := t.TempDir()
	notImage := filepath.Join(tmp, "notes.txt")
	os.WriteFile(notImage, []byte("not an image"), 0o644)
	files := []string{
		filepath.Join(ref, "labelme-subset", "q2821.jpg"),
		filepath.Join(ref, "dih", "bridge-1-original.jpg"),
		notImage,
		filepath.Join(ref, "labelme-subset", "q0122.jpg"),
		filepath.Join(ref, "pen-and-coaster.png"),
		filepath.Join(ref, "dih", "bridge-2-rotate-90.jpg"),
		filepath.Join(tmp, "missing.jpg"),
		filepath.Join(ref, "labelme-subset", "q2821.jpg"),
		filepath.Join(ref, "labelme-subset", "q0746.jpg"),
	}
	hash := func(procs int, extra ...string) (string, string) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		return custos(t, 1, append(append([]string{"hashmatch", "hash"}, extra...), files...)...)
	}
	for _, extra := range [][]string{nil, {"--json"}} {
		out1, err1 := hash(1, extra...)
		out8, err8 := hash(8, extra...)
		if out1 != out8 || err1 != err8 {
			t.Fatalf("%v: one core:\n%s%s\neight:\n%s%s", extra, out1, err1, out8, err8)
		}
		if want := notImage + ": "; !strings.HasPrefix(err1, want) || !strings.Contains(err1, "\n"+filepath.Join(tmp, "missing.jpg")+": ") {
			t.Errorf("%v: stderr %q, want the text file then the missing one", extra, err1)
		}
		lines := strings.Split(strings.TrimSpace(out1), "\n")
		var images []string
		for _, f := range files {
			if f != notImage && !strings.HasPrefix(filepath.Base(f), "missing") {
				images = append(images, f)
			}
		}
		if len(lines) != len(images) {
			t.Fatalf("%v: %d lines for %d images:\n%s", extra, len(lines), len(images), out1)
		}
		for i, f := range images {
			want, err := pdq.HashFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if extra == nil {
				if line := fmt.Sprintf("%s %d %s", want.Hash, want.Quality, f); lines[i] != line {
					t.Errorf("line %d: %q, want %q", i, lines[i], line)
				}
				continue
			}
			var got struct{ Path, PDQ string }
			if err := json.Unmarshal([]byte(lines[i]), &got); err != nil || got.Path != f || got.PDQ != want.Hash.String() {
				t.Errorf("line %d: %s (%v), want path %s pdq %s", i, lines[i], err, f, want.Hash)
			}
		}
	}
}

// TestHashmatchHashDecodeBudget: hash refuses an image whose decode alone
// would take more than --decode-budget-mib allows one image (seven
// eighths), naming its estimate and the limit, and hashes it under a
// larger budget; the default budget (1 GiB) refuses the 100-megapixel
// progressive JPEG whose header says 1.4 GiB.
func TestHashmatchHashDecodeBudget(t *testing.T) {
	dir := t.TempDir()
	// 2000x2000 16-bit RGBA: 8 bytes a pixel, about 39 MiB with the
	// hashing's 8 MiB.
	big := filepath.Join(dir, "rgba64.png")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, image.NewNRGBA64(image.Rect(0, 0, 2000, 2000))); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, errOut := custos(t, 1, "hashmatch", "hash", big, "--decode-budget-mib", "32")
	if !regexp.MustCompile(`rgba64\.png: .*about 39 MiB of memory to decode \(png 2000x2000\), limit 28 MiB`).MatchString(errOut) {
		t.Errorf("--decode-budget-mib 32: %s", errOut)
	}
	if out, _ := custos(t, 0, "hashmatch", "hash", "--decode-budget-mib", "64", big); !strings.Contains(out, "rgba64.png") {
		t.Errorf("--decode-budget-mib 64: %s", out)
	}
	if _, errOut := custos(t, 2, "hashmatch", "hash", "--decode-budget-mib", "0", big); !strings.Contains(errOut, "--decode-budget-mib must be positive") {
		t.Errorf("--decode-budget-mib 0: %s", errOut)
	}
	// The headers up to the scan's of a progressive 10000x10000 JPEG of
	// three full-resolution components: five bytes a sample to decode.
	huge := filepath.Join(dir, "progressive.jpg")
	os.WriteFile(huge, []byte{0xff, 0xd8, 0xff, 0xc2, 0, 17, 8, 0x27, 0x10, 0x27, 0x10, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0,
		0xff, 0xda, 0, 12, 3, 1, 0, 2, 0, 3, 0, 0, 0, 0}, 0o644)
	if _, errOut := custos(t, 1, "hashmatch", "hash", huge); !regexp.MustCompile(`about 14\d\d MiB .*limit 896 MiB`).MatchString(errOut) {
		t.Errorf("the progressive JPEG, default budget: %s", errOut)
	}
}

// TestHashmatchVideoMemoryFlag: --video-memory-mib bounds the decoders of
// hashmatch hash (and scan), as --hm-video-memory-mib does the server's: a
// video whose decoder needs more is not hashed, and the limit must be
// positive.
func TestHashmatchVideoMemoryFlag(t *testing.T) {
	known, _, _ := apptest.Videos(t, t.TempDir())
	_, stderr := custos(t, 1, "hashmatch", "hash", "--video-memory-mib", "4", known)
	if !strings.Contains(stderr, "out of memory") {
		t.Errorf("hash with 4 MiB for its decoder: %s", stderr)
	}
	if out, _ := custos(t, 0, "hashmatch", "hash", "--video-memory-mib", "2048", known); !strings.Contains(out, "(video: 20 frames") {
		t.Errorf("hash with 2 GiB for its decoder: %s", out)
	}
	custos(t, 2, "hashmatch", "hash", "--video-memory-mib", "0", known)
	custos(t, 2, "hashmatch", "scan", t.TempDir(), "--bank", "b.note", "--public-key", "k", "--video-memory-mib", "0")
}

// TestHashmatchPullReadsAsWritten: custos hashmatch pull reads the
// registry's answer as the registry writes it. encoding/json took
// "Documents" for documents and kept the last of two, so that the snapshot
// written to --out was not the one the answer showed first; each is refused
// now, naming the rule and the key, and nothing is written.
func TestHashmatchPullReadsAsWritten(t *testing.T) {
	answer := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	doc := `[{"version":1,"sha256":"00","note":"a note"}]`
	for _, c := range []struct{ name, answer, want string }{
		{"documents twice", `{"bank_id":"HB-1","kind":"snapshot","from":0,"to":1,"documents":` + doc + `,"documents":[],"verifier_key":"k"}`,
			`unexpected answer: duplicate_key: the key "documents" is given twice in one object (field documents)`},
		{"documents in capitals", `{"bank_id":"HB-1","kind":"snapshot","from":0,"to":1,"documents":[],"Documents":` + doc + `,"verifier_key":"k"}`,
			`unexpected answer: unknown_field: the field "Documents" is not part of this document: names are written as documented, here "documents" (field Documents)`},
	} {
		answer = c.answer
		out := filepath.Join(t.TempDir(), "bank.note")
		_, errOut := custos(t, 1, "hashmatch", "pull", "--url", srv.URL, "--token", "t", "--bank", "HB-1", "--out", out)
		if !strings.Contains(errOut, c.want) {
			t.Errorf("%s: %s, want %q", c.name, errOut, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: %s was written", c.name, out)
		}
	}
}
