package e2e

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Universe is the world a scenario runs in: the namespaces, one pod per
// service (its labels, its declared ports), an unlabelled pod per managed
// namespace, a pod in an unmanaged namespace, the DNS pods, and addresses
// outside the cluster. It is what PRODUCT.md section 4 evaluates over.
//
// A Universe comes from a fixture file (universe.yaml) today and from the
// product's schema.Spec later; the run only sees this struct.
type Universe struct {
	Namespaces []Namespace
	// Pods are sorted by ID.
	Pods []*Endpoint
	// External are hosts outside the cluster (in their own network
	// namespaces, routed through the node like anything off-cluster).
	External []*Endpoint
	// PolicyPorts are the numeric ports the policies name: probed too, so a
	// rule towards an outside address on a port no pod declares is seen.
	PolicyPorts []Port
}

// AddPolicyPorts records every numeric port (and range) the policies name.
func (u *Universe) AddPolicyPorts(pols []*networkingv1.NetworkPolicy) {
	add := func(ports []networkingv1.NetworkPolicyPort) {
		for _, p := range ports {
			if p.Port == nil || p.Port.Type != intstr.Int {
				continue // named ports resolve to declared container ports
			}
			pp := Port{Protocol: corev1.ProtocolTCP, Port: p.Port.IntVal}
			if p.Protocol != nil {
				pp.Protocol = *p.Protocol
			}
			if p.EndPort != nil {
				pp.EndPort = *p.EndPort
			}
			u.PolicyPorts = append(u.PolicyPorts, pp)
		}
	}
	for _, np := range pols {
		for _, r := range np.Spec.Ingress {
			add(r.Ports)
		}
		for _, r := range np.Spec.Egress {
			add(r.Ports)
		}
	}
}

// Namespace is one namespace and how the policies isolate it.
type Namespace struct {
	Name           string
	Managed        bool
	IsolateIngress bool
	IsolateEgress  bool
}

// Endpoint is one probe source and target: a pod or an external host.
type Endpoint struct {
	// Namespace is "" for an external host.
	Namespace string
	Name      string
	Labels    map[string]string
	// Ports are the declared container ports (what the pod spec lists).
	Ports []Port
	IP    netip.Addr
}

// ID is "namespace/name" for a pod and "external/name" for a host outside
// the cluster.
func (e *Endpoint) ID() string {
	if e.Namespace == "" {
		return "external/" + e.Name
	}
	return e.Namespace + "/" + e.Name
}

// IsPod tells pods from external hosts.
func (e *Endpoint) IsPod() bool { return e.Namespace != "" }

// Port is a port or port range with its protocol; Name is "" for unnamed.
type Port struct {
	Name     string
	Protocol corev1.Protocol
	Port     int32
	EndPort  int32 // 0 for a single port
}

func (p Port) String() string {
	s := strconv.Itoa(int(p.Port))
	if p.EndPort != 0 {
		s += "-" + strconv.Itoa(int(p.EndPort))
	}
	return s + "/" + string(p.Protocol)
}

// Contains reports whether one probe (port, protocol) falls in p.
func (p Port) Contains(port int32, proto corev1.Protocol) bool {
	if proto != p.Protocol {
		return false
	}
	if p.EndPort == 0 {
		return port == p.Port
	}
	return port >= p.Port && port <= p.EndPort
}

// ParsePort reads "8080", "53/UDP", "9000-9010/TCP" (the schema's forms).
func ParsePort(s string) (Port, error) {
	p := Port{Protocol: corev1.ProtocolTCP}
	num, proto, ok := strings.Cut(strings.TrimSpace(s), "/")
	if ok {
		p.Protocol = corev1.Protocol(strings.ToUpper(proto))
		switch p.Protocol {
		case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		default:
			return Port{}, fmt.Errorf("port %q: protocol must be TCP, UDP or SCTP", s)
		}
	}
	lo, hi, isRange := strings.Cut(num, "-")
	a, err := strconv.ParseUint(lo, 10, 16)
	if err != nil || a == 0 {
		return Port{}, fmt.Errorf("port %q: want a number 1-65535", s)
	}
	p.Port = int32(a)
	if isRange {
		b, err := strconv.ParseUint(hi, 10, 16)
		if err != nil || b <= a {
			return Port{}, fmt.Errorf("port %q: want a range first-last with first < last", s)
		}
		p.EndPort = int32(b)
	}
	return p, nil
}

// Probe is one (port, protocol) that a target is probed on.
type Probe struct {
	Port     int32
	Protocol corev1.Protocol
}

func (p Probe) String() string { return strconv.Itoa(int(p.Port)) + "/" + string(p.Protocol) }

