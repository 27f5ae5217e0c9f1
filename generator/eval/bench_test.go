package eval_test

import (
	"fmt"
	"testing"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/eval/evaltest"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// BenchmarkEvaluate compiles an organisation's policies and computes the
// whole connectivity matrix (tests/scripts/bench-eval.sh prints CPU and memory, and
// cyclonus's figures on the same input).
func BenchmarkEvaluate(b *testing.B) {
	for _, n := range []int{2000, 10000} {
		u, ps := evaltest.Org(n, 1)
		b.Run(fmt.Sprintf("workloads=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e, err := eval.New(u, ps)
				if err != nil {
					b.Fatal(err)
				}
				_ = e.Reachability()
			}
		})
	}
}

// BenchmarkExplain is one question on a compiled 2,000-workload org.
func BenchmarkExplain(b *testing.B) {
	u, ps := evaltest.Org(2000, 1)
	e, err := eval.New(u, ps)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_ = e.Explain(eval.Query{Src: eval.PodEndpoint(100), Dst: eval.PodEndpoint(1500), Port: 8080})
	}
}

// BenchmarkEvaluateCluster is BenchmarkEvaluate with two guardrails on
// (an Admin deny of the metadata address, a Baseline deny-all ingress):
// Reachability then decides class pairs through the tiers.
func BenchmarkEvaluateCluster(b *testing.B) {
	all := metav1.LabelSelector{}
	admin := &v1beta1.ClusterNetworkPolicy{}
	admin.Name, admin.Spec.Tier, admin.Spec.Priority = "metadata", v1beta1.AdminTier, 1
	admin.Spec.Subject.Namespaces = &all
	admin.Spec.Egress = []v1beta1.ClusterNetworkPolicyEgressRule{{Action: v1beta1.ClusterNetworkPolicyRuleActionDeny, To: []v1beta1.ClusterNetworkPolicyEgressPeer{{Networks: []v1beta1.CIDR{"169.254.169.254/32"}}}}}
	base := &v1beta1.ClusterNetworkPolicy{}
	base.Name, base.Spec.Tier = "default-deny", v1beta1.BaselineTier
	base.Spec.Subject.Namespaces = &all
	base.Spec.Ingress = []v1beta1.ClusterNetworkPolicyIngressRule{{Action: v1beta1.ClusterNetworkPolicyRuleActionDeny, From: []v1beta1.ClusterNetworkPolicyIngressPeer{{Namespaces: &all}}}}
	for _, n := range []int{500, 2000} {
		u, ps := evaltest.Org(n, 1)
		b.Run(fmt.Sprintf("workloads=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e, err := eval.NewWithClusterPolicies(u, ps, []*v1beta1.ClusterNetworkPolicy{admin, base})
				if err != nil {
					b.Fatal(err)
				}
				_ = e.Reachability()
			}
		})
	}
}
