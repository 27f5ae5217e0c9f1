package cyclonus

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/mattfenwick/cyclonus/pkg/matcher"
	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/eval/evaltest"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var cases = flag.Int("cases", 3000, "random cases for TestDifferential")

// TestDifferential builds seeded random namespaces, pods and policies and
// requires netdep's evaluator (Explain and the whole-matrix Reachability)
// and cyclonus to give the same verdict on every connection between pods
// and probe addresses, for every probe port and protocol.
func TestDifferential(t *testing.T) {
	n := *cases
	if testing.Short() {
		n = 300
	}
	var probes, allowed, rawDisagree, rawCases int
	for seed := 0; seed < n; seed++ {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		c := evaltest.Random(rng, evaltest.RandomOptions{PodIPs: true})
		e, err := eval.New(c.Universe, c.Policies)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		reach := e.Reachability()
		cyc := matcher.BuildNetworkPolicies(false, forCyclonus(e.Policies()))
		// The same policies without the rewrite: counts how often the
		// deviations documented in doc.go change an answer.
		raw := matcher.BuildNetworkPolicies(false, e.Policies())
		caseDisagrees := false
		eachProbe(c, e, func(src, dst eval.Endpoint, tr *matcher.Traffic) {
			probes++
			want := e.Explain(eval.Query{Src: src, Dst: dst, Protocol: tr.Protocol, Port: int32(tr.ResolvedPort)})
			if want.Allowed {
				allowed++
			}
			if got := reach.Ports(src, dst).Contains(tr.Protocol, int32(tr.ResolvedPort)); got != want.Allowed {
				t.Fatalf("seed %d: Explain %v but Reachability %v", seed, want.Allowed, got)
			}
			got := cyc.IsTrafficAllowed(tr).IsAllowed()
			if got != want.Allowed {
				t.Fatalf("seed %d: %s\nnetdep: %s\ncyclonus: %v\n%s", seed, describe(tr), want, got, dump(e.Policies()))
			}
			if raw.IsTrafficAllowed(tr).IsAllowed() != got {
				rawDisagree++
				caseDisagrees = true
			}
		})
		if caseDisagrees {
			rawCases++
		}
	}
	t.Logf("%d cases, %d probes agree (%d allowed); without the rewrite cyclonus would differ on %d probes in %d cases", n, probes, allowed, rawDisagree, rawCases)
}

// eachProbe calls fn for every ordered pair of endpoints (pods and the
// case's probe addresses; not address to address), protocol and probe port.
func eachProbe(c evaltest.Case, e *eval.Evaluator, fn func(src, dst eval.Endpoint, tr *matcher.Traffic)) {
	type ep struct {
		e    eval.Endpoint
		peer *matcher.TrafficPeer
		pod  *eval.Pod
	}
	nsLabels := map[string]map[string]string{}
	for _, ns := range c.Universe.Namespaces {
		l := map[string]string{eval.NamespaceNameLabel: ns.Name}
		for k, v := range ns.Labels {
			l[k] = v
		}
		nsLabels[ns.Name] = l
	}
	var eps []ep
	for i := range c.Universe.Pods {
		p := &c.Universe.Pods[i]
		eps = append(eps, ep{eval.PodEndpoint(i), &matcher.TrafficPeer{
			IP:       p.IPs[0].String(),
			Internal: &matcher.InternalPeer{PodLabels: p.Labels, NamespaceLabels: nsLabels[p.Namespace], Namespace: p.Namespace},
		}, p})
	}
	for _, a := range c.Addresses {
		eps = append(eps, ep{e.ExternalFor(a), &matcher.TrafficPeer{IP: a.String()}, nil})
	}
	for _, src := range eps {
		for _, dst := range eps {
			if src.pod == nil && dst.pod == nil {
				continue
			}
			for _, proto := range eval.Protocols {
				for _, port := range c.Ports {
					tr := &matcher.Traffic{Source: src.peer, Destination: dst.peer, ResolvedPort: int(port), Protocol: proto}
					// cyclonus takes the named port resolved on the
					// destination pod by the caller.
					if dst.pod != nil {
						for _, cp := range dst.pod.Ports {
							cpProto := cp.Protocol
							if cpProto == "" {
								cpProto = corev1.ProtocolTCP
							}
							if cp.ContainerPort == port && cpProto == proto {
								tr.ResolvedPortName = cp.Name
							}
						}
					}
					fn(src.e, dst.e, tr)
				}
			}
		}
	}
}

