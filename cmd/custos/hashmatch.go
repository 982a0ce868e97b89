package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/hashmatch/vpdq"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/strictjson"
)

const hashmatchUsage = `Usage: custos hashmatch COMMAND [flags]

Commands:
  hash FILE... [--orient]           print each image's PDQ hash (of the stored pixels, as Meta's reference; --orient:
                                    as displayed), quality and path; videos: vPDQ frames (no database)
  scan DIR --bank FILE --public-key KEY
                                    hash a folder (images and videos) and match it offline against signed bank snapshots
  pull --url URL --token T --bank ID --out FILE
                                    download a bank's signed snapshot (the pull is logged by the registry)
  import --db DB --bank ID --format hex|ncmec|projectvic|json|te-csv|te-tsv|hma FILE...
                                    publish a hash list as the bank's next version, one version a file (operator
                                    on the server host); says what was not imported, and why
  export --db DB --bank ID --format F [--version N] [--out FILE]
                                    write a bank's list at a version in one of the import formats (logged)
  disputes --db DB --authority ID [--bank ID] [--json]
                                    the disputed entries of an authority's banks, the most disputed first (read only)
  thresholds --db DB --bank ID [--query-match-threshold-pct P] [--index-match-threshold-pct P]
                                    set a bank's vPDQ match percentages (operator on the server host)

custos hashmatch COMMAND --help shows its flags. See docs/hashmatch.md.`

func runHashmatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, hashmatchUsage)
		return &exitError{2, ""}
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, hashmatchUsage)
		return nil
	case "hash":
		return runHMHash(ctx, args[1:], stdout, stderr)
	case "scan":
		return runHMScan(ctx, args[1:], stdout, stderr)
	case "pull":
		return runHMPull(ctx, args[1:], stdout, stderr)
	case "import":
		return runHMImport(ctx, args[1:], stdout, stderr)
	case "export":
		return runHMExport(ctx, args[1:], stdout, stderr)
	case "disputes":
		return runHMDisputes(ctx, args[1:], stdout, stderr)
	case "thresholds":
		return runHMThresholds(ctx, args[1:], stdout, stderr)
	}
	return &exitError{2, fmt.Sprintf("unknown hashmatch command %q; want hash, scan, pull, import, export, disputes or thresholds", args[0])}
}

func runHMHash(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("hashmatch hash", "FILE... [--json] [--orient] [--decode-budget-mib N] [--video-memory-mib N]", "print each image's PDQ hash, quality and path (videos: vPDQ, one frame a second)", stdout)
	asJSON := fs.Bool("json", false, "print one JSON object per file, with the MD5, SHA-256, size, EXIF orientation and dihedral hashes")
	orient := fs.Bool("orient", false, "hash images as displayed, their EXIF orientation applied; by default the stored pixels are hashed, as Meta's reference and other PDQ tools do, so that the hash matches theirs")
	budget := decodeBudgetFlag(fs)
	videoMemory := videoMemoryFlag(fs)
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return &exitError{2, "give at least one image file"}
	}
	if *budget <= 0 {
		return &exitError{2, "--decode-budget-mib must be positive"}
	}
	if *videoMemory <= 0 {
		return &exitError{2, "--video-memory-mib must be positive"}
	}
	failed := 0
	enc := json.NewEncoder(stdout)
	images := hashImages(ctx, hashmatch.NewImageHasher(hashmatch.DefaultMaxUpload, *budget<<20), files, *asJSON, *orient)
	for i, f := range files {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if hashmatch.IsVideo(f) {
			if err := hashVideo(ctx, stdout, enc, f, *asJSON, *videoMemory<<20); err != nil {
				fmt.Fprintf(stderr, "%s: %s\n", shown(f), shown(err.Error()))
				failed++
			}
			continue
		}
		var r hashed
		select {
		case r = <-images[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		if r.err != nil {
			fmt.Fprintf(stderr, "%s: %s\n", shown(f), shown(r.err.Error()))
			failed++
			continue
		}
		stdout.Write(r.out)
	}
	if failed > 0 {
		return &exitError{1, fmt.Sprintf("%d of %d files could not be hashed", failed, len(files))}
	}
	return nil
}

// shown is a file's path (or a message that may hold one) as hash and scan
// print it in text: as it is when it is plain text, quoted as Go quotes a
// string when it holds a control character, a bidirectional control or
// bytes that are not UTF-8. The files scanned are named by whoever uploaded
// them, and such a name written as it is could move the cursor, erase its
// own match line or print a line of its own on the terminal.
func shown(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) }) {
		return s
	}
	return strconv.Quote(s)
}

