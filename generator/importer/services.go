package importer

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/world"
)

// svcInfo is one imported service: a workload of the inputs, or the pods
// a policy names by labels that no workload carries.
type svcInfo struct {
	w    *Workload
	name string
	ns   string
	sel  map[string]string
	pod  int // index in the universe
	doc  *svcDoc
}

func (s *svcInfo) id() string { return s.ns + "/" + s.name }

// knownNamespaces are the namespaces of the inputs: declared, holding a
// workload or a policy, or named by a peer (its other pods are "every pod
// of that namespace"), and kube-system, where the cluster DNS lives.
func (im *policyImporter) knownNamespaces() {
	im.nsLabels = map[string]map[string]string{}
	known := map[string]bool{"kube-system": true}
	for _, n := range im.c.Namespaces {
		im.nsLabels[n.Name] = n.Labels
		known[n.Name] = true
	}
	for _, w := range im.c.Workloads {
		known[w.Namespace] = true
	}
	for _, p := range im.pols {
		known[p.Namespace] = true
		eachPeer(p, func(_ string, peer networkingv1.NetworkPolicyPeer) {
			if n := namedNamespace(peer.NamespaceSelector); n != "" {
				known[n] = true
			}
		})
	}
	delete(known, world.OutsideNamespace)
	im.namespaces = sortedKeys(known)
	for _, p := range im.pols {
		for _, t := range p.Spec.PolicyTypes {
			if t == networkingv1.PolicyTypeEgress {
				im.egIso[p.Namespace] = true
			} else {
				im.inIso[p.Namespace] = true
			}
		}
	}
}

// managed: the namespace has policies, so the import manages it.
func (im *policyImporter) managed(ns string) bool { return im.egIso[ns] || im.inIso[ns] }

// eachPeer calls f with every peer of p and its field path.
func eachPeer(p *networkingv1.NetworkPolicy, f func(field string, peer networkingv1.NetworkPolicyPeer)) {
	for i, r := range p.Spec.Ingress {
		for j, peer := range r.From {
			f(fmt.Sprintf("ingress[%d].from[%d]", i, j), peer)
		}
	}
	for i, r := range p.Spec.Egress {
		for j, peer := range r.To {
			f(fmt.Sprintf("egress[%d].to[%d]", i, j), peer)
		}
	}
}

func policyRef(p *networkingv1.NetworkPolicy) string { return "policy " + p.Namespace + "/" + p.Name }

// services turns workloads into services: names, selectors.
func (im *policyImporter) services() {
	keys := map[string]bool{}
	addKeys := func(s *metav1.LabelSelector) {
		if s == nil {
			return
		}
		for k := range s.MatchLabels {
			keys[k] = true
		}
		for _, e := range s.MatchExpressions {
			keys[e.Key] = true
		}
	}
	for _, p := range im.pols {
		addKeys(&p.Spec.PodSelector)
		eachPeer(p, func(_ string, peer networkingv1.NetworkPolicyPeer) { addKeys(peer.PodSelector) })
	}
	used := map[string]bool{}
	byNS := map[string][]*svcInfo{}
	for _, w := range append(append([]*Workload(nil), im.c.Workloads...), im.selectorWorkloads()...) {
		servicePorts(im.c.Services, w)
		s := &svcInfo{w: w, ns: w.Namespace, name: serviceName(w.Name, used, w.Namespace)}
		// A selector must survive rollouts: the controller's own selector,
		// else the app labels; plus every label the policies look at, so
		// that the policies select the imported pods as they did the real
		// ones.
		base := w.Selector
		if base == nil {
			base = map[string]string{}
			for _, k := range []string{"app", "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component", "k8s-app"} {
				if v, ok := w.Labels[k]; ok {
					base[k] = v
				}
			}
			if len(base) == 0 {
				base = w.Labels
			}
		}
		s.sel = map[string]string{}
		for k, v := range base {
			s.sel[k] = v
		}
		for k, v := range w.Labels {
			if keys[k] {
				s.sel[k] = v
			}
		}
		byNS[s.ns] = append(byNS[s.ns], s)
		im.svcs = append(im.svcs, s)
	}
	// Two services of a namespace must not select each other's pods
	// (docs/reference.md): widen a selector to all the pod's labels.
	for _, ss := range byNS {
		for _, a := range ss {
			for _, b := range ss {
				if a != b && subset(a.sel, b.sel) {
					a.sel = copyMap(a.w.Labels)
					b.sel = copyMap(b.w.Labels)
				}
			}
		}
	}
	var kept []*svcInfo
	for _, s := range im.svcs {
		dup := false
		for _, k := range kept {
			if k.ns == s.ns && subset(k.sel, s.sel) {
				im.notes[fmt.Sprintf("%s: its pods carry every label of %s's; imported as %s only", s.w.describe(), k.w.describe(), k.id())] = true
				dup = true
			}
		}
		if !dup {
			kept = append(kept, s)
		}
	}
	im.svcs = kept
	for _, s := range im.svcs {
		for _, by := range s.w.NamedBy {
			im.notes[fmt.Sprintf("%s %s matches no imported workload; imported as service %s with selector %s (pods an operator makes, or a workload missing from the inputs)", by.Ref, flowMap(by.Labels), s.id(), flowMap(s.sel))] = true
		}
	}
}

