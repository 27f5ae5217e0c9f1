package schema

//go:generate go test -run TestJSONSchema -update .

// The types below describe netdep files for the JSON schema that editors use
// (netdep.schema.json, generated from them by TestJSONSchema in
// jsonschema_test.go). They document the format of docs/reference.md; the
// loader does not use them (it decodes yaml.v3 nodes to keep positions).
// Values that take several forms (a call written as a string or a mapping,
// a port as a number or a string) are interfaces here and get their schema
// from jsonschemaForms in the test.

// URL is where editors fetch netdep.schema.json: files netdep writes for
// people to edit (init's scaffolds, import's dependency files) name it in a
// yaml-language-server modeline.
const URL = "https://raw.githubusercontent.com/netdep/netdep/main/schema/netdep.schema.json"

// Modeline is the first line of those files.
const Modeline = "# yaml-language-server: $schema=" + URL

// DependencyDoc is a dependency document: the services of one namespace.
type DependencyDoc struct {
	Netdep    string      `json:"netdep" jsonschema:"enum=v1" jsonschema_description:"Schema marker: every netdep document starts with netdep: v1."`
	Namespace NameDoc     `json:"namespace" jsonschema_description:"The Kubernetes namespace the services live in (a DNS-1123 label)."`
	Managed   bool        `json:"managed,omitempty" jsonschema:"default=true" jsonschema_description:"true (default): netdep owns this namespace's policies. false: the document only describes services others call or are called by (selectors, ports); nothing is emitted for it and it may not use isolate, calls or from."`
	Isolate   []string    `json:"isolate,omitempty" jsonschema:"minItems=1,uniqueItems=true,enum=ingress,enum=egress" jsonschema_description:"Directions netdep isolates (default-deny) in this namespace: [ingress, egress] by default; [ingress] leaves egress open for gradual adoption. Every document of a namespace must agree."`
	Services  ServicesDoc `json:"services,omitempty" jsonschema_description:"The workloads of the namespace, by name (a DNS-1123 label, not default-deny, allow-dns, allow-dns-ingress or allow-egress)."`
}

// ServicesDoc maps service names to services.
type ServicesDoc map[string]ServiceDoc

// ServiceDoc is one workload: the pods its selector matches.
type ServiceDoc struct {
	Selector     SelectorDoc     `json:"selector,omitempty" jsonschema_description:"The pods' labels (matchLabels); default {app: <service name>}. At least one label."`
	Ports        PortsDoc        `json:"ports,omitempty" jsonschema_description:"Ports the pods listen on (container ports, not Service ports), by name: http: 8080, dns: 53/UDP, range: 9000-9100/TCP. A service that is called or has from entries must declare ports."`
	Calls        []CallDoc       `json:"calls,omitempty" jsonschema_description:"Egress intents: what this service connects to. Each is a service reference (svc, svc:port, ns/svc, ns/svc:port) or a mapping with to, cidr or namespace/selector."`
	From         []FromDoc       `json:"from,omitempty" jsonschema_description:"Ingress intents for callers that declare no calls; ports are this service's own."`
	Environments EnvironmentsDoc `json:"environments,omitempty" jsonschema_description:"Environments the service exists in (default: all); names declared by the project file."`
	Edge         bool            `json:"edge,omitempty" jsonschema_description:"true: the service is meant to be reachable from the internet, so ingress from very wide blocks (/0 to /8) is intended and not warned about."`
}

// PortsDoc maps port names (IANA service names) to port values.
type PortsDoc map[string]PortValueDoc

// CallDoc is one calls entry: ServiceRefDoc, CallToDoc, HostCallDoc,
// CIDRCallDoc or RawCallDoc.
type CallDoc any

