package importer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/schema"
)

// readIntents reads Otterize ClientIntents: v1alpha2, v1alpha3 and v1
// (spec.service, spec.calls) and v2alpha1, v2beta1 and v2 (spec.workload,
// spec.targets). Every target becomes an observation or a note that says
// why not: NetworkPolicies are L4, so HTTP paths and methods and Kafka
// topics are imported as the connection to their server, with a note, and
// targets outside the network (databases by their users, cloud IAM) are
// listed as left out.
func (o *Observed) readIntents(name string, data []byte) schema.Problems {
	probs := &problems{file: name}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			p := schema.YAMLError(name, data, err)
			if p.Pos.Line == 0 { // yaml.v3 names no line for the end of the input
				p.Pos.Line = bytes.Count(bytes.TrimRight(data, "\n"), []byte("\n")) + 1
			}
			probs.add(p.Pos.Line, max(p.Pos.Column, 1), "", "%s", p.Message)
			break
		}
		doc := &n
		if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
			doc = doc.Content[0]
		}
		if doc.Kind == yaml.ScalarNode && doc.Tag == "!!null" {
			continue // an empty document
		}
		if doc.Kind != yaml.MappingNode {
			probs.add(doc.Line, doc.Column, "", "expected Hubble flows (the JSON lines of hubble observe -o json) or Otterize ClientIntents (YAML), found %s", schema.Describe(doc))
			continue
		}
		o.intentsDoc(name, doc, probs)
	}
	return probs.done()
}