// hashed is what `hashmatch hash` prints for one image: its line (text or
// JSON), or why it could not be hashed.
type hashed struct {
	out []byte
	err error
}

// hashImages hashes the images among files with h (videos are left to the
// caller, which hashes them in turn with their own workers) on up to
// GOMAXPROCS goroutines, a file at a time each, in the order given, their
// decodes within h's budget. images[i] yields
// file i's output once; the caller prints them in the order given, so the
// output is the same whatever the number of cores (TestHashmatchHashAllCores).
func hashImages(ctx context.Context, h *hashmatch.ImageHasher, files []string, asJSON, orient bool) []chan hashed {
	images := make([]chan hashed, len(files))
	jobs := make(chan int)
	for i, f := range files {
		if !hashmatch.IsVideo(f) {
			images[i] = make(chan hashed, 1)
		}
	}
	go func() {
		defer close(jobs)
		for i := range files {
			if images[i] == nil {
				continue
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range max(runtime.GOMAXPROCS(0), 1) {
		go func() {
			for i := range jobs {
				out, err := hashImageLine(ctx, h, files[i], asJSON, orient)
				images[i] <- hashed{out, err}
			}
		}()
	}
	return images
}

// hashImageLine hashes one image and returns its output line: in text one
// hash of the stored pixels (as displayed with orient), without the
// variants matching needs; in JSON the hash with its digests, size,
// orientation and dihedral hashes.
func hashImageLine(ctx context.Context, hs *hashmatch.ImageHasher, f string, asJSON, orient bool) ([]byte, error) {
	file, err := os.Open(f)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	if !asJSON {
		r, err := hs.HashOne(ctx, file, orient)
		if err != nil {
			return nil, err
		}
		return fmt.Appendf(nil, "%s %d %s\n", r.Hash, r.Quality, shown(f)), nil
	}
	h, err := hs.Hash(ctx, file)
	if err != nil {
		return nil, err
	}
	hash, q := h.PDQ, h.Quality
	if orient {
		hash, q = h.Displayed, h.DisplayedQuality
	}
	dih := make([]string, len(h.Dihedral))
	for i, d := range h.Dihedral {
		dih[i] = d.String()
	}
	out, err := json.Marshal(map[string]any{"path": f, "pdq": hash.String(), "quality": q, "md5": h.MD5, "sha256": h.SHA256,
		"width": h.Width, "height": h.Height, "orientation": int(h.Orientation), "displayed": orient, "dihedral": dih})
	return append(out, '\n'), err
}

// hashVideo prints a video's vPDQ hashes, one frame a second: in text, one
// line with the first frame of good quality and the frame count; in JSON,
// every frame as {"pdq","quality","seconds"}.
func hashVideo(ctx context.Context, stdout io.Writer, enc *json.Encoder, path string, asJSON bool, maxMemory int64) error {
	frames, err := vpdq.HashVideo(ctx, path, vpdq.Options{SecondsPerHash: hashmatch.VideoSecondsPerHash, MaxMemory: maxMemory})
	if err != nil {
		return err
	}
	if asJSON {
		// The frames in the shape of a bank entry's video.frames and of the
		// frames of POST /api/v1/hashmatch/match/video.
		return enc.Encode(map[string]any{"path": path, "video": true, "seconds_per_hash": hashmatch.VideoSecondsPerHash,
			"frames": hashmatch.VideoFrames(frames)})
	}
	best := -1
	for i, f := range frames {
		if f.Quality >= hashmatch.DefaultMinQuality {
			best = i
			break
		}
	}
	if best < 0 {
		return fmt.Errorf("no frame of the %d sampled has quality %d or more", len(frames), hashmatch.DefaultMinQuality)
	}
	f := frames[best]
	_, err = fmt.Fprintf(stdout, "%s %d %s (video: %d frames at %d per second; this one at %.1f s; --json for all)\n",
		f.Hash, f.Quality, shown(path), len(frames), hashmatch.VideoSecondsPerHash, f.Seconds)
	return err
}

// decodeBudgetFlag is --decode-budget-mib of hash and scan, the meaning
// of the server's --hm-decode-budget-mib.
func decodeBudgetFlag(fs *flag.FlagSet) *int64 {
	return fs.Int64("decode-budget-mib", hashmatch.DefaultDecodeBudget>>20, "MiB of decoder memory for the images decoded at once, each counted by what its header says its decoder takes; more wait; an eighth is kept for images of a sixteenth or less, and an image that would take more than seven eighths alone is refused (as the server's --hm-decode-budget-mib)")
}

// videoMemoryFlag is --video-memory-mib of hash and scan, the meaning of
// the server's --hm-video-memory-mib.
func videoMemoryFlag(fs *flag.FlagSet) *int64 {
	return fs.Int64("video-memory-mib", vpdq.DefaultMaxMemory>>20, "MiB each ffprobe and ffmpeg hashing a video may allocate (on Linux); a video that needs more is not hashed (as the server's --hm-video-memory-mib)")
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// readKey accepts a verifier key or the path of a file holding one.
func readKey(v string) string {
	if b, err := os.ReadFile(v); err == nil {
		return strings.TrimSpace(string(b))
	}
	return strings.TrimSpace(v)
}

func runHMScan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("hashmatch scan", "DIR --bank FILE --public-key KEY [--json] [--video-jobs N] [--video-memory-mib N]", "hash a folder and match it offline against signed bank snapshots", stdout)
	var banks multiFlag
	fs.Var(&banks, "bank", "a signed bank snapshot written by custos hashmatch pull (repeat for several banks)")
	key := fs.String("public-key", "", "the registry's note verifier key, or a file holding it (GET /api/v1/hashmatch/key; pin it)")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	minQ := fs.Int("min-quality", hashmatch.DefaultMinQuality, "hashes below this PDQ quality are not matched")
	videoJobs := fs.Int("video-jobs", hashmatch.DefaultVideoJobs(), "videos hashed at once, each by an ffmpeg of its own (default half the cores, as the server's --hm-video-jobs)")
	budget := decodeBudgetFlag(fs)
	videoMemory := videoMemoryFlag(fs)
	var showProgress progressFlags
	showProgress.add(fs, true)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &exitError{2, "give one folder to scan"}
	}
	if len(banks) == 0 || *key == "" {
		return &exitError{2, "give --bank FILE and --public-key KEY: banks are verified before use"}
	}
	if *videoJobs <= 0 {
		return &exitError{2, "--video-jobs must be positive"}
	}
	if *budget <= 0 {
		return &exitError{2, "--decode-budget-mib must be positive"}
	}
	if *videoMemory <= 0 {
		return &exitError{2, "--video-memory-mib must be positive"}
	}
	var lbs []*hashmatch.LocalBank
	for _, b := range banks {
		d, lb, err := hashmatch.LoadBankFile(b, readKey(*key))
		if err != nil {
			return fmt.Errorf("%s: %w", b, err)
		}
		if !d.Snapshot {
			return fmt.Errorf("%s is a delta (version %d), not a snapshot; pull a snapshot", b, d.Version)
		}
		lbs = append(lbs, lb)
		q, ix := d.VideoPcts()
		fmt.Fprintf(stderr, "bank %s %q version %d: %d entries, threshold %d, videos %g%%/%g%% of frames\n", d.Bank, d.Name, d.Version, len(d.Adds), d.Threshold, q, ix)
	}
	opt := hashmatch.ScanOptions{MinQuality: *minQ, VideoJobs: *videoJobs, DecodeBudget: *budget << 20, VideoMemory: *videoMemory << 20}
	if showProgress.on(stderr) {
		bar := progressBar(stderr, "")
		opt.Progress = func(done, total int) { bar(int64(done), int64(total)) }
	}
	res, err := hashmatch.Scan(ctx, pos[0], lbs, opt)
	if err != nil {
		return err
	}
	count := map[string]int{}
	for _, r := range res {
		count[r.Status]++
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"results": res, "counts": count})
	}
	tw := tabwriter.NewWriter(stdout, 0, 2, 2, ' ', 0)
	for _, r := range res {
		switch r.Status {
		case hashmatch.StatusMatch:
			m := r.Matches[0]
			at := ""
			if r.AtSeconds != nil {
				at = fmt.Sprintf("\tat=%.1fs", *r.AtSeconds)
			}
			if m.QueryMatchPct != nil {
				at += fmt.Sprintf("\tframes=%.0f%%/%.0f%%", *m.QueryMatchPct, *m.TargetMatchPct)
			}
			fmt.Fprintf(tw, "match\t%s\tbank=%s\tversion=%d\tentry=%s\tdistance=%d\tquality=%d\tclass=%s%s\n", shown(r.Path), m.BankID, m.BankVersion, m.EntryID, m.Distance, r.Quality, m.Classification, at)
		case hashmatch.StatusLowQuality:
			fmt.Fprintf(tw, "low_quality\t%s\tquality=%d\n", shown(r.Path), r.Quality)
		case "error":
			fmt.Fprintf(tw, "error\t%s\t%s\n", shown(r.Path), shown(r.Error))
		}
	}
	tw.Flush()
	fmt.Fprintf(stdout, "scanned %d files: %d match, %d no match, %d low quality, %d suppressed, %d errors\n",
		len(res), count[hashmatch.StatusMatch], count[hashmatch.StatusNoMatch], count[hashmatch.StatusLowQuality], count[hashmatch.StatusSuppressed], count["error"])
	fmt.Fprintln(stdout, "a match is evidence for human review, never proof: see docs/hashmatch.md")
	return nil
}

