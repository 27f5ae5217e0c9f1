package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	sigsyaml "sigs.k8s.io/yaml"
)

// The network plugins' own policy objects that netdep emits beside the
// NetworkPolicies (issue 21): Cilium's CiliumNetworkPolicy (egress by DNS
// name) and Calico's v3 NetworkPolicy (log: denied) and its staged kinds
// (mode: audit). Neither agent run here (kube-router, kube-network-policies)
// enforces any of them, and neither Cilium nor Calico runs on this machine.
// A scenario therefore names each such object as not enforced, and its
// oracles are computed over what the agents do enforce (the v1 objects);
// what that leaves out is said, never counted as passed:
//
//   - a CiliumNetworkPolicy's toFQDNs allows are host flows, which have no
//     address in the universe: listed as not probed (HostFlow);
//   - its other allows (the DNS rule) must be flows the v1 objects already
//     allow, or the scenario does not load (Cilium would let through what
//     the agents here deny, and the v1 oracle would not be Cilium's);
//   - a Calico NetworkPolicy must be the Log+Deny shape netdep emits, over
//     pods the v1 objects already isolate in each of its directions: then
//     Calico's verdicts are the v1 ones (its Deny meets only what the
//     Kubernetes policies, order 1000, do not allow), else it does not load;
//   - staged objects enforce nothing, under Calico too: a tree of staged
//     objects only (mode: audit) is a scenario whose oracle is no policy.

// PluginKind is one kind of a network plugin's API.
type PluginKind struct {
	GVK    schema.GroupVersionKind
	Plugin string // Cilium, Calico
	// Staged objects are Calico's "would be" policies: Calico itself
	// reports what they would do and enforces nothing.
	Staged bool
	// CRD is the file of its CustomResourceDefinition under
	// ../shared/crds beside the repository (upstream, not copied here).
	CRD string
}

// PluginKinds are the kinds the loader admits beyond the APIs an agent here
// enforces.
var PluginKinds = []PluginKind{
	{schema.GroupVersionKind{Group: "cilium.io", Version: "v2", Kind: "CiliumNetworkPolicy"}, "Cilium", false, "cilium/ciliumnetworkpolicies.yaml"},
	{schema.GroupVersionKind{Group: "projectcalico.org", Version: "v3", Kind: "NetworkPolicy"}, "Calico", false, "calico/projectcalico.org_networkpolicies.yaml"},
	{schema.GroupVersionKind{Group: "projectcalico.org", Version: "v3", Kind: "StagedNetworkPolicy"}, "Calico", true, "calico/projectcalico.org_stagednetworkpolicies.yaml"},
	{schema.GroupVersionKind{Group: "projectcalico.org", Version: "v3", Kind: "StagedKubernetesNetworkPolicy"}, "Calico", true, "calico/projectcalico.org_stagedkubernetesnetworkpolicies.yaml"},
}

var (
	ciliumNPGVK  = PluginKinds[0].GVK
	calicoNPGVK  = PluginKinds[1].GVK
	stagedNPGVK  = PluginKinds[2].GVK
	stagedKNPGVK = PluginKinds[3].GVK
)

func pluginKindOf(gvk schema.GroupVersionKind) (PluginKind, bool) {
	for _, k := range PluginKinds {
		if k.GVK == gvk {
			return k, true
		}
	}
	return PluginKind{}, false
}

// PluginObject is one object of a plugin's API, as the tree holds it.
type PluginObject struct {
	Kind PluginKind
	Obj  *unstructured.Unstructured
}

// String names the object as the logs and the tally do:
// `CiliumNetworkPolicy payments/payment.hosts (Cilium)`.
func (p PluginObject) String() string {
	s := fmt.Sprintf("%s %s/%s (%s", p.Kind.GVK.Kind, p.Obj.GetNamespace(), p.Obj.GetName(), p.Kind.Plugin)
	if p.Kind.Staged {
		s += ", staged: enforces nothing"
	}
	return s + ")"
}

// Key is namespace/name.
func (p PluginObject) Key() string { return p.Obj.GetNamespace() + "/" + p.Obj.GetName() }

// CRDDir is where the upstream CRDs are: ../shared/crds beside the
// repository (tests/e2e is two levels down).
func CRDDir() string { return filepath.Join("..", "..", "..", "shared", "crds") }

