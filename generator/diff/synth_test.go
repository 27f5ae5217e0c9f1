package diff

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/schema"
)

// synthFiles writes a synthetic project of n services, 25 per namespace,
// with two environments. Service i listens on http 8080 and calls services
// i+1 and i+7 (wrapping, so some calls cross namespaces); every 50th service
// also calls a partner CIDR. change > 0 makes every change-th service also
// call service i+13: a change touching many policies and flows at once.
func synthFiles(n, change int) []schema.File {
	const perNS = 25
	files := []schema.File{{Path: "netdep.yaml", Data: []byte(`netdep: v1
cluster:
  cidrs: {partner: [198.51.100.0/24]}
environments:
  dev: {}
  prod: {}
`)}}
	name := func(i int) (ns, svc string) {
		i = (i + n) % n
		return fmt.Sprintf("team-%03d", i/perNS), fmt.Sprintf("svc-%04d", i)
	}
	ref := func(from, to int) string {
		fns, _ := name(from)
		tns, tsvc := name(to)
		if fns == tns {
			return tsvc + ":http"
		}
		return tns + "/" + tsvc + ":http"
	}
	for start := 0; start < n; start += perNS {
		ns, _ := name(start)
		var b strings.Builder
		fmt.Fprintf(&b, "netdep: v1\nnamespace: %s\nservices:\n", ns)
		for i := start; i < min(start+perNS, n); i++ {
			_, svc := name(i)
			fmt.Fprintf(&b, "  %s:\n    ports: {http: 8080}\n    calls:\n", svc)
			fmt.Fprintf(&b, "      - %s\n      - %s\n", ref(i, i+1), ref(i, i+7))
			if i%50 == 0 {
				b.WriteString("      - {cidr: partner, ports: [443]}\n")
			}
			if change > 0 && i%change == 0 {
				fmt.Fprintf(&b, "      - %s\n", ref(i, i+13))
			}
		}
		files = append(files, schema.File{Path: "teams/" + ns + ".yaml", Data: []byte(b.String())})
	}
	return files
}

func mustGenerate(tb testing.TB, files []schema.File) *generator.Output {
	tb.Helper()
	out, err := generator.FromFiles(files)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// compareRuns compares two complete runs of the pipeline as generated.
func compareRuns(base, head *generator.Output, baseSide, headSide Side) (*Report, error) {
	in := func(out *generator.Output, side Side) Input {
		return Input{Spec: out.Spec, Set: out.Set, Generated: out.Tree, Side: side}
	}
	return Compare(in(base, baseSide), in(head, headSide))
}

var synthDir = flag.String("synth", "", "write the synthetic 1,000-service project (base/ and head/) to this directory, for timing the CLI")

// TestWriteSynth writes the benchmark's synthetic project to disk when
// -synth is given, so the whole command can be timed on it.
func TestWriteSynth(t *testing.T) {
	if *synthDir == "" {
		t.Skip("no -synth directory")
	}
	for side, change := range map[string]int{"base": 0, "head": 10} {
		for _, f := range synthFiles(1000, change) {
			p := filepath.Join(*synthDir, side, filepath.FromSlash(f.Path))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