// sampleUndeclared are probed on every target although nobody declares them:
// an allow-all that slipped through shows up there.
var sampleUndeclared = []Probe{{4999, corev1.ProtocolTCP}, {4999, corev1.ProtocolUDP}}

// Namespace returns the namespace of that name, nil if unknown.
func (u *Universe) Namespace(name string) *Namespace {
	for i := range u.Namespaces {
		if u.Namespaces[i].Name == name {
			return &u.Namespaces[i]
		}
	}
	return nil
}

// Endpoints is every pod then every external host.
func (u *Universe) Endpoints() []*Endpoint {
	return append(append([]*Endpoint(nil), u.Pods...), u.External...)
}

// Endpoint finds a pod or external host by ID.
func (u *Universe) Endpoint(id string) *Endpoint {
	for _, e := range u.Endpoints() {
		if e.ID() == id {
			return e
		}
	}
	return nil
}

// ProbePorts is what every endpoint listens on and is probed on: every
// declared port of the universe and every numeric port of the policies (both ends of a range, and the port just past
// it), plus a sample of undeclared ports. Every target listens on all of them,
// so a rule that admits the right peer on the wrong port, or a peer selector
// that matches too many pods, is caught. SCTP is not probed (Go has no SCTP
// sockets); Unprobed lists what was left out for that reason.
func (u *Universe) ProbePorts() (probes []Probe, unprobed []Port) {
	seen := map[Probe]bool{}
	add := func(p Probe) {
		if p.Port > 0 && p.Port <= 65535 && !seen[p] {
			seen[p] = true
			probes = append(probes, p)
		}
	}
	declared := u.PolicyPorts
	for _, e := range u.Endpoints() {
		declared = append(declared, e.Ports...)
	}
	for _, p := range declared {
		if p.Protocol == corev1.ProtocolSCTP {
			unprobed = append(unprobed, p)
			continue
		}
		add(Probe{p.Port, p.Protocol})
		if p.EndPort != 0 {
			add(Probe{p.EndPort, p.Protocol})
			add(Probe{p.EndPort + 1, p.Protocol})
		}
	}
	for _, p := range sampleUndeclared {
		add(p)
	}
	sort.Slice(probes, func(i, j int) bool {
		if probes[i].Port != probes[j].Port {
			return probes[i].Port < probes[j].Port
		}
		return probes[i].Protocol < probes[j].Protocol
	})
	return probes, unprobed
}

// Addressing inside the namespaces a run creates (never anything else): the
// node's InternalIP, which is also every pod's link-scoped gateway, and the
// pods' /32 addresses.
var (
	nodeIP  = netip.MustParseAddr("10.244.0.1")
	podBase = netip.MustParseAddr("10.244.1.10")
	// testbedRange holds the node and pod addresses.
	testbedRange = netip.MustParsePrefix("10.244.0.0/16")
)

// Complete adds the pods every universe has (an unlabelled pod in each
// namespace: in a managed one it is what default-deny alone governs, in an
// unmanaged one it is the pod a too-wide namespace peer would wrongly admit),
// sorts, checks and gives pods their addresses.
func (u *Universe) Complete() error {
	sort.Slice(u.Namespaces, func(i, j int) bool { return u.Namespaces[i].Name < u.Namespaces[j].Name })
	for _, ns := range u.Namespaces {
		if u.Endpoint(ns.Name+"/unlabelled") == nil {
			u.Pods = append(u.Pods, &Endpoint{Namespace: ns.Name, Name: "unlabelled"})
		}
	}
	sort.Slice(u.Pods, func(i, j int) bool { return u.Pods[i].ID() < u.Pods[j].ID() })
	sort.Slice(u.External, func(i, j int) bool { return u.External[i].ID() < u.External[j].ID() })
	seen := map[string]bool{}
	ip := podBase
	for _, p := range u.Pods {
		if u.Namespace(p.Namespace) == nil {
			return fmt.Errorf("pod %s: namespace %q is not in the universe", p.ID(), p.Namespace)
		}
		if seen[p.ID()] {
			return fmt.Errorf("pod %s: defined twice", p.ID())
		}
		seen[p.ID()] = true
		p.IP = ip
		ip = ip.Next()
	}
	for _, e := range u.External {
		if !e.IP.IsValid() || !e.IP.Is4() {
			return fmt.Errorf("%s: want an IPv4 address", e.ID())
		}
		if testbedRange.Contains(e.IP) {
			return fmt.Errorf("%s: %s is inside the test bed's own %s", e.ID(), e.IP, testbedRange)
		}
		if seen[e.ID()] {
			return fmt.Errorf("%s: defined twice", e.ID())
		}
		seen[e.ID()] = true
	}
	if len(u.Pods)+len(u.External) > 200 {
		return fmt.Errorf("universe has %d endpoints; at most 200", len(u.Pods)+len(u.External))
	}
	return nil
}
