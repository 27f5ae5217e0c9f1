package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/netdep/netdep/generator/eval"
)

// Endpoint is one end of an observed connection: a workload (Namespace and
// Name set) or an address outside the cluster.
type Endpoint struct {
	Namespace string
	Name      string
	// Labels are the pod's labels when the source knows them.
	Labels map[string]string
	IP     netip.Addr
	// DNSNames are names the address was resolved from (Hubble's
	// destination_names).
	DNSNames []string
}

func (e Endpoint) isPod() bool { return e.Namespace != "" }

// Observation is one or more connections seen from Src to Dst. Port 0 means
// the port is unknown (Otterize intents name no ports).
type Observation struct {
	Src, Dst Endpoint
	Protocol corev1.Protocol
	Port     int32
	Count    int
	// Where is the first place it was seen: file:line.
	Where string
	// Dropped connections were denied where they were seen: imports leave
	// them out, drift reports them when nothing declares them.
	Dropped bool
}

// Observed is what flow files say, with what was set aside and why.
type Observed struct {
	Observations []Observation
	// Skipped counts flows left out, by reason ("reply", "dropped", ...).
	Skipped map[string]int
	Notes   []string
}

// ReadObserved reads Hubble flow logs (JSON lines of `hubble observe -o
// json`) and Otterize ClientIntents (YAML), telling them apart by content.
func ReadObserved(name string, data []byte) (*Observed, error) {
	o := &Observed{Skipped: map[string]int{}}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return o, o.readHubble(name, data)
	}
	return o, o.readIntents(name, data)
}

// Merge adds b's observations to o.
func (o *Observed) Merge(b *Observed) {
	o.Observations = append(o.Observations, b.Observations...)
	for k, v := range b.Skipped {
		o.Skipped[k] += v
	}
	o.Notes = append(o.Notes, b.Notes...)
}

// hubbleFlow is the part of Hubble's flow JSON (flow.proto, as `hubble
// observe -o json` prints it) that the import reads.
type hubbleFlow struct {
	Verdict string `json:"verdict"`
	IP      struct {
		Source      string `json:"source"`
		Destination string `json:"destination"`
	} `json:"IP"`
	L4 map[string]struct {
		DestinationPort int32 `json:"destination_port"`
	} `json:"l4"`
	Source           hubbleEndpoint  `json:"source"`
	Destination      hubbleEndpoint  `json:"destination"`
	DestinationNames []string        `json:"destination_names"`
	IsReply          *bool           `json:"is_reply"`
	Reply            bool            `json:"reply"` // before is_reply (Hubble < 0.8)
	TrafficDirection string          `json:"traffic_direction"`
	L7               json.RawMessage `json:"l7"`
}

type hubbleEndpoint struct {
	Identity  uint32   `json:"identity"`
	Namespace string   `json:"namespace"`
	Labels    []string `json:"labels"`
	PodName   string   `json:"pod_name"`
	Workloads []struct {
		Name string `json:"name"`
		Kind string `json:"kind"`
	} `json:"workloads"`
}

func (o *Observed) readHubble(name string, data []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var wrapper struct {
			Flow *hubbleFlow `json:"flow"`
		}
		if err := json.Unmarshal(text, &wrapper); err != nil {
			return fmt.Errorf("%s:%d: not a Hubble flow: %v", name, line, err)
		}
		f := wrapper.Flow
		if f == nil { // `hubble observe -o jsonpb` of old, or a bare flow
			f = &hubbleFlow{}
			if err := json.Unmarshal(text, f); err != nil {
				return fmt.Errorf("%s:%d: not a Hubble flow: %v", name, line, err)
			}
		}
		o.addHubble(f, fmt.Sprintf("%s:%d", name, line))
	}
	return sc.Err()
}

