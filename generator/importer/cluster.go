package importer

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/generator/verify"
	"github.com/netdep/netdep/generator/world"
	"github.com/netdep/netdep/schema"
)

// ClusterNetworkPolicies in an import. The originals are evaluated as the
// cluster enforces them: the NetworkPolicies in the tiers of the
// ClusterNetworkPolicies beside them (Admin, then NetworkPolicy, then
// Baseline). Dependency files cannot express a ClusterNetworkPolicy, and an
// adopter keeps the platform's guardrails where they are: so the import
// declares what the originals allow overall (the effective connectivity),
// names every connection a ClusterNetworkPolicy decided differently from
// the NetworkPolicies, and checks that the generated policies with the same
// ClusterNetworkPolicies allow what the originals allow.

// maxDecidedPairs is how many connections a note names per rule.
const maxDecidedPairs = 5

// clusterNotes records the ClusterNetworkPolicies evaluated and, per rule,
// the connections it decided differently from the NetworkPolicies alone.
func (im *policyImporter) clusterNotes() {
	cnps := im.c.ClusterPolicies
	if len(cnps) == 0 {
		return
	}
	var names []string
	for _, p := range cnps {
		names = append(names, fmt.Sprintf("%s (%s)", p.Name, p.Spec.Tier))
	}
	sort.Strings(names)
	im.notes[fmt.Sprintf("%d %s evaluated with the originals; they are not imported (they stay as they are): %s",
		len(cnps), plural(len(cnps), "ClusterNetworkPolicy", "ClusterNetworkPolicies"), joinList(names))] = true

	type decided struct {
		pairs []string
		more  int
	}
	byRule := map[string]*decided{}
	record := func(src, dst eval.Endpoint, ps eval.PortSet, accepted bool) {
		first := ps.Ranges()[0]
		v := im.ev.Explain(eval.Query{Src: src, Dst: dst, Protocol: first.Protocol, Port: first.From})
		rule := v.Ingress.Cluster
		if v.Egress.Cluster != nil && (accepted == v.Egress.Allowed) && (rule == nil || !accepted && v.Ingress.Allowed) {
			rule = v.Egress.Cluster
		}
		key := "a ClusterNetworkPolicy"
		if rule != nil {
			key = rule.String()
		}
		if accepted {
			key += " (" + string(v1beta1.ClusterNetworkPolicyRuleActionAccept) + ") allows what the NetworkPolicies deny; imported"
		} else {
			key += " denies what the NetworkPolicies allow; not imported"
		}
		d := byRule[key]
		if d == nil {
			d = &decided{}
			byRule[key] = d
		}
		if len(d.pairs) == maxDecidedPairs {
			d.more++
			return
		}
		d.pairs = append(d.pairs, fmt.Sprintf("%s -> %s %s", im.endpointName(src), im.endpointName(dst), ps))
	}
	compare := func(from, other *eval.Reachability, accepted bool) {
		from.Each(func(fs eval.FlowSet) bool {
			for _, src := range fs.Srcs {
				for _, dst := range fs.Dsts {
					if src == dst || src.External && dst.External {
						continue
					}
					if ps := fs.Ports.Subtract(other.Ports(src, dst)); !ps.IsEmpty() {
						record(src, dst, ps, accepted)
					}
				}
			}
			return true
		})
	}
	compare(im.npOnly.Reachability(), im.r, false)
	compare(im.r, im.npOnly.Reachability(), true)
	for key, d := range byRule {
		sort.Strings(d.pairs)
		s := key + ": " + strings.Join(d.pairs, ", ")
		if d.more > 0 {
			s += fmt.Sprintf(" and %d more", d.more)
		}
		im.notes[s] = true
	}
}

// endpointName is how the report names a universe endpoint, as verify's
// world names it.
func (im *policyImporter) endpointName(ep eval.Endpoint) string {
	if !ep.External {
		return im.podName[ep.Index]
	}
	var parts []string
	for i, p := range im.ext[ep.Index].Prefixes {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("+%d more", len(im.ext[ep.Index].Prefixes)-3))
			break
		}
		parts = append(parts, p.String())
	}
	return "addresses " + strings.Join(parts, " ")
}

// clusterOrigin names the ClusterNetworkPolicy rule that accepted a
// connection, "" when none did.
func clusterOrigin(v eval.Verdict) []string {
	var out []string
	for _, r := range []*eval.ClusterRuleRef{v.Egress.Cluster, v.Ingress.Cluster} {
		if r != nil && r.Action == v1beta1.ClusterNetworkPolicyRuleActionAccept {
			out = append(out, r.String())
		}
	}
	return out
}

// clusterWhy explains a side difference where a ClusterNetworkPolicy on
// the other side of the connection denies it: "" when none does.
func (im *policyImporter) clusterWhy(d verify.Difference) string {
	if len(im.c.ClusterPolicies) == 0 || d.Direction == verify.Connection {
		return ""
	}
	src, okSrc := im.endpoint(d.Source)
	dst, okDst := im.endpoint(d.Destination)
	if !okSrc || !okDst {
		return ""
	}
	q := firstPort(d.Ports)
	v := im.ev.Explain(eval.Query{Src: src, Dst: dst, Protocol: q.Protocol, Port: q.From})
	other := v.Ingress
	if d.Direction == verify.Ingress {
		other = v.Egress
	}
	if other.Cluster == nil || other.Allowed {
		return ""
	}
	return fmt.Sprintf("the %s side of policy %s on its own allowed these connections, but %s denies them at the other side; the import declares only the connections the cluster allows, so its %s side is narrower than the original's", d.Direction, d.Policy, other.Cluster, d.Direction)
}