// CallToDoc is a service reference limited to some environments.
type CallToDoc struct {
	To           ServiceRefDoc   `json:"to" jsonschema_description:"The service called: svc, svc:port, ns/svc or ns/svc:port (port: a name or number the target declares, optionally /PROTO). Without a port, every port the target declares."`
	Environments EnvironmentsDoc `json:"environments,omitempty" jsonschema_description:"Only in these environments."`
	OverriddenBy NameDoc         `json:"overriddenBy,omitempty" jsonschema_description:"The name of a deny guardrail of the project file that denies this edge on purpose: the edge stays declared (and allowed by its NetworkPolicies), generate warns instead of failing, and verify expects the guardrail to win."`
	Exception    *ExceptionDoc   `json:"exception,omitempty" jsonschema_description:"Makes this entry a sanctioned exception (an incident, a migration): it generates a policy of its own named <service>.exception.<name>, annotated with the exception, and verify, diff and explain show it apart. See docs/exceptions.md."`
}

// HostCallDoc is egress to an external service named by DNS.
type HostCallDoc struct {
	Host         HostDoc         `json:"host" jsonschema_description:"The external service's DNS name, lower case, at least two labels, no trailing dot (api.stripe.com), or a wildcard whose * is the whole leftmost label (*.googleapis.com: exactly one more label, as Cilium's matchPattern). Resolved per environment: the addresses the environment pins (hosts:) become ipBlock rules on every plugin; else plugin cilium allows the name (CiliumNetworkPolicy toFQDNs); else it is an error. Not allowed in from."`
	Ports        CallPortsDoc    `json:"ports" jsonschema_description:"Port values (numbers, 53/UDP, 9000-9100/TCP) or the word any for every port."`
	Environments EnvironmentsDoc `json:"environments,omitempty" jsonschema_description:"Only in these environments."`
	OverriddenBy NameDoc         `json:"overriddenBy,omitempty" jsonschema_description:"The name of a deny guardrail of the project file that denies this edge on purpose: the edge stays declared (and allowed by its NetworkPolicies), generate warns instead of failing, and verify expects the guardrail to win."`
	Exception    *ExceptionDoc   `json:"exception,omitempty" jsonschema_description:"Makes this entry a sanctioned exception (an incident, a migration): it generates a policy of its own named <service>.exception.<name>, annotated with the exception, and verify, diff and explain show it apart. See docs/exceptions.md."`
}

// CIDRCallDoc is egress to an address block.
type CIDRCallDoc struct {
	CIDR         CIDRDoc         `json:"cidr" jsonschema_description:"A CIDR with no host bits set (203.0.113.0/24; a single address is 10.0.0.1/32) or the name of a cidr set from the project file."`
	Except       []CIDRDoc       `json:"except,omitempty" jsonschema_description:"Blocks inside cidr that are carved out, each strictly smaller than it and of the same IP family."`
	Ports        CallPortsDoc    `json:"ports" jsonschema_description:"Port values (numbers, 53/UDP, 9000-9100/TCP) or the word any for every port."`
	Environments EnvironmentsDoc `json:"environments,omitempty" jsonschema_description:"Only in these environments."`
	OverriddenBy NameDoc         `json:"overriddenBy,omitempty" jsonschema_description:"The name of a deny guardrail of the project file that denies this edge on purpose: the edge stays declared (and allowed by its NetworkPolicies), generate warns instead of failing, and verify expects the guardrail to win."`
	Exception    *ExceptionDoc   `json:"exception,omitempty" jsonschema_description:"Makes this entry a sanctioned exception (an incident, a migration): it generates a policy of its own named <service>.exception.<name>, annotated with the exception, and verify, diff and explain show it apart. See docs/exceptions.md."`
}

// RawCallDoc is egress to pods named by namespace and labels (a raw peer).
type RawCallDoc struct {
	Namespace    NameDoc         `json:"namespace,omitempty" jsonschema:"anyof_required=namespace" jsonschema_description:"The peer's namespace (default: this document's); it need not be described by any file."`
	Selector     PeerSelectorDoc `json:"selector,omitempty" jsonschema:"anyof_required=selector" jsonschema_description:"The peer pods' labels; omitted or {} means every pod of the namespace."`
	Ports        CallPortsDoc    `json:"ports" jsonschema_description:"Port values (numbers, 53/UDP, 9000-9100/TCP) or the word any for every port."`
	Environments EnvironmentsDoc `json:"environments,omitempty" jsonschema_description:"Only in these environments."`
	OverriddenBy NameDoc         `json:"overriddenBy,omitempty" jsonschema_description:"The name of a deny guardrail of the project file that denies this edge on purpose: the edge stays declared (and allowed by its NetworkPolicies), generate warns instead of failing, and verify expects the guardrail to win."`
	Exception    *ExceptionDoc   `json:"exception,omitempty" jsonschema_description:"Makes this entry a sanctioned exception (an incident, a migration): it generates a policy of its own named <service>.exception.<name>, annotated with the exception, and verify, diff and explain show it apart. See docs/exceptions.md."`
}

