package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/netdep/netdep/generator/eval"
)

// Scenario is one run: a universe, the NetworkPolicies to enforce in it, and
// the oracles that say which flows they should allow. Every oracle is held to
// what the agent enforced; a scenario may have several (a fixture's declared
// graph and the product's evaluator), and a difference from any fails it.
type Scenario struct {
	Name     string
	Universe *Universe
	Policies []*networkingv1.NetworkPolicy
	// Objects are policies of the APIs beyond NetworkPolicy (AdminNetwork-
	// Policy, BaselineAdminNetworkPolicy v1alpha1). Only agents that enforce
	// their APIs run the scenario.
	Objects []*unstructured.Unstructured
	// ClusterPolicies are the ClusterNetworkPolicies (v1beta1) the scenario
	// enforces. No agent built here enforces v1beta1, so Objects holds
	// their v1alpha1 equivalents (policy.ToV1Alpha1), which is what the
	// agent is given; the evaluator's oracle judges the v1beta1 objects.
	ClusterPolicies []*v1beta1.ClusterNetworkPolicy
	Oracles         []Oracle
	// Unenforceable, when set, says why no agent the suite knows can
	// enforce the scenario (a ClusterNetworkPolicy set that policy.ToV1Alpha1
	// refuses): it is reported in the tally, not run and not failed.
	Unenforceable string
	// NotEnforced are the network plugins' objects of the tree (Cilium,
	// Calico): no agent here enforces them, and the oracles are computed
	// over what the agents do enforce (plugins.go says why that is exact).
	// They are created in the API server beside the rest when their
	// upstream CRDs are at hand (../shared/crds).
	NotEnforced []PluginObject
	// Unprobed are flows the tree allows that have no address in the
	// universe (egress by DNS name): named, never probed, never counted.
	Unprobed []HostFlow
	// Notes say what the run leaves out and why, for the log.
	Notes []string
}

// APIs lists the APIs beyond NetworkPolicy the scenario's objects use.
func (s *Scenario) APIs() []API { return APIsOf(s.Objects) }

// LoadFixture reads a scenario from dir: universe.yaml (the universe and its
// declared graph, the oracle) and policies/, rendered NetworkPolicy YAML or a
// kustomization (built in memory with krusty, as `kubectl kustomize` would).
func LoadFixture(dir string) (*Scenario, error) {
	data, err := os.ReadFile(filepath.Join(dir, "universe.yaml"))
	if err != nil {
		return nil, err
	}
	u, g, err := parseUniverse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "universe.yaml"), err)
	}
	m, err := loadObjects(filepath.Join(dir, "policies"))
	if err != nil {
		return nil, err
	}
	pols, objs, cnps := m.Policies, m.Admin, m.ClusterPolicies
	u.AddPolicyPorts(pols)
	sc := &Scenario{Name: filepath.Base(dir), Universe: u, Policies: pols, Objects: objs, Oracles: []Oracle{g}}
	if len(m.Plugin) > 0 {
		if len(objs) > 0 || len(cnps) > 0 {
			return nil, fmt.Errorf("%s: plugin objects beside admin or cluster policies: not a combination netdep emits", dir)
		}
		if err := sc.fixturePluginObjects(g, m.Plugin); err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		return sc, nil
	}
	if len(g.Hosts) > 0 {
		return nil, fmt.Errorf("%s: the declared graph has host edges and no CiliumNetworkPolicy allows them", dir)
	}
	if len(cnps) > 0 {
		if len(objs) > 0 {
			return nil, fmt.Errorf("%s: both ClusterNetworkPolicies and v1alpha1 admin policies: the conversion of the first would meet the second (one BaselineAdminNetworkPolicy per cluster)", dir)
		}
		if err := sc.withClusterPolicies(cnps, nil); err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		return sc, nil
	}
	if apis := sc.APIs(); len(apis) > 0 {
		// netdep's evaluator knows NetworkPolicy alone; over admin policies
		// its verdict would be wrong by construction. The fixture's declared
		// graph is the only oracle then.
		sc.Notes = append(sc.Notes, fmt.Sprintf("oracle: the declared graph alone; netdep's evaluator does not know %v", apis))
		return sc, nil
	}
	// The product's evaluator is held to the same packets: the fixture's
	// declared graph and netdep's reading of the policies must both match
	// what the agent enforced.
	eo, err := NewEvalOracle(u, nil, pols)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	sc.Oracles = append(sc.Oracles, eo)
	return sc, nil
}

