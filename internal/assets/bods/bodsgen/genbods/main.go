// Command genbods writes internal/assets/bods/schema_v04.go from
// shared/reference/bods/schema (see package bodsgen). go generate
// ./internal/assets/bods runs it.
package main

import (
	"flag"
	"log"
	"os"

	"github.com/custos-project/custos/internal/assets/bods/bodsgen"
)

func main() {
	dir := flag.String("schema", "../../../../shared/reference/bods/schema", "the directory of the BODS 0.4 schema files")
	out := flag.String("out", "schema_v04.go", "the Go file to write")
	flag.Parse()
	src, err := bodsgen.Generate(*dir)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}
