package eval

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
)

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
