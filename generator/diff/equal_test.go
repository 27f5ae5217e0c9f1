package diff

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestEqualPolicyKnowsEveryField: the fields equalPolicy compares are
// every field of the API types, so that a new field (a k8s.io/api
// upgrade) fails here instead of being ignored by the diff.
func TestEqualPolicyKnowsEveryField(t *testing.T) {
	for typ, want := range map[reflect.Type][]string{
		reflect.TypeFor[networkingv1.NetworkPolicy]():            {"TypeMeta", "ObjectMeta", "Spec"},
		reflect.TypeFor[metav1.TypeMeta]():                       {"Kind", "APIVersion"},
		reflect.TypeFor[metav1.ObjectMeta]():                     {"Name", "GenerateName", "Namespace", "SelfLink", "UID", "ResourceVersion", "Generation", "CreationTimestamp", "DeletionTimestamp", "DeletionGracePeriodSeconds", "Labels", "Annotations", "OwnerReferences", "Finalizers", "ManagedFields"},
		reflect.TypeFor[networkingv1.NetworkPolicySpec]():        {"PodSelector", "Ingress", "Egress", "PolicyTypes"},
		reflect.TypeFor[networkingv1.NetworkPolicyIngressRule](): {"Ports", "From"},
		reflect.TypeFor[networkingv1.NetworkPolicyEgressRule]():  {"Ports", "To"},
		reflect.TypeFor[networkingv1.NetworkPolicyPort]():        {"Protocol", "Port", "EndPort"},
		reflect.TypeFor[networkingv1.NetworkPolicyPeer]():        {"PodSelector", "NamespaceSelector", "IPBlock"},
		reflect.TypeFor[networkingv1.IPBlock]():                  {"CIDR", "Except"},
		reflect.TypeFor[metav1.LabelSelector]():                  {"MatchLabels", "MatchExpressions"},
		reflect.TypeFor[metav1.LabelSelectorRequirement]():       {"Key", "Operator", "Values"},
		reflect.TypeFor[intstr.IntOrString]():                    {"Type", "IntVal", "StrVal"},
	} {
		var got []string
		for f := range typ.Fields() {
			got = append(got, f.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%v has the fields %v; equalPolicy compares %v", typ, got, want)
		}
	}
}

// randomPolicy draws from small alphabets, so that two draws are often
// equal, and sets nil and empty alike.
func randomPolicy(r *rand.Rand) *networkingv1.NetworkPolicy {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	labels := func() map[string]string {
		switch r.IntN(4) {
		case 0:
			return nil
		case 1:
			return map[string]string{}
		}
		m := map[string]string{}
		for range r.IntN(2) + 1 {
			m[pick("app", "tier")] = pick("a", "b")
		}
		return m
	}
	strs := func() []string {
		switch r.IntN(3) {
		case 0:
			return nil
		case 1:
			return []string{}
		}
		return []string{pick("x", "y")}
	}
	selector := func() *metav1.LabelSelector {
		if r.IntN(3) == 0 {
			return nil
		}
		s := &metav1.LabelSelector{MatchLabels: labels()}
		if r.IntN(3) == 0 {
			s.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: pick("app", "tier"), Operator: metav1.LabelSelectorOperator(pick("In", "NotIn")), Values: strs()}}
		}
		return s
	}
	ports := func() []networkingv1.NetworkPolicyPort {
		if r.IntN(3) == 0 {
			return nil
		}
		var ps []networkingv1.NetworkPolicyPort
		for range r.IntN(2) {
			var p networkingv1.NetworkPolicyPort
			if r.IntN(2) == 0 {
				proto := corev1.Protocol(pick("TCP", "UDP"))
				p.Protocol = &proto
			}
			if r.IntN(2) == 0 {
				port := intstr.FromInt32(int32(r.IntN(2) + 80))
				if r.IntN(3) == 0 {
					port = intstr.FromString(pick("http", "dns"))
				}
				p.Port = &port
			}
			if r.IntN(3) == 0 {
				end := int32(r.IntN(2) + 90)
				p.EndPort = &end
			}
			ps = append(ps, p)
		}
		return ps
	}
	peers := func() []networkingv1.NetworkPolicyPeer {
		if r.IntN(3) == 0 {
			return nil
		}
		var ps []networkingv1.NetworkPolicyPeer
		for range r.IntN(3) {
			p := networkingv1.NetworkPolicyPeer{PodSelector: selector(), NamespaceSelector: selector()}
			if r.IntN(3) == 0 {
				p.IPBlock = &networkingv1.IPBlock{CIDR: pick("10.0.0.0/8", "0.0.0.0/0"), Except: strs()}
			}
			ps = append(ps, p)
		}
		return ps
	}
	p := &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{Kind: pick("NetworkPolicy", ""), APIVersion: pick("networking.k8s.io/v1", "")},
		ObjectMeta: metav1.ObjectMeta{Name: pick("a", "b"), Namespace: pick("n", "m"), Labels: labels(), Annotations: labels()},
	}
	switch r.IntN(12) {
	case 0:
		p.Finalizers = strs()
	case 1:
		p.CreationTimestamp = metav1.NewTime(time.Unix(int64(r.IntN(2)), 0).UTC())
	case 2:
		g := int64(r.IntN(2))
		p.DeletionGracePeriodSeconds = &g
	case 3:
		p.OwnerReferences = []metav1.OwnerReference{{Name: pick("o", "p")}}
	case 4:
		p.UID, p.ResourceVersion, p.Generation = "u", pick("1", "2"), int64(r.IntN(2))
	}
	if s := selector(); s != nil {
		p.Spec.PodSelector = *s
	}
	if r.IntN(4) > 0 {
		p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{}
		for range r.IntN(2) {
			p.Spec.Ingress = append(p.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{Ports: ports(), From: peers()})
		}
	}
	if r.IntN(4) > 0 {
		for range r.IntN(2) + 1 {
			p.Spec.Egress = append(p.Spec.Egress, networkingv1.NetworkPolicyEgressRule{Ports: ports(), To: peers()})
		}
	}
	if r.IntN(2) == 0 {
		p.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyType(pick("Ingress", "Egress"))}
	}
	return p
}