// EffectiveCheck compares what the cluster would enforce after adoption
// (the policies generated from the imported files, with the same
// ClusterNetworkPolicies) with what it enforces today (the original
// policies with them), connection by connection over verify's world.
type EffectiveCheck struct {
	// ClusterPolicies is how many ClusterNetworkPolicies are on both sides.
	ClusterPolicies int `json:"clusterPolicies"`
	// Differences are "src -> dst ports: allowed today, denied after" or
	// the other way round, sorted.
	Differences []string `json:"differences"`
}

// Exact reports whether both sides allow the same connections.
func (c *EffectiveCheck) Exact() bool { return c == nil || len(c.Differences) == 0 }

// Text is the check in one line, then its differences.
func (c *EffectiveCheck) Text() string {
	if c == nil {
		return ""
	}
	what := fmt.Sprintf("the generated policies with the same %d %s", c.ClusterPolicies, plural(c.ClusterPolicies, "ClusterNetworkPolicy", "ClusterNetworkPolicies"))
	if c.Exact() {
		return "effective connectivity: " + what + " allow exactly what the originals allow\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "effective connectivity: %s differ from the originals in %d connections:\n", what, len(c.Differences))
	for _, d := range c.Differences {
		b.WriteString("  " + d + "\n")
	}
	return b.String()
}

// effectiveCheck evaluates spec's generated policies with the
// ClusterNetworkPolicies of m and m's policies with them over env's
// probe world, and lists every connection where they differ.
func effectiveCheck(spec *schema.Spec, env string, m *verify.Manifests) (*EffectiveCheck, error) {
	if len(m.ClusterPolicies) == 0 {
		return nil, nil
	}
	set, err := policy.Generate(spec)
	if err != nil {
		return nil, err
	}
	w := world.New(env, spec)
	w.LabelNamespaces(m.Namespaces)
	generated := set.Render(env)
	build := func(u eval.Universe) (before, after *eval.Evaluator, err error) {
		if before, err = eval.NewWithClusterPolicies(u, m.Policies, m.ClusterPolicies); err != nil {
			return nil, nil, err
		}
		after, err = eval.NewWithClusterPolicies(u, generated, m.ClusterPolicies)
		return before, after, err
	}
	before, after, err := build(w.Universe)
	if err != nil {
		return nil, err
	}
	// Each evaluator splits the addresses by its own ipBlocks: with every
	// class boundary of both as an address of the world, both split them
	// alike, and a class of one is a class of the other.
	u := w.Universe
	u.Addresses = append([]netip.Prefix(nil), u.Addresses...)
	for _, ev := range []*eval.Evaluator{before, after} {
		for _, x := range ev.Externals() {
			u.Addresses = append(u.Addresses, x.Prefixes...)
		}
	}
	if before, after, err = build(u); err != nil {
		return nil, err
	}
	c := &EffectiveCheck{ClusterPolicies: len(m.ClusterPolicies), Differences: []string{}}
	name := func(ep eval.Endpoint, xs []eval.External) string {
		if !ep.External {
			return w.Pods[ep.Index].Name
		}
		var parts []string
		for i, p := range xs[ep.Index].Prefixes {
			if i == 3 {
				parts = append(parts, fmt.Sprintf("+%d more", len(xs[ep.Index].Prefixes)-3))
				break
			}
			parts = append(parts, p.String())
		}
		return "addresses " + strings.Join(parts, " ")
	}
	// Address classes are computed per evaluator; compare over the
	// endpoints of each by name, so both partitions meet.
	seen := map[string]bool{}
	diff := func(a, b *eval.Evaluator, what string) {
		ra, rb := a.Reachability(), b.Reachability()
		ea, eb := a.Externals(), b.Externals()
		ra.Each(func(fs eval.FlowSet) bool {
			for _, src := range fs.Srcs {
				for _, dst := range fs.Dsts {
					if src == dst || src.External && dst.External {
						continue
					}
					got := rb.Ports(translate(src, ea, eb), translate(dst, ea, eb))
					if ps := fs.Ports.Subtract(got); !ps.IsEmpty() {
						s := fmt.Sprintf("%s -> %s %s: %s", name(src, ea), name(dst, ea), ps, what)
						if !seen[s] {
							seen[s] = true
							c.Differences = append(c.Differences, s)
						}
					}
				}
			}
			return true
		})
	}
	diff(before, after, "allowed today, denied after adoption")
	diff(after, before, "denied today, allowed after adoption")
	sort.Strings(c.Differences)
	return c, nil
}

// translate maps an address class of one evaluator to the class of the
// other holding its first address; pods are the same in both.
func translate(ep eval.Endpoint, from, to []eval.External) eval.Endpoint {
	if !ep.External {
		return ep
	}
	a := from[ep.Index].Prefixes[0].Addr()
	for i, x := range to {
		for _, p := range x.Prefixes {
			if p.Contains(a) {
				return eval.ExternalEndpoint(i)
			}
		}
	}
	return ep
}
