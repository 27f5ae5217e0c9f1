package generator

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/netdep/netdep/generator/policy"
)

// validatePlugins checks the plugin objects of set structurally: what the
// CRD schemas and the agents refuse, and what netdep promises of them
// (purely additive CiliumNetworkPolicies, Calico policies after the
// Kubernetes ones). It returns one message per refused object.
func validatePlugins(set *policy.Set) []string {
	var msgs []string
	report := func(kind string, m *metav1.ObjectMeta, reasons []string) {
		if len(reasons) > 0 {
			msgs = append(msgs, fmt.Sprintf("%s %s/%s (from %s): %s", kind, m.Namespace, m.Name,
				m.Annotations[policy.SourceAnnotation], strings.Join(reasons, "; ")))
		}
	}
	for _, po := range set.Plugins {
		if po.Staged() {
			if n := len(set.RenderCluster(po.Env)); n > 0 {
				msgs = append(msgs, fmt.Sprintf("environment %s: mode audit on calico with %d clusternetworkpolicies, which Calico cannot stage", po.Env, n))
			}
		}
		if len(po.Cilium) > 0 && po.Plugin != "cilium" {
			msgs = append(msgs, fmt.Sprintf("environment %s: ciliumnetworkpolicies on plugin %s", po.Env, po.Plugin))
		}
		if len(po.Calico) > 0 && po.Plugin != "calico" {
			msgs = append(msgs, fmt.Sprintf("environment %s: calico networkpolicies on plugin %s", po.Env, po.Plugin))
		}
		for _, p := range po.Cilium {
			report("ciliumnetworkpolicy", &p.ObjectMeta, checkCilium(p))
		}
		for _, p := range po.Calico {
			report("calico networkpolicy", &p.ObjectMeta, checkCalico(p))
		}
	}
	return msgs
}

func checkMeta(m *metav1.ObjectMeta) []string {
	var out []string
	for _, e := range validation.IsDNS1123Subdomain(m.Name) {
		out = append(out, "metadata.name: "+e)
	}
	for _, e := range validation.IsDNS1123Label(m.Namespace) {
		out = append(out, "metadata.namespace: "+e)
	}
	out = append(out, checkLabels("metadata.labels", m.Labels, false)...)
	for k := range m.Annotations {
		for _, e := range validation.IsQualifiedName(k) {
			out = append(out, fmt.Sprintf("metadata.annotations[%s]: %s", k, e))
		}
	}
	if m.Labels[policy.ManagedByLabel] != policy.ManagedByValue {
		out = append(out, "metadata.labels: no "+policy.ManagedByLabel+": "+policy.ManagedByValue)
	}
	switch m.Annotations[policy.SyncWaveAnnotation] {
	case policy.AllowWave, policy.DenyWave:
	default:
		out = append(out, "metadata.annotations: sync wave is neither "+policy.AllowWave+" nor "+policy.DenyWave)
	}
	return out
}

// checkLabels validates label keys and values; cilium allows keys with a
// source prefix ("k8s:").
func checkLabels(field string, labels map[string]string, cilium bool) []string {
	var out []string
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		key := k
		if cilium {
			key = strings.TrimPrefix(k, "k8s:")
		}
		for _, e := range validation.IsQualifiedName(key) {
			out = append(out, fmt.Sprintf("%s[%s]: %s", field, k, e))
		}
		for _, e := range validation.IsValidLabelValue(labels[k]) {
			out = append(out, fmt.Sprintf("%s[%s]: %s", field, k, e))
		}
	}
	return out
}

