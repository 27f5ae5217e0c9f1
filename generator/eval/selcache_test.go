package eval

import (
	"math/rand/v2"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
)

// TestSelectorKeyIsExact: two selectors share a key only when they are the
// same selector (the caches would otherwise hand one selector's verdict to
// another). Random selectors over strings made to collide when joined:
// digits, colons, the letters of the encoding.
func TestSelectorKeyIsExact(t *testing.T) {
	atoms := []string{"", "1", "1:", ":", "a", "1:a", "L", "E", "V", ";", "In", "a1:"}
	rng := rand.New(rand.NewPCG(1, 2))
	str := func() string {
		s := ""
		for range rng.IntN(3) {
			s += atoms[rng.IntN(len(atoms))]
		}
		return s
	}
	sel := func() *metav1.LabelSelector {
		if rng.IntN(10) == 0 {
			return nil
		}
		s := &metav1.LabelSelector{}
		if n := rng.IntN(3); n > 0 {
			s.MatchLabels = map[string]string{}
			for range n {
				s.MatchLabels[str()] = str()
			}
		}
		for range rng.IntN(3) {
			e := metav1.LabelSelectorRequirement{Key: str(), Operator: metav1.LabelSelectorOperator(str())}
			for range rng.IntN(3) {
				e.Values = append(e.Values, str())
			}
			s.MatchExpressions = append(s.MatchExpressions, e)
		}
		return s
	}
	// What the key must tell apart: nil from {}, and no labels from
	// empty maps is not needed (both select the same), so compare
	// normalised.
	norm := func(s *metav1.LabelSelector) any {
		if s == nil {
			return nil
		}
		c := *s
		if len(c.MatchLabels) == 0 {
			c.MatchLabels = nil
		}
		if len(c.MatchExpressions) == 0 {
			c.MatchExpressions = nil
		}
		for i := range c.MatchExpressions {
			if len(c.MatchExpressions[i].Values) == 0 {
				c.MatchExpressions[i].Values = nil
			}
		}
		return c
	}
	byKey := map[string]*metav1.LabelSelector{}
	collisions := 0
	for range 200000 {
		s := sel()
		k := selectorKey(s)
		if prev, ok := byKey[k]; ok {
			if !reflect.DeepEqual(norm(prev), norm(s)) {
				t.Fatalf("%v and %v share the key %q", prev, s, k)
			}
			collisions++
			continue
		}
		byKey[k] = s
	}
	if len(byKey) < 10000 || collisions == 0 {
		t.Fatalf("%d distinct keys, %d repeats: the test draws too few or too many selectors", len(byKey), collisions)
	}
}

// FuzzPlainLabels: a selector plainLabels passes, ValidateLabelSelector
// accepts; and the plain selectors of netdep's own output take the fast
// path.
func FuzzPlainLabels(f *testing.F) {
	for _, s := range [][2]string{{"app", "svc-04638"}, {"kubernetes.io/metadata.name", "team-1"}, {"a/b/c", "x"}, {"A.b-c_d", ""},
		{"-a", "b"}, {"a", "b-"}, {"Example.com/x", "y"}, {"a..b/c", "d"}, {"x/", "y"}, {"/x", "y"}, {"a", "b\\c"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, k, v string) {
		s := &metav1.LabelSelector{MatchLabels: map[string]string{k: v}}
		if plainLabels(s) {
			if errs := metav1validation.ValidateLabelSelector(s, metav1validation.LabelSelectorValidationOptions{}, nil); len(errs) > 0 {
				t.Fatalf("plainLabels passed %q: %q, which the API refuses: %v", k, v, errs)
			}
		}
	})
}

func TestPlainLabelsFastPath(t *testing.T) {
	for _, kv := range [][2]string{{"app", "svc-04638"}, {"kubernetes.io/metadata.name", "team-1"}, {"tier", "data"}, {"app.kubernetes.io/name", "checkout"}, {"a", ""}} {
		if !plainLabels(&metav1.LabelSelector{MatchLabels: map[string]string{kv[0]: kv[1]}}) {
			t.Errorf("%q: %q does not take the fast path", kv[0], kv[1])
		}
	}
	for _, kv := range [][2]string{{"-a", "b"}, {"a", "b-"}, {"Example.com/x", "y"}, {"a..b/c", "d"}, {"x/", "y"}, {"a/b/c", "x"}} {
		if plainLabels(&metav1.LabelSelector{MatchLabels: map[string]string{kv[0]: kv[1]}}) {
			t.Errorf("%q: %q passed plainLabels", kv[0], kv[1])
		}
	}
}
