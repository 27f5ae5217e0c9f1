package world

import (
	"net/netip"
	"slices"
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
// adds, so "a pod elsewhere in the cluster" is always asked about. It is
// named like no namespace a dependency file would describe.
const OutsideNamespace = "netdep-outside"

// World is the universe of PRODUCT.md section 4 for one environment: one pod
// per declared service, one unlabelled pod per namespace (managed or not, plus
// one namespace nobody declares), one pod per raw-peer and DNS selector, and
// the address classes induced by every CIDR in play.
type World struct {
	Universe eval.Universe
	// Pods is parallel to Universe.Pods.
	Pods []PodInfo
	// sides[i] is parallel to Universe.Pods: the pods as the i-th spec given
	// to New declares them (see Side).
	sides [][]eval.Pod
}

// PodInfo says what a world pod stands for.
type PodInfo struct {
	Kind PodKind
	// Service is set for ServicePod: the first spec given to New that
	// declares it in the environment.
	Service *schema.Service
	// Name is how reports show the pod: "ns/service" for service pods,
	// "ns/(unlabelled)" and "ns/(pods k=v,...)" for the others.
	Name string
}

// Namespace is the namespace of the pod.
func (p PodInfo) Namespace() string {
	ns, _, _ := strings.Cut(p.Name, "/")
	return ns
}

// UnlabelledPodName is the name of a namespace's unlabelled pod. Pod names
// with parentheses, spaces or "=" are no DNS label, so they never collide with
// a service's.
const UnlabelledPodName = "(unlabelled)"

// PeerPodName is the name of the pod that carries exactly labels:
// "(pods k=v,...)", the labels sorted by key.
func PeerPodName(labels map[string]string) string {
	return "(pods " + LabelKey(labels) + ")"
}

// New builds the world of env from one or more specs. verify passes one.
// diff passes the base and head specs, so both sides are evaluated over the
// same pods: a service is one pod whichever specs declare it, and Side(i)
// gives it the labels and ports the i-th spec declares (a spec that lacks it
// lends the first declaring spec's). Universe carries the first declaring
// spec's.
func New(env string, specs ...*schema.Spec) *World {
	w := &World{sides: make([][]eval.Pod, len(specs))}
	nsSeen := map[string]bool{}
	podSeen := map[string]bool{} // ns + "|" + labelKey: a pod already carries these labels
	addNS := func(name string) {
		if nsSeen[name] {
			return
		}
		nsSeen[name] = true
		w.Universe.Namespaces = append(w.Universe.Namespaces, eval.Namespace{Name: name})
	}
	// addPod adds a pod whose labels are the same on every side, unless a
	// pod of ns already carries them.
	addPod := func(ns string, labels map[string]string, info PodInfo) {
		addNS(ns)
		key := ns + "|" + LabelKey(labels)
		if podSeen[key] {
			return
		}
		podSeen[key] = true
		pod := eval.Pod{Namespace: ns, Name: info.Name[len(ns)+1:], Labels: copyLabels(labels)}
		w.Universe.Pods = append(w.Universe.Pods, pod)
		w.Pods = append(w.Pods, info)
		for i := range w.sides {
			w.sides[i] = append(w.sides[i], pod)
		}
	}

	// Service pods, one per service ID; per side as that side declares it.
	views := make([]view, len(specs))
	var ids []string
	bySide := map[string][]*schema.Service{}
	for i, spec := range specs {
		views[i] = viewOf(spec, env)
		for _, s := range views[i].services {
			if bySide[s.ID()] == nil {
				bySide[s.ID()] = make([]*schema.Service, len(specs))
				ids = append(ids, s.ID())
			}
			bySide[s.ID()][i] = s
		}
	}
	for _, id := range ids {
		sides := bySide[id]
		var first *schema.Service
		for _, s := range sides {
			if s != nil {
				first = s
				break
			}
		}
		addNS(first.Namespace)
		pod := func(s *schema.Service) eval.Pod {
			podSeen[s.Namespace+"|"+LabelKey(s.Selector)] = true
			return eval.Pod{Namespace: s.Namespace, Name: s.Name, Labels: copyLabels(s.Selector), Ports: ContainerPorts(s.Ports)}
		}
		w.Universe.Pods = append(w.Universe.Pods, pod(first))
		w.Pods = append(w.Pods, PodInfo{Kind: ServicePod, Service: first, Name: first.ID()})
		for i, s := range sides {
			if s == nil {
				s = first
			}
			w.sides[i] = append(w.sides[i], pod(s))
		}
	}

	var prefixes []netip.Prefix
	addPrefix := func(s string) {
		if p, err := netip.ParsePrefix(s); err == nil {
			prefixes = append(prefixes, p.Masked())
		}
	}
	var hosts []string
	var peers []*schema.Peer
	for i, spec := range specs {
		for _, ns := range spec.Namespaces {
			addNS(ns.Name)
		}
		peers = append(peers, views[i].peers...)
	}
	for _, p := range peers {
		switch p.Kind {
		case schema.PeerSelector:
			if p.Selector != nil {
				addPod(p.Namespace, p.Selector, PodInfo{Kind: PeerPod, Name: p.Namespace + "/" + PeerPodName(p.Selector)})
			}
			addNS(p.Namespace)
		case schema.PeerHost:
			hosts = append(hosts, p.Host)
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
		addPod(n, nil, PodInfo{Kind: UnlabelledPod, Name: n + "/" + UnlabelledPodName})
	}
	sort.Slice(w.Universe.Namespaces, func(i, j int) bool { return w.Universe.Namespaces[i].Name < w.Universe.Namespaces[j].Name })
	sort.Slice(prefixes, func(i, j int) bool { return prefixes[i].String() < prefixes[j].String() })
	w.Universe.Addresses = prefixes
	// One host class per distinct host the rules name by DNS (unpinned):
	// eval.Universe.Hosts.
	sort.Strings(hosts)
	w.Universe.Hosts = slices.Compact(hosts)
	return w
}

// Side is Universe with the pods as the i-th spec given to New declares
// them: its services' labels and ports (the pods move with the spec).
func (w *World) Side(i int) eval.Universe {
	u := w.Universe
	u.Pods = w.sides[i]
	return u
}

// view is what one spec says about env.
type view struct {
	services []*schema.Service
	peers    []*schema.Peer // of its rules and its DNS, not copied (a Rule's Peer is large)
}

// viewOf is what spec deploys in env. A spec without environments deploys
// the same everywhere; a spec that declares environments but not env deploys
// the services that exist everywhere (diff compares such specs with ones
// that declare env).
func viewOf(spec *schema.Spec, env string) view {
	var v view
	e := spec.Environment(env)
	if e == nil && spec.Implicit() && len(spec.Environments) > 0 {
		e = spec.Environments[0]
	}
	if e == nil {
		for _, ns := range spec.Namespaces {
			for _, s := range ns.Services {
				if s.Environments == nil {
					v.services = append(v.services, s)
				}
			}
		}
		return v
	}
	v.services = e.Services
	v.peers = make([]*schema.Peer, 0, len(e.Rules))
	for i := range e.Rules {
		v.peers = append(v.peers, &e.Rules[i].Peer)
	}
	if e.DNS != nil {
		for i := range e.DNS.Peers {
			v.peers = append(v.peers, &e.DNS.Peers[i])
		}
	}
	// The guardrails' peers and pod subjects: a denied address block is a
	// probe address, and monitoring pods are pods, so what the guardrails
	// decide is asked about even where no dependency file names it.
	for _, g := range e.AdminGuardrails() {
		for i := range g.Peers {
			v.peers = append(v.peers, &g.Peers[i])
		}
		if g.SubjectPods != nil {
			v.peers = append(v.peers, g.SubjectPods)
		}
	}
	return v
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
		pod := eval.Pod{Namespace: n.Name, Name: UnlabelledPodName}
		w.Universe.Pods = append(w.Universe.Pods, pod)
		for i := range w.sides {
			w.sides[i] = append(w.sides[i], pod)
		}
		w.Pods = append(w.Pods, PodInfo{Kind: UnlabelledPod, Name: n.Name + "/" + UnlabelledPodName})
		added = true
	}
	if added {
		sort.Slice(w.Universe.Namespaces, func(i, j int) bool { return w.Universe.Namespaces[i].Name < w.Universe.Namespaces[j].Name })
	}
}

// ContainerPorts gives a service pod its declared ports, so that a policy
// written with named ports resolves as it would on the real pod. A range has
// no container-port form; it is represented by its first port, unnamed.
func ContainerPorts(ports []schema.Port) []corev1.ContainerPort {
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

// LabelKey is labels as "k=v,..." sorted by key: how pod names show them.
func LabelKey(m map[string]string) string {
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
