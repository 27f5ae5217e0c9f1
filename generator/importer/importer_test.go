package importer

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netdep/netdep/generator/eval"
)

func TestAtoms(t *testing.T) {
	tcp := func(from, to int32) eval.PortRange {
		return eval.PortRange{Protocol: corev1.ProtocolTCP, From: from, To: to}
	}
	for _, tc := range []struct {
		name string
		sets []eval.PortSet
		want []eval.PortRange
	}{
		{"one port", []eval.PortSet{eval.NewPortSet(tcp(80, 80))}, []eval.PortRange{tcp(80, 80)}},
		{"a port inside a range cuts it", []eval.PortSet{eval.NewPortSet(tcp(9000, 9100)), eval.NewPortSet(tcp(9050, 9050))},
			[]eval.PortRange{tcp(9000, 9049), tcp(9050, 9050), tcp(9051, 9100)}},
		{"overlapping ranges", []eval.PortSet{eval.NewPortSet(tcp(1, 10)), eval.NewPortSet(tcp(5, 20))},
			[]eval.PortRange{tcp(1, 4), tcp(5, 10), tcp(11, 20)}},
		{"nothing", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, atoms(tc.sets)); diff != "" {
				t.Errorf("atoms (-want +got):\n%s", diff)
			}
		})
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"frontend":          "frontend",
		"app.kubernetes.io": "app.kubernetes.io",
		"10.0.0.0/8":        "10.0.0.0/8",
		"::/0":              `"::/0"`,
		"8080":              `"8080"`,
		"on":                `"on"`,
		"-x":                `"-x"`,
		"":                  `""`,
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
	if got := quoteRef("ns/svc:http"); got != "ns/svc:http" {
		t.Errorf("quoteRef = %s", got)
	}
}

func TestPortName(t *testing.T) {
	for _, tc := range []struct {
		r    eval.PortRange
		want string
	}{
		{eval.PortRange{Protocol: corev1.ProtocolTCP, From: 8080, To: 8080}, "tcp-8080"},
		{eval.PortRange{Protocol: corev1.ProtocolUDP, From: 53, To: 53}, "udp-53"},
		{eval.PortRange{Protocol: corev1.ProtocolSCTP, From: 65000, To: 65535}, "sctp65000-65535"},
	} {
		if got := portName(tc.r); got != tc.want || len(got) > 15 {
			t.Errorf("portName(%v) = %q, want %q (at most 15 characters)", tc.r, got, tc.want)
		}
	}
}

// TestResolveNamespaceSelectors: a label selector becomes the names it
// matches; one that also matches unlabelled namespaces becomes NotIn the
// others; nil ({} too) stays as it is, since nil means the policy's own
// namespace and {} every namespace.
func TestResolveNamespaceSelectors(t *testing.T) {
	nss := []eval.Namespace{{Name: "a", Labels: map[string]string{"team": "x"}}, {Name: "b"}}
	peer := func(s *metav1.LabelSelector) *networkingv1.NetworkPolicy {
		return &networkingv1.NetworkPolicy{Spec: networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{
			From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: s}}}}}}
	}
	req := func(op metav1.LabelSelectorOperator, v ...string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: eval.NamespaceNameLabel, Operator: op, Values: v}}}
	}
	for _, tc := range []struct {
		name string
		in   *metav1.LabelSelector
		want *metav1.LabelSelector
	}{
		{"nil", nil, nil},
		{"empty", &metav1.LabelSelector{}, &metav1.LabelSelector{}},
		{"label", &metav1.LabelSelector{MatchLabels: map[string]string{"team": "x"}}, req(metav1.LabelSelectorOpIn, "a")},
		{"absent label", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "team", Operator: metav1.LabelSelectorOpDoesNotExist}}},
			req(metav1.LabelSelectorOpNotIn, "a")},
		{"no match", &metav1.LabelSelector{MatchLabels: map[string]string{"team": "y"}}, req(metav1.LabelSelectorOpIn, "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ResolveNamespaceSelectors([]*networkingv1.NetworkPolicy{peer(tc.in)}, nss)[0].Spec.Ingress[0].From[0].NamespaceSelector
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