// PluginCRDs reads the CRDs of the kinds objs use from dir, one per kind,
// in the order of PluginKinds.
func PluginCRDs(dir string, objs []PluginObject) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, k := range PluginKinds {
		if !slices.ContainsFunc(objs, func(p PluginObject) bool { return p.Kind.GVK == k.GVK }) {
			continue
		}
		f := filepath.Join(dir, k.CRD)
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var crd unstructured.Unstructured
		if err := sigsyaml.Unmarshal(b, &crd.Object); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if crd.GetKind() != "CustomResourceDefinition" {
			return nil, fmt.Errorf("%s: %s, want a CustomResourceDefinition", f, crd.GetKind())
		}
		out = append(out, &crd)
	}
	return out, nil
}

// PluginCRDFiles is PluginCRDs as file names, for Objects.InstallCRDs.
func PluginCRDFiles(dir string, objs []PluginObject) []string {
	var out []string
	for _, k := range PluginKinds {
		if slices.ContainsFunc(objs, func(p PluginObject) bool { return p.Kind.GVK == k.GVK }) {
			out = append(out, filepath.Join(dir, k.CRD))
		}
	}
	return out
}

// HostFlow is an allow towards a host named by DNS (a CiliumNetworkPolicy's
// toFQDNs): it has no address in the universe, so it is never probed.
type HostFlow struct {
	From   *Endpoint
	Host   string // a name or a pattern (*.example.com)
	Ports  string // "443/TCP", "any port"
	Object string // the policy that allows it
}

func (h HostFlow) String() string {
	return fmt.Sprintf("%s -> host %s %s (%s)", h.From.ID(), h.Host, h.Ports, h.Object)
}

// The subset of CiliumNetworkPolicy the loader reads (what netdep emits):
// anything else in a rule makes the object refused, so that nothing it
// allows goes unsaid.
type cnpSpec struct {
	EndpointSelector  *metav1.LabelSelector `json:"endpointSelector"`
	EnableDefaultDeny *struct {
		Egress  *bool `json:"egress"`
		Ingress *bool `json:"ingress"`
	} `json:"enableDefaultDeny"`
	Egress  []cnpRule `json:"egress"`
	Ingress []cnpRule `json:"ingress"`
}

type cnpRule struct {
	ToFQDNs []struct {
		MatchName    string `json:"matchName"`
		MatchPattern string `json:"matchPattern"`
	} `json:"toFQDNs"`
	ToEndpoints []metav1.LabelSelector `json:"toEndpoints"`
	ToCIDR      []string               `json:"toCIDR"`
	ToPorts     []struct {
		Ports []struct {
			Port     string `json:"port"`
			EndPort  int32  `json:"endPort"`
			Protocol string `json:"protocol"`
		} `json:"ports"`
		Rules *struct {
			DNS []map[string]string `json:"dns"`
		} `json:"rules"`
	} `json:"toPorts"`
}

func decodeCNP(p PluginObject) (*cnpSpec, error) {
	b, err := json.Marshal(p.Obj.Object["spec"])
	if err != nil {
		return nil, err
	}
	var s cnpSpec
	if err := strictJSON(b, &s); err != nil {
		return nil, fmt.Errorf("%s: spec: %w (the e2e reads only the subset netdep emits)", p, err)
	}
	if s.EndpointSelector == nil {
		return nil, fmt.Errorf("%s: spec.endpointSelector: missing", p)
	}
	if len(s.Ingress) > 0 {
		return nil, fmt.Errorf("%s: spec.ingress: netdep emits egress rules only", p)
	}
	d := s.EnableDefaultDeny
	if d == nil || d.Egress == nil || d.Ingress == nil || *d.Egress || *d.Ingress {
		// Without it Cilium isolates the selected pods' egress on its own:
		// the v1 objects would no longer decide isolation.
		return nil, fmt.Errorf("%s: spec.enableDefaultDeny: want {egress: false, ingress: false} (purely additive)", p)
	}
	return &s, nil
}

func strictJSON(b []byte, v any) error {
	return sigsyaml.UnmarshalStrict(b, v)
}

// ciliumSelects matches a Cilium endpoint selector against a pod: keys may
// carry the k8s: (or any:) source prefix, and k8s:io.kubernetes.pod.namespace
// is the pod's namespace.
func ciliumSelects(sel metav1.LabelSelector, e *Endpoint) (bool, error) {
	if !e.IsPod() {
		return false, nil
	}
	strip := func(k string) string {
		for _, p := range []string{"k8s:", "any:"} {
			k = strings.TrimPrefix(k, p)
		}
		return k
	}
	s := metav1.LabelSelector{MatchLabels: map[string]string{}}
	for k, v := range sel.MatchLabels {
		s.MatchLabels[strip(k)] = v
	}
	for _, r := range sel.MatchExpressions {
		r.Key = strip(r.Key)
		s.MatchExpressions = append(s.MatchExpressions, r)
	}
	ls, err := metav1.LabelSelectorAsSelector(&s)
	if err != nil {
		return false, err
	}
	set := labels.Set{"io.kubernetes.pod.namespace": e.Namespace}
	for k, v := range e.Labels {
		set[k] = v
	}
	return ls.Matches(set), nil
}