func runHMPull(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("hashmatch pull", "--url URL --token T --bank ID --out FILE", "download a bank's signed snapshot", stdout)
	url := fs.String("url", os.Getenv("CUSTOS_URL"), "the registry's base URL (env CUSTOS_URL)")
	token := fs.String("token", os.Getenv("CUSTOS_TOKEN"), "the service principal's token (env CUSTOS_TOKEN)")
	bank := fs.String("bank", "", "the bank id")
	out := fs.String("out", "", "file to write the signed snapshot to (mode 0600)")
	key := fs.String("public-key", "", "the registry's verifier key, or a file holding it; default: the key the registry sends (pin your own)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *url == "" || *token == "" || *bank == "" || *out == "" {
		return &exitError{2, "give --url, --token, --bank and --out"}
	}
	body, _ := json.Marshal(map[string]any{"since": 0})
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimSuffix(*url, "/")+"/api/v1/hashmatch/banks/"+*bank+"/pull", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+*token)
	req.Header.Set("Content-Type", "application/json")
	cl := &http.Client{Timeout: 5 * time.Minute}
	resp, err := cl.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the registry answered %s: %s", resp.Status, strings.TrimSpace(string(raw)))
	}
	// Read as the registry writes it: a key twice or in another case is
	// not taken for the documents or the key.
	var p hashmatch.Pull
	if err := strictjson.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("unexpected answer: %w", err)
	}
	if len(p.Documents) != 1 {
		return fmt.Errorf("expected one snapshot, got %d documents", len(p.Documents))
	}
	vk := p.VerifierKey
	if *key != "" {
		vk = readKey(*key)
	}
	note := []byte(p.Documents[0].Note)
	d, sum, err := hashmatch.OpenDoc(note, vk)
	if err != nil {
		return err
	}
	if d.Bank != *bank || !d.Snapshot {
		return fmt.Errorf("the registry sent a document for %s (snapshot %v), not a snapshot of %s", d.Bank, d.Snapshot, *bank)
	}
	if err := os.WriteFile(*out, note, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: bank %s %q version %d, %d entries, sha256 %s\n", *out, d.Bank, d.Name, d.Version, len(d.Adds), sum)
	if *key == "" {
		fmt.Fprintf(stdout, "verified with the key the registry sent (%s); pin it and pass --public-key next time\n", vk)
	}
	return nil
}

func runHMImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("hashmatch import", "--bank ID --format "+strings.Join(hashmatch.Formats, "|")+" FILE... [flags]",
		"publish a hash list as the bank's next version; several files (NCMEC pages, in order) one version each", stdout)
	var d dbFlags
	d.add(fs, "custos.db")
	bank := fs.String("bank", "", "the bank id")
	format := fs.String("format", "hex", strings.Join(hashmatch.Formats, ", ")+" (see docs/hashmatch.md)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || *bank == "" {
		return &exitError{2, "give --bank ID and at least one FILE"}
	}
	// Every list is read and parsed before the database is touched.
	lists := make([][]byte, len(pos))
	for i, file := range pos {
		if lists[i], err = os.ReadFile(file); err != nil {
			return err
		}
		if _, _, err := hashmatch.ParseList(*format, lists[i]); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
	}
	app, err := d.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	op, err := bankOperator(ctx, app.Hashmatch, *bank)
	if err != nil {
		return err
	}
	l := cliLocalizer(app.Languages)
	ctx = i18n.NewContext(ctx, l)
	for i, file := range pos {
		v, st, err := app.Hashmatch.Import(ctx, op, *bank, *format, lists[i])
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if v.Unchanged {
			fmt.Fprintf(stdout, "%s: unchanged: %s holds the list already, nothing published (version %d stays the current one), %d records not imported\n",
				file, v.BankID, v.Version, st.Skipped)
		} else {
			fmt.Fprintf(stdout, "%s: published %s version %d: %d added, %d updated, %d deleted, %d records not imported; sha256 %s\n",
				file, v.BankID, v.Version, st.Adds, st.Updates, st.Deletes, st.Skipped, v.DocSHA256)
		}
		for _, line := range st.Summary(l) {
			fmt.Fprintf(stdout, "  %s\n", line)
		}
		if st.Next != "" {
			fmt.Fprintf(stdout, "  paging/next: %s (custos fetches nothing: import that page next)\n", st.Next)
		}
	}
	return nil
}