// TestEqualPolicyIsDeepEqual: over 200,000 pairs of random policies, and
// each policy against a deep copy of itself, equalPolicy answers as
// reflect.DeepEqual does, and both answers occur.
func TestEqualPolicyIsDeepEqual(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	equal := 0
	for i := range 200000 {
		a := randomPolicy(r)
		b := randomPolicy(r)
		if i%2 == 0 {
			b = a.DeepCopy()
			// One change, somewhere, half the time.
			if r.IntN(2) == 0 {
				c := randomPolicy(r)
				switch r.IntN(5) {
				case 0:
					b.Spec.Ingress = c.Spec.Ingress
				case 1:
					b.Spec.Egress = c.Spec.Egress
				case 2:
					b.ObjectMeta = c.ObjectMeta
				case 3:
					b.Spec.PodSelector = c.Spec.PodSelector
				case 4:
					b.Spec.PolicyTypes = c.Spec.PolicyTypes
				}
			}
		}
		got, want := equalPolicy(a, b), reflect.DeepEqual(a, b)
		if got != want {
			t.Fatalf("equalPolicy %v, DeepEqual %v:\n%#v\n%#v", got, want, a, b)
		}
		if got {
			equal++
		}
	}
	if equal < 50000 || equal > 150000 {
		t.Fatalf("%d of 200,000 pairs equal: the draw does not exercise both answers", equal)
	}
	if !equalPolicy(nil, nil) || equalPolicy(nil, &networkingv1.NetworkPolicy{}) {
		t.Error("nil policies")
	}
}
