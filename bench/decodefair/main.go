// Command decodefair measures how long a small image waits for the decode
// budget while a large one decodes (BENCHMARKS.md, "A small image beside a
// large decode"): the path of custos hashmatch hash and of a server's
// uploads (hashmatch.ImageHasher), one budget shared by both images.
//
//	go run ./bench/imagecost -out /tmp/ic
//	go run ./bench/decodefair -large /tmp/ic/png16.png -small photo.jpg -budget-mib 780 -rounds 5
//
// Each round hashes the small image alone, then starts the large one,
// waits -settle for it to take its share of the budget, and hashes the
// small one again, timing it, then waits for the large one. It prints each
// round and the medians, and the ratio of the small image's time beside the
// large decode to its time alone.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"slices"
	"time"

	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/hashmatch/pdq"
)

// usage heads -help: what the harness measures.
const usage = `Usage: go run ./bench/decodefair -large FILE -small FILE [flags]

How long a small image waits for the decode budget while a large one
decodes: each round times the small image alone and beside the large
decode; prints each round, the medians and their ratio. -large is
bench/imagecost's png16.png. BENCHMARKS.md gives the figures.

`

func main() {
	largePath := flag.String("large", "", "the large image (bench/imagecost's png16.png)")
	smallPath := flag.String("small", "", "the small image (a photo of a megapixel or so)")
	budget := flag.Int64("budget-mib", hashmatch.DefaultDecodeBudget>>20, "the decode budget, MiB (--decode-budget-mib)")
	rounds := flag.Int("rounds", 5, "rounds")
	settle := flag.Duration("settle", 300*time.Millisecond, "how long the large image decodes before the small one is sent")
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), usage)
		flag.PrintDefaults()
	}
	flag.Parse()
	large, err := os.ReadFile(*largePath)
	if err != nil {
		log.Fatal(err)
	}
	small, err := os.ReadFile(*smallPath)
	if err != nil {
		log.Fatal(err)
	}
	for name, data := range map[string][]byte{"large": large, "small": small} {
		hd, err := (pdq.Options{MaxDecodeBytes: 1 << 40}).Inspect(data)
		if err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		fmt.Printf("%s: %s %dx%d, %d bytes, decode estimate %.1f MiB\n", name, hd.Format, hd.Width, hd.Height, len(data), float64(hd.DecodeBytes)/(1<<20))
	}
	h := hashmatch.NewImageHasher(64<<20, *budget<<20)
	ctx := context.Background()
	var alone, beside, largeTook []time.Duration
	for r := range *rounds {
		t := time.Now()
		if _, err := h.Hash(ctx, bytes.NewReader(small)); err != nil {
			log.Fatalf("small image alone: %v", err)
		}
		alone = append(alone, time.Since(t))

		done := make(chan error, 1)
		t0 := time.Now()
		go func() {
			_, err := h.Hash(ctx, bytes.NewReader(large))
			done <- err
		}()
		time.Sleep(*settle)
		t = time.Now()
		if _, err := h.Hash(ctx, bytes.NewReader(small)); err != nil {
			log.Fatalf("small image beside the large one: %v", err)
		}
		beside = append(beside, time.Since(t))
		largeErr := <-done
		largeTook = append(largeTook, time.Since(t0))
		fmt.Printf("round %d: small alone %v, beside the large decode %v; large %v, %v\n", r+1,
			alone[r].Round(time.Millisecond), beside[r].Round(time.Millisecond), largeTook[r].Round(time.Millisecond), errText(largeErr))
	}
	med := func(ds []time.Duration) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[len(s)/2]
	}
	fmt.Printf("median: small alone %v, beside the large decode %v (%.1f×); large %v\n",
		med(alone).Round(time.Millisecond), med(beside).Round(time.Millisecond), float64(med(beside))/float64(med(alone)), med(largeTook).Round(time.Millisecond))
}

func errText(err error) string {
	if err == nil {
		return "hashed"
	}
	return "refused: " + err.Error()
}
