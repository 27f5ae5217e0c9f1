package verify

import (
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/schema"
)

// PodKind says why a pod is in the world.
type PodKind int

const (
	// ServicePod is the one pod of a declared service: its selector's labels
	// and its declared ports.
	ServicePod PodKind = iota
	// UnlabelledPod is a pod with no labels, one in every namespace of the
	// world: it must get only what "every pod of the namespace" rules give.
	UnlabelledPod
	// PeerPod carries exactly the labels of a raw peer's selector (or of the
	// DNS selector), so raw-peer rules have someone to admit.
	PeerPod
)

// OutsideNamespace is the namespace netdep does not manage that the world
// adds, so "a pod elsewhere in the cluster" is always asked about.
const OutsideNamespace = "netdep-outside"

// World is the universe of PRODUCT.md section 4 for one environment: one pod
// per declared service, one unlabelled pod per namespace (managed or not, plus
// one namespace nobody declares), one pod per raw-peer and DNS selector, and
// the address classes induced by every CIDR in play.
type World struct {
	Universe eval.Universe
	// Pods is parallel to Universe.Pods.
	Pods []PodInfo
}

// PodInfo says what a world pod stands for.
type PodInfo struct {
	Kind PodKind
	// Service is set for ServicePod.
	Service *schema.Service
	// Name is how reports show the pod: "ns/service" for service pods,
	// "ns/(unlabelled)" and "ns/(pods k=v,...)" for the others.
	Name string
}

// NewWorld builds the world of env from one or more specs. Diff passes the
// base and head specs so both sides are evaluated over the same pods; verify
// passes one.
func NewWorld(env string, specs ...*schema.Spec) *World {
	w := &World{}
	nsSeen := map[string]bool{}
	podSeen := map[string]int{} // ns + "|" + labelKey -> pod index
	addNS := func(name string) {
		if nsSeen[name] {
			return
		}
		nsSeen[name] = true
		w.Universe.Namespaces = append(w.Universe.Namespaces, eval.Namespace{Name: name})
	}
	addPod := func(ns string, labels map[string]string, info PodInfo, ports []corev1.ContainerPort) {
		addNS(ns)
		key := ns + "|" + labelKey(labels)
		if _, ok := podSeen[key]; ok {
			return
		}
		podSeen[key] = len(w.Pods)
		name := info.Name[len(ns)+1:]
		w.Universe.Pods = append(w.Universe.Pods, eval.Pod{Namespace: ns, Name: name, Labels: copyLabels(labels), Ports: ports})
		w.Pods = append(w.Pods, info)
	}
	var prefixes []netip.Prefix
	addPrefix := func(s string) {
		if p, err := netip.ParsePrefix(s); err == nil {
			prefixes = append(prefixes, p.Masked())
		}
	}
	var peers []schema.Peer
	for _, spec := range specs {
		for _, ns := range spec.Namespaces {
			addNS(ns.Name)
		}
		e := spec.Environment(env)
		if e == nil {
			continue
		}
		for _, s := range e.Services {
			addPod(s.Namespace, s.Selector, PodInfo{Kind: ServicePod, Service: s, Name: s.ID()}, containerPorts(s.Ports))
		}
		for _, r := range e.Rules {
			peers = append(peers, r.Peer)
		}
		if e.DNS != nil {
			peers = append(peers, e.DNS.Peers...)
		}
	}
	for _, p := range peers {
		switch p.Kind {
		case schema.PeerSelector:
			if p.Selector != nil {
				addPod(p.Namespace, p.Selector, PodInfo{Kind: PeerPod, Name: p.Namespace + "/(pods " + labelKey(p.Selector) + ")"}, nil)
			}
			addNS(p.Namespace)
		case schema.PeerCIDR:
			addPrefix(p.CIDR)
			for _, x := range p.Except {
				addPrefix(x)
			}
		}
	}
	addNS(OutsideNamespace)
	names := make([]string, 0, len(nsSeen))
	for n := range nsSeen {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		addPod(n, nil, PodInfo{Kind: UnlabelledPod, Name: n + "/(unlabelled)"}, nil)
	}
	sort.Slice(w.Universe.Namespaces, func(i, j int) bool { return w.Universe.Namespaces[i].Name < w.Universe.Namespaces[j].Name })
	sort.Slice(prefixes, func(i, j int) bool { return prefixes[i].String() < prefixes[j].String() })
	w.Universe.Addresses = prefixes
	return w
}

// LabelNamespaces gives the world's namespaces the labels ns declares (the
// Namespace objects given with the policies), so that a label-based
// namespaceSelector selects the namespaces it would in the cluster: without
// them a namespace carries only kubernetes.io/metadata.name, which the API
// server sets. A namespace of ns the world lacks is added with its
// unlabelled pod, so a selector that also matches a namespace no dependency
// file describes admits someone, as it would in the cluster. Call it before
// evaluating; the world stays sorted.
func (w *World) LabelNamespaces(ns []eval.Namespace) {
	byName := map[string]int{}
	for i, n := range w.Universe.Namespaces {
		byName[n.Name] = i
	}
	added := false
	for _, n := range ns {
		if i, ok := byName[n.Name]; ok {
			w.Universe.Namespaces[i].Labels = copyLabels(n.Labels)
			continue
		}
		byName[n.Name] = len(w.Universe.Namespaces)
		w.Universe.Namespaces = append(w.Universe.Namespaces, eval.Namespace{Name: n.Name, Labels: copyLabels(n.Labels)})
		w.Universe.Pods = append(w.Universe.Pods, eval.Pod{Namespace: n.Name, Name: "(unlabelled)"})
		w.Pods = append(w.Pods, PodInfo{Kind: UnlabelledPod, Name: n.Name + "/(unlabelled)"})
		added = true
	}
	if added {
		sort.Slice(w.Universe.Namespaces, func(i, j int) bool { return w.Universe.Namespaces[i].Name < w.Universe.Namespaces[j].Name })
	}
}

// containerPorts gives a service pod its declared ports, so that a policy
// written with named ports resolves as it would on the real pod. A range has
// no container-port form; it is represented by its first port, unnamed.
func containerPorts(ports []schema.Port) []corev1.ContainerPort {
	var out []corev1.ContainerPort
	for _, p := range ports {
		cp := corev1.ContainerPort{ContainerPort: p.Port, Protocol: p.Protocol}
		if p.EndPort == 0 {
			cp.Name = p.Name
		}
		out = append(out, cp)
	}
	return out
}

func labelKey(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

func copyLabels(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
