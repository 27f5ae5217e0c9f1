package diff

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/schema"
)

// BenchmarkCompare measures a whole change review after loading: flows over
// the common universe in every environment, object diffs, and the markdown
// report. scripts print figures with `go test -bench Compare`.
func BenchmarkCompare(b *testing.B) {
	for _, bc := range []struct {
		name     string
		services int
	}{{"services=100", 100}, {"services=1000", 1000}} {
		base := mustGenerate(b, synthFiles(bc.services, 0))
		head := mustGenerate(b, synthFiles(bc.services, 10))
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				r, err := compareRuns(base, head, Side{Ref: "base"}, WorkingTree)
				if err != nil {
					b.Fatal(err)
				}
				if err := WriteMarkdown(io.Discard, r, MarkdownOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGenerateAndCompare includes generating both sides from their
// files, as `netdep diff --base` does after reading them.
func BenchmarkGenerateAndCompare(b *testing.B) {
	baseFiles, headFiles := synthFiles(1000, 0), synthFiles(1000, 10)
	for b.Loop() {
		base, err := generator.FromFiles(baseFiles)
		if err != nil {
			b.Fatal(err)
		}
		head, err := generator.FromFiles(headFiles)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := compareRuns(base, head, Side{Ref: "base"}, WorkingTree); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompareShop is the bundled example against itself with one
// more call: the size of a typical pull request on a small project.
func BenchmarkCompareShop(b *testing.B) {
	files, probs := schema.ReadPaths([]string{"../../examples/shop"})
	if len(probs.Errors()) > 0 {
		b.Fatal(probs)
	}
	base := mustGenerate(b, files)
	changed := slices.Clone(files)
	for i, f := range changed {
		if strings.HasSuffix(f.Path, "storefront/deps.yaml") {
			changed[i].Data = bytes.Replace(f.Data, []byte("      - cart:grpc\n"), []byte("      - cart:grpc\n      - payments/payment:grpc\n"), 1)
		}
	}
	head := mustGenerate(b, changed)
	for b.Loop() {
		r, err := compareRuns(base, head, Side{Ref: "base"}, WorkingTree)
		if err != nil {
			b.Fatal(err)
		}
		if !r.Changed() {
			b.Fatal("no change")
		}
	}
}