func describe(tr *matcher.Traffic) string {
	end := func(p *matcher.TrafficPeer) string {
		if p.Internal == nil {
			return p.IP
		}
		return fmt.Sprintf("%s/%v(%s)", p.Internal.Namespace, p.Internal.PodLabels, p.IP)
	}
	return fmt.Sprintf("%s -> %s %d/%s (name %q)", end(tr.Source), end(tr.Destination), tr.ResolvedPort, tr.Protocol, tr.ResolvedPortName)
}

func dump(ps []*networkingv1.NetworkPolicy) string {
	s := ""
	for _, p := range ps {
		s += fmt.Sprintf("%s/%s: %+v\n", p.Namespace, p.Name, p.Spec)
	}
	return s
}

// forCyclonus rewrites defaulted policies into equivalent ones that
// cyclonus reads as the API server does (see doc.go).
func forCyclonus(ps []*networkingv1.NetworkPolicy) []*networkingv1.NetworkPolicy {
	var out []*networkingv1.NetworkPolicy
	for _, p := range ps {
		p = p.DeepCopy()
		for i := range p.Spec.Ingress {
			p.Spec.Ingress[i].From = rewritePeers(p.Spec.Ingress[i].From)
		}
		for i := range p.Spec.Egress {
			p.Spec.Egress[i].To = rewritePeers(p.Spec.Egress[i].To)
		}
		for i, sel := range variants(&p.Spec.PodSelector) {
			q := p.DeepCopy()
			q.Name = fmt.Sprintf("%s-%d", p.Name, i)
			q.Spec.PodSelector = *sel
			out = append(out, q)
		}
	}
	return out
}

func rewritePeers(peers []networkingv1.NetworkPolicyPeer) []networkingv1.NetworkPolicyPeer {
	if peers == nil {
		return nil
	}
	out := []networkingv1.NetworkPolicyPeer{}
	for _, p := range peers {
		if p.IPBlock != nil {
			out = append(out, p)
			continue
		}
		pods := []*metav1.LabelSelector{p.PodSelector}
		if p.PodSelector != nil {
			pods = variants(p.PodSelector)
		}
		nss := []*metav1.LabelSelector{p.NamespaceSelector}
		if p.NamespaceSelector != nil {
			nss = variants(p.NamespaceSelector)
		}
		// (P1 ∪ P2) ∧ (N1 ∪ N2) is the union of the Pi ∧ Nj.
		for _, ps := range pods {
			for _, ns := range nss {
				out = append(out, networkingv1.NetworkPolicyPeer{PodSelector: ps, NamespaceSelector: ns})
			}
		}
	}
	return out
}

// variants returns selectors whose union, read by cyclonus, is what s
// selects for the API server.
func variants(s *metav1.LabelSelector) []*metav1.LabelSelector {
	base := s.DeepCopy()
	base.MatchExpressions = nil
	for k, v := range s.MatchLabels {
		if v == "" {
			base.MatchExpressions = append(base.MatchExpressions, metav1.LabelSelectorRequirement{Key: k, Operator: metav1.LabelSelectorOpExists})
		}
	}
	out := []*metav1.LabelSelector{base}
	for _, r := range s.MatchExpressions {
		var next []*metav1.LabelSelector
		for _, v := range out {
			a := v.DeepCopy()
			a.MatchExpressions = append(a.MatchExpressions, r)
			next = append(next, a)
			if r.Operator == metav1.LabelSelectorOpNotIn {
				b := v.DeepCopy()
				b.MatchExpressions = append(b.MatchExpressions, metav1.LabelSelectorRequirement{Key: r.Key, Operator: metav1.LabelSelectorOpDoesNotExist})
				next = append(next, b)
			}
		}
		out = next
	}
	return out
}