func (o *Observed) addHubble(f *hubbleFlow, where string) {
	switch {
	case f.IsReply != nil && *f.IsReply || f.Reply:
		o.Skipped["replies"]++
		return
	case f.Verdict != "" && f.Verdict != "FORWARDED" && f.Verdict != "AUDIT" && f.Verdict != "REDIRECTED" && f.Verdict != "DROPPED":
		o.Skipped[strings.ToLower(f.Verdict)+" flows"]++
		return
	case hasReserved(f.Source.Labels, "host", "remote-node", "health"):
		o.Skipped["from the node (health probes)"]++
		return
	}
	var proto corev1.Protocol
	var port int32
	for p, l4 := range f.L4 {
		switch strings.ToUpper(p) {
		case "TCP", "UDP", "SCTP":
			proto, port = corev1.Protocol(strings.ToUpper(p)), l4.DestinationPort
		}
	}
	if proto == "" || port == 0 {
		o.Skipped["without TCP, UDP or SCTP port"]++
		return
	}
	src := hubbleEnd(f.Source, f.IP.Source)
	dst := hubbleEnd(f.Destination, f.IP.Destination)
	dst.DNSNames = f.DestinationNames
	if !src.isPod() && !src.IP.IsValid() || !dst.isPod() && !dst.IP.IsValid() {
		o.Skipped["without a workload or address"]++
		return
	}
	if port == 53 && (dst.Labels["k8s-app"] == "kube-dns" || isDNS(f.L7)) {
		o.Skipped["DNS lookups (allow-dns covers them)"]++
		return
	}
	if src.isPod() && dst.isPod() && f.TrafficDirection == "INGRESS" {
		// A connection between two pods is observed at both ends; count it
		// once, at the sender.
		o.Skipped["seen at both ends (counted once)"]++
		return
	}
	o.Observations = append(o.Observations, Observation{Src: src, Dst: dst, Protocol: proto, Port: port, Count: 1, Where: where, Dropped: f.Verdict == "DROPPED"})
}

func isDNS(l7 json.RawMessage) bool {
	var v struct {
		DNS json.RawMessage `json:"dns"`
	}
	return len(l7) > 0 && json.Unmarshal(l7, &v) == nil && len(v.DNS) > 0
}

func hasReserved(lbls []string, names ...string) bool {
	for _, l := range lbls {
		for _, n := range names {
			if l == "reserved:"+n {
				return true
			}
		}
	}
	return false
}

// hubbleEnd maps a Hubble endpoint to a workload: Kubernetes labels (the
// "k8s:" source, without Cilium's own), named by the app labels, the
// workload owner or the pod name.
func hubbleEnd(e hubbleEndpoint, ip string) Endpoint {
	if e.Namespace == "" {
		addr, _ := netip.ParseAddr(ip)
		return Endpoint{IP: addr}
	}
	out := Endpoint{Namespace: e.Namespace, Labels: map[string]string{}}
	for _, l := range e.Labels {
		k, v, ok := strings.Cut(strings.TrimPrefix(l, "k8s:"), "=")
		if !ok || !strings.HasPrefix(l, "k8s:") || strings.HasPrefix(k, "io.kubernetes.") || strings.HasPrefix(k, "io.cilium.") || volatileLabels[k] {
			continue
		}
		out.Labels[k] = v
	}
	switch {
	case out.Labels["app"] != "":
		out.Name = out.Labels["app"]
	case out.Labels["app.kubernetes.io/name"] != "":
		out.Name = out.Labels["app.kubernetes.io/name"]
	case len(e.Workloads) > 0:
		out.Name = e.Workloads[0].Name
	default:
		out.Name = e.PodName
	}
	return out
}

