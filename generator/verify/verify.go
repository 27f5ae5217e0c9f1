package verify

import (
	"fmt"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/world"
	"github.com/netdep/netdep/schema"
)

// Report is the outcome of checking one environment.
type Report struct {
	// Environment is the environment's name, "" for the implicit one.
	Environment string `json:"environment"`
	// Pods and Addresses are the size of the world that was checked.
	Pods      int `json:"pods"`
	Addresses int `json:"addressClasses"`
	// Hosts are the host classes among them: external services known by
	// DNS name (eval.External.Host), counted apart from Addresses.
	Hosts int `json:"hosts,omitempty"`
	// Policies is how many NetworkPolicies were evaluated; ClusterPolicies
	// how many ClusterNetworkPolicies with them.
	Policies        int `json:"policies"`
	ClusterPolicies int `json:"clusterPolicies,omitempty"`
	// PluginPolicies is how many CiliumNetworkPolicies and Calico
	// NetworkPolicies were evaluated with them.
	PluginPolicies int `json:"pluginPolicies,omitempty"`
	// Audit is set for an environment in mode: audit, or one whose
	// objects include staged ones (audit.go).
	Audit *Audit `json:"audit,omitempty"`
	// Verdict is "exact", "partial" (exact for networking.k8s.io/v1, with
	// objects not evaluated: MarkNotEvaluated) or "differs".
	Verdict string `json:"verdict"`
	// Missing are declared connections the policies deny; Excess are
	// connections the policies allow that nothing declares.
	Missing []Difference `json:"missing"`
	Excess  []Difference `json:"excess"`
	// NotEvaluated counts the objects beside the policies that can change
	// connectivity but were not evaluated (Manifests.NotEvaluated); while
	// it is above 0 the verdict holds for networking.k8s.io/v1 only.
	NotEvaluated int `json:"notEvaluated"`
	// Overridden are the declared edges marked overriddenBy a guardrail:
	// not expected to be allowed (the guardrail wins), listed so they stay
	// in sight.
	Overridden []Overridden `json:"overridden,omitempty"`
	// Exceptions are the declared edges that are exceptions, active in
	// this environment: expected like any edge, listed apart so that
	// whoever reads the verdict sees what is open for a while and whose it
	// is.
	Exceptions []Exception `json:"exceptions,omitempty"`
}

// Exception is a declared edge that an exception opens.
type Exception struct {
	// Source is where the entry is (file:line:col), Edge what it opens.
	Source string `json:"source"`
	Edge   string `json:"edge"`
	// Name, Owner, Expires (YYYY-MM-DD) and Reason are the exception's.
	Name    string `json:"name"`
	Owner   string `json:"owner"`
	Expires string `json:"expires"`
	Reason  string `json:"reason"`
}

// Text is the exception as verify prints it.
func (x Exception) Text() string {
	return fmt.Sprintf("%s: %s, exception %s, expires %s, owner %s", x.Source, x.Edge, x.Name, x.Expires, x.Owner)
}

// exceptions lists the environment's exception edges in c.r, once per
// entry (an edge between two services is two rules of one entry).
func (c *checker) exceptions() {
	seen := map[schema.Pos]bool{}
	for i := range c.d.env.Rules {
		r := &c.d.env.Rules[i]
		x := r.Exception
		if x == nil || seen[r.Source] {
			continue
		}
		seen[r.Source] = true
		c.r.Exceptions = append(c.r.Exceptions, Exception{Source: r.Source.String(), Edge: edgeText(r),
			Name: x.Name, Owner: x.Owner, Expires: x.ExpiresText(), Reason: x.Reason})
	}
	sort.SliceStable(c.r.Exceptions, func(i, j int) bool { return c.r.Exceptions[i].Name < c.r.Exceptions[j].Name })
}

// MarkNotEvaluated records that n objects beside the policies can change
// connectivity and were not evaluated: an exact verdict becomes "partial"
// (exact for networking.k8s.io/v1 only), so a machine reading only the
// verdict is not told "exact" over what nobody checked.
func (r *Report) MarkNotEvaluated(n int) {
	r.NotEvaluated = n
	if n > 0 && r.Exact() {
		r.Verdict = "partial"
	}
}

