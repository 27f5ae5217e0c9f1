package verify

import (
	"testing"

	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/schema"
	"github.com/netdep/netdep/tests/synth"
)

// TestRandomSpecsAreExact is the exactness guarantee as a property: for
// random valid specs using every feature of the schema, the generated
// policies allow exactly the declared graph in every environment.
func TestRandomSpecsAreExact(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 30
	}
	for seed := int64(0); seed < int64(n); seed++ {
		opts := synth.Options{Services: 3 + int(seed%25), PerNamespace: 2 + int(seed%6), Seed: seed, NoProject: seed%5 == 0}
		files := synth.Org(opts)
		spec, probs := schema.Parse(files)
		if len(probs.Errors()) > 0 {
			t.Fatalf("seed %d: synthetic spec is invalid:\n%v", seed, probs)
		}
		set, err := policy.Generate(spec)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		for _, env := range spec.EnvNames() {
			r, err := Check(spec, env, set.Render(env))
			if err != nil {
				t.Fatalf("seed %d env %q: %v", seed, env, err)
			}
			if !r.Exact() {
				t.Fatalf("seed %d env %q not exact (%d pods):\nmissing %v\nexcess %v", seed, env, r.Pods, r.Missing, r.Excess)
			}
		}
	}
}