// readIntents reads Otterize ClientIntents: v1alpha2/v1alpha3/v1
// (spec.service, spec.calls) and v2alpha1/v2beta1/v2 (spec.workload,
// spec.targets).
func (o *Observed) readIntents(name string, data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for doc := 1; ; doc++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: document %d: %w", name, doc, err)
		}
		var ci clientIntents
		if err := n.Decode(&ci); err != nil {
			return fmt.Errorf("%s: document %d: %w", name, doc, err)
		}
		if ci.Kind == "" && ci.APIVersion == "" {
			continue
		}
		if ci.Kind != "ClientIntents" || !strings.HasPrefix(ci.APIVersion, "k8s.otterize.com/") {
			return fmt.Errorf("%s: document %d: expected a k8s.otterize.com ClientIntents or Hubble JSON flows, found %s %s", name, doc, ci.APIVersion, ci.Kind)
		}
		ns := ci.Metadata.Namespace
		if ns == "" {
			ns = eval.DefaultNamespace
		}
		client := ci.Spec.Workload.Name
		if client == "" {
			client = ci.Spec.Service.Name
		}
		where := fmt.Sprintf("%s:%d", name, n.Line)
		if client == "" {
			return fmt.Errorf("%s: ClientIntents %s names no client (spec.workload.name or spec.service.name)", where, ci.Metadata.Name)
		}
		src := Endpoint{Namespace: ns, Name: client}
		type target struct {
			name     string
			internet *otterizeInternet
		}
		var targets []target
		for _, c := range ci.Spec.Calls {
			if c.Type == "internet" || c.Internet != nil {
				targets = append(targets, target{internet: c.Internet})
				continue
			}
			targets = append(targets, target{name: c.Name})
		}
		for _, t := range ci.Spec.Targets {
			switch {
			case t.Kubernetes != nil:
				targets = append(targets, target{name: t.Kubernetes.Name})
			case t.Service != nil:
				targets = append(targets, target{name: t.Service.Name})
			case t.Internet != nil:
				targets = append(targets, target{internet: t.Internet})
			}
		}
		for _, t := range targets {
			if t.internet != nil {
				if len(t.internet.Domains) > 0 {
					o.Notes = append(o.Notes, fmt.Sprintf("%s: %s/%s calls %s by name; NetworkPolicies cannot name domains, add their addresses as cidr entries", where, ns, client, strings.Join(t.internet.Domains, ", ")))
				}
				for _, ip := range t.internet.IPs {
					pfx, err := parseAddrOrPrefix(ip)
					if err != nil {
						o.Notes = append(o.Notes, fmt.Sprintf("%s: internet ip %q: %v", where, ip, err))
						continue
					}
					ports := t.internet.Ports
					if len(ports) == 0 {
						ports = []int32{0}
					}
					for _, p := range ports {
						o.Observations = append(o.Observations, Observation{Src: src, Dst: Endpoint{IP: pfx.Addr()}, Protocol: corev1.ProtocolTCP, Port: p, Count: 0, Where: where})
					}
				}
				continue
			}
			tn, tns, _ := strings.Cut(t.name, ".")
			if tns == "" {
				tns = ns
			}
			o.Observations = append(o.Observations, Observation{Src: src, Dst: Endpoint{Namespace: tns, Name: tn}, Count: 0, Where: where})
		}
	}
}

func parseAddrOrPrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

type clientIntents struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name      string `yaml:"name"`
		Namespace string `yaml:"namespace"`
	} `yaml:"metadata"`
	Spec struct {
		Service  struct{ Name string } `yaml:"service"`
		Workload struct {
			Name string `yaml:"name"`
			Kind string `yaml:"kind"`
		} `yaml:"workload"`
		Calls []struct {
			Name     string            `yaml:"name"`
			Type     string            `yaml:"type"`
			Internet *otterizeInternet `yaml:"internet"`
		} `yaml:"calls"`
		Targets []struct {
			Kubernetes *struct{ Name string } `yaml:"kubernetes"`
			Service    *struct{ Name string } `yaml:"service"`
			Internet   *otterizeInternet      `yaml:"internet"`
		} `yaml:"targets"`
	} `yaml:"spec"`
}

