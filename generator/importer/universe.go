package importer

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/world"
)

// universe builds the pods the original policies are evaluated over: one
// per service, an unlabelled one per namespace and for a namespace the
// inputs do not have (world.OutsideNamespace), the cluster DNS, and one
// per raw peer of a namespace netdep will not manage. Pods are named as
// the probe world (package world) names them, so that a difference verify reports can be
// explained here.
func (im *policyImporter) universe() error {
	for _, n := range append(append([]string(nil), im.namespaces...), world.OutsideNamespace) {
		im.u.Namespaces = append(im.u.Namespaces, eval.Namespace{Name: n, Labels: im.nsLabels[n]})
	}
	for _, s := range im.svcs {
		s.pod = im.addPod(s.ns, s.name, s.sel, s.w.Ports, s)
	}
	for _, n := range im.namespaces {
		im.addPod(n, world.UnlabelledPodName, nil, nil, nil)
	}
	im.addPod(world.OutsideNamespace, world.UnlabelledPodName, nil, nil, nil)
	dnsLabels := map[string]string{"k8s-app": "kube-dns"}
	for _, s := range im.svcs {
		if s.ns == "kube-system" && labelKey(s.sel) == labelKey(dnsLabels) {
			im.dnsPod = s.pod
		}
	}
	if im.dnsPod < 0 {
		im.dnsPod = im.addPod("kube-system", world.PeerPodName(dnsLabels), dnsLabels, nil, nil)
	}
	// Pods a peer names by labels that no workload of the inputs carries,
	// in a namespace without policies (ingress-nginx's controller, a
	// Prometheus from another repository): one pod with exactly those
	// labels, as the probe world has for a raw peer, so that what the
	// policies allow them is imported as a raw peer.
	for _, p := range im.pols {
		eachPeer(p, func(_ string, peer networkingv1.NetworkPolicyPeer) {
			sel := peer.PodSelector
			if sel == nil || len(sel.MatchExpressions) > 0 || len(sel.MatchLabels) == 0 {
				return
			}
			for _, n := range im.peerNamespaces(p.Namespace, peer.NamespaceSelector) {
				carried := false
				for _, i := range im.nsPods[n] {
					if subset(sel.MatchLabels, im.u.Pods[i].Labels) {
						carried = true
					}
				}
				if !carried {
					im.addPod(n, world.PeerPodName(sel.MatchLabels), copyMap(sel.MatchLabels), nil, nil)
				}
			}
		})
	}
	im.u.Addresses = append(im.u.Addresses, im.o.PodCIDRs...)
	// The originals are what the cluster enforces: the NetworkPolicies in
	// the tiers of the ClusterNetworkPolicies beside them.
	ev, err := eval.NewWithClusterPolicies(im.u, im.c.Policies, im.c.ClusterPolicies)
	if err != nil {
		return err
	}
	im.ev, im.r, im.ext = ev, ev.Reachability(), ev.Externals()
	if len(im.c.ClusterPolicies) > 0 {
		if im.npOnly, err = eval.New(im.u, im.c.Policies); err != nil {
			return err
		}
	}
	return nil
}

func (im *policyImporter) addPod(ns, name string, lbl map[string]string, ports []corev1.ContainerPort, s *svcInfo) int {
	i := len(im.u.Pods)
	im.u.Pods = append(im.u.Pods, eval.Pod{Namespace: ns, Name: name, Labels: lbl, Ports: ports})
	im.byPod = append(im.byPod, s)
	im.podName = append(im.podName, ns+"/"+name)
	if ns != world.OutsideNamespace {
		im.nsPods[ns] = append(im.nsPods[ns], i)
	}
	return i
}

// namespaceDocs makes one document per namespace with policies (managed,
// isolated in the directions its policies isolate) or workloads
// (managed: false).
func (im *policyImporter) namespaceDocs() {
	for _, n := range im.namespaces {
		if !im.managed(n) && len(im.servicesIn(n)) == 0 {
			continue
		}
		d := newDoc(n)
		d.managed = im.managed(n)
		switch {
		case !d.managed:
		case im.inIso[n] && !im.egIso[n]:
			d.isolate = []string{"ingress"}
		case im.egIso[n] && !im.inIso[n]:
			d.isolate = []string{"egress"}
		}
		im.docs[n] = d
	}
	for _, s := range im.svcs {
		s.doc = im.docs[s.ns].service(s.name)
		s.doc.selector = s.sel
		s.doc.comment = fmt.Sprintf("%s %s", s.w.Kind, s.w.Name)
		if len(s.w.NamedBy) > 0 {
			var refs []string
			for _, by := range s.w.NamedBy {
				refs = appendUnique(refs, strings.TrimPrefix(by.Ref, "policy "))
			}
			s.doc.comment = "no workload in the inputs: pods named by policy " + joinList(refs)
		}
	}
}

