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
	pols, objs, cnps, err := loadObjects(filepath.Join(dir, "policies"))
	if err != nil {
		return nil, err
	}
	u.AddPolicyPorts(pols)
	sc := &Scenario{Name: filepath.Base(dir), Universe: u, Policies: pols, Objects: objs, Oracles: []Oracle{g}}
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

// LoadPolicies reads the NetworkPolicies of a directory: the output of a
// kustomization when the directory has one, otherwise every *.yaml / *.yml
// file in it (multi-document allowed). Any other kind is an error: the test
// must not silently drop what it was asked to enforce.
func LoadPolicies(dir string) ([]*networkingv1.NetworkPolicy, error) {
	pols, cnps, objs, err := LoadManifests(dir)
	if err != nil {
		return nil, err
	}
	if len(cnps) > 0 {
		return nil, fmt.Errorf("%s: ClusterNetworkPolicy %q: only networking.k8s.io/v1 NetworkPolicy is expected", dir, cnps[0].Name)
	}
	if len(objs) > 0 {
		return nil, fmt.Errorf("%s: %s %q: only networking.k8s.io/v1 NetworkPolicy is expected", dir, objs[0].GetKind(), objs[0].GetName())
	}
	return pols, nil
}

// LoadManifests reads what netdep generates into a directory, as
// LoadPolicies does: NetworkPolicies, the ClusterNetworkPolicies (v1beta1)
// of guardrails, and the AdminNetworkPolicies and BaselineAdminNetworkPolicy
// (v1alpha1) of guardrails in api: v1alpha1. A tree holding both cluster
// APIs is an error: converting the first would meet the second (one
// BaselineAdminNetworkPolicy per cluster).
func LoadManifests(dir string) ([]*networkingv1.NetworkPolicy, []*v1beta1.ClusterNetworkPolicy, []*unstructured.Unstructured, error) {
	pols, objs, cnps, err := loadObjects(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(objs) > 0 && len(cnps) > 0 {
		return nil, nil, nil, fmt.Errorf("%s: both ClusterNetworkPolicy %q (v1beta1) and %s %q (v1alpha1): one tree, one cluster API", dir, cnps[0].Name, objs[0].GetKind(), objs[0].GetName())
	}
	return pols, cnps, objs, nil
}

// loadObjects reads a directory as LoadPolicies does, and also admits the
// objects of the APIs an agent may enforce beyond NetworkPolicy (apiKinds)
// and ClusterNetworkPolicies (decoded strictly and validated by
// generator/eval, as netdep verify reads them).
func loadObjects(dir string) ([]*networkingv1.NetworkPolicy, []*unstructured.Unstructured, []*v1beta1.ClusterNetworkPolicy, error) {
	var docs []byte
	if _, err := os.Stat(filepath.Join(dir, "kustomization.yaml")); err == nil {
		res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("kustomize build %s: %w", dir, err)
		}
		if docs, err = res.AsYaml(); err != nil {
			return nil, nil, nil, err
		}
	} else {
		files, err := filepath.Glob(filepath.Join(dir, "*.y*ml"))
		if err != nil {
			return nil, nil, nil, err
		}
		sort.Strings(files)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, nil, nil, err
			}
			docs = append(append(docs, b...), []byte("\n---\n")...)
		}
	}
	var out []*networkingv1.NetworkPolicy
	var objs []*unstructured.Unstructured
	var cnps []*v1beta1.ClusterNetworkPolicy
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(docs)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", dir, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 || string(bytes.TrimSpace(doc)) == "---" {
			continue
		}
		var tm metav1.TypeMeta
		if err := sigsyaml.Unmarshal(doc, &tm); err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", dir, err)
		}
		if tm.Kind == "ClusterNetworkPolicy" {
			cs, err := eval.ParseDocuments(doc).ClusterNetworkPolicies()
			if err != nil {
				return nil, nil, nil, fmt.Errorf("%s: %w", dir, err)
			}
			cnps = append(cnps, cs...)
			continue
		}
		if _, ok := apiOf(tm.GroupVersionKind()); ok {
			// The API server validates these strictly (ApplyObjects).
			var o unstructured.Unstructured
			if err := sigsyaml.Unmarshal(doc, &o.Object); err != nil {
				return nil, nil, nil, fmt.Errorf("%s: %w", dir, err)
			}
			if o.GetName() == "" || o.GetNamespace() != "" {
				return nil, nil, nil, fmt.Errorf("%s: %s %q: want a name and no namespace (it is cluster-scoped)", dir, o.GetKind(), o.GetName())
			}
			objs = append(objs, &o)
			continue
		}
		var np networkingv1.NetworkPolicy
		if err := sigsyaml.UnmarshalStrict(doc, &np); err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", dir, err)
		}
		if np.Kind == "" && np.Name == "" {
			continue // a document of comments only
		}
		if np.Kind != "NetworkPolicy" || np.APIVersion != "networking.k8s.io/v1" {
			return nil, nil, nil, fmt.Errorf("%s: %s %q: only networking.k8s.io/v1 NetworkPolicy and the v1alpha1 admin policies are expected", dir, np.Kind, np.Name)
		}
		if np.Namespace == "" {
			return nil, nil, nil, fmt.Errorf("%s: NetworkPolicy %q has no namespace", dir, np.Name)
		}
		out = append(out, &np)
	}
	if len(out) == 0 {
		return nil, nil, nil, fmt.Errorf("%s: no NetworkPolicy found", dir)
	}
	return out, objs, cnps, nil
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
