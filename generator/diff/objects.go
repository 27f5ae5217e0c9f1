package diff

import (
	"encoding/json"
	"reflect"
	"slices"

	networkingv1 "k8s.io/api/networking/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/netdep/netdep/generator/kustomize"
	"github.com/netdep/netdep/generator/policy"
)

// Action says what happened to an object.
type Action string

const (
	Added   Action = "added"
	Removed Action = "removed"
	Changed Action = "changed"
)

// ObjectChange is one NetworkPolicy or ClusterNetworkPolicy that differs
// between base and head.
type ObjectChange struct {
	Action Action
	// Kind is KindNetworkPolicy or KindClusterNetworkPolicy.
	Kind string
	// Namespace is "" for a ClusterNetworkPolicy (cluster-scoped).
	Namespace, Name string
	// Source is the dependency file the object comes from (its
	// netdep.io/source annotation), on the head side unless removed.
	Source string
	// Diff is the unified diff of the object's YAML as generate writes it
	// (kustomize.Marshal); an added object is diffed against /dev/null.
	Diff string
}

// The kinds of ObjectChange.
const (
	KindNetworkPolicy        = "NetworkPolicy"
	KindClusterNetworkPolicy = "ClusterNetworkPolicy"
)

// ID is "namespace/name" for a NetworkPolicy, "ClusterNetworkPolicy name"
// for a ClusterNetworkPolicy.
func (o ObjectChange) ID() string {
	if o.Kind == KindClusterNetworkPolicy {
		return KindClusterNetworkPolicy + " " + o.Name
	}
	return o.Namespace + "/" + o.Name
}

// file is the object's path in a unified diff: namespace/name.yaml, or
// cluster/name.yaml for a cluster-scoped object.
func (o ObjectChange) file() string {
	if o.Kind == KindClusterNetworkPolicy {
		return "cluster/" + o.Name + ".yaml"
	}
	return o.Namespace + "/" + o.Name + ".yaml"
}

// objectChanges compares two renderings of one environment, both sorted by
// (namespace, name) as Set.Render returns them.
func objectChanges(base, head []*networkingv1.NetworkPolicy, m marshaller) ([]ObjectChange, error) {
	var out []ObjectChange
	i, j := 0, 0
	for i < len(base) || j < len(head) {
		var a, b *networkingv1.NetworkPolicy
		switch {
		case j == len(head):
			a = base[i]
			i++
		case i == len(base):
			b = head[j]
			j++
		default:
			c := compareKey(base[i], head[j])
			switch {
			case c < 0:
				a = base[i]
				i++
			case c > 0:
				b = head[j]
				j++
			default:
				a, b = base[i], head[j]
				i++
				j++
			}
		}
		ch, err := objectChange(a, b, m)
		if err != nil {
			return nil, err
		}
		if ch != nil {
			out = append(out, *ch)
		}
	}
	return out, nil
}

func compareKey(a, b *networkingv1.NetworkPolicy) int {
	switch {
	case a.Namespace < b.Namespace:
		return -1
	case a.Namespace > b.Namespace:
		return 1
	case a.Name < b.Name:
		return -1
	case a.Name > b.Name:
		return 1
	}
	return 0
}

// marshaller memoises kustomize.Marshal: the base's policies are the same
// objects in every environment's rendering, and marshalling dominates the
// cost of a diff.
type marshaller map[*networkingv1.NetworkPolicy][]byte

func (m marshaller) marshal(p *networkingv1.NetworkPolicy) ([]byte, error) {
	if p == nil {
		return nil, nil
	}
	if y, ok := m[p]; ok {
		return y, nil
	}
	y, err := kustomize.Marshal(p)
	if err != nil {
		return nil, err
	}
	m[p] = y
	return y, nil
}

func objectChange(a, b *networkingv1.NetworkPolicy, m marshaller) (*ObjectChange, error) {
	// Equal objects marshal equally; most objects of a review are equal.
	if a != nil && b != nil && reflect.DeepEqual(a, b) {
		return nil, nil
	}
	ref := b
	ch := &ObjectChange{Action: Changed, Kind: KindNetworkPolicy}
	ya, err := m.marshal(a)
	if err != nil {
		return nil, err
	}
	yb, err := m.marshal(b)
	if err != nil {
		return nil, err
	}
	switch {
	case a == nil:
		ch.Action = Added
	case b == nil:
		ch.Action, ref = Removed, a
	case string(ya) == string(yb):
		return nil, nil
	}
	ch.Namespace, ch.Name = ref.Namespace, ref.Name
	ch.Source = ref.Annotations[policy.SourceAnnotation]
	ch.Diff = unified(string(ya), string(yb), "a/"+ch.file(), "b/"+ch.file())
	return ch, nil
}

// clusterObjectChanges compares two sides' ClusterNetworkPolicies, both
// sorted by name.
func clusterObjectChanges(baseCNPs, headCNPs []*v1beta1.ClusterNetworkPolicy) ([]ObjectChange, error) {
	byName := map[string][2]*v1beta1.ClusterNetworkPolicy{}
	var names []string
	for side, list := range [2][]*v1beta1.ClusterNetworkPolicy{baseCNPs, headCNPs} {
		for _, p := range list {
			pair, ok := byName[p.Name]
			if !ok {
				names = append(names, p.Name)
			}
			pair[side] = p
			byName[p.Name] = pair
		}
	}
	slices.Sort(names)
	var out []ObjectChange
	for _, n := range names {
		pair := byName[n]
		var y [2][]byte
		for side, p := range pair {
			if p == nil {
				continue
			}
			var err error
			if y[side], err = marshalCluster(p); err != nil {
				return nil, err
			}
		}
		ch := ObjectChange{Action: Changed, Kind: KindClusterNetworkPolicy, Name: n}
		ref := pair[head]
		switch {
		case pair[base] == nil:
			ch.Action = Added
		case pair[head] == nil:
			ch.Action, ref = Removed, pair[base]
		case string(y[base]) == string(y[head]):
			continue
		}
		ch.Source = ref.Annotations[policy.SourceAnnotation]
		ch.Diff = unified(string(y[base]), string(y[head]), "a/"+ch.file(), "b/"+ch.file())
		out = append(out, ch)
	}
	return out, nil
}

// marshalCluster writes a ClusterNetworkPolicy's YAML for a diff: its
// apiVersion, kind, metadata and spec, keys sorted (the status is the
// cluster's, not the tree's).
func marshalCluster(p *v1beta1.ClusterNetworkPolicy) ([]byte, error) {
	q := p.DeepCopy()
	q.APIVersion, q.Kind = v1beta1.GroupVersion.String(), KindClusterNetworkPolicy
	q.Status = v1beta1.ClusterNetworkPolicyStatus{}
	raw, err := json.Marshal(q)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	delete(doc, "status")
	if md, ok := doc["metadata"].(map[string]any); ok && md["creationTimestamp"] == nil {
		delete(md, "creationTimestamp")
	}
	return yaml.Marshal(doc)
}
