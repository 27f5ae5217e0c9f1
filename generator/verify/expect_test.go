package verify

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/world"
	"github.com/netdep/netdep/schema"
	"github.com/netdep/netdep/tests/synth"
)

type declaredPair struct {
	Src, Dst eval.Endpoint
	Want     string
}

// TestEachDeclaredEqualsAllPairs: eachDeclared tries, for a source netdep
// leaves open, only the destinations whose declared ingress can admit it;
// over random specs of every feature (raw peers, CIDRs, DNS servers,
// ingress-only namespaces, environments) it yields exactly the pairs that
// trying every destination does.
func TestEachDeclaredEqualsAllPairs(t *testing.T) {
	n := 200
	if testing.Short() {
		n = 30
	}
	for seed := int64(0); seed < int64(n); seed++ {
		files := synth.Org(synth.Options{Services: 3 + int(seed%25), PerNamespace: 2 + int(seed%6), Seed: seed, NoProject: seed%5 == 0})
		spec, probs := schema.Parse(files)
		if len(probs.Errors()) > 0 {
			t.Fatalf("seed %d: %v", seed, probs)
		}
		for _, env := range spec.EnvNames() {
			w := world.New(env, spec)
			d := newDeclared(w, spec, spec.Environment(env))
			ev, err := eval.New(w.Universe, nil)
			if err != nil {
				t.Fatal(err)
			}
			externals := ev.Externals()
			var got []declaredPair
			d.eachDeclared(externals, func(src, dst eval.Endpoint, want eval.PortSet) {
				got = append(got, declaredPair{src, dst, want.String()})
			})
			// The straightforward enumeration: every source, every
			// destination.
			var want []declaredPair
			nPods := len(w.Universe.Pods)
			for s := 0; s < nPods+len(externals); s++ {
				src := eval.PodEndpoint(s)
				if s >= nPods {
					src = eval.ExternalEndpoint(s - nPods)
				}
				for t := 0; t < nPods+len(externals); t++ {
					dst := eval.PodEndpoint(t)
					if t >= nPods {
						dst = eval.ExternalEndpoint(t - nPods)
					}
					if src == dst || src.External && dst.External {
						continue
					}
					if ps := d.ports(src, dst, externals); !ps.IsEmpty() {
						want = append(want, declaredPair{src, dst, ps.String()})
					}
				}
			}
			sortPairs(got)
			sortPairs(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("seed %d env %q: eachDeclared differs from every pair (-all pairs +eachDeclared):\n%s", seed, env, diff)
			}
		}
	}
}

func sortPairs(ps []declaredPair) {
	key := func(e eval.Endpoint) int {
		if e.External {
			return 1<<30 + e.Index
		}
		return e.Index
	}
	slices.SortFunc(ps, func(a, b declaredPair) int {
		if c := key(a.Src) - key(b.Src); c != 0 {
			return c
		}
		return key(a.Dst) - key(b.Dst)
	})
}