// FromDoc is one from entry: ServiceRefDoc, FromRefDoc, CIDRFromDoc or
// RawFromDoc.
type FromDoc any

// FromRefDoc is a caller limited to some environments.
type FromRefDoc struct {
	From         ServiceRefDoc   `json:"from" jsonschema_description:"The calling service: svc, svc:port, ns/svc or ns/svc:port, the port being one of this service's own. Without a port, all of this service's ports."`
	Environments EnvironmentsDoc `json:"environments,omitempty" jsonschema_description:"Only in these environments."`
	OverriddenBy NameDoc         `json:"overriddenBy,omitempty" jsonschema_description:"The name of a deny guardrail of the project file that denies this edge on purpose: the edge stays declared (and allowed by its NetworkPolicies), generate warns instead of failing, and verify expects the guardrail to win."`
	Exception    *ExceptionDoc   `json:"exception,omitempty" jsonschema_description:"Makes this entry a sanctioned exception (an incident, a migration): it generates a policy of its own named <service>.exception.<name>, annotated with the exception, and verify, diff and explain show it apart. See docs/exceptions.md."`
}

// CIDRFromDoc is ingress from an address block.
type CIDRFromDoc struct {
	CIDR         CIDRDoc         `json:"cidr" jsonschema_description:"A CIDR with no host bits set (0.0.0.0/0, 10.0.0.0/8) or the name of a cidr set from the project file."`
	Except       []CIDRDoc       `json:"except,omitempty" jsonschema_description:"Blocks inside cidr that are carved out, each strictly smaller than it and of the same IP family."`
	Ports        FromPortsDoc    `json:"ports,omitempty" jsonschema_description:"This service's own ports (names or numbers it declares); default all of them; any for every port, declared or not."`
	Environments EnvironmentsDoc `json:"environments,omitempty" jsonschema_description:"Only in these environments."`
	OverriddenBy NameDoc         `json:"overriddenBy,omitempty" jsonschema_description:"The name of a deny guardrail of the project file that denies this edge on purpose: the edge stays declared (and allowed by its NetworkPolicies), generate warns instead of failing, and verify expects the guardrail to win."`
	Exception    *ExceptionDoc   `json:"exception,omitempty" jsonschema_description:"Makes this entry a sanctioned exception (an incident, a migration): it generates a policy of its own named <service>.exception.<name>, annotated with the exception, and verify, diff and explain show it apart. See docs/exceptions.md."`
}

// RawFromDoc is ingress from pods named by namespace and labels.
type RawFromDoc struct {
	Namespace    NameDoc         `json:"namespace,omitempty" jsonschema:"anyof_required=namespace" jsonschema_description:"The callers' namespace (default: this document's); it need not be described by any file."`
	Selector     PeerSelectorDoc `json:"selector,omitempty" jsonschema:"anyof_required=selector" jsonschema_description:"The calling pods' labels; omitted or {} means every pod of the namespace."`
	Ports        FromPortsDoc    `json:"ports,omitempty" jsonschema_description:"This service's own ports (names or numbers it declares); default all of them; any for every port, declared or not."`
	Environments EnvironmentsDoc `json:"environments,omitempty" jsonschema_description:"Only in these environments."`
	OverriddenBy NameDoc         `json:"overriddenBy,omitempty" jsonschema_description:"The name of a deny guardrail of the project file that denies this edge on purpose: the edge stays declared (and allowed by its NetworkPolicies), generate warns instead of failing, and verify expects the guardrail to win."`
	Exception    *ExceptionDoc   `json:"exception,omitempty" jsonschema_description:"Makes this entry a sanctioned exception (an incident, a migration): it generates a policy of its own named <service>.exception.<name>, annotated with the exception, and verify, diff and explain show it apart. See docs/exceptions.md."`
}

