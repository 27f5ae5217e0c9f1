package eval

import (
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// selector is a label selector compiled for matching pod and namespace
// labels: what metav1.LabelSelectorAsSelector makes of it, with the same
// answers (TestSelectorMatchesLabelSelectorAsSelector,
// FuzzSelectorMatchesLabelSelectorAsSelector).
//
// A selector of plain matchLabels (plainLabels: the form generate writes,
// almost every selector of a large tree) is compiled by hand: apimachinery
// would validate every key and value again with regular expressions, which
// was a twelfth of verify's CPU time at 10,000 services. Every other
// selector goes through apimachinery, which decides what it means and what
// it refuses.
type selector struct {
	// nothing: selects nothing (a nil selector, or one apimachinery
	// refuses; Validate refuses those before evaluation).
	nothing bool
	reqs    []requirement // sorted by key; none selects everything
	// key is the selector as a map key: distinct for distinct requirement
	// lists (every part length-prefixed).
	key string
}

// requirement is one condition on a label: op is Equals (values has one
// element), In, NotIn, Exists or DoesNotExist, the operators a
// LabelSelector converts to; values are sorted.
type requirement struct {
	key    string
	op     selection.Operator
	values []string
}

func compileSelector(s *metav1.LabelSelector) selector {
	if s == nil {
		return selector{nothing: true, key: "nothing"}
	}
	reqs, plain := plainRequirements(s)
	if !plain {
		sel, err := metav1.LabelSelectorAsSelector(s)
		if err != nil {
			return selector{nothing: true, key: "nothing"}
		}
		rs, selectable := sel.Requirements()
		if !selectable {
			return selector{nothing: true, key: "nothing"}
		}
		reqs = make([]requirement, 0, len(rs))
		for _, r := range rs {
			reqs = append(reqs, requirement{key: r.Key(), op: r.Operator(), values: r.Values().List()})
		}
	}
	slices.SortFunc(reqs, func(a, b requirement) int { return strings.Compare(a.key, b.key) })
	var b strings.Builder
	b.WriteString("sel")
	for _, r := range reqs {
		writePart(&b, r.key)
		writePart(&b, string(r.op))
		b.WriteString(strconv.Itoa(len(r.values)))
		for _, v := range r.values {
			writePart(&b, v)
		}
	}
	return selector{reqs: reqs, key: b.String()}
}

// plainRequirements is s's requirements when plainLabels(s), in one walk
// over the map.
func plainRequirements(s *metav1.LabelSelector) ([]requirement, bool) {
	if len(s.MatchExpressions) > 0 {
		return nil, false
	}
	reqs := make([]requirement, 0, len(s.MatchLabels))
	for k, v := range s.MatchLabels {
		if !plainLabel(k, v) {
			return nil, false
		}
		reqs = append(reqs, requirement{key: k, op: selection.Equals, values: []string{v}})
	}
	return reqs, true
}

// writePart writes s length-prefixed, so that no two lists of parts write
// the same string.
func writePart(b *strings.Builder, s string) {
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(len(s)))
	b.WriteByte(':')
	b.WriteString(s)
}

// matches is whether ls satisfies every requirement, as labels.Selector's
// Matches has it.
func (s *selector) matches(ls labels.Set) bool {
	if s.nothing {
		return false
	}
	for i := range s.reqs {
		if !s.reqs[i].matches(ls) {
			return false
		}
	}
	return true
}

func (r *requirement) matches(ls labels.Set) bool {
	v, has := ls[r.key]
	switch r.op {
	case selection.Equals, selection.DoubleEquals, selection.In:
		return has && slices.Contains(r.values, v)
	case selection.NotIn, selection.NotEquals:
		return !has || !slices.Contains(r.values, v)
	case selection.Exists:
		return has
	case selection.DoesNotExist:
		return !has
	}
	// LabelSelectorAsSelector makes no other operator.
	return false
}