// get is the value of key in mapping n, nil when absent or n is no mapping.
func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func str(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func items(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// target is one thing a client intends to reach.
type target struct {
	field string // spec path, for notes
	at    *yaml.Node
	// name is "name" or "name.namespace"; kind is "Service" for a
	// Kubernetes Service, else the workload kind if given.
	name, kind string
	internet   *yaml.Node
	// l7 says what the intent narrows beyond L4, for the note.
	l7 string
	// skip says why the target is not a network connection.
	skip string
}

func (o *Observed) intentsDoc(name string, doc *yaml.Node, probs *problems) {
	apiVersion, kind := str(get(doc, "apiVersion")), str(get(doc, "kind"))
	if kind != "ClientIntents" || !strings.HasPrefix(apiVersion, "k8s.otterize.com/") {
		found := strings.TrimSpace(apiVersion + " " + kind)
		if found == "" {
			found = "a mapping without apiVersion and kind"
		}
		probs.add(doc.Line, doc.Column, "", "expected a k8s.otterize.com ClientIntents or Hubble flows (JSON lines), found %s", found)
		return
	}
	meta, spec := get(doc, "metadata"), get(doc, "spec")
	ns := str(get(meta, "namespace"))
	if ns == "" {
		ns = eval.DefaultNamespace
	} else if msg := schema.CheckName("namespace", ns); msg != "" {
		n := get(meta, "namespace")
		probs.add(n.Line, n.Column, "metadata.namespace", "%s", msg)
		return
	}
	clientNode := get(spec, "workload")
	field := "spec.workload.name"
	if clientNode == nil {
		clientNode, field = get(spec, "service"), "spec.service.name"
	}
	client := str(get(clientNode, "name"))
	if client == "" {
		probs.add(doc.Line, doc.Column, field, "ClientIntents %s names no client (spec.workload.name or spec.service.name)", str(get(meta, "name")))
		return
	}
	src := Endpoint{Namespace: ns, Name: client, Kind: str(get(clientNode, "kind"))}
	for _, t := range intentTargets(spec) {
		pos := fmt.Sprintf("%s:%d:%d: %s", name, t.at.Line, t.at.Column, t.field)
		where := fmt.Sprintf("%s:%d", name, t.at.Line)
		switch {
		case t.skip != "":
			o.Notes = append(o.Notes, fmt.Sprintf("%s: %s; left out", pos, t.skip))
		case t.internet != nil:
			o.internetTarget(name, src, t, pos, where)
		case t.name == "":
			o.Notes = append(o.Notes, fmt.Sprintf("%s: names no target (expected kubernetes.name, service.name, kafka.name or internet); left out", pos))
		default:
			tn, tns := t.name, ns
			if i := strings.LastIndex(t.name, "."); i > 0 {
				tn, tns = t.name[:i], t.name[i+1:]
			}
			if msg := schema.CheckName("namespace", tns); msg != "" {
				probs.add(t.at.Line, t.at.Column, t.field, "target %q: %s", t.name, msg)
				continue
			}
			if t.l7 != "" {
				o.Notes = append(o.Notes, fmt.Sprintf("%s: %s; NetworkPolicies cannot say that, so %s/%s -> %s/%s is imported on its ports", pos, t.l7, ns, client, tns, tn))
			}
			o.Observations = append(o.Observations, Observation{Src: src, Dst: Endpoint{Namespace: tns, Name: tn, Kind: t.kind}, Where: where})
		}
	}
}

// intentTargets are the targets of both API generations.
func intentTargets(spec *yaml.Node) []target {
	var out []target
	for i, c := range items(get(spec, "calls")) { // v1alpha2, v1alpha3, v1
		t := target{field: fmt.Sprintf("spec.calls[%d]", i), at: c, name: str(get(c, "name")), kind: str(get(c, "kind"))}
		switch typ := str(get(c, "type")); typ {
		case "internet":
			t.internet = get(c, "internet")
			if t.internet == nil {
				t.internet = &yaml.Node{Kind: yaml.MappingNode}
			}
		case "http":
			t.l7 = "HTTP resources " + httpResources(firstOf(get(c, "HTTPResources"), get(c, "resources")))
		case "kafka":
			t.l7 = "Kafka topics " + kafkaTopics(firstOf(get(c, "kafkaTopics"), get(c, "topics")))
		case "", "kubernetes":
		default:
			t.skip = fmt.Sprintf("a %s intent is not network traffic a NetworkPolicy controls", typ)
		}
		out = append(out, t)
	}
	for i, c := range items(get(spec, "targets")) { // v2alpha1, v2beta1, v2
		t := target{field: fmt.Sprintf("spec.targets[%d]", i), at: c}
		switch {
		case get(c, "kubernetes") != nil:
			k := get(c, "kubernetes")
			t.name, t.kind = str(get(k, "name")), str(get(k, "kind"))
			if h := get(k, "http"); h != nil {
				t.l7 = "HTTP resources " + httpResources(h)
			}
		case get(c, "service") != nil:
			k := get(c, "service")
			t.name, t.kind = str(get(k, "name")), "Service"
			if h := get(k, "http"); h != nil {
				t.l7 = "HTTP resources " + httpResources(h)
			}
		case get(c, "kafka") != nil:
			k := get(c, "kafka")
			t.name, t.l7 = str(get(k, "name")), "Kafka topics "+kafkaTopics(get(k, "topics"))
		case get(c, "internet") != nil:
			t.internet = get(c, "internet")
		default:
			for _, key := range []string{"sql", "aws", "gcp", "azure"} {
				if get(c, key) != nil {
					t.skip = fmt.Sprintf("a %s intent is not network traffic a NetworkPolicy controls", key)
				}
			}
		}
		out = append(out, t)
	}
	return out
}

func firstOf(ns ...*yaml.Node) *yaml.Node {
	for _, n := range ns {
		if n != nil {
			return n
		}
	}
	return nil
}

// httpResources writes "GET,POST /v1/orders" entries.
func httpResources(n *yaml.Node) string {
	var parts []string
	for _, r := range items(n) {
		var methods []string
		for _, m := range items(get(r, "methods")) {
			methods = append(methods, str(m))
		}
		parts = append(parts, strings.TrimSpace(strings.Join(methods, ",")+" "+str(get(r, "path"))))
	}
	if len(parts) == 0 {
		return "(none listed)"
	}
	return strings.Join(parts, "; ")
}

// kafkaTopics writes "orders (produce)" entries.
func kafkaTopics(n *yaml.Node) string {
	var parts []string
	for _, t := range items(n) {
		var ops []string
		for _, op := range items(get(t, "operations")) {
			ops = append(ops, str(op))
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", str(get(t, "name")), strings.Join(ops, ", ")))
	}
	if len(parts) == 0 {
		return "(none listed)"
	}
	return strings.Join(parts, "; ")
}

func (o *Observed) internetTarget(file string, src Endpoint, t target, pos, where string) {
	in := t.internet
	var domains []string
	for _, d := range items(get(in, "domains")) {
		domains = append(domains, str(d))
	}
	if len(domains) > 0 {
		o.Notes = append(o.Notes, fmt.Sprintf("%s: %s/%s calls %s by name; NetworkPolicies cannot name domains, add their addresses as cidr entries", pos, src.Namespace, src.Name, strings.Join(domains, ", ")))
	}
	var ports []int32
	for _, p := range items(get(in, "ports")) {
		n, err := strconv.Atoi(str(p))
		if err != nil || n < 1 || n > 65535 {
			o.Notes = append(o.Notes, fmt.Sprintf("%s.internet.ports: %q is not a port (1 to 65535); left out", pos, str(p)))
			continue
		}
		ports = append(ports, int32(n))
	}
	if len(ports) == 0 {
		ports = []int32{0}
	}
	ips := items(get(in, "ips"))
	if len(ips) == 0 && len(domains) == 0 {
		o.Notes = append(o.Notes, fmt.Sprintf("%s: an internet target without ips or domains; left out", pos))
	}
	for _, ip := range ips {
		pfx, err := parseAddrOrPrefix(str(ip))
		if err != nil {
			o.Notes = append(o.Notes, fmt.Sprintf("%s:%d:%d: %s.internet.ips: %q is not an address or CIDR; left out", file, ip.Line, ip.Column, t.field, str(ip)))
			continue
		}
		for _, p := range ports {
			o.Observations = append(o.Observations, Observation{Src: src, Dst: Endpoint{IP: pfx.Addr()}, Protocol: corev1.ProtocolTCP, Port: p, Where: where})
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
	a = a.Unmap() // ::ffff:a.b.c.d is the IPv4 address; the API refuses the mapped form
	return netip.PrefixFrom(a, a.BitLen()), nil
}
