package eval

import (
	"math/rand/v2"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