// fixturePluginObjects gives a fixture its plugin objects. Its declared
// graph says what the tree means once the plugin enforces it: with
// enforced objects (a CiliumNetworkPolicy, a Calico log policy) the graph
// and the evaluator over the NetworkPolicies are the oracles, and the
// graph's host edges must be exactly the CiliumNetworkPolicies' host flows;
// with staged objects only, the graph is what they would enforce (checked
// here, flow by flow, against the evaluator over their would-be
// NetworkPolicies) and the oracle is no policy at all.
func (sc *Scenario) fixturePluginObjects(g *Graph, objs []PluginObject) error {
	eo, err := NewEvalOracle(sc.Universe, nil, sc.Policies)
	if err != nil {
		return err
	}
	wouldBe, err := sc.withPluginObjects(objs, eo)
	if err != nil {
		return err
	}
	if wouldBe == nil {
		sc.Oracles = append(sc.Oracles, eo)
		var want, got []string
		for _, h := range g.Hosts {
			want = append(want, h.From.ID()+" -> host "+h.Host+" "+h.Ports)
		}
		for _, h := range sc.Unprobed {
			got = append(got, h.From.ID()+" -> host "+h.Host+" "+h.Ports)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) {
			return fmt.Errorf("host flows: the declared graph has %q, the CiliumNetworkPolicies allow %q", want, got)
		}
		return nil
	}
	if len(g.Hosts) > 0 {
		return fmt.Errorf("the declared graph has host edges, and no enforced object allows them")
	}
	sc.Universe.AddPolicyPorts(wouldBe)
	scratch := *sc.Universe
	scratch.External = append([]*Endpoint(nil), sc.Universe.External...)
	wo, err := NewEvalOracle(&scratch, nil, wouldBe)
	if err != nil {
		return fmt.Errorf("would be: %w", err)
	}
	denied := 0
	for _, f := range Flows(sc.Universe) {
		if g.Allowed(f) != wo.Allowed(f) {
			return fmt.Errorf("would be: %s -> %s %s: the declared graph says %v, the evaluator over the staged objects %v", f.From.ID(), f.To.ID(), f.Probe, g.Allowed(f), wo.Allowed(f))
		}
		if !g.Allowed(f) {
			denied++
		}
	}
	if denied == 0 {
		return fmt.Errorf("would be: the staged objects deny no flow: the audit scenario would prove nothing")
	}
	sc.Oracles = []Oracle{StagedOnly{}}
	sc.Notes = append(sc.Notes, fmt.Sprintf("would be: the declared graph, equal to the evaluator over the staged objects' NetworkPolicies on every flow (%d denied), checked at load, not probed", denied))
	return nil
}

// StagedOnly is the oracle of a tree of staged objects only: nothing is
// enforced, every flow passes.
type StagedOnly struct{}

func (StagedOnly) Name() string      { return "staged objects only, nothing enforced: every flow passes" }
func (StagedOnly) Allowed(Flow) bool { return true }

// LoadPolicies reads the NetworkPolicies of a directory: the output of a
// kustomization when the directory has one, otherwise every *.yaml / *.yml
// file in it (multi-document allowed). Any other kind is an error: the test
// must not silently drop what it was asked to enforce.
func LoadPolicies(dir string) ([]*networkingv1.NetworkPolicy, error) {
	m, err := LoadManifests(dir)
	if err != nil {
		return nil, err
	}
	if len(m.ClusterPolicies) > 0 {
		return nil, fmt.Errorf("%s: ClusterNetworkPolicy %q: only networking.k8s.io/v1 NetworkPolicy is expected", dir, m.ClusterPolicies[0].Name)
	}
	if len(m.Admin) > 0 {
		return nil, fmt.Errorf("%s: %s %q: only networking.k8s.io/v1 NetworkPolicy is expected", dir, m.Admin[0].GetKind(), m.Admin[0].GetName())
	}
	if len(m.Plugin) > 0 {
		return nil, fmt.Errorf("%s: %s: only networking.k8s.io/v1 NetworkPolicy is expected", dir, m.Plugin[0])
	}
	return m.Policies, nil
}

