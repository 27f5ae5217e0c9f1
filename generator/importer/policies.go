package importer

import (
	"fmt"
	"net/netip"
	"path"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/verify"
	"github.com/netdep/netdep/schema"
)

// PolicyOptions tune Policies.
type PolicyOptions struct {
	// Out is the directory the files are meant for, as the user wrote it;
	// the result is checked as files at that path (for messages).
	Out string
	// Inputs are the manifest paths, named in each file's header.
	Inputs []string
	// PodCIDRs are the cluster's pod networks. An ipBlock overlapping one
	// matched pods by address; the import carves the overlap out.
	PodCIDRs []netip.Prefix
}

// Result is what an import produces.
type Result struct {
	// Files are the dependency files, one per namespace, sorted by name.
	Files []File
	// Notes are findings about the input that change no connection the
	// check can see (a selector that matches nothing, matchExpressions
	// that will not follow future pods), sorted.
	Notes []string
	// Changes are the connections the imported files allow differently
	// from the input (narrowed: missing; widened: in excess), each with
	// the reason. Empty means the import is exact.
	Changes []Change
	// Check is verify.Check of the imported files against the input
	// policies: its Missing and Excess are exactly Changes.
	Check *verify.Report
}

// Change is one connection the imported files allow differently.
type Change struct {
	Kind        string `json:"kind"` // "narrowed" or "widened"
	Source      string `json:"source"`
	Destination string `json:"destination"`
	Ports       string `json:"ports"`
	Reason      string `json:"reason"`
}

// Exact reports whether the imported files allow exactly what the input did.
func (r *Result) Exact() bool { return len(r.Changes) == 0 }

// addrKey stands for "any address class" in reason keys: address classes of
// the check's world are cut by the imported CIDRs and need not match ours.
const addrKey = "(addresses)"

type svcInfo struct {
	w    *Workload
	name string
	ns   string
	sel  map[string]string
	pod  int // index in the universe
	doc  *svcDoc
}

func (s *svcInfo) id() string { return s.ns + "/" + s.name }

type policyImporter struct {
	c    *Cluster
	o    PolicyOptions
	u    eval.Universe
	ev   *eval.Evaluator
	r    *eval.Reachability
	ext  []eval.External
	svcs []*svcInfo
	// byPod maps a universe pod to its service, nil for synthetic pods.
	byPod      []*svcInfo
	podName    []string
	nsPods     map[string][]int
	namespaces []string // known namespaces, sorted (outside excluded)
	docs       map[string]*nsDoc
	egIso      map[string]bool
	inIso      map[string]bool
	reasons    map[string]string // "src|dst" -> why it was narrowed
	notes      map[string]bool
	dnsPod     int
}

// Policies imports the NetworkPolicies of c as dependency files.
func Policies(c *Cluster, o PolicyOptions) (*Result, error) {
	im := &policyImporter{c: c, o: o, docs: map[string]*nsDoc{}, egIso: map[string]bool{}, inIso: map[string]bool{},
		reasons: map[string]string{}, notes: map[string]bool{}, nsPods: map[string][]int{}, dnsPod: -1}
	defaulted := make([]*networkingv1.NetworkPolicy, len(c.Policies))
	for i, p := range c.Policies {
		defaulted[i] = eval.Default(p)
	}
	im.services(defaulted)
	if err := im.universe(); err != nil {
		return nil, err
	}
	im.namespaceDocs(defaulted)
	im.declarePorts()
	im.edges()
	im.rawPeers()
	im.cidrs(defaulted)
	im.scan(defaulted)
	return im.finish()
}

// services turns workloads into services: names, selectors.
func (im *policyImporter) services(pols []*networkingv1.NetworkPolicy) {
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
	for _, p := range pols {
		addKeys(&p.Spec.PodSelector)
		for _, r := range p.Spec.Ingress {
			for _, peer := range r.From {
				addKeys(peer.PodSelector)
			}
		}
		for _, r := range p.Spec.Egress {
			for _, peer := range r.To {
				addKeys(peer.PodSelector)
			}
		}
	}
	used := map[string]bool{}
	byNS := map[string][]*svcInfo{}
	for _, w := range im.c.Workloads {
		im.addServicePorts(w)
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
				im.notes[fmt.Sprintf("%s %s: its pods carry every label of %s %s's; imported as %s only", s.w.Kind, s.w.ID(), k.w.Kind, k.w.ID(), k.id())] = true
				dup = true
			}
		}
		if !dup {
			kept = append(kept, s)
		}
	}
	im.svcs = kept
}