func (im *policyImporter) servicesIn(ns string) []*svcInfo {
	var out []*svcInfo
	for _, s := range im.svcs {
		if s.ns == ns {
			out = append(out, s)
		}
	}
	return out
}

func (im *policyImporter) isEg(ns string) bool {
	return im.docs[ns] != nil && im.docs[ns].managed && im.egIso[ns]
}

func (im *policyImporter) isIn(ns string) bool {
	return im.docs[ns] != nil && im.docs[ns].managed && im.inIso[ns]
}

// endpoints are every pod and address class of the universe.
func (im *policyImporter) endpoints() []eval.Endpoint {
	var out []eval.Endpoint
	for i := range im.u.Pods {
		out = append(out, eval.PodEndpoint(i))
	}
	for i := range im.ext {
		out = append(out, eval.ExternalEndpoint(i))
	}
	return out
}

// declarePorts gives every service the ports it is reached on: its
// container ports and every finite port set a policy admits it on, split
// into disjoint pieces so that each admitted set is a union of them.
func (im *policyImporter) declarePorts() {
	for _, s := range im.svcs {
		var sets []eval.PortSet
		for _, cp := range s.w.Ports {
			sets = append(sets, eval.NewPortSet(eval.PortRange{Protocol: cp.Protocol, From: cp.ContainerPort, To: cp.ContainerPort}))
		}
		for _, e := range im.endpoints() {
			if e == eval.PodEndpoint(s.pod) {
				continue
			}
			ps := im.r.Ports(e, eval.PodEndpoint(s.pod))
			if !ps.IsEmpty() && !ps.IsAll() {
				sets = append(sets, ps)
			}
		}
		names := map[string]bool{}
		for _, a := range atoms(sets) {
			name := ""
			for _, cp := range s.w.Ports {
				if cp.Name != "" && cp.Protocol == a.Protocol && cp.ContainerPort == a.From && a.To == a.From && len(validation.IsValidPortName(cp.Name)) == 0 {
					name = cp.Name
				}
			}
			if name == "" || names[name] {
				name = portName(a)
			}
			names[name] = true
			d := portDecl{name: name, protocol: a.Protocol, port: a.From}
			if a.To != a.From {
				d.end = a.To
			}
			s.doc.ports = append(s.doc.ports, d)
		}
	}
}

// atoms splits the union of sets into the largest ranges that no set's
// boundary cuts.
func atoms(sets []eval.PortSet) []eval.PortRange {
	var union eval.PortSet
	cuts := map[corev1.Protocol]map[int32]bool{}
	for _, s := range sets {
		union = union.Union(s)
		for _, r := range s.Ranges() {
			if cuts[r.Protocol] == nil {
				cuts[r.Protocol] = map[int32]bool{}
			}
			cuts[r.Protocol][r.From] = true
			cuts[r.Protocol][r.To+1] = true
		}
	}
	var out []eval.PortRange
	for _, r := range union.Ranges() {
		var inside []int32
		for c := range cuts[r.Protocol] {
			if c > r.From && c <= r.To {
				inside = append(inside, c)
			}
		}
		sort.Slice(inside, func(i, j int) bool { return inside[i] < inside[j] })
		from := r.From
		for _, c := range inside {
			out = append(out, eval.PortRange{Protocol: r.Protocol, From: from, To: c - 1})
			from = c
		}
		out = append(out, eval.PortRange{Protocol: r.Protocol, From: from, To: r.To})
	}
	return out
}

func (im *policyImporter) dnsPorts() eval.PortSet {
	return eval.NewPortSet(eval.PortRange{Protocol: corev1.ProtocolUDP, From: 53, To: 53}, eval.PortRange{Protocol: corev1.ProtocolTCP, From: 53, To: 53})
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}