func checkCilium(p *policy.CiliumNetworkPolicy) []string {
	out := checkMeta(&p.ObjectMeta)
	if p.APIVersion != policy.CiliumAPIVersion || p.Kind != policy.CiliumKind {
		out = append(out, fmt.Sprintf("apiVersion/kind %s %s, want %s %s", p.APIVersion, p.Kind, policy.CiliumAPIVersion, policy.CiliumKind))
	}
	s := &p.Spec
	if len(s.EndpointSelector.MatchLabels) == 0 {
		out = append(out, "spec.endpointSelector: selects every endpoint of the namespace; netdep writes a service's selector")
	}
	out = append(out, checkLabels("spec.endpointSelector.matchLabels", s.EndpointSelector.MatchLabels, true)...)
	// Purely additive: isolation stays with the NetworkPolicies, whose
	// default-deny the proof reads.
	if d := s.EnableDefaultDeny; d == nil || d.Egress == nil || *d.Egress || d.Ingress == nil || *d.Ingress {
		out = append(out, "spec.enableDefaultDeny: want egress: false and ingress: false")
	}
	if len(s.Egress) == 0 {
		out = append(out, "spec.egress: empty")
	}
	var fqdns, dnsNames []string
	for i, r := range s.Egress {
		f := fmt.Sprintf("spec.egress[%d]", i)
		kinds := 0
		for _, n := range []int{len(r.ToEndpoints), len(r.ToCIDR) + len(r.ToCIDRSet), len(r.ToFQDNs)} {
			if n > 0 {
				kinds++
			}
		}
		if kinds != 1 {
			out = append(out, f+": want exactly one of toEndpoints, toCIDR/toCIDRSet, toFQDNs")
		}
		for j, e := range r.ToEndpoints {
			if len(e.MatchLabels[policy.CiliumNamespaceLabel]) == 0 {
				out = append(out, fmt.Sprintf("%s.toEndpoints[%d]: no %s", f, j, policy.CiliumNamespaceLabel))
			}
			out = append(out, checkLabels(fmt.Sprintf("%s.toEndpoints[%d].matchLabels", f, j), e.MatchLabels, true)...)
		}
		for j, c := range r.ToCIDR {
			out = append(out, checkPrefix(fmt.Sprintf("%s.toCIDR[%d]", f, j), c)...)
		}
		for j, c := range r.ToCIDRSet {
			out = append(out, checkPrefix(fmt.Sprintf("%s.toCIDRSet[%d].cidr", f, j), c.CIDR)...)
			for k, x := range c.Except {
				out = append(out, checkPrefix(fmt.Sprintf("%s.toCIDRSet[%d].except[%d]", f, j, k), x)...)
			}
		}
		for j, q := range r.ToFQDNs {
			out = append(out, checkFQDN(fmt.Sprintf("%s.toFQDNs[%d]", f, j), q)...)
			fqdns = append(fqdns, q.MatchName+q.MatchPattern)
		}
		for j, pr := range r.ToPorts {
			if len(pr.Ports) == 0 {
				out = append(out, fmt.Sprintf("%s.toPorts[%d].ports: empty", f, j))
			}
			for k, pp := range pr.Ports {
				out = append(out, checkCiliumPort(fmt.Sprintf("%s.toPorts[%d].ports[%d]", f, j, k), pp)...)
			}
			if pr.Rules == nil {
				continue
			}
			if len(r.ToFQDNs) > 0 {
				out = append(out, fmt.Sprintf("%s.toPorts[%d].rules: DNS rules belong on the rule to the DNS servers", f, j))
			}
			if len(pr.Rules.DNS) == 0 {
				out = append(out, fmt.Sprintf("%s.toPorts[%d].rules.dns: empty", f, j))
			}
			var names []string
			for k, q := range pr.Rules.DNS {
				out = append(out, checkFQDN(fmt.Sprintf("%s.toPorts[%d].rules.dns[%d]", f, j, k), q)...)
				names = append(names, q.MatchName+q.MatchPattern)
			}
			dnsNames = append(dnsNames, strings.Join(names, ","))
		}
	}
	// The DNS proxy must let the pods look up exactly the names the
	// policy allows: a name missing there never resolves, so its allow
	// would be dead.
	slices.Sort(fqdns)
	want := strings.Join(fqdns, ",")
	if len(dnsNames) == 0 {
		out = append(out, "spec.egress: no rule to the DNS servers with rules.dns (Cilium learns the hosts' addresses from the lookups it proxies)")
	}
	for _, got := range dnsNames {
		if got != want {
			out = append(out, fmt.Sprintf("spec.egress: rules.dns names %s, the policy allows %s", got, want))
		}
	}
	return out
}