// ExceptionDoc is an entry's exception: who answers for it, and until when.
type ExceptionDoc struct {
	Name    NameDoc `json:"name" jsonschema_description:"The exception's name (a DNS-1123 label, unique in the run: inc-4711); it names the exception's policies."`
	Reason  string  `json:"reason" jsonschema:"minLength=1" jsonschema_description:"Why the flow is open: the incident, the ticket, the migration."`
	Owner   string  `json:"owner" jsonschema:"minLength=1" jsonschema_description:"Who answers for the exception: a team, a person, an address."`
	Expires string  `json:"expires" jsonschema:"format=date" jsonschema_description:"The last day the exception holds (YYYY-MM-DD). With --today or SOURCE_DATE_EPOCH, generate and verify note it within warnDays days and warn once it has passed; --strict then fails."`
}

// ExceptionSettingsDoc is the project's settings for exceptions.
type ExceptionSettingsDoc struct {
	WarnDays int `json:"warnDays,omitempty" jsonschema:"minimum=0,maximum=3660,default=14" jsonschema_description:"How many days before an exception expires generate and verify note it (default 14); --expiry-warning overrides it."`
}

// ProjectDoc is the project document: environments and cluster settings.
type ProjectDoc struct {
	Netdep       string                `json:"netdep" jsonschema:"enum=v1" jsonschema_description:"Schema marker: every netdep document starts with netdep: v1."`
	Cluster      SettingsDoc           `json:"cluster,omitempty" jsonschema_description:"Defaults for every environment."`
	Environments EnvSettingsDoc        `json:"environments" jsonschema_description:"The environments (DNS-1123 labels), each with what differs in its cluster ({} when nothing does); one overlay each."`
	Layout       string                `json:"layout,omitempty" jsonschema:"enum=auto,enum=environment,enum=namespace" jsonschema_description:"Output layout: environment (one kustomization per environment), namespace (one per namespace and environment, for large organisations) or auto (namespace when an environment renders more than 500 policies). The generate --layout flag overrides it."`
	Exceptions   *ExceptionSettingsDoc `json:"exceptions,omitempty" jsonschema_description:"Settings for the exceptions of the dependency files."`
}

// EnvSettingsDoc maps environment names to their settings.
type EnvSettingsDoc map[string]SettingsDoc

// SettingsDoc is what an environment's cluster looks like.
type SettingsDoc struct {
	DNS          DNSDoc         `json:"dns,omitempty" jsonschema_description:"Where pods resolve names: {namespace, selector, ports} (DNS pods), {cidr, ports} (an address such as NodeLocal DNSCache), false for no allow-dns policies, true for the default {namespace: kube-system, selector: {k8s-app: kube-dns}, ports: [53/UDP, 53/TCP]}. An environment's dns replaces the cluster's."`
	CIDRs        CIDRSetsDoc    `json:"cidrs,omitempty" jsonschema_description:"Named lists of CIDRs that calls and from entries use as cidr: <name>. An environment's entry replaces the cluster's entry of the same name."`
	PodCIDRs     []CIDRDoc      `json:"podCIDRs,omitempty" jsonschema_description:"The cluster's pod address ranges; egress blocks covering them are warned about. An environment's list replaces the cluster's."`
	ServiceCIDRs []CIDRDoc      `json:"serviceCIDRs,omitempty" jsonschema_description:"The cluster's service address ranges; egress blocks covering them are warned about. An environment's list replaces the cluster's."`
	Guardrails   *GuardrailsDoc `json:"guardrails,omitempty" jsonschema_description:"Cluster guardrails emitted as ClusterNetworkPolicy (policy.networking.k8s.io/v1beta1). An environment's key replaces the cluster's key of the same name (a list as a whole). See docs/guardrails.md."`
	Sensitive    []NameDoc      `json:"sensitive,omitempty" jsonschema_description:"Namespaces (each described by a dependency file) that netdep report lists the inbound flows of, from other namespaces and from outside the cluster; policies do not change. An environment's list replaces the cluster's."`
	Plugin       string         `json:"plugin,omitempty" jsonschema:"enum=kubernetes,enum=cilium,enum=calico,default=kubernetes" jsonschema_description:"The enforcement the cluster offers: kubernetes (default: NetworkPolicy v1 only, whatever the plugin), cilium (adds CiliumNetworkPolicy: host calls by DNS name) or calico (adds Calico policies: log: denied, mode: audit). An environment's plugin replaces the cluster's."`
	Mode         string         `json:"mode,omitempty" jsonschema:"enum=enforce,enum=audit,default=enforce" jsonschema_description:"The rollout mode: enforce (default) or audit (nothing netdep emits denies: staged policies on calico; Cilium's policy audit mode, agent configuration, on cilium). Not on kubernetes (NetworkPolicy v1 cannot stage; isolate: [ingress] is the gradual path), nor on calico with guardrails. An environment's mode replaces the cluster's."`
	Log          string         `json:"log,omitempty" jsonschema:"enum=denied,enum=none,default=none" jsonschema_description:"denied: every packet netdep's default deny drops is logged (calico: a Log rule before each default deny; cilium: Hubble records policy drops). none (default). Not on kubernetes. An environment's log replaces the cluster's."`
	Hosts        HostsDoc       `json:"hosts,omitempty" jsonschema_description:"Pinned addresses of host names (api.stripe.com: [203.0.113.10/32]): a host call to a pinned name becomes ipBlock rules on every plugin, naming the host. Keys match a call's host spelled the same (a wildcard too). An environment's entry replaces the cluster's entry of the same name; a pin no call uses is warned about."`
}