type otterizeInternet struct {
	Domains []string `yaml:"domains"`
	IPs     []string `yaml:"ips"`
	Ports   []int32  `yaml:"ports"`
}

// FlowOptions tune Flows.
type FlowOptions struct {
	Out    string
	Inputs []string
	// Unmanaged namespaces get files that only describe their services
	// (managed: false); kube-system by default in the command.
	Unmanaged []string
	// Cluster, when given, supplies selectors and ports of workloads the
	// flows name (Otterize intents carry no labels and no ports).
	Cluster *Cluster
}

type flowSvc struct {
	ns, name string
	doc      *svcDoc
	ports    map[eval.PortRange]bool
}

// Flows builds dependency files from observations: one service per
// workload seen, the ports it was reached on, a call per observed
// connection and a /32 (or /128) cidr per outside address.
func Flows(obs *Observed, o FlowOptions) (*Result, error) {
	unmanaged := map[string]bool{}
	for _, n := range o.Unmanaged {
		unmanaged[n] = true
	}
	docs := map[string]*nsDoc{}
	svcs := map[string]*flowSvc{}
	notes := map[string]bool{}
	for _, n := range obs.Notes {
		notes[n] = true
	}
	byName := map[string]*Workload{}
	if o.Cluster != nil {
		for _, w := range o.Cluster.Workloads {
			byName[w.Namespace+"/"+w.Name] = w
		}
	}
	used := map[string]bool{}
	svcOf := func(e Endpoint) *flowSvc {
		key := e.Namespace + "/" + e.Name
		if s := svcs[key]; s != nil {
			return s
		}
		d := docs[e.Namespace]
		if d == nil {
			d = newDoc(e.Namespace)
			d.managed = !unmanaged[e.Namespace]
			docs[e.Namespace] = d
		}
		s := &flowSvc{ns: e.Namespace, name: serviceName(e.Name, used, e.Namespace), ports: map[eval.PortRange]bool{}}
		s.doc = d.service(s.name)
		switch w := byName[key]; {
		case w != nil && w.Selector != nil:
			s.doc.selector = w.Selector
		case w != nil:
			s.doc.selector = w.Labels
		case e.Labels["app"] != "":
			s.doc.selector = map[string]string{"app": e.Labels["app"]}
		case e.Labels["app.kubernetes.io/name"] != "":
			s.doc.selector = map[string]string{"app.kubernetes.io/name": e.Labels["app.kubernetes.io/name"]}
		case len(e.Labels) > 0:
			s.doc.selector = e.Labels
		default:
			s.doc.selector = map[string]string{"app": e.Name}
			notes[fmt.Sprintf("%s: no labels known; selector guessed as {app: %s} (pass --manifests to read the workload)", key, e.Name)] = true
		}
		if w := byName[key]; w != nil {
			for _, cp := range w.Ports {
				s.ports[eval.PortRange{Protocol: cp.Protocol, From: cp.ContainerPort, To: cp.ContainerPort}] = true
			}
		}
		svcs[key] = s
		return s
	}
	// Aggregate: one edge per (src, dst, protocol, port).
	type edgeKey struct {
		src, dst string
		ip       netip.Addr
		r        eval.PortRange
	}
	type edge struct {
		src, dst *flowSvc
		ext      Endpoint
		count    int
		where    string
	}
	edges := map[edgeKey]*edge{}
	var keys []edgeKey
	for _, ob := range obs.Observations {
		if ob.Dropped {
			notes[fmt.Sprintf("left out %s -> %s %d/%s: dropped where it was seen (first at %s)", endpointName(ob.Src), endpointName(ob.Dst), ob.Port, ob.Protocol, ob.Where)] = true
			continue
		}
		r := eval.PortRange{Protocol: ob.Protocol, From: ob.Port, To: ob.Port}
		k := edgeKey{r: r}
		e := &edge{}
		if ob.Src.isPod() {
			e.src = svcOf(ob.Src)
			k.src = e.src.ns + "/" + e.src.name
		} else {
			e.ext, k.ip = ob.Src, ob.Src.IP
		}
		if ob.Dst.isPod() {
			e.dst = svcOf(ob.Dst)
			k.dst = e.dst.ns + "/" + e.dst.name
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
			prev.ext.DNSNames = append(prev.ext.DNSNames, ob.Dst.DNSNames...)
			continue
		}
		e.count, e.where = ob.Count, ob.Where
		edges[k] = e
		keys = append(keys, k)
	}
	for _, s := range svcs {
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
		for _, r := range rs {
			name := portName(r)
			if w := byName[s.ns+"/"+s.name]; w != nil {
				for _, cp := range w.Ports {
					if cp.Name != "" && cp.ContainerPort == r.From && cp.Protocol == r.Protocol {
						name = cp.Name
					}
				}
			}
			s.doc.ports = append(s.doc.ports, portDecl{name: name, protocol: r.Protocol, port: r.From})
		}
	}
	for _, k := range keys {
		e := edges[k]
		origin := e.where
		if e.count > 0 {
			origin = fmt.Sprintf("%d %s observed", e.count, plural(e.count, "flow", "flows"))
		} else {
			origin = "intent at " + e.where
		}
		switch {
		case e.src != nil && e.dst != nil:
			if len(e.dst.doc.ports) == 0 {
				notes[fmt.Sprintf("%s/%s calls %s/%s on no known port; declare %s's ports and add the call", e.src.ns, e.src.name, e.dst.ns, e.dst.name, e.dst.name)] = true
				continue
			}
			ref := e.dst.name
			if e.dst.ns != e.src.ns {
				ref = e.dst.ns + "/" + ref
			}
			refs := []string{ref}
			if k.r.From != 0 {
				p, _ := e.dst.doc.portByRange(k.r)
				refs = []string{ref + ":" + p.name}
			} else if len(e.dst.doc.ports) > 5 {
				refs = refPorts(ref, e.dst.doc, e.dst.doc.portSet())
			}
			switch {
			case docs[e.src.ns].managed:
				for _, r := range refs {
					addEntry(e.src.doc.calls, quoteRef(r), origin)
				}
			case docs[e.dst.ns].managed:
				ref = e.src.name
				if e.dst.ns != e.src.ns {
					ref = e.src.ns + "/" + ref
				}
				if k.r.From != 0 {
					p, _ := e.dst.doc.portByRange(k.r)
					ref += ":" + p.name
				}
				addEntry(e.dst.doc.from, quoteRef(ref), origin)
			}
		case e.src != nil:
			if !docs[e.src.ns].managed {
				continue
			}
			if names := uniqueSorted(e.ext.DNSNames); len(names) > 0 {
				origin += " (" + strings.Join(names, ", ") + ")"
			}
			ports := "any"
			if k.r.From != 0 {
				ports = portValues(eval.NewPortSet(k.r))
			} else {
				notes[fmt.Sprintf("%s/%s calls %s with no port named; imported with ports: any", e.src.ns, e.src.name, k.ip)] = true
			}
			addEntry(e.src.doc.calls, fmt.Sprintf("{cidr: %s, ports: %s}", quote(netip.PrefixFrom(k.ip, k.ip.BitLen()).String()), ports), origin)
		default:
			if !docs[e.dst.ns].managed {
				continue
			}
			p, _ := e.dst.doc.portByRange(k.r)
			addEntry(e.dst.doc.from, fmt.Sprintf("{cidr: %s, ports: [%s]}", quote(netip.PrefixFrom(k.ip, k.ip.BitLen()).String()), p.name), origin)
		}
	}
	for _, k := range sortedKeys(obs.Skipped) {
		notes[fmt.Sprintf("left out %s: %d", k, obs.Skipped[k])] = true
	}
	res := &Result{Notes: sortedKeys(notes)}
	for _, n := range sortedKeys(docs) {
		d := docs[n]
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