// bankOperator is the operator on the server host acting for a bank's
// owner: the log records what it does as done by the operator (hostOperator).
func bankOperator(ctx context.Context, s *hashmatch.Service, bank string) (*auth.Principal, error) {
	op := hostOperator(auth.Auditor, "")
	b, err := s.Bank(ctx, op, bank)
	if err != nil {
		return nil, err
	}
	return hostOperator(hashmatch.RoleAnalyst, b.OwnerID), nil
}

func runHMExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("hashmatch export", "--bank ID --format "+strings.Join(hashmatch.Formats, "|")+" [--version N] [--out FILE] [flags]",
		"write a bank's list at a version in one of the list formats (logged); what the format cannot carry is listed on stderr", stdout)
	bank := fs.String("bank", "", "the bank id")
	format := fs.String("format", "", strings.Join(hashmatch.Formats, ", "))
	version := fs.Int("version", 0, "the version (0: the current one)")
	out := fs.String("out", "", "the file to write (default: standard output)")
	d, _, err := parseDB(fs, args, 0, "give --bank ID and --format F")
	if err != nil {
		return err
	}
	if *bank == "" || *format == "" {
		return &exitError{2, "give --bank ID and --format F"}
	}
	app, err := d.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	op, err := bankOperator(ctx, app.Hashmatch, *bank)
	if err != nil {
		return err
	}
	l := cliLocalizer(app.Languages)
	w := stdout
	if *out != "" {
		f := &exportFile{name: *out}
		defer f.Close()
		w = f
	}
	var made export.Meta
	st, err := app.Hashmatch.ExportBank(i18n.NewContext(ctx, l), op, *bank, *version, *format, func(m export.Meta, _ *hashmatch.ExportStats) { made = m }, w)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%s version %d, %s: %d entries written, %d left out\n", *bank, st.Version, st.Format, st.Entries, st.Skipped)
	for _, line := range st.Summary(l) {
		fmt.Fprintf(stderr, "  %s\n", line)
	}
	fmt.Fprintln(stderr, export.CheckpointLine(made.Checkpoint, made.Entry))
	return nil
}