// selectorWorkloads are the pods of managed namespaces that the policies
// name by labels no workload carries: the pods an operator makes from a
// custom resource (a Prometheus, an Alertmanager), or a workload missing
// from the inputs. Each becomes a service with exactly those labels, so
// that the rules that select or admit them are imported rather than
// dropped; namespaces without policies keep such pods as raw peers.
// Larger label sets come first, so that a smaller one the same pods carry
// names them too instead of making a second service that would select the
// first one's pods.
func (im *policyImporter) selectorWorkloads() []*Workload {
	type candidate struct {
		ns     string
		labels map[string]string
		by     Naming
	}
	var cands []candidate
	for _, p := range im.pols {
		if sel := p.Spec.PodSelector; len(sel.MatchExpressions) == 0 && len(sel.MatchLabels) > 0 {
			cands = append(cands, candidate{p.Namespace, sel.MatchLabels, Naming{policyRef(p) + " spec.podSelector", sel.MatchLabels}})
		}
		eachPeer(p, func(field string, peer networkingv1.NetworkPolicyPeer) {
			sel := peer.PodSelector
			if sel == nil || len(sel.MatchExpressions) > 0 || len(sel.MatchLabels) == 0 {
				return
			}
			// Only where the policy names the namespace: a selector on
			// namespace labels (or {}) means such pods wherever they
			// are, not pods of every namespace it matches.
			n := p.Namespace
			if peer.NamespaceSelector != nil {
				n = namedNamespace(peer.NamespaceSelector)
			}
			{
				if n != "" && im.managed(n) {
					cands = append(cands, candidate{n, sel.MatchLabels, Naming{policyRef(p) + " " + field + ".podSelector", sel.MatchLabels}})
				}
			}
		})
	}
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if len(a.labels) != len(b.labels) {
			return len(a.labels) > len(b.labels)
		}
		if a.ns != b.ns {
			return a.ns < b.ns
		}
		return labelKey(a.labels) < labelKey(b.labels)
	})
	var out []*Workload
	carrier := func(ns string, l map[string]string) *Workload {
		for _, w := range im.c.Workloads {
			if w.Namespace == ns && subset(l, w.Labels) {
				return w
			}
		}
		for _, w := range out {
			if w.Namespace == ns && subset(l, w.Labels) {
				return w
			}
		}
		return nil
	}
	for _, c := range cands {
		if w := carrier(c.ns, c.labels); w != nil {
			if len(w.NamedBy) > 0 {
				w.NamedBy = append(w.NamedBy, c.by)
			}
			continue
		}
		out = append(out, &Workload{Namespace: c.ns, Name: selectorName(c.labels), Labels: copyMap(c.labels),
			Selector: copyMap(c.labels), NamedBy: []Naming{c.by}})
	}
	return out
}

// selectorName names the pods of a label set after their app label.
func selectorName(l map[string]string) string {
	for _, k := range []string{"app.kubernetes.io/name", "app", "k8s-app", "name", "app.kubernetes.io/component", "component", "role"} {
		if v := l[k]; v != "" {
			return v
		}
	}
	keys := sortedKeys(l)
	return l[keys[0]]
}

// servicePorts gives a workload the ports of the Services that select it:
// a port its containers do not list, and the Service's name for a
// container port without one (Services name ports far more often than
// containers do).
func servicePorts(services []*corev1.Service, w *Workload) {
	for _, svc := range services {
		if svc.Namespace != w.Namespace || len(svc.Spec.Selector) == 0 || !subset(svc.Spec.Selector, w.Labels) {
			continue
		}
		for _, sp := range svc.Spec.Ports {
			proto := sp.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			if sp.TargetPort.StrVal != "" {
				continue // a named target port is a container port already
			}
			port := sp.TargetPort.IntVal
			if port == 0 {
				port = sp.Port
			}
			named := false
			for i, cp := range w.Ports {
				if cp.ContainerPort == port && cp.Protocol == proto {
					named = true
					if cp.Name == "" && len(validation.IsValidPortName(sp.Name)) == 0 {
						w.Ports[i].Name = sp.Name
					}
				}
			}
			if !named {
				w.Ports = append(w.Ports, corev1.ContainerPort{Name: sp.Name, ContainerPort: port, Protocol: proto})
			}
		}
	}
}

func subset(a, b map[string]string) bool {
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// serviceName makes a workload name a valid, unique service name.
func serviceName(name string, used map[string]bool, ns string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	n := strings.Trim(b.String(), "-")
	if len(n) > 55 {
		n = strings.TrimRight(n[:55], "-")
	}
	if n == "" || len(validation.IsDNS1123Label(n)) > 0 {
		n = "workload"
	}
	switch n {
	case "default-deny", "allow-dns", "kustomization":
		n += "-app"
	}
	out := n
	for i := 2; used[ns+"/"+out]; i++ {
		out = n + "-" + strconv.Itoa(i)
	}
	used[ns+"/"+out] = true
	return out
}

// peerNamespaces are the known namespaces a peer's namespaceSelector
// matches (the policy's own when it has none).
func (im *policyImporter) peerNamespaces(own string, s *metav1.LabelSelector) []string {
	if s == nil {
		return []string{own}
	}
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range im.namespaces {
		if sel.Matches(im.namespaceLabels(n)) {
			out = append(out, n)
		}
	}
	return out
}

// namespaceLabels are n's labels as the API server has them: its own plus
// kubernetes.io/metadata.name.
func (im *policyImporter) namespaceLabels(n string) labels.Set {
	l := labels.Set{eval.NamespaceNameLabel: n}
	for k, v := range im.nsLabels[n] {
		l[k] = v
	}
	return l
}

// namedNamespace returns the namespace a selector names by
// kubernetes.io/metadata.name alone, "" otherwise.
func namedNamespace(s *metav1.LabelSelector) string {
	if s == nil || len(s.MatchExpressions) > 0 || len(s.MatchLabels) != 1 {
		return ""
	}
	return s.MatchLabels[eval.NamespaceNameLabel]
}
