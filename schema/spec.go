package schema

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// Spec is the validated, resolved input of one run. Everything in it is sorted
// and every reference is bound, so consumers never range over a map.
type Spec struct {
	// Environments holds one resolved view per environment the project
	// file declares, sorted by name. Without a project file the run has one
	// implicit environment, named "" everywhere below (see Implicit).
	Environments []*Environment

	// Namespaces are every namespace a dependency file describes, managed or
	// not, sorted by name.
	Namespaces []*Namespace

	// ProjectFile is the path of the project file, "" when there is none.
	ProjectFile string

	// Layout is the project's choice of output layout ("auto",
	// "environment" or "namespace"); "" when the project does not say.
	Layout string

	// Exceptions are every entry's exception, sorted by name.
	Exceptions []*Exception
	// ExceptionWarnDays is the project file's exceptions.warnDays, nil
	// when it sets none (see WarnDays).
	ExceptionWarnDays *int
}

// WarnDays is how many days before expiry CheckExpiry notes an exception:
// the project file's exceptions.warnDays, else DefaultExceptionWarnDays.
func (s *Spec) WarnDays() int {
	if s.ExceptionWarnDays != nil {
		return *s.ExceptionWarnDays
	}
	return DefaultExceptionWarnDays
}

// EnvNames returns the names of the environments a run produces: the
// declared ones, or the single implicit environment "".
func (s *Spec) EnvNames() []string {
	if len(s.Environments) == 0 {
		return []string{""}
	}
	names := make([]string, len(s.Environments))
	for i, e := range s.Environments {
		names[i] = e.Name
	}
	return names
}

// Implicit says whether the run has only the implicit environment "": no
// project file declares any, so the tree is a base without overlays.
func (s *Spec) Implicit() bool {
	return len(s.Environments) == 0 || len(s.Environments) == 1 && s.Environments[0].Name == ""
}

// Environment returns the resolved view of one environment, nil if unknown.
func (s *Spec) Environment(name string) *Environment {
	for _, e := range s.Environments {
		if e.Name == name {
			return e
		}
	}
	return nil
}

// Namespace returns the namespace of that name, nil if none describes it.
func (s *Spec) Namespace(name string) *Namespace {
	for _, ns := range s.Namespaces {
		if ns.Name == name {
			return ns
		}
	}
	return nil
}

// Namespace is one Kubernetes namespace as the dependency files describe it.
type Namespace struct {
	Name string
	// Managed namespaces get policies; unmanaged ones only describe services
	// that others call or are called by.
	Managed bool
	// IsolateIngress and IsolateEgress are the directions netdep isolates in
	// this namespace (both by default). A direction that is not isolated is
	// left to whatever else the cluster has: netdep emits no policyType for it.
	IsolateIngress bool
	IsolateEgress  bool
	// Sources are the files that describe this namespace, sorted.
	Sources []string
	// Services are sorted by name.
	Services []*Service
}

// Service is one workload: the pods its selector matches, in its namespace.
type Service struct {
	Namespace string
	Name      string
	// Selector is the pods' labels (matchLabels); {app: <name>} by default.
	Selector map[string]string
	// Ports are the ports the pods listen on, sorted by (protocol, port,
	// endPort, name).
	Ports []Port
	// Environments limits where the service exists, sorted; nil means every
	// environment.
	Environments []string
	// Source is where the service is declared (its key in services:).
	Source Pos
	// Edge marks a service meant to be reachable from the internet: ingress
	// from very wide address blocks is then intended, not a warning.
	Edge bool
}

// ID is "namespace/name", the service's identity in messages and reports.
func (s *Service) ID() string { return s.Namespace + "/" + s.Name }

// Port is one port or port range with its protocol.
type Port struct {
	// Name is the declared name, "" for ports written as numbers.
	Name     string
	Protocol corev1.Protocol
	Port     int32
	// EndPort is the last port of a range, 0 for a single port.
	EndPort int32
}

// Direction says which side of a connection a Rule sits on.
type Direction string

const (
	// Ingress rules admit connections into the rule's service.
	Ingress Direction = "Ingress"
	// Egress rules let the rule's service open connections.
	Egress Direction = "Egress"
)

// PeerKind says what a Peer names.
type PeerKind int