// Manifests is what netdep generates into a directory, by API.
type Manifests struct {
	Policies []*networkingv1.NetworkPolicy
	// ClusterPolicies are the ClusterNetworkPolicies (v1beta1) of guardrails.
	ClusterPolicies []*v1beta1.ClusterNetworkPolicy
	// Admin are the AdminNetworkPolicies and the BaselineAdminNetworkPolicy
	// (v1alpha1) of guardrails in api: v1alpha1.
	Admin []*unstructured.Unstructured
	// Plugin are the network plugins' own objects (PluginKinds), in file
	// order.
	Plugin []PluginObject
}

// LoadManifests reads what netdep generates into a directory, as
// LoadPolicies does, every API apart. A tree holding both cluster APIs is
// an error: converting the first would meet the second (one
// BaselineAdminNetworkPolicy per cluster).
func LoadManifests(dir string) (*Manifests, error) {
	m, err := loadObjects(dir)
	if err != nil {
		return nil, err
	}
	if len(m.Admin) > 0 && len(m.ClusterPolicies) > 0 {
		return nil, fmt.Errorf("%s: both ClusterNetworkPolicy %q (v1beta1) and %s %q (v1alpha1): one tree, one cluster API", dir, m.ClusterPolicies[0].Name, m.Admin[0].GetKind(), m.Admin[0].GetName())
	}
	return m, nil
}

// loadObjects reads a directory as LoadPolicies does, and also admits the
// objects of the APIs an agent may enforce beyond NetworkPolicy (apiKinds),
// ClusterNetworkPolicies (decoded strictly and validated by generator/eval,
// as netdep verify reads them) and the network plugins' objects
// (PluginKinds, namespaced).
func loadObjects(dir string) (*Manifests, error) {
	var docs []byte
	if _, err := os.Stat(filepath.Join(dir, "kustomization.yaml")); err == nil {
		res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
		if err != nil {
			return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
		}
		if docs, err = res.AsYaml(); err != nil {
			return nil, err
		}
	} else {
		files, err := filepath.Glob(filepath.Join(dir, "*.y*ml"))
		if err != nil {
			return nil, err
		}
		sort.Strings(files)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			docs = append(append(docs, b...), []byte("\n---\n")...)
		}
	}
	var out []*networkingv1.NetworkPolicy
	var objs []*unstructured.Unstructured
	var cnps []*v1beta1.ClusterNetworkPolicy
	var plugin []PluginObject
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(docs)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 || string(bytes.TrimSpace(doc)) == "---" {
			continue
		}
		var tm metav1.TypeMeta
		if err := sigsyaml.Unmarshal(doc, &tm); err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		if tm.Kind == "ClusterNetworkPolicy" {
			cs, err := eval.ParseDocuments(doc).ClusterNetworkPolicies()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", dir, err)
			}
			cnps = append(cnps, cs...)
			continue
		}
		if k, ok := pluginKindOf(tm.GroupVersionKind()); ok {
			var o unstructured.Unstructured
			if err := sigsyaml.Unmarshal(doc, &o.Object); err != nil {
				return nil, fmt.Errorf("%s: %w", dir, err)
			}
			if o.GetName() == "" || o.GetNamespace() == "" {
				return nil, fmt.Errorf("%s: %s %q: want a name and a namespace", dir, o.GetKind(), o.GetName())
			}
			plugin = append(plugin, PluginObject{Kind: k, Obj: &o})
			continue
		}
		if _, ok := apiOf(tm.GroupVersionKind()); ok {
			// The API server validates these strictly (ApplyObjects).
			var o unstructured.Unstructured
			if err := sigsyaml.Unmarshal(doc, &o.Object); err != nil {
				return nil, fmt.Errorf("%s: %w", dir, err)
			}
			if o.GetName() == "" || o.GetNamespace() != "" {
				return nil, fmt.Errorf("%s: %s %q: want a name and no namespace (it is cluster-scoped)", dir, o.GetKind(), o.GetName())
			}
			objs = append(objs, &o)
			continue
		}
		var np networkingv1.NetworkPolicy
		if err := sigsyaml.UnmarshalStrict(doc, &np); err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		if np.Kind == "" && np.Name == "" {
			continue // a document of comments only
		}
		if np.Kind != "NetworkPolicy" || np.APIVersion != "networking.k8s.io/v1" {
			return nil, fmt.Errorf("%s: %s %q: only networking.k8s.io/v1 NetworkPolicy, the v1alpha1 admin policies, ClusterNetworkPolicy and the Cilium and Calico kinds netdep emits are expected", dir, np.Kind, np.Name)
		}
		if np.Namespace == "" {
			return nil, fmt.Errorf("%s: NetworkPolicy %q has no namespace", dir, np.Name)
		}
		out = append(out, &np)
	}
	if len(out) == 0 && !slices.ContainsFunc(plugin, func(p PluginObject) bool { return p.Kind.Staged }) {
		// An audit environment's tree holds staged objects only.
		return nil, fmt.Errorf("%s: no NetworkPolicy found", dir)
	}
	return &Manifests{Policies: out, ClusterPolicies: cnps, Admin: objs, Plugin: plugin}, nil
}

