package verify

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/schema"
)

// ObjectRef names one object of a manifest stream and where it starts.
type ObjectRef struct {
	APIVersion string
	Kind       string
	Namespace  string // "" for a cluster-scoped object, or one that names none
	Name       string
	// File is the file as the user named it, or "kustomize build DIR" for
	// the output of a kustomization built with krusty; Line and Column are
	// 1-based positions in it.
	File         string
	Line, Column int
	// Field and Reason are set for an object of a kind netdep evaluates
	// that uses what it does not: the field (spec.egress[0].toEntities)
	// and what it is ("an entity peer is not evaluated"); Line and Column
	// are the field's.
	Field, Reason string
}

// String is how messages name r: kind, namespace/name and API version,
// e.g. "CiliumNetworkPolicy shop/allow-all (cilium.io/v2)".
func (r ObjectRef) String() string {
	id := r.Name
	if r.Namespace != "" {
		id = r.Namespace + "/" + r.Name
	}
	return fmt.Sprintf("%s %s (%s)", show(r.Kind), show(id), show(r.APIVersion))
}

// show echoes a value of the input as it is when it is a plain word, and
// quoted (and clipped, by schema.Problem) when it holds anything that could
// break a line or be mistaken for the message around it.
func show(s string) string {
	if s == "" {
		return `""`
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-._/:", c)) {
			return strconv.Quote(s)
		}
	}
	if len(s) > schema.MaxEcho {
		return strconv.Quote(s)
	}
	return s
}

// EvaluatedAPI and ClusterAPI are the APIs whose policies netdep
// evaluates: NetworkPolicy, and ClusterNetworkPolicy (tiers Admin and
// Baseline).
const (
	EvaluatedAPI = "networking.k8s.io/v1"
	ClusterAPI   = "policy.networking.k8s.io/v1beta1"
	// AdminAPI is AdminNetworkPolicy's and BaselineAdminNetworkPolicy's,
	// evaluated as the ClusterNetworkPolicies they are equivalent to.
	AdminAPI = "policy.networking.k8s.io/v1alpha1"
)

// isClusterKind reports whether an object is one of the cluster-tier
// policies netdep evaluates: ClusterNetworkPolicy v1beta1, or
// AdminNetworkPolicy and BaselineAdminNetworkPolicy v1alpha1.
func isClusterKind(apiVersion, kind string) bool {
	return apiVersion == ClusterAPI && kind == "ClusterNetworkPolicy" ||
		apiVersion == AdminAPI && (kind == "AdminNetworkPolicy" || kind == "BaselineAdminNetworkPolicy")
}

// isPluginKind reports whether an object is one of the network plugins'
// kinds netdep evaluates (within eval.Plugins' subset; the reader lists
// one that uses more with the field): CiliumNetworkPolicy cilium.io/v2,
// and projectcalico.org/v3 NetworkPolicy, StagedNetworkPolicy and
// StagedKubernetesNetworkPolicy.
func isPluginKind(apiVersion, kind string) bool {
	return apiVersion == eval.CiliumAPI && kind == "CiliumNetworkPolicy" ||
		apiVersion == eval.CalicoAPI && (kind == "NetworkPolicy" || kind == "StagedNetworkPolicy" || kind == "StagedKubernetesNetworkPolicy")
}

// evaluatedKinds names what a partial verdict holds for: every kind netdep
// evaluates (NetworkPolicy, the cluster tiers, the plugins' subsets), so
// the message names no list that goes stale; the warnings name what was
// not evaluated.
const evaluatedKinds = "the objects it evaluated"

// connectivityGroups are API groups whose objects change what may connect
// to what (policies, and the sets and groups they refer to), besides any
// kind named *NetworkPolicy: Cilium's, Calico's (crd.projectcalico.org and
// the projectcalico.org API server) and the Network Policy API's
// AdminNetworkPolicy, BaselineAdminNetworkPolicy and ClusterNetworkPolicy.
// A subgroup (crd.projectcalico.org) counts as its group.
var connectivityGroups = []string{"cilium.io", "projectcalico.org", "policy.networking.k8s.io"}

// NotEvaluated reports whether an object of apiVersion and kind can change
// connectivity while netdep does not evaluate it: every kind named
// *NetworkPolicy but networking.k8s.io/v1's NetworkPolicy, and every kind of
// connectivityGroups. ConfigMaps, Services, Deployments and the like cannot
// change what NetworkPolicies allow and are not listed.
func NotEvaluated(apiVersion, kind string) bool {
	if apiVersion == EvaluatedAPI && kind == "NetworkPolicy" || isClusterKind(apiVersion, kind) || isPluginKind(apiVersion, kind) {
		return false
	}
	if strings.HasSuffix(kind, "NetworkPolicy") {
		return true
	}
	group, _, ok := strings.Cut(apiVersion, "/")
	if !ok {
		return false // the core group ("v1")
	}
	for _, g := range connectivityGroups {
		if group == g || strings.HasSuffix(group, "."+g) {
			return true
		}
	}
	return false
}

