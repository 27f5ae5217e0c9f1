package eval

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// NamespaceNameLabel is the label the API server puts on every namespace,
// with the namespace's name as value; namespaceSelectors may match it.
const NamespaceNameLabel = corev1.LabelMetadataName

// Universe is everything a connection can start or end at.
type Universe struct {
	// Namespaces and their labels. A namespace a pod lives in but that is
	// not listed here exists with no labels but NamespaceNameLabel.
	Namespaces []Namespace
	Pods       []Pod
	// Addresses are prefixes the caller wants kept apart in the address
	// classes (Evaluator.Externals), for example the CIDRs a dependency file
	// declares, so that each maps to whole classes.
	Addresses []netip.Prefix
	// Hosts are DNS names (lower case, no trailing dot) and wildcards
	// ("*.<name>", or "*" for every name) the caller wants as host classes
	// of their own (Evaluator.Externals), for example the hosts a
	// dependency file calls by name. The names CiliumNetworkPolicy toFQDNs
	// rules name are added to them.
	Hosts []string
}

// Namespace is a namespace with its labels; NamespaceNameLabel is added as
// the API server does.
type Namespace struct {
	Name   string
	Labels map[string]string
}

// Pod is one pod. Ports are its containers' ports: a named port in a
// NetworkPolicy resolves against them, by name and protocol (an empty
// protocol is TCP, as the API server defaults it).
type Pod struct {
	Namespace string
	Name      string
	Labels    map[string]string
	Ports     []corev1.ContainerPort
	// IPs, when given, are matched by ipBlock peers. Without IPs a pod is
	// never matched by an ipBlock.
	IPs []netip.Addr
}

// Endpoint is one end of a connection: a pod of the universe (Index into
// Universe.Pods) or, when External, a class of addresses outside the cluster
// (Index into Evaluator.Externals).
type Endpoint struct {
	External bool
	Index    int
}

// PodEndpoint is pod i of the universe.
func PodEndpoint(i int) Endpoint { return Endpoint{Index: i} }

// ExternalEndpoint is address class i (Evaluator.Externals).
func ExternalEndpoint(i int) Endpoint { return Endpoint{External: true, Index: i} }

// External is a class of addresses that every policy treats alike: every
// ipBlock (cidr minus except) either contains all of them or none. A host
// class (Host set) is an external service known by DNS name whose
// addresses are unknown (hosts.go).
type External struct {
	// Prefixes cover the class exactly, sorted; one address family. None
	// for a host class.
	Prefixes []netip.Prefix
	// Host is set for a host class: a name ("api.stripe.com"), or a
	// pattern ("*.googleapis.com", "*") standing for the names it matches
	// that no other host class of the evaluator stands for.
	Host string
}
