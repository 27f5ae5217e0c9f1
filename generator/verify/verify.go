package verify

import (
	"fmt"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/schema"
)

// Report is the outcome of checking one environment.
type Report struct {
	// Environment is the environment's name, "" for the implicit one.
	Environment string `json:"environment"`
	// Pods and Addresses are the size of the world that was checked.
	Pods      int `json:"pods"`
	Addresses int `json:"addressClasses"`
	// Policies is how many NetworkPolicies were evaluated.
	Policies int `json:"policies"`
	// Verdict is "exact" or "differs".
	Verdict string `json:"verdict"`
	// Missing are declared connections the policies deny; Excess are
	// connections the policies allow that nothing declares.
	Missing []Difference `json:"missing"`
	Excess  []Difference `json:"excess"`
}

// Exact reports whether the policies allow exactly the declared graph.
func (r *Report) Exact() bool { return len(r.Missing) == 0 && len(r.Excess) == 0 }

// Difference is one (source, destination) pair whose allowed ports differ
// from the declared ones.
type Difference struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	// Ports are the ports that differ, e.g. "8080/TCP, 53/UDP".
	Ports string `json:"ports"`
	// Reason names the policies and rules that decide the first of those
	// ports.
	Reason string `json:"reason"`
}

// Options change the world a check evaluates over.
type Options struct {
	// Namespaces label the world's namespaces (World.LabelNamespaces): the
	// Namespace objects given with the policies, as LoadManifests reads them.
	Namespaces []eval.Namespace
}

// Check evaluates policies over env's world and compares the allowed
// connections with the ones env's dependency files declare.
func Check(spec *schema.Spec, env string, policies []*networkingv1.NetworkPolicy) (*Report, error) {
	return CheckWith(spec, env, policies, Options{})
}

// CheckWith is Check over a world changed by o.
func CheckWith(spec *schema.Spec, env string, policies []*networkingv1.NetworkPolicy, o Options) (*Report, error) {
	e := spec.Environment(env)
	if e == nil {
		return nil, fmt.Errorf("unknown environment %q", env)
	}
	w := NewWorld(env, spec)
	w.LabelNamespaces(o.Namespaces)
	ev, err := eval.New(w.Universe, policies)
	if err != nil {
		return nil, err
	}
	reach := ev.Reachability()
	externals := ev.Externals()
	d := newDeclared(w, spec, e)
	r := &Report{Environment: env, Pods: len(w.Universe.Pods), Addresses: len(externals), Policies: len(policies),
		Missing: []Difference{}, Excess: []Difference{}}
	defer func() {
		r.Verdict = "exact"
		if !r.Exact() {
			r.Verdict = "differs"
		}
	}()

	name := func(ep eval.Endpoint) string {
		if ep.External {
			return addressName(externals[ep.Index])
		}
		return w.Pods[ep.Index].Name
	}
	compare := func(src, dst eval.Endpoint, want, got eval.PortSet) {
		if want.Equal(got) {
			return
		}
		if missing := want.Subtract(got); !missing.IsEmpty() {
			r.Missing = append(r.Missing, Difference{Source: name(src), Destination: name(dst),
				Ports: missing.String(), Reason: explain(ev, src, dst, missing, name)})
		}
		if excess := got.Subtract(want); !excess.IsEmpty() {
			r.Excess = append(r.Excess, Difference{Source: name(src), Destination: name(dst),
				Ports: excess.String(), Reason: explain(ev, src, dst, excess, name)})
		}
	}
	// Every pair the policies allow is compared with the declared ports;
	// then every declared pair the policies do not allow at all is missing.
	// Both walks touch only allowed or declared pairs, never all N² pairs
	// of a large organisation.
	reach.Each(func(fs eval.FlowSet) bool {
		for _, src := range fs.Srcs {
			for _, dst := range fs.Dsts {
				if src == dst || src.External && dst.External {
					continue
				}
				compare(src, dst, d.ports(src, dst, externals), fs.Ports)
			}
		}
		return true
	})
	d.eachDeclared(externals, func(src, dst eval.Endpoint, want eval.PortSet) {
		if got := reach.Ports(src, dst); got.IsEmpty() {
			compare(src, dst, want, got)
		}
	})
	sortDifferences(r.Missing)
	sortDifferences(r.Excess)
	return r, nil
}

func sortDifferences(ds []Difference) {
	sort.Slice(ds, func(i, j int) bool {
		if ds[i].Source != ds[j].Source {
			return ds[i].Source < ds[j].Source
		}
		return ds[i].Destination < ds[j].Destination
	})
}

// explain says why the first port of ps goes the way it does.
func explain(ev *eval.Evaluator, src, dst eval.Endpoint, ps eval.PortSet, name func(eval.Endpoint) string) string {
	first := ps.Ranges()[0]
	v := ev.Explain(eval.Query{Src: src, Dst: dst, Protocol: first.Protocol, Port: first.From})
	side := func(what string, at eval.Endpoint, dir eval.Direction) string {
		switch {
		case len(dir.Isolating) == 0:
			return fmt.Sprintf("%s at %s is not isolated", what, name(at))
		case dir.Allowed:
			return fmt.Sprintf("%s at %s allowed by %s", what, name(at), joinRefs(dir.Allowing, what))
		default:
			return fmt.Sprintf("%s at %s isolated by %s and no rule admits %d/%s", what, name(at),
				joinPolicies(dir.Isolating), first.From, first.Protocol)
		}
	}
	var parts []string
	if !src.External {
		parts = append(parts, side("egress", src, v.Egress))
	}
	if !dst.External {
		parts = append(parts, side("ingress", dst, v.Ingress))
	}
	return strings.Join(parts, "; ")
}

func joinRefs(refs []eval.RuleRef, direction string) string {
	s := make([]string, len(refs))
	for i, r := range refs {
		s[i] = fmt.Sprintf("%s rule spec.%s[%d]", r.PolicyRef, direction, r.Rule)
	}
	return strings.Join(s, ", ")
}

func joinPolicies(refs []eval.PolicyRef) string {
	s := make([]string, len(refs))
	for i, r := range refs {
		s[i] = r.String()
	}
	return strings.Join(s, ", ")
}

// addressName shows an address class by its prefixes, at most three.
func addressName(x eval.External) string {
	var parts []string
	for i, p := range x.Prefixes {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("+%d more", len(x.Prefixes)-3))
			break
		}
		parts = append(parts, p.String())
	}
	return "addresses " + strings.Join(parts, " ")
}