func checkPrefix(field, s string) []string {
	p, err := netip.ParsePrefix(s)
	switch {
	case err != nil:
		return []string{fmt.Sprintf("%s: %v", field, err)}
	case p.Masked() != p:
		return []string{fmt.Sprintf("%s: %s has host bits set (want %s)", field, s, p.Masked())}
	}
	return nil
}

// checkFQDN accepts the two forms netdep writes: a DNS name (matchName) and
// "*." followed by one (matchPattern), which match exactly one more label.
func checkFQDN(field string, q policy.CiliumFQDNSelector) []string {
	switch {
	case (q.MatchName == "") == (q.MatchPattern == ""):
		return []string{field + ": want exactly one of matchName and matchPattern"}
	case q.MatchName != "":
		return hostErrs(field+".matchName", q.MatchName)
	}
	rest, ok := strings.CutPrefix(q.MatchPattern, "*.")
	if !ok {
		return []string{fmt.Sprintf("%s.matchPattern: %q: want *.<name>", field, q.MatchPattern)}
	}
	return hostErrs(field+".matchPattern", rest)
}

func hostErrs(field, name string) []string {
	var out []string
	for _, e := range validation.IsDNS1123Subdomain(name) {
		out = append(out, fmt.Sprintf("%s: %q: %s", field, name, e))
	}
	if !strings.Contains(name, ".") {
		out = append(out, fmt.Sprintf("%s: %q: want at least two labels", field, name))
	}
	return out
}

func checkCiliumPort(field string, p policy.CiliumPortProtocol) []string {
	var out []string
	n, err := strconv.Atoi(p.Port)
	if err != nil || strconv.Itoa(n) != p.Port || n < 1 || n > 65535 {
		out = append(out, fmt.Sprintf("%s.port: %q: want a number from 1 to 65535", field, p.Port))
	}
	if p.EndPort != 0 && (p.EndPort <= int32(n) || p.EndPort > 65535) {
		out = append(out, fmt.Sprintf("%s.endPort: %d: want above port and at most 65535", field, p.EndPort))
	}
	switch p.Protocol {
	case "TCP", "UDP", "SCTP":
	default:
		out = append(out, fmt.Sprintf("%s.protocol: %q: want TCP, UDP or SCTP", field, p.Protocol))
	}
	return out
}

func checkCalico(p *policy.CalicoNetworkPolicy) []string {
	out := checkMeta(&p.ObjectMeta)
	if p.APIVersion != policy.CalicoAPIVersion || p.Kind != policy.CalicoNetworkPolicyKind {
		out = append(out, fmt.Sprintf("apiVersion/kind %s %s, want %s %s", p.APIVersion, p.Kind, policy.CalicoAPIVersion, policy.CalicoNetworkPolicyKind))
	}
	s := &p.Spec
	// After the Kubernetes NetworkPolicies (order 1000 in Calico's default
	// tier): before them, a Deny would override their allows.
	if s.Order == nil || *s.Order <= 1000 {
		out = append(out, "spec.order: want above 1000, the order Calico gives Kubernetes NetworkPolicies")
	}
	if s.Selector != "all()" {
		out = append(out, fmt.Sprintf("spec.selector: %q: want all()", s.Selector))
	}
	if len(s.Types) == 0 {
		out = append(out, "spec.types: empty")
	}
	seen := map[string]bool{}
	for i, t := range s.Types {
		if t != "Ingress" && t != "Egress" || seen[t] {
			out = append(out, fmt.Sprintf("spec.types[%d]: %q: want Ingress or Egress, once", i, t))
		}
		seen[t] = true
	}
	rules := func(dir string, rs []policy.CalicoRule) {
		f := "spec." + strings.ToLower(dir)
		if len(rs) > 0 && !seen[dir] {
			out = append(out, f+": rules for a direction types does not name")
		}
		for i, r := range rs {
			switch r.Action {
			case "Allow", "Deny", "Log", "Pass":
			default:
				out = append(out, fmt.Sprintf("%s[%d].action: %q: want Allow, Deny, Log or Pass", f, i, r.Action))
			}
		}
	}
	rules("Ingress", s.Ingress)
	rules("Egress", s.Egress)
	return out
}