// HostsDoc maps host names to their addresses.
type HostsDoc map[string][]CIDRDoc

// GuardrailsDoc is what the platform enforces for every managed namespace.
type GuardrailsDoc struct {
	API               string           `json:"api,omitempty" jsonschema:"enum=v1beta1,enum=v1alpha1,default=v1beta1" jsonschema_description:"The API the guardrails are written in, the one the cluster's network plugin enforces: v1beta1 (ClusterNetworkPolicy) or v1alpha1 (AdminNetworkPolicy and the one BaselineAdminNetworkPolicy, e.g. kube-network-policies v0.8.0). In v1alpha1 the Baseline default deny covers the namespaces isolated both ways; one isolated one way keeps its default-deny NetworkPolicy (warned). See docs/guardrails.md."`
	DefaultDeny       string           `json:"defaultDeny,omitempty" jsonschema:"enum=networkPolicy,enum=baseline,enum=both,default=networkPolicy" jsonschema_description:"Where the default deny lives: networkPolicy (a default-deny NetworkPolicy per managed namespace, works with every plugin), baseline (a Baseline-tier ClusterNetworkPolicy per isolated direction selecting every managed namespace; a team cannot delete it, but it needs a plugin with ClusterNetworkPolicy and cannot deny ingress from outside the cluster) or both."`
	DNS               bool             `json:"dns,omitempty" jsonschema_description:"true: an Admin-tier Accept of DNS (the environment's dns) from every managed namespace, priority 10, so no NetworkPolicy can cut it."`
	Monitoring        []MonitoringDoc  `json:"monitoring,omitempty" jsonschema_description:"Admin-tier Accepts of scrapes from monitoring pods into every managed namespace (and, when the monitoring namespace is managed, of the monitoring pods' egress to them)."`
	IsolateNamespaces []IsolateDoc     `json:"isolateNamespaces,omitempty" jsonschema_description:"Admin-tier Denies of ingress into a namespace from every other namespace but those allowed."`
	DenyCIDRs         []DenyCIDRDoc    `json:"denyCIDRs,omitempty" jsonschema_description:"Admin-tier Denies of egress from every managed namespace to address blocks (the cloud metadata address 169.254.169.254/32)."`
	AllowDomains      []map[string]any `json:"allowDomains,omitempty" jsonschema_description:"Not supported yet: domainNames egress cannot be verified, and the loader refuses it."`
}