// The fixture format. It mirrors schema v1 closely enough that a fixture
// reads like the dependency files it stands in for.
type fixture struct {
	Namespaces []struct {
		Name    string   `yaml:"name"`
		Managed *bool    `yaml:"managed"`
		Isolate []string `yaml:"isolate"`
	} `yaml:"namespaces"`
	Services []struct {
		ID     string            `yaml:"id"` // namespace/name
		Labels map[string]string `yaml:"labels"`
		Ports  map[string]string `yaml:"ports"` // name -> "8080", "53/UDP", "9000-9010/TCP"
	} `yaml:"services"`
	External []struct {
		Name  string            `yaml:"name"`
		IP    string            `yaml:"ip"`
		Ports map[string]string `yaml:"ports"` // what the host serves
	} `yaml:"external"`
	DNS *struct {
		Namespace string            `yaml:"namespace"`
		Labels    map[string]string `yaml:"labels"`
		CIDR      string            `yaml:"cidr"`
		Ports     []string          `yaml:"ports"`
	} `yaml:"dns"`
	Edges []struct {
		From  peerSpec `yaml:"from"`
		To    peerSpec `yaml:"to"`
		Ports []string `yaml:"ports"` // the word "any" alone: every port
	} `yaml:"edges"`
}

// peerSpec is "namespace/service", or {namespace, labels} (labels omitted:
// every pod of the namespace), or {cidr, except}.
type peerSpec struct {
	Service   string            `yaml:"-"`
	Namespace string            `yaml:"namespace"`
	Labels    map[string]string `yaml:"labels"`
	CIDR      string            `yaml:"cidr"`
	Except    []string          `yaml:"except"`
	// Host is a DNS name (egress only): the edge is a host flow, checked
	// against the CiliumNetworkPolicies' toFQDNs and never probed.
	Host string `yaml:"host"`
}

func (p *peerSpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		p.Service = n.Value
		return nil
	}
	type plain peerSpec
	return n.Decode((*plain)(p))
}

