package verify

import (
	"fmt"
	"testing"

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
