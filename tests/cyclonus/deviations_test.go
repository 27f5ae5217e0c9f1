package cyclonus

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/mattfenwick/cyclonus/pkg/matcher"
	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/eval/evaltest"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestCyclonusDeviations pins down, on minimal cases, where cyclonus
// v0.5.6 reads policies differently from the API server, and that
// forCyclonus's rewrite makes it agree. If cyclonus is fixed, this test
// fails and the rewrite can go.
func TestCyclonusDeviations(t *testing.T) {
	u := eval.Universe{
		Namespaces: []eval.Namespace{{Name: "shop"}},
		Pods: []eval.Pod{
			{Namespace: "shop", Name: "client", Labels: map[string]string{"app": "client"}, IPs: []netip.Addr{netip.MustParseAddr("10.0.0.1")}},
			{Namespace: "shop", Name: "server", Labels: map[string]string{"app": "server"}, IPs: []netip.Addr{netip.MustParseAddr("10.0.0.2")}},
		},
	}
	serverFrom := func(peer metav1.LabelSelector) *networkingv1.NetworkPolicy {
		return &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "server"},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "server"}},
				Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &peer}}}},
			},
		}
	}
	tests := []struct {
		name   string
		policy *networkingv1.NetworkPolicy
		want   bool // the API server's answer for client -> server
	}{
		{
			name: "NotIn matches a pod without the key",
			policy: serverFrom(metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "tier", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"web"}}}}),
			want: true,
		},
		{
			name:   "matchLabels with an empty value needs the key",
			policy: serverFrom(metav1.LabelSelector{MatchLabels: map[string]string{"tier": ""}}),
			want:   false,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := eval.New(u, []*networkingv1.NetworkPolicy{tc.policy})
			if err != nil {
				t.Fatal(err)
			}
			got := e.Explain(eval.Query{Src: eval.PodEndpoint(0), Dst: eval.PodEndpoint(1), Port: 80}).Allowed
			if got != tc.want {
				t.Fatalf("netdep: %v, want %v", got, tc.want)
			}
			c := evaltest.Case{Universe: u, Ports: []int32{80}}
			var tr *matcher.Traffic
			eachProbe(c, e, func(src, dst eval.Endpoint, x *matcher.Traffic) {
				if src == eval.PodEndpoint(0) && dst == eval.PodEndpoint(1) && x.Protocol == corev1.ProtocolTCP {
					tr = x
				}
			})
			raw := matcher.BuildNetworkPolicies(false, e.Policies()).IsTrafficAllowed(tr).IsAllowed()
			if raw == tc.want {
				t.Errorf("cyclonus now agrees without the rewrite (%v): drop it from forCyclonus", raw)
			}
			fixed := matcher.BuildNetworkPolicies(false, forCyclonus(e.Policies())).IsTrafficAllowed(tr).IsAllowed()
			if fixed != tc.want {
				t.Errorf("cyclonus after the rewrite: %v, want %v", fixed, tc.want)
			}
		})
	}
}

// TestDifferentialSimplified runs cyclonus with its Simplify pass on (it
// merges peers of a target), which must not change any answer.
func TestDifferentialSimplified(t *testing.T) {
	n := 500
	if testing.Short() {
		n = 100
	}
	probes := 0
	for seed := 0; seed < n; seed++ {
		rng := rand.New(rand.NewPCG(uint64(seed), 11))
		c := evaltest.Random(rng, evaltest.RandomOptions{PodIPs: true})
		e, err := eval.New(c.Universe, c.Policies)
		if err != nil {
			t.Fatal(err)
		}
		cyc := matcher.BuildNetworkPolicies(true, forCyclonus(e.Policies()))
		eachProbe(c, e, func(src, dst eval.Endpoint, tr *matcher.Traffic) {
			probes++
			want := e.Explain(eval.Query{Src: src, Dst: dst, Protocol: tr.Protocol, Port: int32(tr.ResolvedPort)})
			if got := cyc.IsTrafficAllowed(tr).IsAllowed(); got != want.Allowed {
				t.Fatalf("seed %d: %s\nnetdep: %s\ncyclonus (simplified): %v\n%s", seed, describe(tr), want, got, dump(e.Policies()))
			}
		})
	}
	t.Logf("%d cases, %d probes agree", n, probes)
}