// Exact reports whether the policies allow exactly the declared graph.
func (r *Report) Exact() bool { return len(r.Missing) == 0 && len(r.Excess) == 0 }

// Difference is one (source, destination) pair whose allowed ports differ
// from the declared ones, in one direction of the check.
type Difference struct {
	// Direction is where the difference was found: "connection" (both
	// sides together, what the cluster enforces today), "ingress" (the
	// destination's ingress on its own, every source's egress open) or
	// "egress" (the source's egress on its own, every destination's ingress
	// open).
	Direction   string `json:"direction"`
	Source      string `json:"source"`
	Destination string `json:"destination"`
	// Ports are the ports that differ, e.g. "8080/TCP, 53/UDP".
	Ports string `json:"ports"`
	// Policy is the policy responsible for the first of those ports: for
	// an excess the first one whose rule allows it, for a missing port the
	// first one that isolates the side that denies it; "" when no policy
	// is involved (an excess through a side nobody isolates).
	Policy string `json:"policy"`
	// Reason names the policies and rules that decide the first of those
	// ports.
	Reason string `json:"reason"`
}

// Options change the world a check evaluates over.
type Options struct {
	// Namespaces label the world's namespaces (world.World.LabelNamespaces): the
	// Namespace objects given with the policies, as LoadManifests reads them.
	Namespaces []eval.Namespace
	// ClusterPolicies are evaluated with the policies, in their tiers.
	ClusterPolicies []*v1beta1.ClusterNetworkPolicy
	// Plugins are the network plugins' policies evaluated with them
	// (eval.Plugins).
	Plugins eval.Plugins
}

// Check evaluates policies over env's world and compares the allowed
// connections with the ones env's dependency files declare.
func Check(spec *schema.Spec, env string, policies []*networkingv1.NetworkPolicy) (*Report, error) {
	return CheckWith(spec, env, policies, Options{})
}

// checker holds one check's state.
type checker struct {
	w         *world.World
	d         *declared
	ev        *eval.Evaluator
	externals []eval.External
	r         *Report
	// reported are the ports the connection check reported per pair and
	// kind; the side checks report only what goes beyond them.
	reported map[sideKey]eval.PortSet
}

// CheckWith is Check over a world changed by o. It compares connection by
// connection, then each side on its own (checkSides).
func CheckWith(spec *schema.Spec, env string, policies []*networkingv1.NetworkPolicy, o Options) (*Report, error) {
	e := spec.Environment(env)
	if e == nil {
		return nil, fmt.Errorf("unknown environment %q", env)
	}
	w := world.New(env, spec)
	w.LabelNamespaces(o.Namespaces)
	ev, err := eval.NewWithPlugins(w.Universe, policies, o.ClusterPolicies, o.Plugins)
	if err != nil {
		return nil, err
	}
	reach := ev.Reachability()
	c := &checker{w: w, d: newDeclared(w, spec, e), ev: ev, externals: ev.Externals(), reported: map[sideKey]eval.PortSet{}}
	c.r = &Report{Environment: env, Pods: len(w.Universe.Pods), Addresses: len(c.externals), Policies: len(policies), ClusterPolicies: len(o.ClusterPolicies),
		PluginPolicies: o.Plugins.Len(), Missing: []Difference{}, Excess: []Difference{}}
	for _, x := range c.externals {
		if x.Host != "" {
			c.r.Hosts++
			c.r.Addresses--
		}
	}
	r := c.r

	compare := func(src, dst eval.Endpoint, want, got eval.PortSet) {
		if want.Equal(got) {
			return
		}
		if missing := want.Subtract(got); !missing.IsEmpty() {
			c.reported[sideKey{true, src, dst}] = missing
			r.Missing = append(r.Missing, c.difference(Connection, src, dst, missing))
		}
		if excess := got.Subtract(want); !excess.IsEmpty() {
			c.reported[sideKey{false, src, dst}] = excess
			r.Excess = append(r.Excess, c.difference(Connection, src, dst, excess))
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
				compare(src, dst, c.d.ports(src, dst, c.externals), fs.Ports)
			}
		}
		return true
	})
	c.d.eachDeclared(c.externals, func(src, dst eval.Endpoint, want eval.PortSet) {
		if got := reach.Ports(src, dst); got.IsEmpty() {
			compare(src, dst, want, got)
		}
	})
	c.checkSides()
	c.exceptions()
	if err := c.checkGuardrails(o.ClusterPolicies); err != nil {
		return nil, err
	}
	sortDifferences(r.Missing)
	sortDifferences(r.Excess)
	r.Verdict = "exact"
	if !r.Exact() {
		r.Verdict = "differs"
	}
	return r, nil
}