// ciliumPolicy reads one CiliumNetworkPolicy over u: its host flows (never
// probed) and its other allows as flows, which the v1 oracle must already
// allow (checked by the caller).
func ciliumPolicy(u *Universe, p PluginObject) (hosts []HostFlow, flows []Flow, err error) {
	s, err := decodeCNP(p)
	if err != nil {
		return nil, nil, err
	}
	// Its ports are probed like the NetworkPolicies' own.
	for i, r := range s.Egress {
		ports, _, err := cnpPorts(r)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: spec.egress[%d].toPorts: %w", p, i, err)
		}
		u.PolicyPorts = append(u.PolicyPorts, ports...)
	}
	probes, _ := u.ProbePorts()
	for _, local := range u.Pods {
		if local.Namespace != p.Obj.GetNamespace() {
			continue // a namespaced CNP selects pods of its namespace only
		}
		ok, err := ciliumSelects(*s.EndpointSelector, local)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: spec.endpointSelector: %w", p, err)
		}
		if !ok {
			continue
		}
		for i, r := range s.Egress {
			ports, anyPort, err := cnpPorts(r)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: spec.egress[%d].toPorts: %w", p, i, err)
			}
			kinds := 0
			for _, k := range []bool{len(r.ToFQDNs) > 0, len(r.ToEndpoints) > 0, len(r.ToCIDR) > 0} {
				if k {
					kinds++
				}
			}
			if kinds != 1 {
				return nil, nil, fmt.Errorf("%s: spec.egress[%d]: want exactly one of toFQDNs, toEndpoints, toCIDR", p, i)
			}
			for _, f := range r.ToFQDNs {
				host := f.MatchName
				if host == "" {
					host = f.MatchPattern
				}
				hosts = append(hosts, HostFlow{From: local, Host: host, Ports: portsText(ports, anyPort), Object: p.String()})
			}
			var targets []*Endpoint
			for j, sel := range r.ToEndpoints {
				for _, e := range u.Pods {
					ok, err := ciliumSelects(sel, e)
					if err != nil {
						return nil, nil, fmt.Errorf("%s: spec.egress[%d].toEndpoints[%d]: %w", p, i, j, err)
					}
					// Without a namespace label, toEndpoints means the
					// policy's own namespace.
					_, nsKey := sel.MatchLabels["k8s:io.kubernetes.pod.namespace"]
					_, nsKey2 := sel.MatchLabels["io.kubernetes.pod.namespace"]
					if ok && (nsKey || nsKey2 || e.Namespace == local.Namespace) {
						targets = append(targets, e)
					}
				}
			}
			for j, c := range r.ToCIDR {
				pfx, err := netip.ParsePrefix(c)
				if err != nil {
					return nil, nil, fmt.Errorf("%s: spec.egress[%d].toCIDR[%d]: %w", p, i, j, err)
				}
				for _, e := range u.Endpoints() {
					if pfx.Contains(e.IP) {
						targets = append(targets, e)
					}
				}
			}
			for _, to := range targets {
				for _, pr := range probes {
					if anyPort || slices.ContainsFunc(ports, func(pp Port) bool { return pp.Contains(pr.Port, pr.Protocol) }) {
						flows = append(flows, Flow{From: local, To: to, Probe: pr})
					}
				}
			}
		}
	}
	return hosts, flows, nil
}

func cnpPorts(r cnpRule) ([]Port, bool, error) {
	if len(r.ToPorts) == 0 {
		return nil, true, nil
	}
	var out []Port
	for _, tp := range r.ToPorts {
		for _, pp := range tp.Ports {
			n, err := strconv.ParseUint(pp.Port, 10, 16)
			if err != nil || n == 0 {
				return nil, false, fmt.Errorf("port %q: want a number (named ports are not what netdep emits)", pp.Port)
			}
			protos := []corev1.Protocol{corev1.Protocol(pp.Protocol)}
			switch pp.Protocol {
			case "", "ANY":
				protos = []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}
			case "TCP", "UDP", "SCTP":
			default:
				return nil, false, fmt.Errorf("protocol %q", pp.Protocol)
			}
			for _, proto := range protos {
				out = append(out, Port{Protocol: proto, Port: int32(n), EndPort: pp.EndPort})
			}
		}
	}
	return out, false, nil
}