// addServicePorts names a workload's ports from the Services that select it
// when its containers do not declare them.
func (im *policyImporter) addServicePorts(w *Workload) {
	for _, svc := range im.c.Services {
		ns := svc.Namespace
		if ns == "" {
			ns = eval.DefaultNamespace
		}
		if ns != w.Namespace || len(svc.Spec.Selector) == 0 || !subset(svc.Spec.Selector, w.Labels) {
			continue
		}
		for _, sp := range svc.Spec.Ports {
			proto := sp.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			port := sp.TargetPort.IntVal
			if sp.TargetPort.StrVal != "" {
				continue // a named target port is a container port already
			}
			if port == 0 {
				port = sp.Port
			}
			w.Ports = mergePorts(w.Ports, []corev1.ContainerPort{{Name: sp.Name, ContainerPort: port, Protocol: proto}})
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

func (im *policyImporter) universe() error {
	nsLabels := map[string]map[string]string{}
	for _, n := range im.c.Namespaces {
		nsLabels[n.Name] = n.Labels
	}
	known := map[string]bool{}
	for _, n := range im.c.Namespaces {
		known[n.Name] = true
	}
	for _, w := range im.c.Workloads {
		known[w.Namespace] = true
	}
	for _, p := range im.c.Policies {
		ns := p.Namespace
		if ns == "" {
			ns = eval.DefaultNamespace
		}
		known[ns] = true
		// A namespace named by a peer is known too: its other pods are
		// "every pod of that namespace".
		for _, r := range p.Spec.Ingress {
			for _, peer := range r.From {
				if n := namedNamespace(peer.NamespaceSelector); n != "" {
					known[n] = true
				}
			}
		}
		for _, r := range p.Spec.Egress {
			for _, peer := range r.To {
				if n := namedNamespace(peer.NamespaceSelector); n != "" {
					known[n] = true
				}
			}
		}
	}
	known["kube-system"] = true // the cluster DNS lives there
	delete(known, verify.OutsideNamespace)
	im.namespaces = sortedKeys(known)
	for _, n := range append(append([]string(nil), im.namespaces...), verify.OutsideNamespace) {
		im.u.Namespaces = append(im.u.Namespaces, eval.Namespace{Name: n, Labels: nsLabels[n]})
	}
	addPod := func(ns, name string, lbl map[string]string, ports []corev1.ContainerPort, s *svcInfo) int {
		i := len(im.u.Pods)
		im.u.Pods = append(im.u.Pods, eval.Pod{Namespace: ns, Name: name, Labels: lbl, Ports: ports})
		im.byPod = append(im.byPod, s)
		im.podName = append(im.podName, ns+"/"+name)
		if ns != verify.OutsideNamespace {
			im.nsPods[ns] = append(im.nsPods[ns], i)
		}
		return i
	}
	for _, s := range im.svcs {
		s.pod = addPod(s.ns, s.name, s.sel, s.w.Ports, s)
	}
	for _, n := range im.namespaces {
		addPod(n, "(unlabelled)", nil, nil, nil)
	}
	addPod(verify.OutsideNamespace, "(unlabelled)", nil, nil, nil)
	dnsLabels := map[string]string{"k8s-app": "kube-dns"}
	im.dnsPod = -1
	for _, s := range im.svcs {
		if s.ns == "kube-system" && labelKey(s.sel) == labelKey(dnsLabels) {
			im.dnsPod = s.pod
		}
	}
	if im.dnsPod < 0 {
		im.dnsPod = addPod("kube-system", "(pods k8s-app=kube-dns)", dnsLabels, nil, nil)
	}
	// Pods a peer names by labels that no workload of the inputs carries
	// (ingress-nginx's controller, a Prometheus from another repository):
	// one pod with exactly those labels, as verify's world has for a raw
	// peer, so that what the policies allow them is imported as a raw peer.
	for _, p := range im.c.Policies {
		ns := p.Namespace
		if ns == "" {
			ns = eval.DefaultNamespace
		}
		var peers []networkingv1.NetworkPolicyPeer
		for _, r := range p.Spec.Ingress {
			peers = append(peers, r.From...)
		}
		for _, r := range p.Spec.Egress {
			peers = append(peers, r.To...)
		}
		for _, peer := range peers {
			sel := peer.PodSelector
			if sel == nil || len(sel.MatchExpressions) > 0 || len(sel.MatchLabels) == 0 {
				continue
			}
			for _, n := range im.peerNamespaces(ns, peer.NamespaceSelector, nsLabels) {
				carried := false
				for _, i := range im.nsPods[n] {
					if subset(sel.MatchLabels, im.u.Pods[i].Labels) {
						carried = true
					}
				}
				if !carried {
					addPod(n, "(pods "+labelKey(sel.MatchLabels)+")", copyMap(sel.MatchLabels), nil, nil)
				}
			}
		}
	}
	im.u.Addresses = append(im.u.Addresses, im.o.PodCIDRs...)
	ev, err := eval.New(im.u, im.c.Policies)
	if err != nil {
		return err
	}
	im.ev, im.r, im.ext = ev, ev.Reachability(), ev.Externals()
	return nil
}

// peerNamespaces are the known namespaces a peer's namespaceSelector
// matches (the policy's own when it has none).
func (im *policyImporter) peerNamespaces(own string, s *metav1.LabelSelector, nsLabels map[string]map[string]string) []string {
	if s == nil {
		return []string{own}
	}
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range im.namespaces {
		l := labels.Set{eval.NamespaceNameLabel: n}
		for k, v := range nsLabels[n] {
			l[k] = v
		}
		if sel.Matches(l) {
			out = append(out, n)
		}
	}
	return out
}

// namedNamespace returns the namespace a selector names by
// kubernetes.io/metadata.name alone, "" otherwise.
func namedNamespace(s *metav1.LabelSelector) string {
	if s == nil || len(s.MatchExpressions) > 0 || len(s.MatchLabels) != 1 {
		return ""
	}
	return s.MatchLabels[eval.NamespaceNameLabel]
}

func (im *policyImporter) namespaceDocs(pols []*networkingv1.NetworkPolicy) {
	hasPolicy := map[string]bool{}
	for _, p := range pols {
		hasPolicy[p.Namespace] = true
		for _, t := range p.Spec.PolicyTypes {
			if t == networkingv1.PolicyTypeEgress {
				im.egIso[p.Namespace] = true
			} else {
				im.inIso[p.Namespace] = true
			}
		}
	}
	for _, n := range im.namespaces {
		if !hasPolicy[n] && len(im.servicesIn(n)) == 0 {
			continue
		}
		d := newDoc(n)
		d.managed = hasPolicy[n]
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

func (im *policyImporter) isEg(ns string) bool {
	return im.docs[ns] != nil && im.docs[ns].managed && im.egIso[ns]
}
func (im *policyImporter) isIn(ns string) bool {
	return im.docs[ns] != nil && im.docs[ns].managed && im.inIso[ns]
}

// origin names the policy rules that allow src -> dst on the first port of
// ps, for the entry's comment.
func (im *policyImporter) origin(src, dst eval.Endpoint, ps eval.PortSet) string {
	if ps.IsEmpty() {
		return ""
	}
	first := ps.Ranges()[0]
	v := im.ev.Explain(eval.Query{Src: src, Dst: dst, Protocol: first.Protocol, Port: first.From})
	var parts []string
	for _, r := range v.Egress.Allowing {
		parts = append(parts, fmt.Sprintf("%s egress[%d]", r.PolicyRef, r.Rule))
	}
	for _, r := range v.Ingress.Allowing {
		parts = append(parts, fmt.Sprintf("%s ingress[%d]", r.PolicyRef, r.Rule))
	}
	if len(parts) == 0 {
		return "open: no policy isolated either end"
	}
	return "from policy " + strings.Join(parts, ", ")
}

// refPorts writes the references to service b on the ports of ps: the bare
// service when ps holds all its ports, else one reference per port.
func refPorts(ref string, b *svcDoc, ps eval.PortSet) []string {
	// A bare reference to a service with many ports opens tomorrow's ports
	// too (schema warns about it): name them.
	if len(b.ports) <= 5 && b.portSet().Intersect(ps).Equal(b.portSet()) {
		return []string{ref}
	}
	var out []string
	for _, p := range b.ports {
		if !eval.NewPortSet(p.portRange()).Intersect(ps).IsEmpty() {
			out = append(out, ref+":"+p.name)
		}
	}
	return out
}

// ownPorts writes ps as the `ports:` of a from entry on b: b's port names,
// nothing for all of them, `any` for every port.
func ownPorts(b *svcDoc, ps eval.PortSet) string {
	if ps.IsAll() {
		return ", ports: any"
	}
	if b.portSet().Intersect(ps).Equal(b.portSet()) {
		return ""
	}
	var names []string
	for _, p := range b.ports {
		if !eval.NewPortSet(p.portRange()).Intersect(ps).IsEmpty() {
			names = append(names, p.name)
		}
	}
	return ", ports: [" + strings.Join(names, ", ") + "]"
}

func (im *policyImporter) dnsPorts() eval.PortSet {
	return eval.NewPortSet(eval.PortRange{Protocol: corev1.ProtocolUDP, From: 53, To: 53}, eval.PortRange{Protocol: corev1.ProtocolTCP, From: 53, To: 53})
}

// edges declares every workload-to-workload connection where one side is
// isolated: A calls B in A's file when A's namespace is managed, else B
// lists A in from.
func (im *policyImporter) edges() {
	for _, a := range im.svcs {
		for _, b := range im.svcs {
			if a == b {
				continue
			}
			eg, in := im.isEg(a.ns), im.isIn(b.ns)
			if !eg && !in {
				continue
			}
			src, dst := eval.PodEndpoint(a.pod), eval.PodEndpoint(b.pod)
			got := im.r.Ports(src, dst)
			if got.IsEmpty() {
				continue
			}
			if eg && b.pod == im.dnsPod && !in {
				got = got.Subtract(im.dnsPorts()) // allow-dns covers it
			}
			ps := got.Intersect(b.doc.portSet())
			if got.IsAll() && !ps.IsAll() {
				why := fmt.Sprintf("%s was open to %s on every port; netdep declares the ports %s's containers list", b.id(), a.id(), b.id())
				if ps.IsEmpty() {
					why = fmt.Sprintf("%s was open to %s on every port, and its containers declare no port to narrow it to", b.id(), a.id())
				}
				im.reasons[a.id()+"|"+b.id()] = why
			}
			if ps.IsEmpty() {
				continue
			}
			if a.doc != nil && im.docs[a.ns].managed {
				for _, ref := range refPorts(svcRef(a.ns, b), b.doc, ps) {
					addEntry(a.doc.calls, quoteRef(ref), im.origin(src, dst, portsOfRef(ref, b.doc, ps)))
				}
			} else {
				for _, ref := range refPorts(svcRef(b.ns, a), b.doc, ps) {
					addEntry(b.doc.from, quoteRef(ref), im.origin(src, dst, portsOfRef(ref, b.doc, ps)))
				}
			}
		}
	}
}

// portsOfRef is the ports a reference written by refPorts opens.
func portsOfRef(ref string, b *svcDoc, ps eval.PortSet) eval.PortSet {
	i := strings.LastIndex(ref, ":")
	if i < 0 {
		return ps
	}
	for _, p := range b.ports {
		if p.name == ref[i+1:] {
			return eval.NewPortSet(p.portRange())
		}
	}
	return ps
}

func svcRef(fromNS string, s *svcInfo) string {
	if s.ns == fromNS {
		return s.name
	}
	return s.ns + "/" + s.name
}

// rawPeers declares "every pod of namespace N" where the policies admit the
// pods of N that no workload describes, on the ports every pod of N gets.
func (im *policyImporter) rawPeers() {
	for _, n := range im.namespaces {
		pods := im.nsPods[n]
		// Groups: every pod of n (represented by its unlabelled pod), then
		// the pods a peer selects by labels no workload carries.
		type group struct {
			rep int
			sel map[string]string
		}
		var groups []group
		for _, p := range pods {
			if im.byPod[p] == nil && im.u.Pods[p].Labels == nil {
				groups = append([]group{{rep: p}}, groups...)
			} else if im.byPod[p] == nil {
				groups = append(groups, group{rep: p, sel: im.u.Pods[p].Labels})
			}
		}
		for _, s := range im.svcs {
			self := eval.PodEndpoint(s.pod)
			var allEg, allIn eval.PortSet
			for gi, g := range groups {
				var members []int
				for _, p := range pods {
					if subset(g.sel, im.u.Pods[p].Labels) {
						members = append(members, p)
					}
				}
				peerText := "namespace: " + quote(n)
				if g.sel != nil {
					peerText += ", selector: " + flowMap(g.sel)
				}
				rep := eval.PodEndpoint(g.rep)
				// s calls the group.
				if im.isEg(s.ns) && !im.isIn(n) {
					q := im.common(members, s.pod, func(p int) eval.PortSet { return im.r.Ports(self, eval.PodEndpoint(p)) })
					if g.rep == im.dnsPod {
						q = q.Subtract(im.dnsPorts()) // allow-dns covers it
					}
					if gi > 0 {
						q = q.Subtract(allEg)
					} else {
						allEg = q
					}
					if !q.IsEmpty() {
						addEntry(s.doc.calls, fmt.Sprintf("{%s, ports: %s}", peerText, portValues(q)), im.origin(self, rep, q))
					}
				}
				// the group calls s.
				if im.isIn(s.ns) && !im.isEg(n) {
					q := im.common(members, s.pod, func(p int) eval.PortSet { return im.r.Ports(eval.PodEndpoint(p), self) })
					q = q.Intersect(s.doc.portSet().Union(anyIfAll(q)))
					if gi > 0 {
						q = q.Subtract(allIn)
					} else {
						allIn = q
					}
					if !q.IsEmpty() {
						addEntry(s.doc.from, fmt.Sprintf("{%s%s}", peerText, ownPorts(s.doc, q)), im.origin(rep, self, q))
					}
				}
			}
		}
	}
}

func anyIfAll(ps eval.PortSet) eval.PortSet {
	if ps.IsAll() {
		return ps
	}
	return eval.PortSet{}
}

// common is the ports every pod of pods but self gets from f.
func (im *policyImporter) common(pods []int, self int, f func(int) eval.PortSet) eval.PortSet {
	q := eval.AllPorts()
	for _, p := range pods {
		if p != self {
			q = q.Intersect(f(p))
		}
	}
	return q
}

type block struct {
	cidr   netip.Prefix
	except []netip.Prefix
}

func (b block) contains(a netip.Addr) bool {
	if !b.cidr.Contains(a) {
		return false
	}
	for _, x := range b.except {
		if x.Contains(a) {
			return false
		}
	}
	return true
}

func (b block) text() string {
	s := "cidr: " + quote(b.cidr.String())
	if len(b.except) > 0 {
		var xs []string
		for _, x := range b.except {
			xs = append(xs, quote(x.String()))
		}
		s += ", except: [" + strings.Join(xs, ", ") + "]"
	}
	return s
}

// cidrs declares the address classes the policies admit, as the ipBlocks
// the policies wrote (or the whole address space), carved around the pod
// network, each with the ports every address of the block gets.
func (im *policyImporter) cidrs(pols []*networkingv1.NetworkPolicy) {
	seen := map[string]bool{}
	var blocks []block
	add := func(b block) {
		for _, pod := range im.o.PodCIDRs {
			switch {
			case pod.Bits() <= b.cidr.Bits() && pod.Contains(b.cidr.Addr()):
				return // entirely inside the pod network
			case b.cidr.Bits() < pod.Bits() && b.cidr.Contains(pod.Addr()):
				inExcept := false
				for _, x := range b.except {
					if x.Bits() <= pod.Bits() && x.Contains(pod.Addr()) {
						inExcept = true
					}
				}
				if !inExcept {
					b.except = append(b.except, pod)
				}
			}
		}
		sort.Slice(b.except, func(i, j int) bool { return b.except[i].String() < b.except[j].String() })
		if k := b.text(); !seen[k] {
			seen[k] = true
			blocks = append(blocks, b)
		}
	}
	peerBlock := func(ip *networkingv1.IPBlock) {
		c, err := netip.ParsePrefix(ip.CIDR)
		if err != nil {
			return
		}
		b := block{cidr: c.Masked()}
		for _, x := range ip.Except {
			if p, err := netip.ParsePrefix(x); err == nil {
				b.except = append(b.except, p.Masked())
			}
		}
		add(b)
	}
	for _, p := range pols {
		for _, r := range p.Spec.Ingress {
			for _, peer := range r.From {
				if peer.IPBlock != nil {
					peerBlock(peer.IPBlock)
				}
			}
		}
		for _, r := range p.Spec.Egress {
			for _, peer := range r.To {
				if peer.IPBlock != nil {
					peerBlock(peer.IPBlock)
				}
			}
		}
	}
	add(block{cidr: netip.MustParsePrefix("0.0.0.0/0")})
	add(block{cidr: netip.MustParsePrefix("::/0")})
	sort.SliceStable(blocks, func(i, j int) bool {
		if blocks[i].cidr.Bits() != blocks[j].cidr.Bits() {
			return blocks[i].cidr.Bits() < blocks[j].cidr.Bits()
		}
		return blocks[i].text() < blocks[j].text()
	})
	inPodNet := func(x int) bool {
		for _, pod := range im.o.PodCIDRs {
			if pod.Contains(im.ext[x].Prefixes[0].Addr()) {
				return true
			}
		}
		return false
	}
	for _, s := range im.svcs {
		self := eval.PodEndpoint(s.pod)
		for _, egress := range []bool{true, false} {
			if egress && !im.isEg(s.ns) || !egress && !im.isIn(s.ns) {
				continue
			}
			ports := func(x int) eval.PortSet {
				if egress {
					return im.r.Ports(self, eval.ExternalEndpoint(x))
				}
				return im.r.Ports(eval.ExternalEndpoint(x), self)
			}
			covered := make([]eval.PortSet, len(im.ext))
			for _, b := range blocks {
				var cls []int
				for x := range im.ext {
					if b.contains(im.ext[x].Prefixes[0].Addr()) {
						cls = append(cls, x)
					}
				}
				if len(cls) == 0 {
					continue
				}
				q := eval.AllPorts()
				for _, x := range cls {
					q = q.Intersect(ports(x))
				}
				if !egress && !q.IsAll() {
					q = q.Intersect(s.doc.portSet())
				}
				if q.IsEmpty() {
					continue
				}
				fresh := false
				for _, x := range cls {
					if !q.Subtract(covered[x]).IsEmpty() {
						fresh = true
					}
				}
				if !fresh {
					continue
				}
				for _, x := range cls {
					covered[x] = covered[x].Union(q)
				}
				if egress {
					addEntry(s.doc.calls, fmt.Sprintf("{%s, ports: %s}", b.text(), portValues(q)),
						im.origin(self, eval.ExternalEndpoint(cls[0]), q))
				} else {
					if b.cidr.Bits() <= 8 {
						s.doc.edge = true
					}
					addEntry(s.doc.from, fmt.Sprintf("{%s%s}", b.text(), ownPorts(s.doc, q)),
						im.origin(eval.ExternalEndpoint(cls[0]), self, q))
				}
			}
			for x := range im.ext {
				if inPodNet(x) && !ports(x).IsEmpty() {
					key := s.id() + "|" + addrKey
					if !egress {
						key = addrKey + "|" + s.id()
					}
					im.reasons[key] = fmt.Sprintf("an ipBlock admitted addresses in the pod network (--pod-cidr %s) at %s; pods are named by service, so the import carves the pod network out", joinPrefixes(im.o.PodCIDRs), s.id())
				}
			}
		}
	}
}

func joinPrefixes(ps []netip.Prefix) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, ",")
}

// scan notes what the policies say that the check cannot see: selectors
// that match nothing in the inputs, and matchExpressions, which the import
// turns into the workloads they match today.
func (im *policyImporter) scan(pols []*networkingv1.NetworkPolicy) {
	nsLabels := map[string]labels.Set{}
	for _, n := range im.u.Namespaces {
		l := labels.Set{eval.NamespaceNameLabel: n.Name}
		for k, v := range n.Labels {
			l[k] = v
		}
		nsLabels[n.Name] = l
	}
	matchPods := func(ns []string, s *metav1.LabelSelector) []string {
		sel, err := metav1.LabelSelectorAsSelector(s)
		if err != nil {
			return nil
		}
		var out []string
		for i, pod := range im.u.Pods {
			for _, n := range ns {
				if pod.Namespace == n && pod.Labels != nil && sel.Matches(labels.Set(pod.Labels)) {
					out = append(out, im.podName[i])
				}
			}
		}
		return out
	}
	exprs := func(s *metav1.LabelSelector) bool { return s != nil && len(s.MatchExpressions) > 0 }
	for _, p := range pols {
		ref := "policy " + p.Namespace + "/" + p.Name
		sel := p.Spec.PodSelector
		selected := matchPods([]string{p.Namespace}, &sel)
		if len(selected) == 0 {
			im.notes[fmt.Sprintf("%s: spec.podSelector selects no workload in the inputs; its rules are imported for no one", ref)] = true
		} else if exprs(&sel) {
			im.notes[fmt.Sprintf("%s: spec.podSelector uses matchExpressions; imported as the workloads it selects now (%s), pods that match it later are not covered", ref, strings.Join(selected, ", "))] = true
		}
		check := func(field string, peer networkingv1.NetworkPolicyPeer) {
			if peer.IPBlock != nil {
				return
			}
			nss := []string{p.Namespace}
			if peer.NamespaceSelector != nil {
				nss = nil
				nsSel, err := metav1.LabelSelectorAsSelector(peer.NamespaceSelector)
				if err != nil {
					return
				}
				for _, n := range im.namespaces {
					if nsSel.Matches(nsLabels[n]) {
						nss = append(nss, n)
					}
				}
				if nsSel.Matches(labels.Set{eval.NamespaceNameLabel: verify.OutsideNamespace}) {
					im.notes[fmt.Sprintf("%s: %s.namespaceSelector matches namespaces not in the inputs; imported as the namespaces the inputs name (%s)", ref, field, strings.Join(nss, ", "))] = true
				} else if len(nss) == 0 {
					im.notes[fmt.Sprintf("%s: %s.namespaceSelector matches no namespace in the inputs; nothing imported for it (add the Namespace manifests with their labels)", ref, field)] = true
					return
				}
			}
			if peer.PodSelector == nil {
				return
			}
			got := matchPods(nss, peer.PodSelector)
			podSel, _ := metav1.LabelSelectorAsSelector(peer.PodSelector)
			if len(got) == 0 && !podSel.Matches(labels.Set{}) {
				im.notes[fmt.Sprintf("%s: %s.podSelector matches no workload in the inputs; nothing imported for it", ref, field)] = true
			} else if exprs(peer.PodSelector) && len(got) > 0 {
				im.notes[fmt.Sprintf("%s: %s.podSelector uses matchExpressions; imported as the workloads it matches now (%s)", ref, field, strings.Join(got, ", "))] = true
			}
		}
		for i, r := range p.Spec.Ingress {
			for j, peer := range r.From {
				check(fmt.Sprintf("ingress[%d].from[%d]", i, j), peer)
			}
		}
		for i, r := range p.Spec.Egress {
			for j, peer := range r.To {
				check(fmt.Sprintf("egress[%d].to[%d]", i, j), peer)
			}
		}
	}
}

// finish renders the files, loads them as netdep would and checks them
// against the input policies; every difference becomes a Change with its
// reason.
func (im *policyImporter) finish() (*Result, error) {
	res := &Result{Notes: sortedKeys(im.notes)}
	files, err := im.render(nil)
	if err != nil {
		return nil, err
	}
	spec, err := parseFiles(im.o.Out, files)
	if err != nil {
		return nil, err
	}
	// verify's world gives namespaces no labels but their name: check
	// against the policies with namespaceSelectors resolved to names over
	// the namespaces of the inputs, which select the same pods.
	rep, err := verify.Check(spec, "", ResolveNamespaceSelectors(im.c.Policies, im.c.Namespaces))
	if err != nil {
		return nil, fmt.Errorf("checking the import against the input policies: %w", err)
	}
	res.Check = rep
	// The check's declared side is the import: what the original policies
	// allow beyond it (Excess) is narrowed, what they deny (Missing) widened.
	for _, d := range rep.Excess {
		res.Changes = append(res.Changes, Change{Kind: "narrowed", Source: d.Source, Destination: d.Destination, Ports: d.Ports, Reason: im.reason(d, false)})
	}
	for _, d := range rep.Missing {
		res.Changes = append(res.Changes, Change{Kind: "widened", Source: d.Source, Destination: d.Destination, Ports: d.Ports, Reason: im.reason(d, true)})
	}
	sort.SliceStable(res.Changes, func(i, j int) bool {
		a, b := res.Changes[i], res.Changes[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Reason != b.Reason {
			return a.Reason < b.Reason
		}
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		return a.Destination < b.Destination
	})
	// Write each namespace's changes and notes into its file's header.
	perNS := map[string]*Result{}
	at := func(n string) *Result {
		if perNS[n] == nil {
			perNS[n] = &Result{}
		}
		return perNS[n]
	}
	for _, c := range res.Changes {
		for i, n := range []string{nsOf(c.Source), nsOf(c.Destination)} {
			if im.docs[n] != nil && (i == 0 || n != nsOf(c.Source)) {
				at(n).Changes = append(at(n).Changes, c)
			}
		}
	}
	for _, note := range res.Notes {
		if f := strings.Fields(note); len(f) > 1 && f[0] == "policy" {
			if n := nsOf(strings.TrimSuffix(f[1], ":")); im.docs[n] != nil {
				at(n).Notes = append(at(n).Notes, note)
				continue
			}
		}
		for n := range im.docs {
			at(n).Notes = append(at(n).Notes, note)
		}
	}
	res.Files, err = im.render(perNS)
	return res, err
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// nsOf is the namespace of a check endpoint name ("ns/svc"), "" for
// addresses.
func nsOf(name string) string {
	if strings.HasPrefix(name, "addresses ") {
		return ""
	}
	ns, _, _ := strings.Cut(name, "/")
	return ns
}

func (im *policyImporter) render(perNS map[string]*Result) ([]File, error) {
	var files []File
	for _, n := range sortedKeys(im.docs) {
		d := im.docs[n]
		d.header = []string{
			fmt.Sprintf("Imported by `netdep import policies` from %s.", strings.Join(im.o.Inputs, ", ")),
			"Each entry names the policy rules that allowed it; review, then own this file.",
		}
		if r := perNS[n]; r != nil {
			d.header = append(d.header, "", "Not imported exactly (checked against the original policies):")
			for _, l := range strings.Split(strings.TrimSuffix(r.Report(), "\n"), "\n") {
				d.header = append(d.header, "  "+l)
			}
		}
		files = append(files, File{Name: n + ".yaml", Data: d.render()})
	}
	return files, nil
}

// parseFiles loads files as netdep would read them from dir.
func parseFiles(dir string, files []File) (*schema.Spec, error) {
	var sf []schema.File
	for _, f := range files {
		sf = append(sf, schema.File{Path: path.Join(dir, f.Name), Data: f.Data, Explicit: true})
	}
	spec, probs := schema.Parse(sf)
	if errs := probs.Errors(); len(errs) > 0 {
		var text strings.Builder
		for _, f := range files {
			text.WriteString("--- " + f.Name + "\n" + string(f.Data))
		}
		return nil, fmt.Errorf("the imported files do not load (a netdep bug; please report it):\n%s\n%s", errs.Error(), text.String())
	}
	return spec, nil
}

// reason says why the import allows src -> dst differently.
func (im *policyImporter) reason(d verify.Difference, widened bool) string {
	src, dst := d.Source, d.Destination
	key := func(s string) string {
		if strings.HasPrefix(s, "addresses ") {
			return addrKey
		}
		return s
	}
	if r := im.reasons[key(src)+"|"+key(dst)]; r != "" {
		return r
	}
	if widened {
		if strings.HasPrefix(dst, "kube-system/") && strings.Contains(d.Ports, "53/") {
			return "netdep allows DNS from every pod of an egress-isolated namespace (allow-dns); the original policies did not"
		}
		return "not expected: please report this import as a netdep bug"
	}
	open := func(name string, egress bool) bool {
		for i, n := range im.podName {
			if n == name {
				v := im.ev.Explain(eval.Query{Src: eval.PodEndpoint(i), Dst: eval.PodEndpoint(i), Port: 1})
				if egress {
					return len(v.Egress.Isolating) == 0
				}
				return len(v.Ingress.Isolating) == 0
			}
		}
		return false
	}
	switch {
	case open(dst, false) && im.isIn(nsOf(dst)):
		return fmt.Sprintf("no policy isolated the ingress of %s, but other pods of %s were: netdep isolates a whole namespace, so %s now admits only what the policies named", dst, nsOf(dst), dst)
	case open(src, true) && im.isEg(nsOf(src)):
		return fmt.Sprintf("no policy isolated the egress of %s, but other pods of %s were: netdep isolates a whole namespace, so %s now reaches only what the policies named", src, nsOf(src), src)
	case nsOf(dst) == verify.OutsideNamespace || nsOf(src) == verify.OutsideNamespace:
		return "a namespaceSelector admitted namespaces the inputs do not have; netdep names namespaces, so only the ones in the inputs are imported"
	case strings.HasSuffix(src, "/(unlabelled)") && im.isEg(nsOf(src)):
		return fmt.Sprintf("pods of %s that no workload in the inputs describes: netdep lets them reach only DNS", nsOf(src))
	case strings.HasSuffix(dst, "/(unlabelled)") && im.isIn(nsOf(dst)):
		return fmt.Sprintf("pods of %s that no workload in the inputs describes: netdep admits nothing to them", nsOf(dst))
	case strings.HasSuffix(src, "/(unlabelled)") || strings.HasSuffix(dst, "/(unlabelled)"):
		return "a rule admitted some but not all pods of a namespace by labels no workload carries; netdep imports what every pod of the namespace was allowed"
	}
	return "not expressible as a dependency: narrowed to what every matching pod was allowed"
}

// Report writes r for people: changes grouped by reason, then notes.
func (r *Result) Report() string {
	var b strings.Builder
	var order []string
	groups := map[string][]Change{}
	for _, c := range r.Changes {
		k := c.Kind + ": " + c.Reason
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], c)
	}
	for _, k := range order {
		b.WriteString(k + "\n")
		for _, c := range groups[k] {
			fmt.Fprintf(&b, "  %s -> %s %s\n", c.Source, c.Destination, c.Ports)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	return b.String()
}
