package importer

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/netdep/netdep/generator/eval"
)

// FlowOptions tune Flows.
type FlowOptions struct {
	Out    string
	Inputs []string
	// Unmanaged namespaces get files that only describe their services
	// (managed: false); kube-system by default in the command.
	Unmanaged []string
	// Cluster, when given, supplies selectors and ports of workloads the
	// flows name (Otterize intents carry no labels and no ports), and the
	// Services an intent may target.
	Cluster *Cluster
}

// Flows builds dependency files from observations: one service per
// workload seen, the ports it was reached on, a call per observed
// connection and a /32 (or /128) cidr per outside address.
func Flows(obs *Observed, o FlowOptions) (*Result, error) {
	fi := &flowImporter{o: o, unmanaged: map[string]bool{}, docs: map[string]*nsDoc{}, svcs: map[string]*flowSvc{}, byPods: map[string]*flowSvc{},
		notes: map[string]bool{}, byName: map[string]*Workload{}, used: map[string]bool{}}
	for _, n := range o.Unmanaged {
		fi.unmanaged[n] = true
	}
	for _, n := range obs.Notes {
		fi.notes[n] = true
	}
	if o.Cluster != nil {
		for _, w := range o.Cluster.Workloads {
			servicePorts(o.Cluster.Services, w)
			fi.byName[w.Namespace+"/"+w.Name] = w
		}
	}
	edges := fi.aggregate(obs)
	fi.selectors()
	fi.mergeIndistinct(edges)
	fi.declarePorts()
	imported, elsewhere := 0, 0
	for _, e := range edges {
		if fi.write(e) {
			imported += e.observations
		} else {
			elsewhere += e.observations
		}
	}
	if elsewhere > 0 {
		fi.notes[fmt.Sprintf("left out traffic that only namespaces netdep does not manage (--unmanaged) take part in: %d", elsewhere)] = true
	}
	for _, k := range sortedKeys(obs.Skipped) {
		fi.notes[fmt.Sprintf("left out %s: %d", k, obs.Skipped[k])] = true
	}
	res := &Result{Notes: sortedKeys(fi.notes), Observations: imported}
	sort.SliceStable(res.Notes, func(i, j int) bool { return naturalLess(res.Notes[i], res.Notes[j]) })
	for _, n := range sortedKeys(fi.docs) {
		d := fi.docs[n]
		d.header = []string{
			fmt.Sprintf("Imported by `netdep import flows` from %s.", strings.Join(o.Inputs, ", ")),
			"Each entry is traffic that was observed: review it, then own this file.",
		}
		res.Files = append(res.Files, File{Name: n + ".yaml", Data: d.render()})
	}
	if _, err := parseFiles(o.Out, res.Files); err != nil {
		return nil, err
	}
	return res, nil
}

type flowImporter struct {
	o         FlowOptions
	unmanaged map[string]bool
	docs      map[string]*nsDoc
	svcs      map[string]*flowSvc
	notes     map[string]bool
	byName    map[string]*Workload
	used      map[string]bool
	// byPods finds a service by its pods (namespace and every label), so
	// one pod seen once with its workload's name and once without is one
	// service, not two with one selector.
	byPods map[string]*flowSvc
}

type flowSvc struct {
	ns, name string
	// w is the workload of the manifests, nil when only the flows know it.
	w *Workload
	// labels are the pod's labels as the flows saw them.
	labels map[string]string
	sel    map[string]string
	doc    *svcDoc
	ports  map[eval.PortRange]bool
}

func (s *flowSvc) id() string { return s.ns + "/" + s.name }

// flowEdge is every observation of one (source, destination, port).
type flowEdge struct {
	src, dst     *flowSvc
	ext          Endpoint
	r            eval.PortRange
	count        int // flows seen; 0 for intents
	observations int // flows, or intents, imported by it
	where        string
}