func portsText(ports []Port, anyPort bool) string {
	if anyPort {
		return "any port"
	}
	var ss []string
	for _, p := range ports {
		ss = append(ss, p.String())
	}
	return strings.Join(ss, ",")
}

// calicoLogDeny checks that a Calico NetworkPolicy (or a StagedNetworkPolicy's
// would-be policy) is the shape netdep emits for log: denied, and that
// every pod of its namespace in u is isolated by pols (NetworkPolicy v1) in
// each of its types. Then Calico's verdicts are those of pols: the
// Kubernetes policies (order 1000) allow first, and Log (which continues)
// then Deny meet only what none of them allows, which the v1 isolation
// denies too.
func calicoLogDeny(u *Universe, p PluginObject, pols []*networkingv1.NetworkPolicy) error {
	var s struct {
		Tier         string            `json:"tier"`
		Order        *float64          `json:"order"`
		Selector     string            `json:"selector"`
		Types        []string          `json:"types"`
		Ingress      []json.RawMessage `json:"ingress"`
		Egress       []json.RawMessage `json:"egress"`
		StagedAction string            `json:"stagedAction"`
	}
	b, err := json.Marshal(p.Obj.Object["spec"])
	if err != nil {
		return err
	}
	if err := strictJSON(b, &s); err != nil {
		return fmt.Errorf("%s: spec: %w (the e2e reads only the Log+Deny shape netdep emits)", p, err)
	}
	switch {
	case s.Tier != "" && s.Tier != "default":
		return fmt.Errorf("%s: spec.tier %q: want the default tier", p, s.Tier)
	case s.Order == nil || *s.Order <= 1000:
		return fmt.Errorf("%s: spec.order: want more than 1000 (after the Kubernetes NetworkPolicies)", p)
	case s.Selector != "all()":
		return fmt.Errorf("%s: spec.selector %q: want all()", p, s.Selector)
	case p.Kind.GVK == stagedNPGVK && s.StagedAction != "Set":
		return fmt.Errorf("%s: spec.stagedAction %q: want Set", p, s.StagedAction)
	case p.Kind.GVK != stagedNPGVK && s.StagedAction != "":
		return fmt.Errorf("%s: spec.stagedAction: only staged policies have one", p)
	case len(s.Types) == 0:
		return fmt.Errorf("%s: spec.types: missing", p)
	}
	for _, t := range s.Types {
		rules, dir := s.Ingress, networkingv1.PolicyTypeIngress
		if t == "Egress" {
			rules, dir = s.Egress, networkingv1.PolicyTypeEgress
		} else if t != "Ingress" {
			return fmt.Errorf("%s: spec.types: %q", p, t)
		}
		var got []string
		for _, r := range rules {
			got = append(got, string(r))
		}
		if want := []string{`{"action":"Log"}`, `{"action":"Deny"}`}; !slices.Equal(got, want) {
			return fmt.Errorf("%s: spec.%s: %v, want exactly [{action: Log}, {action: Deny}]", p, strings.ToLower(t), got)
		}
		for _, pod := range u.Pods {
			if pod.Namespace == p.Obj.GetNamespace() && !isolatedBy(pols, pod, dir) {
				return fmt.Errorf("%s: denies %s of %s, which no NetworkPolicy isolates: Calico would deny what the agents here let through", p, strings.ToLower(t), pod.ID())
			}
		}
	}
	for _, t := range []string{"Ingress", "Egress"} {
		if !slices.Contains(s.Types, t) && ((t == "Ingress" && len(s.Ingress) > 0) || (t == "Egress" && len(s.Egress) > 0)) {
			return fmt.Errorf("%s: spec.%s: rules in a direction its types leave out", p, strings.ToLower(t))
		}
	}
	return nil
}

