package importer

import (
	"fmt"
	"net/netip"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/verify"
)

// PolicyOptions tune ImportPolicies.
type PolicyOptions struct {
	// Manifests are the paths to read (files, directories,
	// kustomizations) as the user wrote them: named in each file's header
	// and in the check.
	Manifests []string
	// Out is the directory the files are meant for, as the user wrote it;
	// the result is checked as files at that path (for messages).
	Out string
	// Namespace is where objects whose manifests name none live, as
	// `kubectl apply -n` would put them; "" is eval.DefaultNamespace.
	Namespace string
	// PodCIDRs are the cluster's pod networks. An ipBlock overlapping one
	// matched pods by address; the import carves the overlap out.
	PodCIDRs []netip.Prefix
}

// ImportPolicies reads the manifests of o and imports their
// NetworkPolicies as dependency files. The result is checked as `netdep
// verify OUT --manifests MANIFESTS` checks it: the manifests are read for
// the check by verify's own reader (verify.LoadManifests) and compared by
// verify.CheckManifests, so whatever verify finds, the import reports.
func ImportPolicies(o PolicyOptions) (*Result, error) {
	c, m, err := loadCluster(o.Manifests, o.Namespace)
	if err != nil {
		return nil, err
	}
	ns := o.Namespace
	if ns == "" {
		ns = eval.DefaultNamespace
	}
	m.Policies = verify.InNamespace(m.Policies, ns)
	return Policies(c, m, o)
}

type policyImporter struct {
	c    *Cluster
	o    PolicyOptions
	pols []*networkingv1.NetworkPolicy // defaulted as the API server would
	u    eval.Universe
	ev   *eval.Evaluator // the NetworkPolicies with the ClusterNetworkPolicies
	r    *eval.Reachability
	// npOnly evaluates the NetworkPolicies without the
	// ClusterNetworkPolicies (nil without any): where the two differ, a
	// ClusterNetworkPolicy decided, and the report says which.
	npOnly *eval.Evaluator
	ext    []eval.External
	svcs   []*svcInfo
	// byPod maps a universe pod to its service, nil for the others
	// (unlabelled pods, raw peers of namespaces netdep does not manage).
	byPod      []*svcInfo
	podName    []string
	nsPods     map[string][]int
	nsLabels   map[string]map[string]string
	namespaces []string // known namespaces, sorted (outside excluded)
	docs       map[string]*nsDoc
	egIso      map[string]bool
	inIso      map[string]bool
	// reasons say why a connection is imported differently, where the
	// import decided so: "src|dst" (addrKey for any address) -> why.
	reasons map[string]string
	// approximations are what the import changed in a rule: "policy P
	// field: what" -> true.
	approximations map[string]bool
	notes          map[string]bool
	// covered are the ports a whole-namespace raw peer already gives a
	// service, per direction and namespace: service references covered by
	// them are left out.
	covered map[coverKey]eval.PortSet
	dnsPod  int
}

type coverKey struct {
	svc    *svcInfo
	egress bool
	ns     string
}

// Policies imports the NetworkPolicies of c as dependency files and checks
// them against m, the same manifests as verify reads them.
func Policies(c *Cluster, m *verify.Manifests, o PolicyOptions) (*Result, error) {
	im := &policyImporter{c: c, o: o, docs: map[string]*nsDoc{}, egIso: map[string]bool{}, inIso: map[string]bool{},
		reasons: map[string]string{}, approximations: map[string]bool{}, notes: map[string]bool{},
		nsPods: map[string][]int{}, covered: map[coverKey]eval.PortSet{}, dnsPod: -1}
	for _, p := range c.Policies {
		im.pols = append(im.pols, eval.Default(p))
	}
	im.knownNamespaces()
	im.services()
	if err := im.universe(); err != nil {
		return nil, err
	}
	im.namespaceDocs()
	im.declarePorts()
	im.rawPeers()
	im.edges()
	im.cidrs()
	im.scan()
	im.clusterNotes()
	if len(c.Unread) > 0 {
		im.notes[fmt.Sprintf("objects of kinds that carry no pod template were not read as workloads: %s; pods an operator makes from them are imported from the policies that select them", joinList(c.Unread))] = true
	}
	return im.finish(m)
}