const (
	// PeerService is another declared service (pods in a known namespace).
	PeerService PeerKind = iota
	// PeerCIDR is one IP block outside (or inside) the cluster.
	PeerCIDR
	// PeerSelector is a raw peer: pods matching Selector in namespace
	// Namespace, written directly in a dependency file.
	PeerSelector
	// PeerHost is an external service named by DNS (a calls entry's
	// host:) in an environment whose plugin allows egress by name
	// (PluginCilium) and that pins no addresses for it. Where the
	// environment pins the host's addresses (hosts: in the project file),
	// the entry resolves to PeerCIDR rules instead, with Host set.
	PeerHost
)

// Peer is the far end of a Rule.
type Peer struct {
	Kind PeerKind

	// Service is set for PeerService.
	Service *Service

	// CIDR and Except are set for PeerCIDR: one canonical prefix (no host
	// bits) and the prefixes inside it that are carved out, sorted.
	CIDR   string
	Except []string
	// CIDRName is the named set the block came from, "" for a literal.
	CIDRName string

	// Host is set for PeerHost: a lower-case DNS name without trailing
	// dot, or a wildcard "*.<name>" (the "*" is exactly one leftmost
	// label, as in Cilium's matchPattern). It is also set on the PeerCIDR
	// rules a pinned host resolves to, so messages and reports name the
	// host ("host api.stripe.com") instead of the address.
	Host string

	// Namespace and Selector are set for PeerSelector. Namespace is always a
	// namespace name (the rule's own namespace when the file omitted it).
	// A nil Selector means every pod in that namespace.
	Namespace string
	Selector  map[string]string
}

// Rule is one resolved intent of one service in one environment: its pods may
// send to (Egress) or receive from (Ingress) Peer on Ports.
//
// An edge A -> B:p between two services yields two rules: Egress on A with
// Peer B, and Ingress on B with Peer A, both on B's port p. Whether a rule
// turns into a policy rule depends on the rule's namespace being managed and
// isolated in that direction; the policy generator decides that, not schema.
type Rule struct {
	// Service is the local end: the pods the resulting policy selects.
	Service   *Service
	Direction Direction
	Peer      Peer
	// Ports are the destination ports: the callee's ports (named ports
	// already resolved to numbers; Name kept for messages). AnyPort rules
	// have none.
	Ports   []Port
	AnyPort bool
	// Source is the position of the intent in its file (the calls or from
	// entry), used for annotations, messages and explanations.
	Source Pos
	// OverriddenBy is the guardrail the entry says denies it (its
	// overriddenBy), "" for none: the edge is declared, its policies
	// allow it, and the guardrail is expected to win.
	OverriddenBy string
	// Exception is the exception the entry is, nil for an ordinary one.
	Exception *Exception
}

// Environment is the resolved view of a Spec in one environment: only the
// services and rules that exist there, with named CIDR sets expanded and the
// cluster defaults merged with the environment's overrides.
type Environment struct {
	// Name is the environment's name, "" for the implicit one.
	Name string
	// Services are the services that exist in this environment, sorted by
	// (namespace, name).
	Services []*Service
	// Rules are sorted by (service namespace, service name, direction,
	// source position, peer).
	Rules []Rule
	// DNS is where pods resolve names; nil when the project turns DNS egress
	// off.
	DNS *DNS
	// PodCIDRs and ServiceCIDRs are the cluster's pod and service address
	// ranges as the project file declares them (canonical, sorted); empty
	// when it does not. The loader uses them only to warn about ipBlock
	// rules that cover the cluster itself.
	PodCIDRs     []string
	ServiceCIDRs []string
	// Guardrails are the environment's cluster guardrails; nil when the
	// project file sets none (per-namespace default-deny NetworkPolicies,
	// no Admin rules).
	Guardrails *Guardrails
	// Sensitive are the namespaces the project file marks sensitive in this
	// environment (sorted, each a namespace the dependency files describe):
	// the security report lists the flows into them from elsewhere. It
	// changes no policy.
	Sensitive []string

	// Plugin is the enforcement the environment's cluster offers (the
	// project file's plugin:, PluginKubernetes by default): it decides
	// which objects beyond networking.k8s.io/v1 generate may emit.
	Plugin Plugin
	// Mode is the rollout mode (mode:, ModeEnforce by default). In
	// ModeAudit nothing netdep emits denies traffic: on calico every
	// object is written staged, on cilium the agent's policy audit mode
	// decides (see docs/plugins.md).
	Mode Mode
	// LogDenied is log: denied: every packet netdep's default deny drops
	// is logged (calico: a Log rule before each default deny; cilium:
	// Hubble records policy drops, no object).
	LogDenied bool
	// Hosts are the addresses the project file pins for host names in
	// this environment (hosts:, the cluster's merged with the
	// environment's, an environment's entry replacing the cluster's of
	// the same name), sorted by name.
	Hosts []PinnedHost
}

