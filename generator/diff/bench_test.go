package diff

import (
	"io"
	"testing"

	"github.com/netdep/netdep/generator"
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
				r, err := Compare(base, head, Side{Ref: "base"}, WorkingTree)
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
		if _, err := Compare(base, head, Side{Ref: "base"}, WorkingTree); err != nil {
			b.Fatal(err)
		}
	}
}