// aggregate groups observations into edges, in the order first seen.
func (fi *flowImporter) aggregate(obs *Observed) []*flowEdge {
	type edgeKey struct {
		src, dst string
		ip       netip.Addr
		r        eval.PortRange
	}
	edges := map[edgeKey]*flowEdge{}
	var out []*flowEdge
	for _, ob := range obs.Observations {
		if ob.Dropped {
			fi.notes[fmt.Sprintf("left out %s -> %s %d/%s: dropped where it was seen (first at %s)", endpointName(ob.Src), endpointName(ob.Dst), ob.Port, ob.Protocol, ob.Where)] = true
			continue
		}
		r := eval.PortRange{Protocol: ob.Protocol, From: ob.Port, To: ob.Port}
		k := edgeKey{r: r}
		e := &flowEdge{r: r}
		if ob.Src.isPod() {
			e.src = fi.service(ob.Src)
			k.src = e.src.id()
		} else {
			e.ext, k.ip = ob.Src, ob.Src.IP
		}
		if ob.Dst.isPod() {
			e.dst = fi.service(ob.Dst)
			k.dst = e.dst.id()
			if ob.Port != 0 {
				e.dst.ports[r] = true
			}
		} else {
			e.ext, k.ip = ob.Dst, ob.Dst.IP
		}
		if e.src == nil && e.dst == nil {
			continue
		}
		if prev := edges[k]; prev != nil {
			prev.count += ob.Count
			prev.observations += max(ob.Count, 1)
			prev.ext.DNSNames = append(prev.ext.DNSNames, ob.Dst.DNSNames...)
			continue
		}
		e.count, e.where, e.observations = ob.Count, ob.Where, max(ob.Count, 1)
		edges[k] = e
		out = append(out, e)
	}
	return out
}

// service is the service an endpoint belongs to: the workload of the
// manifests of that name, or the one a targeted Kubernetes Service
// selects, else one known by the flow's labels alone.
func (fi *flowImporter) service(e Endpoint) *flowSvc {
	w := fi.byName[e.Namespace+"/"+e.Name]
	if e.Kind == "Service" {
		if sw, note := fi.serviceTarget(e); sw != nil {
			w = sw
		} else if note != "" {
			fi.notes[note] = true
		}
	}
	name := e.Name
	if w != nil {
		name = w.Name
	}
	key := e.Namespace + "/" + name
	if s := fi.svcs[key]; s != nil {
		return s
	}
	pods := ""
	if len(e.Labels) > 0 {
		pods = e.Namespace + "/" + labelKey(e.Labels)
		if s := fi.byPods[pods]; s != nil {
			return s
		}
	}
	d := fi.docs[e.Namespace]
	if d == nil {
		d = newDoc(e.Namespace)
		d.managed = !fi.unmanaged[e.Namespace]
		fi.docs[e.Namespace] = d
	}
	s := &flowSvc{ns: e.Namespace, name: serviceName(name, fi.used, e.Namespace), w: w, labels: e.Labels, ports: map[eval.PortRange]bool{}}
	s.doc = d.service(s.name)
	if w != nil {
		for _, cp := range w.Ports {
			s.ports[eval.PortRange{Protocol: cp.Protocol, From: cp.ContainerPort, To: cp.ContainerPort}] = true
		}
	}
	fi.svcs[key] = s
	if pods != "" {
		fi.byPods[pods] = s
	}
	return s
}

// serviceTarget is the workload a Kubernetes Service an intent targets
// selects (the first by name when several do), or a note saying why
// there is none.
func (fi *flowImporter) serviceTarget(e Endpoint) (*Workload, string) {
	if fi.o.Cluster == nil {
		return nil, fmt.Sprintf("%s/%s is a Service: pass --manifests with it and its workloads to import the pods it selects and its target ports", e.Namespace, e.Name)
	}
	for _, svc := range fi.o.Cluster.Services {
		if svc.Namespace != e.Namespace || svc.Name != e.Name || len(svc.Spec.Selector) == 0 {
			continue
		}
		var ws []*Workload
		for _, w := range fi.o.Cluster.Workloads {
			if w.Namespace == e.Namespace && subset(svc.Spec.Selector, w.Labels) {
				ws = append(ws, w)
			}
		}
		sort.Slice(ws, func(i, j int) bool { return ws[i].Name < ws[j].Name })
		switch len(ws) {
		case 0:
			return nil, fmt.Sprintf("Service %s/%s selects no workload of the manifests; imported by its name", e.Namespace, e.Name)
		case 1:
		default:
			var names []string
			for _, w := range ws {
				names = append(names, w.Name)
			}
			fi.notes[fmt.Sprintf("Service %s/%s selects %s; imported as a call to %s only", e.Namespace, e.Name, joinList(names), ws[0].Name)] = true
		}
		return ws[0], ""
	}
	return nil, fmt.Sprintf("Service %s/%s is not in the manifests; imported by its name", e.Namespace, e.Name)
}

