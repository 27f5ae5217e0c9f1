package posture

// Report is the posture of every environment asked about.
type Report struct {
	// Source says where the policies came from: "generated", "tree DIR",
	// "manifests".
	Source string `json:"source"`
	// Base is the revision compared with (Compare), "" without one.
	Base string `json:"base,omitempty"`
	// Sensitive are the namespaces any environment marks sensitive, sorted
	// (each environment's own are Environment.Sensitive).
	Sensitive    []string       `json:"sensitiveNamespaces"`
	Environments []*Environment `json:"environments"`
	// NotEvaluated counts the objects that can change connectivity but were
	// not evaluated (a CiliumNetworkPolicy, say): while above 0 the figures
	// hold for the objects it evaluated only.
	NotEvaluated int `json:"notEvaluated"`
}

// Environment is one environment's posture.
type Environment struct {
	// Name is the environment, "" for the implicit one.
	Name string `json:"environment"`
	// Sensitive are the namespaces flows into which are listed on their
	// own (SensitiveFlows): the project file's for the environment and
	// Options.Sensitive, sorted.
	Sensitive []string `json:"sensitiveNamespaces"`
	// Audit, when not "", says the environment is in mode: audit and
	// what that means for these figures, which are what is enforced.
	Audit   string  `json:"audit,omitempty"`
	Summary Summary `json:"summary"`
	// Base and Change are set by Compare: the base revision's figures and
	// what the head changes.
	Base   *Summary `json:"base,omitempty"`
	Change *Change  `json:"change,omitempty"`

	Isolation      []NamespaceIsolation `json:"isolation"`
	Exposure       []Exposure           `json:"exposure"`
	EgressOutside  []Egress             `json:"egressOutside"`
	BlastRadius    []Blast              `json:"blastRadius"`
	CrossNamespace []NamespaceFlows     `json:"crossNamespace"`
	SensitiveFlows []Connection         `json:"sensitiveFlows"`
	// Connections are every allowed connection between services (or
	// workloads) and address classes, "src => dst : conns".
	Connections []Connection `json:"connections"`

	graph *Graph // for html
}

// Summary are the headline figures of an environment.
type Summary struct {
	Services   int `json:"services"`
	Namespaces int `json:"namespaces"`
	// IngressIsolated and EgressIsolated count the services a
	// NetworkPolicy isolates in that direction, unless a rule of those
	// policies then admits everyone on every port (eval.OpenIngress): an
	// allow-egress over a default deny isolates nothing; and those a
	// ClusterNetworkPolicy deny isolates (eval.DenyTier).
	IngressIsolated int `json:"ingressIsolated"`
	EgressIsolated  int `json:"egressIsolated"`
	// UnisolatedNamespaces have no service isolated in either direction.
	UnisolatedNamespaces int `json:"unisolatedNamespaces"`
	// Exposed services admit connections from outside the cluster or from
	// namespaces nobody manages; ExposedOutside from outside the cluster.
	Exposed        int `json:"exposed"`
	ExposedOutside int `json:"exposedOutside"`
	// EgressOutside services may open connections to addresses outside the
	// cluster.
	EgressOutside int `json:"egressOutside"`
	// MaxBlastRadius is the most services one compromised service reaches
	// transitively; MaxBlastService is that service (the first by name).
	MaxBlastRadius  int    `json:"maxBlastRadius"`
	MaxBlastService string `json:"maxBlastService,omitempty"`
	// Connections are the allowed connections between services (pairs);
	// CrossNamespace those between namespaces; SensitiveFlows those into
	// a sensitive namespace from elsewhere.
	Connections    int `json:"connections"`
	CrossNamespace int `json:"crossNamespace"`
	SensitiveFlows int `json:"sensitiveFlows"`
}

// Change is head minus base, figure by figure, with the services whose
// exposure or blast radius changed.
type Change struct {
	Services             int `json:"services"`
	IngressIsolated      int `json:"ingressIsolated"`
	EgressIsolated       int `json:"egressIsolated"`
	UnisolatedNamespaces int `json:"unisolatedNamespaces"`
	Exposed              int `json:"exposed"`
	ExposedOutside       int `json:"exposedOutside"`
	EgressOutside        int `json:"egressOutside"`
	MaxBlastRadius       int `json:"maxBlastRadius"`
	Connections          int `json:"connections"`
	CrossNamespace       int `json:"crossNamespace"`
	SensitiveFlows       int `json:"sensitiveFlows"`
	// NewlyExposed and NoLongerExposed are services, sorted.
	NewlyExposed    []string `json:"newlyExposed"`
	NoLongerExposed []string `json:"noLongerExposed"`
	// BlastRadius are the services whose transitive reach changed, largest
	// change first.
	BlastRadius []BlastChange `json:"blastRadius"`
}

