// Command geniccs writes internal/stats/iccs_v1.go from shared/reference/iccs
// (see package iccsgen). go generate ./internal/stats runs it.
package main

import (
	"flag"
	"log"
	"os"

	"github.com/custos-project/custos/internal/stats/iccsgen"
)

func main() {
	codes := flag.String("codes", "../../../shared/reference/iccs/iccs-codes.csv", "the code list: code,level,parent,label,verified_by")
	es := flag.String("es", "../../../shared/reference/iccs/iccs-labels-es.csv", "the Spanish titles: code,label")
	out := flag.String("out", "iccs_v1.go", "the Go file to write")
	flag.Parse()
	src, err := iccsgen.Generate(*codes, *es)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}
