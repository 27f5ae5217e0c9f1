package verify

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"testing"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/generator/kustomize"
	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/schema"
	"github.com/netdep/netdep/tests/synth"
)

// BenchmarkCheck is verify's cost on one environment of a generated
// organisation, connection check and per-side checks together:
//
//	go test ./generator/verify -run '^$' -bench Check -benchtime 3x
func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{2000, 10000} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			spec, probs := schema.Parse(synth.Org(synth.Options{Services: n, Seed: 1}))
			if errs := probs.Errors(); len(errs) > 0 {
				b.Fatal(errs)
			}
			set, err := policy.Generate(spec)
			if err != nil {
				b.Fatal(err)
			}
			env := spec.EnvNames()[0]
			policies := set.Render(env)
			b.ReportAllocs()
			for b.Loop() {
				r, err := Check(spec, env, policies)
				if err != nil {
					b.Fatal(err)
				}
				if !r.Exact() {
					b.Fatalf("not exact: %d missing, %d excess", len(r.Missing), len(r.Excess))
				}
			}
			b.ReportMetric(float64(len(policies)), "policies")
		})
	}
}

var (
	benchServices = flag.Int("bench-services", 10000, "services in BenchmarkRun's synthetic organisation")
	benchHeap     = flag.String("bench-heap", "", "BenchmarkRun writes the live heap to this file as the last environment starts")
)

// BenchmarkRun is `netdep verify --out` without the command: every
// environment of a generated organisation read back from its tree on disk
// (krusty) and checked. For heap profiles at scale (issue 17):
//
//	go test ./generator/verify -run '^$' -bench Run -benchtime 1x -memprofile mem.out -args -bench-services 50000
//	go tool pprof -sample_index=inuse_space -top mem.out
//
// -bench-heap FILE writes the heap live while the last environment starts
// (what the peak holds: the tree read so far, the spec, the world), which
// -memprofile's end-of-run snapshot does not show.
func BenchmarkRun(b *testing.B) {
	out, err := generator.FromFiles(synth.Org(synth.Options{Services: *benchServices, Seed: 1}))
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(b.TempDir(), "netpol")
	if err := kustomize.Write(dir, out.Tree, kustomize.WriteOptions{}); err != nil {
		b.Fatal(err)
	}
	envs := out.Spec.EnvNames()
	b.ReportAllocs()
	for b.Loop() {
		var progress func(string)
		if *benchHeap != "" {
			n := 0
			progress = func(string) {
				if n++; n < len(envs) {
					return
				}
				runtime.GC()
				f, err := os.Create(*benchHeap)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				if err := pprof.WriteHeapProfile(f); err != nil {
					b.Fatal(err)
				}
			}
		}
		reports, _, err := Run(out.Spec, envs, FromTree(dir), progress)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range reports {
			if !r.Exact() {
				b.Fatalf("%s not exact: %d missing, %d excess", r.Environment, len(r.Missing), len(r.Excess))
			}
		}
	}
}