// BlastChange is one service's transitive reach at both revisions.
type BlastChange struct {
	Service string `json:"service"`
	Base    int    `json:"base"`
	Head    int    `json:"head"`
}

// NamespaceIsolation is one namespace's isolation coverage.
type NamespaceIsolation struct {
	Namespace string `json:"namespace"`
	// Managed is whether netdep manages it (a dependency file says so) or,
	// for manifests alone, whether any NetworkPolicy lives there.
	Managed         bool `json:"managed"`
	Services        int  `json:"services"`
	IngressIsolated int  `json:"ingressIsolated"`
	EgressIsolated  int  `json:"egressIsolated"`
	// IngressByCluster and EgressByCluster count those of the isolated
	// services that a ClusterNetworkPolicy deny isolates rather than a
	// NetworkPolicy (eval.DenyTier): the Baseline tier for a pod no
	// NetworkPolicy selects, or an Admin catch-all Deny.
	IngressByCluster int `json:"ingressByClusterPolicy"`
	EgressByCluster  int `json:"egressByClusterPolicy"`
	// NewPodIngress and NewPodEgress say whether a pod with no labels,
	// deployed there tomorrow, would be isolated (a default deny);
	// NewPodIngressTier and NewPodEgressTier name the ClusterNetworkPolicy
	// tier that isolates it ("Baseline", "Admin"), "" when a NetworkPolicy
	// does or nothing does.
	NewPodIngress     bool   `json:"newPodIngress"`
	NewPodEgress      bool   `json:"newPodEgress"`
	NewPodIngressTier string `json:"newPodIngressTier,omitempty"`
	NewPodEgressTier  string `json:"newPodEgressTier,omitempty"`
}

// Exposure is a service and who outside its reach of trust may connect.
type Exposure struct {
	Service   string `json:"service"`
	Namespace string `json:"namespace"`
	// Outside is whether addresses outside the cluster may connect.
	Outside bool   `json:"outside"`
	From    []Peer `json:"from"`
}

// Peer is the other end of a connection with its ports.
type Peer struct {
	// Name is a service, a pod ("ns/(unlabelled)": any pod of ns) or an
	// address class as CIDRs ("0.0.0.0/0, ::/0").
	Name string `json:"name"`
	// Outside is whether Name is addresses outside the cluster.
	Outside bool   `json:"outside"`
	Ports   string `json:"ports"`
}

// Egress is a service and the addresses outside the cluster it may reach.
type Egress struct {
	Service string `json:"service"`
	To      []Peer `json:"to"`
}

// Blast is what one compromised service reaches.
type Blast struct {
	Service string `json:"service"`
	// OneHop are the services it may connect to directly, in how many
	// namespaces; Transitive those it reaches through any chain of
	// allowed connections (itself excluded).
	OneHop               int `json:"oneHop"`
	OneHopNamespaces     int `json:"oneHopNamespaces"`
	Transitive           int `json:"transitive"`
	TransitiveNamespaces int `json:"transitiveNamespaces"`
	// Outside is whether it, or anything it reaches, may connect to
	// addresses outside the cluster.
	Outside bool `json:"outside"`
}

// NamespaceFlows counts the connections from one namespace to another.
type NamespaceFlows struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Flows int    `json:"flows"`
	// Sensitive is whether To is a sensitive namespace.
	Sensitive bool `json:"sensitive"`
}

// Connection is one allowed connection in netpol-analyzer's terms.
// Addresses are CIDRs (CIDRName) in Src and Dst; the connectivity list
// (text, csv) shows them as netpol-analyzer's ranges (AddressName).
type Connection struct {
	Src  string `json:"src"`
	Dst  string `json:"dst"`
	Conn string `json:"conn"`

	srcRanges, dstRanges string // AddressName, when Src or Dst is addresses
}

// listNames are c's ends as the connectivity list shows them.
func (c Connection) listNames() (src, dst string) {
	src, dst = c.Src, c.Dst
	if c.srcRanges != "" {
		src = c.srcRanges
	}
	if c.dstRanges != "" {
		dst = c.dstRanges
	}
	return src, dst
}
