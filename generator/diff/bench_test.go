package diff

import (
	"bytes"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/schema"
	"github.com/netdep/netdep/tests/synth"
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

var benchServices = flag.Int("bench-services", 10000, "services in BenchmarkCompareTwoLines's synthetic organisation")

// moveCall is the two-line change of tests/bench/table.sh: the first call of
// the first service with two or more calls in team-000 moves to the next
// service that has calls.
func moveCall(tb testing.TB, files []schema.File) []schema.File {
	tb.Helper()
	out := slices.Clone(files)
	for i, f := range out {
		if f.Path != "org/team-000.yaml" {
			continue
		}
		lines := strings.Split(string(f.Data), "\n")
		from, to := -1, -1
		for j := 0; j < len(lines) && to < 0; j++ {
			if lines[j] != "        calls:" {
				continue
			}
			k := 0
			for l := j + 1; l < len(lines) && strings.HasPrefix(lines[l], "            - "); l++ {
				k++
			}
			switch {
			case from < 0 && k >= 2:
				from = j + 1
			case from >= 0 && k >= 1:
				to = j
			}
		}
		if to < 0 {
			tb.Fatal("moveCall: no two services with calls in team-000")
		}
		moved := lines[from]
		var next []string
		for j, l := range lines {
			if j == from {
				continue
			}
			next = append(next, l)
			if j == to {
				next = append(next, moved)
			}
		}
		out[i] = schema.File{Path: f.Path, Data: []byte(strings.Join(next, "\n"))}
		return out
	}
	tb.Fatal("moveCall: no org/team-000.yaml")
	return nil
}

// BenchmarkCompareTwoLines is what `diff --base` does for a typical pull
// request on a large organisation (tests/synth, three environments) after
// generating both sides: one call moved from one service to another.
//
//	go test ./generator/diff -run '^$' -bench TwoLines -benchtime 1x -cpuprofile cpu.out -args -bench-services 10000
func BenchmarkCompareTwoLines(b *testing.B) {
	files := synth.Org(synth.Options{Services: *benchServices, Seed: 1})
	base, head := mustGenerate(b, files), mustGenerate(b, moveCall(b, files))
	b.ReportAllocs()
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