// selectors picks each service's selector: its workload's, else the app
// labels the flows saw, else a guess from its name; two services of a
// namespace whose selectors would select each other's pods (two
// Deployments sharing an app label) get all their labels.
func (fi *flowImporter) selectors() {
	byNS := map[string][]*flowSvc{}
	for _, key := range sortedKeys(fi.svcs) {
		s := fi.svcs[key]
		byNS[s.ns] = append(byNS[s.ns], s)
		switch {
		case s.w != nil && s.w.Selector != nil:
			s.sel = s.w.Selector
		case s.w != nil:
			s.sel = s.w.Labels
		case len(s.labels) > 0:
			s.sel = appLabels(s.labels)
		default:
			s.sel = map[string]string{"app": s.name}
			fi.notes[fmt.Sprintf("%s: no labels known; selector guessed as {app: %s} (pass --manifests to read the workload)", s.id(), s.name)] = true
		}
	}
	for _, ss := range byNS {
		for _, a := range ss {
			for _, b := range ss {
				if a != b && subset(a.sel, b.sel) {
					a.sel, b.sel = fi.allLabels(a), fi.allLabels(b)
				}
			}
		}
	}
	for _, s := range fi.svcs {
		s.doc.selector = s.sel
	}
}

// mergeIndistinct folds together services whose pods no label selector
// tells apart: where every label a service selects on is carried by
// another service's pods too (a Deployment labelled {app: shop} beside one
// labelled {app: shop, component: worker}), one policy selects both, and
// netdep refuses two services with such selectors. The less specific one
// stays, selecting both, with the other's ports and connections; a note
// says so. Edges are repointed.
func (fi *flowImporter) mergeIndistinct(edges []*flowEdge) {
	into := map[*flowSvc]*flowSvc{}
	rep := func(s *flowSvc) *flowSvc {
		for s != nil && into[s] != nil {
			s = into[s]
		}
		return s
	}
	keys := sortedKeys(fi.svcs)
	for changed := true; changed; {
		changed = false
		for _, ka := range keys {
			a := rep(fi.svcs[ka])
			for _, kb := range keys {
				b := rep(fi.svcs[kb])
				if a == b || a.ns != b.ns || !subset(a.sel, fi.allLabels(b)) {
					continue
				}
				into[b] = a
				for r := range b.ports {
					a.ports[r] = true
				}
				delete(fi.docs[b.ns].services, b.name)
				fi.notes[fmt.Sprintf("the pods of %s carry every label of %s's selector %s, so no selector tells them apart: imported as one service %s selecting both (pass --manifests, or give %s's pods a label of their own)",
					b.id(), a.id(), flowMap(a.sel), a.id(), a.name)] = true
				changed = true
			}
		}
	}
	if len(into) == 0 {
		return
	}
	for k, s := range fi.svcs {
		if into[s] != nil {
			delete(fi.svcs, k) // each service once: declarePorts walks them
		}
	}
	for k, s := range fi.byPods {
		fi.byPods[k] = rep(s)
	}
	for _, e := range edges {
		e.src, e.dst = rep(e.src), rep(e.dst)
	}
}

func (fi *flowImporter) allLabels(s *flowSvc) map[string]string {
	switch {
	case s.w != nil:
		return s.w.Labels
	case len(s.labels) > 0:
		return s.labels
	}
	return s.sel
}

// appLabels are the labels that name an application, when a pod carries
// any; else all of them.
func appLabels(l map[string]string) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"app", "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component", "k8s-app"} {
		if v, ok := l[k]; ok {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return l
	}
	return out
}

// declarePorts declares every port a service was reached on, named as its
// workload's containers or Services name them.
func (fi *flowImporter) declarePorts() {
	for _, s := range fi.svcs {
		var rs []eval.PortRange
		for r := range s.ports {
			rs = append(rs, r)
		}
		sort.Slice(rs, func(i, j int) bool {
			if rs[i].Protocol != rs[j].Protocol {
				return rs[i].Protocol < rs[j].Protocol
			}
			return rs[i].From < rs[j].From
		})
		names := map[string]bool{}
		for _, r := range rs {
			name := portName(r)
			if s.w != nil {
				for _, cp := range s.w.Ports {
					if cp.Name != "" && cp.ContainerPort == r.From && cp.Protocol == r.Protocol && !names[cp.Name] {
						name = cp.Name
					}
				}
			}
			names[name] = true
			s.doc.ports = append(s.doc.ports, portDecl{name: name, protocol: r.Protocol, port: r.From})
		}
	}
}

