package eval

import (
	"encoding/json"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The network plugins' policy kinds netdep reads, as far as their CRDs
// (../shared/crds: cilium.io/v2, projectcalico.org/v3) define them. Every
// field of the CRD is a field here, so decoding is strict; the fields
// outside what the evaluator evaluates are kept raw (json.RawMessage) and
// an object that sets one is not evaluated, with the field named
// (PluginObjects.NotEvaluated).

// CiliumAPI is the CiliumNetworkPolicy API version read.
const CiliumAPI = "cilium.io/v2"

// CalicoAPI is the projectcalico.org API version read.
const CalicoAPI = "projectcalico.org/v3"

// CiliumNetworkPolicy is cilium.io/v2 CiliumNetworkPolicy.
type CiliumNetworkPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              *CiliumSpec     `json:"spec,omitempty"`
	Specs             json.RawMessage `json:"specs,omitempty"`
	Status            json.RawMessage `json:"status,omitempty"`
}

// CiliumSpec is a CiliumNetworkPolicy's spec (api.Rule).
type CiliumSpec struct {
	Description       string                `json:"description,omitempty"`
	EndpointSelector  *metav1.LabelSelector `json:"endpointSelector,omitempty"`
	NodeSelector      json.RawMessage       `json:"nodeSelector,omitempty"`
	EnableDefaultDeny *CiliumDefaultDeny    `json:"enableDefaultDeny,omitempty"`
	Ingress           []CiliumIngressRule   `json:"ingress,omitempty"`
	Egress            []CiliumEgressRule    `json:"egress,omitempty"`
	IngressDeny       json.RawMessage       `json:"ingressDeny,omitempty"`
	EgressDeny        json.RawMessage       `json:"egressDeny,omitempty"`
	// Labels are the policy's own labels (metadata); they select nothing.
	Labels json.RawMessage `json:"labels,omitempty"`
}

// CiliumDefaultDeny is enableDefaultDeny.
type CiliumDefaultDeny struct {
	Ingress *bool `json:"ingress,omitempty"`
	Egress  *bool `json:"egress,omitempty"`
}

// CiliumEgressRule is one spec.egress rule.
type CiliumEgressRule struct {
	ToEndpoints    []metav1.LabelSelector `json:"toEndpoints,omitempty"`
	ToCIDR         []string               `json:"toCIDR,omitempty"`
	ToCIDRSet      []CiliumCIDRRule       `json:"toCIDRSet,omitempty"`
	ToFQDNs        []CiliumFQDN           `json:"toFQDNs,omitempty"`
	ToPorts        []CiliumPortRule       `json:"toPorts,omitempty"`
	ToEntities     json.RawMessage        `json:"toEntities,omitempty"`
	ToServices     json.RawMessage        `json:"toServices,omitempty"`
	ToGroups       json.RawMessage        `json:"toGroups,omitempty"`
	ToNodes        json.RawMessage        `json:"toNodes,omitempty"`
	ToRequires     json.RawMessage        `json:"toRequires,omitempty"`
	ICMPs          json.RawMessage        `json:"icmps,omitempty"`
	Authentication json.RawMessage        `json:"authentication,omitempty"`
}

// CiliumIngressRule is one spec.ingress rule.
type CiliumIngressRule struct {
	FromEndpoints  []metav1.LabelSelector `json:"fromEndpoints,omitempty"`
	FromCIDR       []string               `json:"fromCIDR,omitempty"`
	FromCIDRSet    []CiliumCIDRRule       `json:"fromCIDRSet,omitempty"`
	ToPorts        []CiliumPortRule       `json:"toPorts,omitempty"`
	FromEntities   json.RawMessage        `json:"fromEntities,omitempty"`
	FromGroups     json.RawMessage        `json:"fromGroups,omitempty"`
	FromNodes      json.RawMessage        `json:"fromNodes,omitempty"`
	FromRequires   json.RawMessage        `json:"fromRequires,omitempty"`
	ICMPs          json.RawMessage        `json:"icmps,omitempty"`
	Authentication json.RawMessage        `json:"authentication,omitempty"`
}

// CiliumCIDRRule is one toCIDRSet/fromCIDRSet entry.
type CiliumCIDRRule struct {
	CIDR              string          `json:"cidr,omitempty"`
	Except            []string        `json:"except,omitempty"`
	CIDRGroupRef      json.RawMessage `json:"cidrGroupRef,omitempty"`
	CIDRGroupSelector json.RawMessage `json:"cidrGroupSelector,omitempty"`
}