func parseUniverse(data []byte) (*Universe, *Graph, error) {
	var f fixture
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, nil, err
	}
	u := &Universe{}
	var err error
	for _, n := range f.Namespaces {
		ns := Namespace{Name: n.Name, Managed: n.Managed == nil || *n.Managed}
		if ns.Managed && len(n.Isolate) == 0 {
			n.Isolate = []string{"ingress", "egress"}
		}
		for _, d := range n.Isolate {
			switch d {
			case "ingress":
				ns.IsolateIngress = true
			case "egress":
				ns.IsolateEgress = true
			default:
				return nil, nil, fmt.Errorf("namespace %s: isolate %q: want ingress or egress", n.Name, d)
			}
		}
		u.Namespaces = append(u.Namespaces, ns)
	}
	for _, s := range f.Services {
		ns, name, ok := strings.Cut(s.ID, "/")
		if !ok {
			return nil, nil, fmt.Errorf("service %q: want namespace/name", s.ID)
		}
		e := &Endpoint{Namespace: ns, Name: name, Labels: s.Labels}
		if e.Labels == nil {
			e.Labels = map[string]string{"app": name}
		}
		if e.Ports, err = parseNamedPorts(s.Ports); err != nil {
			return nil, nil, fmt.Errorf("service %s: %w", s.ID, err)
		}
		u.Pods = append(u.Pods, e)
	}
	for _, x := range f.External {
		ip, err := netip.ParseAddr(x.IP)
		if err != nil || !ip.Is4() {
			return nil, nil, fmt.Errorf("external %s: want an IPv4 address, got %q", x.Name, x.IP)
		}
		ports, err := parseNamedPorts(x.Ports)
		if err != nil {
			return nil, nil, fmt.Errorf("external %s: %w", x.Name, err)
		}
		u.External = append(u.External, &Endpoint{Name: x.Name, IP: ip, Ports: ports})
	}
	if err := u.Complete(); err != nil {
		return nil, nil, err
	}
	g := &Graph{U: u}
	if f.DNS != nil {
		peer, err := resolvePeer(u, peerSpec{Namespace: f.DNS.Namespace, Labels: f.DNS.Labels, CIDR: f.DNS.CIDR})
		if err != nil {
			return nil, nil, fmt.Errorf("dns: %w", err)
		}
		ports, _, err := parsePorts(f.DNS.Ports)
		if err != nil {
			return nil, nil, fmt.Errorf("dns: %w", err)
		}
		g.AddDNS(peer, ports)
	}
	for i, e := range f.Edges {
		if e.To.Host != "" {
			from := u.Endpoint(e.From.Service)
			if e.From.Service == "" || from == nil || !from.IsPod() {
				return nil, nil, fmt.Errorf("edges[%d].from: a host edge needs a service as caller", i)
			}
			ports, anyPort, err := parsePorts(e.Ports)
			if err != nil {
				return nil, nil, fmt.Errorf("edges[%d]: %w", i, err)
			}
			g.Hosts = append(g.Hosts, HostFlow{From: from, Host: e.To.Host, Ports: portsText(ports, anyPort)})
			continue
		}
		if e.From.Host != "" {
			return nil, nil, fmt.Errorf("edges[%d].from: a host has no address to receive from", i)
		}
		from, err := resolvePeer(u, e.From)
		if err != nil {
			return nil, nil, fmt.Errorf("edges[%d].from: %w", i, err)
		}
		to, err := resolvePeer(u, e.To)
		if err != nil {
			return nil, nil, fmt.Errorf("edges[%d].to: %w", i, err)
		}
		ports, anyPort, err := parsePorts(e.Ports)
		if err != nil {
			return nil, nil, fmt.Errorf("edges[%d]: %w", i, err)
		}
		if err := g.AddEdge(from, to, ports, anyPort); err != nil {
			return nil, nil, fmt.Errorf("edges[%d]: %w", i, err)
		}
	}
	return u, g, nil
}

func parseNamedPorts(m map[string]string) ([]Port, error) {
	var out []Port
	for name, v := range m {
		p, err := ParsePort(v)
		if err != nil {
			return nil, err
		}
		p.Name = name
		out = append(out, p)
	}
	sortPorts(out)
	return out, nil
}

func parsePorts(ss []string) ([]Port, bool, error) {
	if len(ss) == 1 && ss[0] == "any" {
		return nil, true, nil
	}
	if len(ss) == 0 {
		return nil, false, fmt.Errorf("ports: want at least one port, or [any]")
	}
	var out []Port
	for _, s := range ss {
		p, err := ParsePort(s)
		if err != nil {
			return nil, false, err
		}
		out = append(out, p)
	}
	return out, false, nil
}

func resolvePeer(u *Universe, p peerSpec) (Peer, error) {
	switch {
	case p.Service != "":
		e := u.Endpoint(p.Service)
		if e == nil || !e.IsPod() {
			return Peer{}, fmt.Errorf("unknown service %q", p.Service)
		}
		return Peer{Service: e}, nil
	case p.CIDR != "":
		c, err := netip.ParsePrefix(p.CIDR)
		if err != nil {
			return Peer{}, err
		}
		peer := Peer{CIDR: c}
		for _, x := range p.Except {
			xc, err := netip.ParsePrefix(x)
			if err != nil {
				return Peer{}, err
			}
			peer.Except = append(peer.Except, xc)
		}
		return peer, nil
	case p.Namespace != "":
		if u.Namespace(p.Namespace) == nil {
			return Peer{}, fmt.Errorf("unknown namespace %q", p.Namespace)
		}
		return Peer{Namespace: p.Namespace, Labels: p.Labels, AllPods: p.Labels == nil}, nil
	}
	return Peer{}, fmt.Errorf("want a service, {namespace, labels} or {cidr, except}")
}

func sortPorts(ps []Port) {
	sort.Slice(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Protocol != b.Protocol {
			return a.Protocol < b.Protocol
		}
		if a.Port != b.Port {
			return a.Port < b.Port
		}
		if a.EndPort != b.EndPort {
			return a.EndPort < b.EndPort
		}
		return a.Name < b.Name
	})
}