// isolatedBy reports whether a NetworkPolicy of pols selects pod for dir
// (policyTypes as the API server defaults them).
func isolatedBy(pols []*networkingv1.NetworkPolicy, pod *Endpoint, dir networkingv1.PolicyType) bool {
	for _, np := range pols {
		if np.Namespace != pod.Namespace {
			continue
		}
		types := np.Spec.PolicyTypes
		if len(types) == 0 {
			types = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
			if len(np.Spec.Egress) > 0 {
				types = append(types, networkingv1.PolicyTypeEgress)
			}
		}
		if !slices.Contains(types, dir) {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err == nil && sel.Matches(labels.Set(pod.Labels)) {
			return true
		}
	}
	return false
}

// WouldBe is what Calico would enforce once the staged objects were
// applied (stagedAction Set): each StagedKubernetesNetworkPolicy as the
// NetworkPolicy of the same name and spec; the StagedNetworkPolicies are
// returned apart, for calicoLogDeny.
func WouldBe(objs []PluginObject) ([]*networkingv1.NetworkPolicy, []PluginObject, error) {
	var pols []*networkingv1.NetworkPolicy
	var calico []PluginObject
	for _, p := range objs {
		switch p.Kind.GVK {
		case stagedKNPGVK:
			b, err := json.Marshal(map[string]any{
				"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
				"metadata": map[string]any{"name": p.Obj.GetName(), "namespace": p.Obj.GetNamespace()},
				"spec":     p.Obj.Object["spec"],
			})
			if err != nil {
				return nil, nil, err
			}
			var np networkingv1.NetworkPolicy
			if err := strictJSON(b, &np); err != nil {
				return nil, nil, fmt.Errorf("%s: spec is not a NetworkPolicy spec: %w", p, err)
			}
			pols = append(pols, &np)
		case stagedNPGVK:
			calico = append(calico, p)
		}
	}
	sort.Slice(pols, func(i, j int) bool {
		return pols[i].Namespace+"/"+pols[i].Name < pols[j].Namespace+"/"+pols[j].Name
	})
	return pols, calico, nil
}

// withPluginObjects gives sc the plugin objects of its tree and checks
// what the design says of each (top of this file) against v1, the oracle
// over the NetworkPolicies the agents enforce (sc.Policies). It returns the
// would-be NetworkPolicies of an audit tree (staged objects only), nil
// otherwise.
func (sc *Scenario) withPluginObjects(objs []PluginObject, v1 Oracle) ([]*networkingv1.NetworkPolicy, error) {
	if len(objs) == 0 {
		return nil, nil
	}
	sc.NotEnforced = append(sc.NotEnforced, objs...)
	staged := 0
	for _, p := range objs {
		if p.Kind.Staged {
			staged++
		}
	}
	if staged > 0 && staged != len(objs) {
		return nil, fmt.Errorf("%d staged and %d enforced plugin objects in one tree: netdep stages all of an audit environment or none", staged, len(objs)-staged)
	}
	if staged > 0 && len(sc.Policies) > 0 {
		return nil, fmt.Errorf("staged objects beside %d NetworkPolicies (first %s/%s): an audit environment's overlay holds staged objects only", len(sc.Policies), sc.Policies[0].Namespace, sc.Policies[0].Name)
	}
	var wouldBe []*networkingv1.NetworkPolicy
	if staged > 0 {
		var calico []PluginObject
		var err error
		if wouldBe, calico, err = WouldBe(objs); err != nil {
			return nil, err
		}
		for _, p := range calico {
			if err := calicoLogDeny(sc.Universe, p, wouldBe); err != nil {
				return nil, fmt.Errorf("would be: %w", err)
			}
		}
		sc.Notes = append(sc.Notes, fmt.Sprintf("audit: %d staged objects and no enforced one: staged policies enforce nothing (Calico only reports what they would do), so the oracle is no policy at all; what they would enforce is `netdep verify`'s to prove", staged))
		return wouldBe, nil
	}
	for _, p := range objs {
		switch p.Kind.GVK {
		case ciliumNPGVK:
			hosts, flows, err := ciliumPolicy(sc.Universe, p)
			if err != nil {
				return nil, err
			}
			sc.Unprobed = append(sc.Unprobed, hosts...)
			for _, f := range flows {
				if !v1.Allowed(f) {
					return nil, fmt.Errorf("%s allows %s -> %s %s, which the NetworkPolicies deny: Cilium would let through what the agents here deny", p, f.From.ID(), f.To.ID(), f.Probe)
				}
			}
		case calicoNPGVK:
			if err := calicoLogDeny(sc.Universe, p, sc.Policies); err != nil {
				return nil, err
			}
		}
	}
	sc.Notes = append(sc.Notes, "oracles over the NetworkPolicies alone: the plugin objects add only host flows (not probed) and allows and denies the NetworkPolicies already give")
	return nil, nil
}