// write adds e's entries to the files, and reports whether it did.
func (fi *flowImporter) write(e *flowEdge) bool {
	origin := fmt.Sprintf("%d %s observed", e.count, plural(e.count, "flow", "flows"))
	if e.count == 0 {
		origin = "intent at " + e.where
	}
	switch {
	case e.src != nil && e.dst != nil:
		return fi.writeService(e, origin)
	case e.src != nil:
		if !fi.docs[e.src.ns].managed {
			return false
		}
		if names := uniqueSorted(e.ext.DNSNames); len(names) > 0 {
			origin += " (" + strings.Join(names, ", ") + ")"
		}
		ports := "any"
		if e.r.From != 0 {
			ports = portValues(eval.NewPortSet(e.r))
		} else {
			fi.notes[fmt.Sprintf("%s calls %s with no port named; imported with ports: any", e.src.id(), e.ext.IP)] = true
		}
		addEntry(e.src.doc.calls, fmt.Sprintf("{cidr: %s, ports: %s}", quote(netip.PrefixFrom(e.ext.IP, e.ext.IP.BitLen()).String()), ports), origin)
		return true
	default:
		if !fi.docs[e.dst.ns].managed {
			return false
		}
		p, _ := e.dst.doc.portByRange(e.r)
		addEntry(e.dst.doc.from, fmt.Sprintf("{cidr: %s, ports: [%s]}", quote(netip.PrefixFrom(e.ext.IP, e.ext.IP.BitLen()).String()), p.name), origin)
		return true
	}
}

// writeService writes a connection between two services: a call in the
// caller's file where it is managed, else a from entry in the callee's. A
// callee whose ports nobody knows (an intent to a workload the manifests
// do not describe) is called on every port, as Otterize's own policies
// allow it, through raw peers on both sides.
func (fi *flowImporter) writeService(e *flowEdge, origin string) bool {
	srcManaged, dstManaged := fi.docs[e.src.ns].managed, fi.docs[e.dst.ns].managed
	if !srcManaged && !dstManaged {
		return false
	}
	if len(e.dst.doc.ports) == 0 {
		fi.notes[fmt.Sprintf("%s -> %s: no port of %s known (pass --manifests with its workload or its Service); imported on every port, as Otterize's own policies allow it", e.src.id(), e.dst.id(), e.dst.id())] = true
		if srcManaged {
			addEntry(e.src.doc.calls, fmt.Sprintf("{namespace: %s, selector: %s, ports: any}", quote(e.dst.ns), flowMap(e.dst.sel)), origin)
		}
		if dstManaged {
			addEntry(e.dst.doc.from, fmt.Sprintf("{namespace: %s, selector: %s, ports: any}", quote(e.src.ns), flowMap(e.src.sel)), origin)
		}
		return true
	}
	ref := e.dst.name
	if e.dst.ns != e.src.ns {
		ref = e.dst.ns + "/" + ref
	}
	refs := []string{ref}
	if e.r.From != 0 {
		p, _ := e.dst.doc.portByRange(e.r)
		refs = []string{ref + ":" + p.name}
	} else if len(e.dst.doc.ports) > 5 {
		refs = refPorts(ref, e.dst.doc, e.dst.doc.portSet())
	}
	if srcManaged {
		for _, r := range refs {
			addEntry(e.src.doc.calls, quoteRef(r), origin)
		}
		return true
	}
	ref = e.src.name
	if e.dst.ns != e.src.ns {
		ref = e.src.ns + "/" + ref
	}
	if e.r.From != 0 {
		p, _ := e.dst.doc.portByRange(e.r)
		ref += ":" + p.name
	}
	addEntry(e.dst.doc.from, quoteRef(ref), origin)
	return true
}

func uniqueSorted(s []string) []string {
	m := map[string]bool{}
	for _, x := range s {
		m[x] = true
	}
	return sortedKeys(m)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// naturalLess orders strings with their runs of digits compared as
// numbers, so that "f.yaml:9:7" comes before "f.yaml:10:7".
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
