package generator_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/generator/kustomize"
	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/schema"
	"github.com/netdep/netdep/tests/synth"
)

// The Generate benchmarks run the in-memory part of `netdep generate` (parse,
// generate, lay out the tree in the layout auto picks) on synthetic
// organisations of 1,000, 5,000 and 10,000 services. Writing to disk is
// measured by tests/bench/scale.sh, which runs the binary. Besides ns/op and
// allocations each reports the process CPU time per op (cpu-ns/op, which
// includes the garbage collector's workers and not waiting for a core) and
// the number of policies and files.
func BenchmarkGenerate1k(b *testing.B)  { benchmarkGenerate(b, 1000) }
func BenchmarkGenerate5k(b *testing.B)  { benchmarkGenerate(b, 5000) }
func BenchmarkGenerate10k(b *testing.B) { benchmarkGenerate(b, 10000) }

func benchmarkGenerate(b *testing.B, services int) {
	files := synth.Org(synth.Options{Services: services, Seed: 1})
	b.ReportAllocs()
	var out *generator.Output
	cpu := startCPU()
	for b.Loop() {
		var err error
		out, err = generator.FromFiles(files)
		if err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
	b.ReportMetric(float64(countPolicies(out.Set)), "policies")
	b.ReportMetric(float64(out.Tree.Len()), "files")
}

// BenchmarkOneNamespace loads (schema.Parse) organisations that keep every
// service in one namespace (a monorepo's "default", a platform team's
// catch-all), at 16,000 and 50,000 services: "labels" has services that
// select by app plus labels thousands of others share (tier, team,
// version) and call a neighbour, "synth" is tests/synth's organisation
// squeezed into one namespace (calls, cidrs, three environments). The
// selector-overlap check compares selectors within a namespace, so this is
// where its cost shows: comparing every pair took 19 s at 16,000 services
// on one core, and 50,000 did not finish in a minute. cpu-ns/op is the
// figure to read on a shared machine; -cpu 1 gives the one-core one.
func BenchmarkOneNamespace(b *testing.B) {
	for _, n := range []int{16_000, 50_000} {
		for _, org := range []struct {
			name  string
			files func() []schema.File
		}{
			{"labels", func() []schema.File { return oneNamespace(n) }},
			{"synth", func() []schema.File { return synth.Org(synth.Options{Services: n, PerNamespace: n, Seed: 1}) }},
		} {
			b.Run(fmt.Sprintf("%s/services=%d", org.name, n), func(b *testing.B) {
				files := org.files()
				b.ReportAllocs()
				cpu := startCPU()
				for b.Loop() {
					if spec, probs := schema.Parse(files); spec == nil {
						b.Fatal(probs.Errors()[:1])
					}
				}
				cpu.report(b)
			})
		}
	}
}

// oneNamespace is n services in one namespace, each selecting by its own
// app label and three labels it shares with a third, a fiftieth and half
// of the others.
func oneNamespace(n int) []schema.File {
	var b strings.Builder
	b.WriteString("netdep: v1\nnamespace: big\nservices:\n")
	for i := range n {
		fmt.Fprintf(&b, "  s%d:\n    selector: {app: s%d, tier: t%d, team: team%d, version: v%d}\n    ports: {http: 8080}\n    calls: [s%d:http]\n",
			i, i, i%3, i%50, i%2, (i+1)%n)
	}
	return []schema.File{{Path: "big.yaml", Data: []byte(b.String()), Explicit: true}}
}

// BenchmarkStages times each stage of the pipeline on its own at 10,000
// services, so a profile or a regression points at one of them.
func BenchmarkStages(b *testing.B) {
	files := synth.Org(synth.Options{Services: 10000, Seed: 1})
	spec, probs := schema.Parse(files)
	if errs := probs.Errors(); len(errs) > 0 {
		b.Fatal(errs)
	}
	set, err := policy.Generate(spec)
	if err != nil {
		b.Fatal(err)
	}
	layout, err := generator.ChooseLayout(set, "")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		cpu := startCPU()
		for b.Loop() {
			schema.Parse(files)
		}
		cpu.report(b)
	})
	b.Run("generate", func(b *testing.B) {
		b.ReportAllocs()
		cpu := startCPU()
		for b.Loop() {
			if _, err := policy.Generate(spec); err != nil {
				b.Fatal(err)
			}
		}
		cpu.report(b)
	})
	b.Run("build", func(b *testing.B) {
		b.ReportAllocs()
		cpu := startCPU()
		for b.Loop() {
			if _, err := kustomize.BuildWithOptions(set, kustomize.Options{Layout: layout}); err != nil {
				b.Fatal(err)
			}
		}
		cpu.report(b)
	})
	b.Run("marshal", func(b *testing.B) {
		b.ReportAllocs()
		cpu := startCPU()
		for b.Loop() {
			for _, p := range set.Base {
				if _, err := kustomize.Marshal(p); err != nil {
					b.Fatal(err)
				}
			}
		}
		cpu.report(b)
		b.ReportMetric(float64(len(set.Base)), "policies")
	})
}

func countPolicies(set *policy.Set) int {
	n := len(set.Base)
	for _, o := range set.Overlays {
		n += len(o)
	}
	return n
}

type cpuStart struct {
	at time.Duration
	ok bool
}

func startCPU() cpuStart {
	at, ok := cpuTime()
	return cpuStart{at, ok}
}

// report adds cpu-ns/op where the platform tells CPU time.
func (c cpuStart) report(b *testing.B) {
	now, ok := cpuTime()
	if c.ok && ok && b.N > 0 {
		b.ReportMetric(float64(now-c.at)/float64(b.N), "cpu-ns/op")
	}
}