// Plugin is an environment's network plugin, as far as netdep cares.
type Plugin string

// The plugins netdep emits for.
const (
	// PluginKubernetes is plain networking.k8s.io/v1 (any plugin).
	PluginKubernetes Plugin = "kubernetes"
	// PluginCilium adds cilium.io/v2 CiliumNetworkPolicies (egress by
	// DNS name).
	PluginCilium Plugin = "cilium"
	// PluginCalico adds projectcalico.org/v3 policies (logging of
	// denied packets, staged policies for audit).
	PluginCalico Plugin = "calico"
)

// Mode is an environment's rollout mode.
type Mode string

// The rollout modes.
const (
	ModeEnforce Mode = "enforce"
	ModeAudit   Mode = "audit"
)

// PinnedHost is one host name's addresses in one environment.
type PinnedHost struct {
	// Name is the host as hosts: spells it (a name or "*.<name>").
	Name string
	// CIDRs are canonical prefixes, sorted.
	CIDRs []string
	// Source is the position of the name's key in the project file.
	Source Pos
}

// Pinned returns the addresses env pins for host, nil when it pins none.
func (e *Environment) Pinned(host string) []string {
	for _, h := range e.Hosts {
		if h.Name == host {
			return h.CIDRs
		}
	}
	return nil
}

// PluginOrDefault is the environment's plugin, PluginKubernetes when unset.
func (e *Environment) PluginOrDefault() Plugin {
	if e.Plugin == "" {
		return PluginKubernetes
	}
	return e.Plugin
}

// Audit reports whether the environment is in ModeAudit.
func (e *Environment) Audit() bool { return e.Mode == ModeAudit }

// DefaultDeny is where the environment's default deny lives.
func (e *Environment) DefaultDeny() DefaultDeny {
	if e.Guardrails == nil {
		return DenyNetworkPolicy
	}
	return e.Guardrails.DefaultDeny
}

// ClusterAPI is the API the environment's guardrails are written in.
func (e *Environment) ClusterAPI() ClusterAPI {
	if e.Guardrails == nil || e.Guardrails.API == "" {
		return APIV1beta1
	}
	return e.Guardrails.API
}

// BaselineDeny reports whether ns's default deny is in the Baseline tier:
// defaultDeny baseline or both, ns managed and isolated, and, in v1alpha1
// (one BaselineAdminNetworkPolicy, one subject), isolated both ways.
func (e *Environment) BaselineDeny(ns *Namespace) bool {
	if ns == nil || !ns.Managed || !e.DefaultDeny().Baseline() {
		return false
	}
	if e.ClusterAPI() == APIV1alpha1 {
		return ns.IsolateIngress && ns.IsolateEgress
	}
	return ns.IsolateIngress || ns.IsolateEgress
}

// NetworkPolicyDeny reports whether ns gets a default-deny NetworkPolicy:
// defaultDeny networkPolicy or both, or a namespace the Baseline tier
// cannot cover (BaselineDeny).
func (e *Environment) NetworkPolicyDeny(ns *Namespace) bool {
	return e.DefaultDeny().NetworkPolicy() || !e.BaselineDeny(ns)
}

// AdminGuardrails are the environment's Admin-tier guardrails in
// evaluation order; nil without any.
func (e *Environment) AdminGuardrails() []*Guardrail {
	if e.Guardrails == nil {
		return nil
	}
	return e.Guardrails.Admin
}

// DNS is the cluster DNS that every pod of an egress-isolated namespace may
// reach.
type DNS struct {
	// Peer is a PeerSelector (namespace + pod labels) or one or more
	// PeerCIDR blocks.
	Peers []Peer
	Ports []Port
}

// Pos is a position in an input file. Line and Column are 1-based; 0 means
// unknown.
type Pos struct {
	File   string
	Line   int
	Column int
}

func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Column == 0:
		return p.File + ":" + strconv.Itoa(p.Line)
	default:
		return p.File + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Column)
	}
}
