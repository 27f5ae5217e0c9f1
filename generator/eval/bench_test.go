package eval_test

import (
	"fmt"
	"testing"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/eval/evaltest"
)

// BenchmarkEvaluate compiles an organisation's policies and computes the
// whole connectivity matrix (tests/scripts/bench-eval.sh prints CPU and memory, and
// cyclonus's figures on the same input).
func BenchmarkEvaluate(b *testing.B) {
	for _, n := range []int{2000, 10000} {
		u, ps := evaltest.Org(n, 1)
		b.Run(fmt.Sprintf("workloads=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e, err := eval.New(u, ps)
				if err != nil {
					b.Fatal(err)
				}
				_ = e.Reachability()
			}
		})
	}
}

// BenchmarkExplain is one question on a compiled 2,000-workload org.
func BenchmarkExplain(b *testing.B) {
	u, ps := evaltest.Org(2000, 1)
	e, err := eval.New(u, ps)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_ = e.Explain(eval.Query{Src: eval.PodEndpoint(100), Dst: eval.PodEndpoint(1500), Port: 8080})
	}
}