// directionOrder sorts connection differences first, then ingress, egress;
// within a direction they are sorted by source and destination (WriteText
// groups them by policy).
var directionOrder = map[string]int{Connection: 0, Ingress: 1, Egress: 2, ClusterIngress: 3, ClusterEgress: 4, OpenIngress: 5, OpenEgress: 6, ClosedIngress: 7, ClosedEgress: 8}

func sortDifferences(ds []Difference) {
	sort.Slice(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.Direction != b.Direction {
			return directionOrder[a.Direction] < directionOrder[b.Direction]
		}
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if a.Destination != b.Destination {
			return a.Destination < b.Destination
		}
		return a.Ports < b.Ports
	})
}

// name is how reports show an endpoint.
func (c *checker) name(ep eval.Endpoint) string {
	if ep.External {
		return addressName(c.externals[ep.Index])
	}
	return c.w.Pods[ep.Index].Name
}

// difference describes ports ps from src to dst found in direction dir:
// the policy and rules that decide the first of them, on both sides for a
// connection and on the one side for a side check.
// clusterPolicyLabel names a cluster policy in a difference's grouping:
// "clusternetworkpolicy NAME", or the v1alpha1 kind it was written as
// ("adminnetworkpolicy NAME").
func clusterPolicyLabel(r *eval.ClusterRuleRef) string {
	kind := "clusternetworkpolicy"
	if r.Kind != "" {
		kind = strings.ToLower(r.Kind)
	}
	return kind + " " + r.Policy
}

func (c *checker) difference(dir string, src, dst eval.Endpoint, ps eval.PortSet) Difference {
	first := ps.Ranges()[0]
	v := c.ev.Explain(eval.Query{Src: src, Dst: dst, Protocol: first.Protocol, Port: first.From})
	var parts []string
	var allowing, denying string // the first policy allowing, denying
	side := func(what string, at eval.Endpoint, d eval.Direction) {
		switch {
		case d.Cluster != nil && d.Allowed:
			parts = append(parts, fmt.Sprintf("%s at %s allowed by %s", what, c.name(at), d.Cluster))
			allowing = clusterPolicyLabel(d.Cluster)
		case d.Cluster != nil:
			parts = append(parts, fmt.Sprintf("%s at %s denied by %s", what, c.name(at), d.Cluster))
			if denying == "" {
				denying = clusterPolicyLabel(d.Cluster)
			}
		case len(d.Isolating) == 0:
			parts = append(parts, fmt.Sprintf("%s at %s is not isolated", what, c.name(at)))
		case d.Allowed:
			parts = append(parts, fmt.Sprintf("%s at %s allowed by %s", what, c.name(at), joinRefs(d.Allowing, what)))
			allowing = d.Allowing[0].PolicyRef.String() // the ingress side's, when both
		default:
			parts = append(parts, fmt.Sprintf("%s at %s isolated by %s and no rule admits %d/%s", what, c.name(at),
				joinPolicies(d.Isolating), first.From, first.Protocol))
			if denying == "" {
				denying = d.Closest.String()
			}
		}
	}
	if !src.External && dir != Ingress {
		side(Egress, src, v.Egress)
	}
	if !dst.External && dir != Egress {
		side(Ingress, dst, v.Ingress)
	}
	policy := allowing
	if denying != "" {
		policy = denying
	}
	return Difference{Direction: dir, Source: c.name(src), Destination: c.name(dst), Ports: ps.String(),
		Policy: policy, Reason: strings.Join(parts, "; ")}
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

// addressName shows an address class by its prefixes, at most three, and
// a host class by its name ("host api.stripe.com", "host *.googleapis.com").
func addressName(x eval.External) string {
	if x.Host != "" {
		return HostName(x.Host)
	}
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

// HostName is how reports name a host class: "host api.stripe.com"; the
// class "*" stands for every name no other class names.
func HostName(h string) string {
	if h == "*" {
		return "host * (any other name)"
	}
	return "host " + h
}
