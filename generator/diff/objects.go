package diff

import (
	"reflect"

	networkingv1 "k8s.io/api/networking/v1"

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

// ObjectChange is one NetworkPolicy that differs between base and head.
type ObjectChange struct {
	Action          Action
	Namespace, Name string
	// Source is the dependency file the object comes from (its
	// netdep.io/source annotation), on the head side unless removed.
	Source string
	// Diff is the unified diff of the object's YAML as generate writes it
	// (kustomize.Marshal); an added object is diffed against /dev/null.
	Diff string
}

// ID is "namespace/name".
func (o ObjectChange) ID() string { return o.Namespace + "/" + o.Name }

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
	ch := &ObjectChange{Action: Changed}
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
	file := ref.Namespace + "/" + ref.Name + ".yaml"
	ch.Diff = unified(string(ya), string(yb), "a/"+file, "b/"+file)
	return ch, nil
}
