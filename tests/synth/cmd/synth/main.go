// Command synth writes a synthetic organisation's dependency files to a
// directory, for benchmarks and for trying netdep at scale:
//
//	go run ./tests/synth/cmd/synth -services 10000 -out "$(mktemp -d)/org"
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/netdep/netdep/tests/synth"
)

func main() {
	services := flag.Int("services", 1000, "number of services")
	per := flag.Int("per-namespace", 20, "average services per namespace")
	seed := flag.Int64("seed", 1, "random seed")
	out := flag.String("out", "", "directory to write (must not exist)")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "synth: -out is required")
		os.Exit(2)
	}
	if _, err := os.Stat(*out); err == nil {
		fmt.Fprintf(os.Stderr, "synth: %s exists; refusing to write into it\n", *out)
		os.Exit(2)
	}
	for _, f := range synth.Org(synth.Options{Services: *services, PerNamespace: *per, Seed: *seed}) {
		p := filepath.Join(*out, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "synth:", err)
			os.Exit(1)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "synth:", err)
			os.Exit(1)
		}
	}
}
