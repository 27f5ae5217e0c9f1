package eval

import (
	"math/rand/v2"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Small alphabets, so that random selectors and label sets meet: keys and
// values that collide, plus forms the API refuses.
var (
	selectorKeys   = []string{"app", "tier", "team", "kubernetes.io/metadata.name", "-bad", "a/b/c", "Example.com/x"}
	selectorValues = []string{"", "a", "b", "svc-1", "bad-", "x y"}
	selectorOps    = []metav1.LabelSelectorOperator{metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn, metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist, "Gt"}
)

func randomSelector(r *rand.Rand) *metav1.LabelSelector {
	if r.IntN(20) == 0 {
		return nil
	}
	s := &metav1.LabelSelector{}
	if n := r.IntN(4); n > 0 {
		s.MatchLabels = map[string]string{}
		for range n {
			s.MatchLabels[selectorKeys[r.IntN(len(selectorKeys))]] = selectorValues[r.IntN(len(selectorValues))]
		}
	}
	if r.IntN(2) == 0 {
		for range r.IntN(3) + 1 {
			e := metav1.LabelSelectorRequirement{Key: selectorKeys[r.IntN(len(selectorKeys))], Operator: selectorOps[r.IntN(len(selectorOps))]}
			for range r.IntN(3) {
				e.Values = append(e.Values, selectorValues[r.IntN(len(selectorValues))])
			}
			s.MatchExpressions = append(s.MatchExpressions, e)
		}
	}
	return s
}

func randomLabels(r *rand.Rand) labels.Set {
	ls := labels.Set{}
	for range r.IntN(4) {
		ls[selectorKeys[r.IntN(len(selectorKeys))]] = selectorValues[r.IntN(len(selectorValues))]
	}
	return ls
}

// apimachinery is the selector as evaluation had it before
// compileSelector: one that does not convert selects nothing.
func apimachinery(s *metav1.LabelSelector) labels.Selector {
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return labels.Nothing()
	}
	return sel
}

// TestSelectorMatchesLabelSelectorAsSelector: compileSelector answers as
// metav1.LabelSelectorAsSelector does for 10,000 random selectors (valid
// and not, every operator) over random label sets, and two selectors have
// the same key only if they select the same label sets.
func TestSelectorMatchesLabelSelectorAsSelector(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sets := make([]labels.Set, 200)
	for i := range sets {
		sets[i] = randomLabels(r)
	}
	byKey := map[string]labels.Selector{}
	plain, matched := 0, 0
	for range 10000 {
		s := randomSelector(r)
		sel, want := compileSelector(s), apimachinery(s)
		if s != nil && plainLabels(s) {
			plain++
		}
		for _, ls := range sets {
			got, want := sel.matches(ls), want.Matches(ls)
			if got != want {
				t.Fatalf("selector %v on labels %v: compiled %v, apimachinery %v", s, ls, got, want)
			}
			if got {
				matched++
			}
		}
		if other, ok := byKey[sel.key]; ok {
			for _, ls := range sets {
				if want.Matches(ls) != other.Matches(ls) {
					t.Fatalf("selectors %v and %v share the key %q but differ on %v", s, other, sel.key, ls)
				}
			}
		}
		byKey[sel.key] = want
	}
	// The comparison must have seen both paths and both answers.
	if plain < 1000 || matched < 5000 {
		t.Fatalf("too few cases: %d plain selectors, %d matches", plain, matched)
	}
	t.Logf("%d plain selectors, %d matching pairs, %d keys", plain, matched, len(byKey))
}

// FuzzSelectorMatchesLabelSelectorAsSelector: the same comparison for one
// fuzzed matchLabels entry and one expression, on one label.
func FuzzSelectorMatchesLabelSelectorAsSelector(f *testing.F) {
	f.Add("app", "a", "tier", "In", "b", "app", "a")
	f.Add("a/b", "", "x", "NotIn", "", "x", "y")
	f.Add("-a", "b", "k", "Exists", "", "k", "")
	f.Add("app", "a", "k", "DoesNotExist", "", "app", "a")
	f.Fuzz(func(t *testing.T, k, v, ek, op, ev, lk, lv string) {
		s := &metav1.LabelSelector{MatchLabels: map[string]string{k: v}}
		if op != "" {
			e := metav1.LabelSelectorRequirement{Key: ek, Operator: metav1.LabelSelectorOperator(op)}
			if ev != "" {
				e.Values = []string{ev}
			}
			s.MatchExpressions = []metav1.LabelSelectorRequirement{e}
		}
		sel, want := compileSelector(s), apimachinery(s)
		for _, ls := range []labels.Set{{lk: lv}, {k: v}, {k: v, ek: ev}, {}} {
			if got, want := sel.matches(ls), want.Matches(ls); got != want {
				t.Fatalf("selector %v on labels %v: compiled %v, apimachinery %v", s, ls, got, want)
			}
		}
	})
}