// notEvaluatedIn lists the objects of ds, read from file, that
// NotEvaluated selects, and ClusterNetworkPolicies too with cluster (for
// readers that evaluate NetworkPolicies only).
func notEvaluatedIn(ds eval.Documents, file string, cluster bool) []ObjectRef {
	var out []ObjectRef
	for _, root := range ds.Roots {
		if root != nil {
			notEvaluated(root, "", "", file, cluster, &out)
		}
	}
	return out
}

// notEvaluated appends to out the objects at n (one object or a List) that
// NotEvaluated selects. defAPIVersion and defKind apply to List items that
// omit them, as in eval.Decode. It is lenient: what does not look like an
// object is eval.Decode's to report, or no object at all.
func notEvaluated(n *yaml.Node, defAPIVersion, defKind, file string, cluster bool, out *[]ObjectRef) {
	n = resolveNode(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	apiVersion := scalar(n, "apiVersion", defAPIVersion)
	kind := scalar(n, "kind", defKind)
	if kind == "List" || strings.HasSuffix(kind, "List") {
		items := resolveNode(mapping(n, "items"))
		if items == nil || items.Kind != yaml.SequenceNode {
			return
		}
		itemKind := ""
		if kind != "List" {
			itemKind = strings.TrimSuffix(kind, "List")
		}
		for _, it := range items.Content {
			notEvaluated(it, apiVersion, itemKind, file, cluster, out)
		}
		return
	}
	if apiVersion == "" || kind == "" || !NotEvaluated(apiVersion, kind) && !(cluster && isClusterKind(apiVersion, kind)) {
		return
	}
	md := resolveNode(mapping(n, "metadata"))
	ref := ObjectRef{APIVersion: apiVersion, Kind: kind, File: file, Line: n.Line, Column: n.Column}
	if md != nil && md.Kind == yaml.MappingNode {
		ref.Namespace, ref.Name = scalar(md, "namespace", ""), scalar(md, "name", "")
	}
	*out = append(*out, ref)
}

func mapping(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// scalar is the string at key of n, def when there is none.
func scalar(n *yaml.Node, key, def string) string {
	v := resolveNode(mapping(n, key))
	if v == nil || v.Kind != yaml.ScalarNode {
		return def
	}
	return v.Value
}

func resolveNode(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// sortRefs sorts refs by file and position and drops repeats: a file named
// twice, or the base of several overlays, holds its objects once.
func sortRefs(refs []ObjectRef) []ObjectRef {
	if len(refs) == 0 {
		return nil
	}
	refs = slices.Clone(refs)
	slices.SortFunc(refs, compareRefs)
	return slices.Compact(refs)
}

func compareRefs(a, b ObjectRef) int {
	return cmp.Or(
		cmp.Compare(a.File, b.File),
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Column, b.Column),
		cmp.Compare(a.APIVersion, b.APIVersion),
		cmp.Compare(a.Kind, b.Kind),
		cmp.Compare(a.Namespace, b.Namespace),
		cmp.Compare(a.Name, b.Name),
		cmp.Compare(a.Field, b.Field),
	)
}

// NotEvaluatedWarnings are the warnings that name each object of refs
// (sorted and each once, as in Manifests.NotEvaluated) that verify,
// explain and diff did not evaluate.
func NotEvaluatedWarnings(refs []ObjectRef) []schema.Problem {
	refs = sortRefs(refs)
	out := make([]schema.Problem, len(refs))
	for i, r := range refs {
		msg := r.String() + " is not evaluated: netdep evaluates NetworkPolicy (" + EvaluatedAPI + "), ClusterNetworkPolicy (" + ClusterAPI +
			"), AdminNetworkPolicy/BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1), CiliumNetworkPolicy (" + eval.CiliumAPI +
			") and Calico's NetworkPolicy, StagedNetworkPolicy and StagedKubernetesNetworkPolicy (" + eval.CalicoAPI + ") only, and this object can change connectivity"
		switch {
		case r.Field != "":
			msg = r.String() + " is not evaluated: " + r.Field + ": " + r.Reason + " by netdep, and this object can change connectivity"
		case isClusterKind(r.APIVersion, r.Kind):
			// Only a reader that evaluates NetworkPolicies alone lists it
			// (ScanNotEvaluated, for diff).
			msg = r.String() + " is not evaluated: diff compares NetworkPolicies only (verify and explain evaluate it), and this object can change connectivity"
		}
		out[i] = schema.Problem{Pos: schema.Pos{File: r.File, Line: r.Line, Column: r.Column}, Message: msg, Warning: true}
	}
	return out
}

// Partial qualifies a verdict reached while n objects were not evaluated:
// "for the objects it evaluated only; 3 objects not evaluated", "" when n is 0.
func Partial(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return "for " + evaluatedKinds + " only; 1 object not evaluated"
	}
	return fmt.Sprintf("for %s only; %d objects not evaluated", evaluatedKinds, n)
}