// CiliumFQDN is one toFQDNs (or rules.dns) selector.
type CiliumFQDN struct {
	MatchName    string `json:"matchName,omitempty"`
	MatchPattern string `json:"matchPattern,omitempty"`
}

// CiliumPortRule is one toPorts entry.
type CiliumPortRule struct {
	Ports          []CiliumPort    `json:"ports,omitempty"`
	Rules          *CiliumL7Rules  `json:"rules,omitempty"`
	Listener       json.RawMessage `json:"listener,omitempty"`
	OriginatingTLS json.RawMessage `json:"originatingTLS,omitempty"`
	TerminatingTLS json.RawMessage `json:"terminatingTLS,omitempty"`
	ServerNames    json.RawMessage `json:"serverNames,omitempty"`
}

// CiliumPort is one port: a number or a name, an optional end port and
// protocol (empty or ANY is every protocol).
type CiliumPort struct {
	Port     string `json:"port"`
	EndPort  int32  `json:"endPort,omitempty"`
	Protocol string `json:"protocol,omitempty"`
}

// CiliumL7Rules are a toPorts entry's L7 rules. DNS rules make Cilium's
// DNS proxy answer only the names they allow; they change no L3/L4
// verdict.
type CiliumL7Rules struct {
	DNS     []CiliumFQDN    `json:"dns,omitempty"`
	HTTP    json.RawMessage `json:"http,omitempty"`
	Kafka   json.RawMessage `json:"kafka,omitempty"`
	L7      json.RawMessage `json:"l7,omitempty"`
	L7Proto json.RawMessage `json:"l7proto,omitempty"`
}

// CalicoNetworkPolicy is projectcalico.org/v3 NetworkPolicy, or
// StagedNetworkPolicy (Kind says which; StagedAction is the staged one's).
type CalicoNetworkPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              CalicoSpec      `json:"spec,omitempty"`
	Status            json.RawMessage `json:"status,omitempty"`
}

// CalicoSpec is a Calico NetworkPolicy's spec.
type CalicoSpec struct {
	Tier string `json:"tier,omitempty"`
	// Order nil is "infinite": applied last in its tier.
	Order                  *float64        `json:"order,omitempty"`
	Selector               string          `json:"selector,omitempty"`
	Types                  []string        `json:"types,omitempty"`
	Ingress                []CalicoRule    `json:"ingress,omitempty"`
	Egress                 []CalicoRule    `json:"egress,omitempty"`
	ServiceAccountSelector json.RawMessage `json:"serviceAccountSelector,omitempty"`
	PerformanceHints       json.RawMessage `json:"performanceHints,omitempty"`
	// StagedAction is StagedNetworkPolicy's only (Set by default).
	StagedAction string `json:"stagedAction,omitempty"`
}

// CalicoRule is one rule: its action, and match criteria (none evaluated).
type CalicoRule struct {
	Action      string          `json:"action"`
	Protocol    json.RawMessage `json:"protocol,omitempty"`
	NotProtocol json.RawMessage `json:"notProtocol,omitempty"`
	ICMP        json.RawMessage `json:"icmp,omitempty"`
	NotICMP     json.RawMessage `json:"notICMP,omitempty"`
	IPVersion   json.RawMessage `json:"ipVersion,omitempty"`
	Source      json.RawMessage `json:"source,omitempty"`
	Destination json.RawMessage `json:"destination,omitempty"`
	HTTP        json.RawMessage `json:"http,omitempty"`
	Metadata    json.RawMessage `json:"metadata,omitempty"`
}

// rawSet reports whether a raw field was written with a value.
func rawSet(r json.RawMessage) bool { return len(r) > 0 && string(r) != "null" }

// StagedKubernetesNetworkPolicy is projectcalico.org/v3
// StagedKubernetesNetworkPolicy: a NetworkPolicy Calico evaluates without
// enforcing it.
type StagedKubernetesNetworkPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              StagedKubernetesSpec `json:"spec,omitempty"`
	Status            json.RawMessage      `json:"status,omitempty"`
}

// StagedKubernetesSpec is a NetworkPolicy's spec and the staged action.
type StagedKubernetesSpec struct {
	networkingv1.NetworkPolicySpec `json:",inline"`
	StagedAction                   string `json:"stagedAction,omitempty"`
}