// cliLocalizer is the language the command line writes its words in: the
// operator's locale (LC_ALL, LC_MESSAGES, then LANG, as POSIX orders them,
// "fr_FR.UTF-8" read as fr-FR) when custos speaks it, else English.
func cliLocalizer(c *i18n.Catalogue) *i18n.Localizer {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if s := os.Getenv(v); s != "" {
			s, _, _ = strings.Cut(s, ".")
			s, _, _ = strings.Cut(s, "@")
			return c.Match("", strings.ReplaceAll(s, "_", "-"))
		}
	}
	return c.English()
}

// progressBar returns a function that draws a progress bar on w, on one
// line redrawn in place: done of total, then unit; a newline once done
// reaches total.
func progressBar(w io.Writer, unit string) func(done, total int64) {
	return func(done, total int64) {
		const width = 30
		n := int(width * done / max(total, 1))
		n = min(n, width)
		fmt.Fprintf(w, "\r[%s%s] %d/%d", strings.Repeat("#", n), strings.Repeat(".", width-n), done, total)
		if unit != "" {
			fmt.Fprintf(w, " %s", unit)
		}
		if done >= total {
			fmt.Fprintln(w)
		}
	}
}

func runHMThresholds(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("hashmatch thresholds", "--bank ID [--query-match-threshold-pct P] [--index-match-threshold-pct P]",
		"set a bank's vPDQ match percentages (without a percentage flag: print them)", stdout)
	bank := fs.String("bank", "", "the bank id")
	var in hashmatch.VideoThresholds
	fs.Func("query-match-threshold-pct", "share of a query video's frames (0-100) that must match a video entry's (default of a new bank 80)", pctFlag(&in.QueryMatchThresholdPct))
	fs.Func("index-match-threshold-pct", "share of a video entry's frames (0-100) that must match the query's (default of a new bank 0)", pctFlag(&in.IndexMatchThresholdPct))
	d, _, err := parseDB(fs, args, 0, "give --bank ID")
	if err != nil {
		return err
	}
	if *bank == "" {
		return &exitError{2, "give --bank ID"}
	}
	// Printing them only reads.
	show := in.QueryMatchThresholdPct == nil && in.IndexMatchThresholdPct == nil
	open := d.open
	if show {
		open = d.openReadOnly
	}
	app, err := open(ctx, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	op, err := bankOperator(ctx, app.Hashmatch, *bank)
	if err != nil {
		return err
	}
	var b *hashmatch.Bank
	if show {
		b, err = app.Hashmatch.Bank(ctx, op, *bank)
	} else {
		b, err = app.Hashmatch.SetVideoThresholds(ctx, op, *bank, in)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "bank %s: query_match_threshold_pct %g, index_match_threshold_pct %g\n", b.ID, b.QueryMatchThresholdPct, b.IndexMatchThresholdPct)
	return nil
}

// pctFlag parses a percentage flag into *dst (the service checks its range).
func pctFlag(dst **float64) func(string) error {
	return func(s string) error {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("not a number: %q", s)
		}
		*dst = &v
		return nil
	}
}