// MonitoringDoc is one monitoring scrape.
type MonitoringDoc struct {
	Name      string          `json:"name,omitempty" jsonschema_description:"The guardrail's name (default allow-scrape-<namespace>); the object is netdep-<name>."`
	Namespace NameDoc         `json:"namespace" jsonschema_description:"The monitoring pods' namespace."`
	Selector  PeerSelectorDoc `json:"selector,omitempty" jsonschema_description:"The monitoring pods' labels; omitted means every pod of the namespace."`
	Ports     []PortValueDoc  `json:"ports" jsonschema_description:"The ports scraped (numbers, 9102/TCP)."`
	Priority  int             `json:"priority,omitempty" jsonschema:"minimum=0,maximum=1000" jsonschema_description:"Admin-tier priority (default 100 + the entry's index); lower is evaluated first."`
}

// IsolateDoc is one isolated namespace.
type IsolateDoc struct {
	Name      string    `json:"name,omitempty" jsonschema_description:"The guardrail's name (default isolate-<namespace>)."`
	Namespace NameDoc   `json:"namespace" jsonschema_description:"The namespace no other namespace may reach (one a dependency file describes)."`
	Allow     []NameDoc `json:"allow,omitempty" jsonschema_description:"Namespaces that may still reach it."`
	Priority  int       `json:"priority,omitempty" jsonschema:"minimum=0,maximum=1000" jsonschema_description:"Admin-tier priority (default 500 + the entry's index)."`
}

// DenyCIDRDoc is one denied set of address blocks.
type DenyCIDRDoc struct {
	Name     NameDoc `json:"name" jsonschema_description:"The guardrail's name (deny-metadata), which overriddenBy refers to; the object is netdep-<name>."`
	CIDR     any     `json:"cidr" jsonschema_description:"A CIDR, a list of CIDRs or the name of a cidr set."`
	Priority int     `json:"priority,omitempty" jsonschema:"minimum=0,maximum=1000" jsonschema_description:"Admin-tier priority (default 700 + the entry's index)."`
}

// CIDRSetsDoc maps cidr set names to their blocks.
type CIDRSetsDoc map[string][]CIDRDoc

// DNSDoc is a project's dns: a boolean, DNSPodsDoc or DNSCIDRDoc.
type DNSDoc any

// DNSPodsDoc is DNS served by pods.
type DNSPodsDoc struct {
	Namespace NameDoc         `json:"namespace,omitempty" jsonschema:"anyof_required=namespace" jsonschema_description:"The DNS pods' namespace (default kube-system); alone, every pod of it."`
	Selector  PeerSelectorDoc `json:"selector,omitempty" jsonschema:"anyof_required=selector" jsonschema_description:"The DNS pods' labels."`
	Ports     []PortValueDoc  `json:"ports,omitempty" jsonschema_description:"DNS ports; default [53/UDP, 53/TCP]."`
}

// DNSCIDRDoc is DNS served at addresses.
type DNSCIDRDoc struct {
	CIDR  any            `json:"cidr" jsonschema_description:"A CIDR or a list of CIDRs (169.254.20.10/32)."`
	Ports []PortValueDoc `json:"ports,omitempty" jsonschema_description:"DNS ports; default [53/UDP, 53/TCP]."`
}

// Leaf values; their schemas are in jsonschemaForms.
type (
	// NameDoc is a DNS-1123 label.
	NameDoc string
	// ServiceRefDoc is svc, svc:port, ns/svc or ns/svc:port.
	ServiceRefDoc string
	// CIDRDoc is a literal CIDR or a cidr set name.
	CIDRDoc string
	// HostDoc is a DNS name or a "*.<name>" wildcard.
	HostDoc string
	// PortValueDoc is 8080, "53/UDP", "9000-9100" or "9000-9100/TCP".
	PortValueDoc any
	// CallPortsDoc is a list of port values or the word any.
	CallPortsDoc any
	// FromPortsDoc is a list of port values or names, or the word any.
	FromPortsDoc any
	// SelectorDoc is a service's pod labels: at least one.
	SelectorDoc map[string]any
	// PeerSelectorDoc is a peer's pod labels: {} for every pod.
	PeerSelectorDoc map[string]any
	// EnvironmentsDoc is a non-empty list of environment names.
	EnvironmentsDoc []NameDoc
)
