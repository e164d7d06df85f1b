// Command gen writes regdb's table.go from wireless-regdb's db.txt.
//
//	go run ./internal/gen -db /path/to/db.txt -version 2026.05.30 -o table.go
//
// db.txt is not part of nichost; see the regdb package doc for where to get
// it.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/nichost/nichost/plugins/wlan/regdb/internal/dbtxt"
)

func main() {
	dbPath := flag.String("db", "", "path to wireless-regdb's db.txt (required)")
	version := flag.String("version", "", "the wireless-regdb release of that db.txt, e.g. 2026.05.30 (required)")
	out := flag.String("o", "table.go", "file to write")
	flag.Parse()
	if *dbPath == "" || *version == "" {
		fmt.Fprintln(os.Stderr, "gen: -db and -version are required")
		flag.Usage()
		os.Exit(2)
	}
	src, err := os.ReadFile(*dbPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	code, err := dbtxt.Generate(src, *version)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, code, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
