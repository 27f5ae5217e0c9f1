package eval_test

import (
	"flag"
	"math/rand/v2"
	"testing"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/eval/evaltest"
)

var randomCases = flag.Int("random-cases", 1000, "random cases for TestMatchesReference")

// TestMatchesReference compares the evaluator (Explain and Reachability)
// with the naive reference on random universes and policies, for every pair
// of endpoints (pods and probe addresses) and every probe port and protocol.
func TestMatchesReference(t *testing.T) {
	n := *randomCases
	if testing.Short() || raceEnabled {
		n = min(n, 150)
	}
	probes, allowed := 0, 0
	for seed := 0; seed < n; seed++ {
		rng := rand.New(rand.NewPCG(uint64(seed), 1))
		c := evaltest.Random(rng, evaltest.RandomOptions{PodIPs: seed%2 == 0})
		e, err := eval.New(c.Universe, c.Policies)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		reach := e.Reachability()
		ref := newReference(c.Universe, c.Policies)
		type ep struct {
			e eval.Endpoint
			r refEndpoint
		}
		var eps []ep
		for i := range c.Universe.Pods {
			eps = append(eps, ep{eval.PodEndpoint(i), refEndpoint{pod: &c.Universe.Pods[i]}})
		}
		for _, a := range c.Addresses {
			eps = append(eps, ep{e.ExternalFor(a), refEndpoint{addr: a}})
		}
		for _, src := range eps {
			for _, dst := range eps {
				if src.e.External && dst.e.External {
					continue
				}
				ports := reach.Ports(src.e, dst.e)
				for _, proto := range eval.Protocols {
					for _, port := range c.Ports {
						probes++
						want := ref.allowed(src.r, dst.r, proto, port)
						if want {
							allowed++
						}
						v := e.Explain(eval.Query{Src: src.e, Dst: dst.e, Protocol: proto, Port: port})
						if v.Allowed != want || ports.Contains(proto, port) != want {
							t.Fatalf("seed %d: %v -> %v %d/%s: reference %v, Explain %v, Reachability %v (%s)\n%s",
								seed, src.r, dst.r, port, proto, want, v.Allowed, ports.Contains(proto, port), ports, v)
						}
					}
				}
			}
		}
	}
	t.Logf("%d cases, %d probes agree (%d allowed)", n, probes, allowed)
}

// TestFlowsMatchPorts checks that Flows and Each expand the same matrix as
// Ports answers.
func TestFlowsMatchPorts(t *testing.T) {
	for seed := 0; seed < 200; seed++ {
		rng := rand.New(rand.NewPCG(uint64(seed), 2))
		c := evaltest.Random(rng, evaltest.RandomOptions{PodIPs: true})
		c.Universe.Addresses = nil
		e, err := eval.New(c.Universe, c.Policies)
		if err != nil {
			t.Fatal(err)
		}
		reach := e.Reachability()
		type pair struct{ s, d eval.Endpoint }
		fromFlows := map[pair]string{}
		for _, f := range reach.Flows() {
			if f.Src == f.Dst {
				t.Fatalf("seed %d: self flow %v", seed, f)
			}
			fromFlows[pair{f.Src, f.Dst}] = f.Ports.String()
		}
		fromEach := map[pair]string{}
		reach.Each(func(fs eval.FlowSet) bool {
			for _, s := range fs.Srcs {
				for _, d := range fs.Dsts {
					if s != d {
						fromEach[pair{s, d}] = fs.Ports.String()
					}
				}
			}
			return true
		})
		var all []eval.Endpoint
		for i := range c.Universe.Pods {
			all = append(all, eval.PodEndpoint(i))
		}
		for i := range e.Externals() {
			all = append(all, eval.ExternalEndpoint(i))
		}
		for _, s := range all {
			for _, d := range all {
				p := reach.Ports(s, d)
				if s == d || p.IsEmpty() {
					if _, ok := fromFlows[pair{s, d}]; ok {
						t.Fatalf("seed %d: unexpected flow %v -> %v", seed, s, d)
					}
					continue
				}
				if fromFlows[pair{s, d}] != p.String() || fromEach[pair{s, d}] != p.String() {
					t.Fatalf("seed %d: %v -> %v: Ports %s, Flows %s, Each %s", seed, s, d, p, fromFlows[pair{s, d}], fromEach[pair{s, d}])
				}
			}
		}
	}
}
