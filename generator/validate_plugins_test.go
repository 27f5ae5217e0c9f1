package generator_test

import (
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/schema"
)

// pluginMeta is the metadata every plugin object carries.
func pluginMeta(name, wave string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "payments",
		Labels:      map[string]string{policy.ManagedByLabel: policy.ManagedByValue},
		Annotations: map[string]string{policy.SourceAnnotation: "teams/payments/deps.yaml", policy.SyncWaveAnnotation: wave}}
}

// pluginSet is a set with one valid object of each plugin kind, in the
// design's shapes.
func pluginSet() *policy.Set {
	off := false
	order := float64(policy.LogDeniedOrder)
	cnp := &policy.CiliumNetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: policy.CiliumAPIVersion, Kind: policy.CiliumKind},
		ObjectMeta: pluginMeta("payment.hosts", policy.AllowWave),
		Spec: policy.CiliumRule{
			EndpointSelector:  policy.CiliumSelector{MatchLabels: map[string]string{"app": "payment"}},
			EnableDefaultDeny: &policy.CiliumDefaultDeny{Egress: &off, Ingress: &off},
			Egress: []policy.CiliumEgressRule{
				{ToFQDNs: []policy.CiliumFQDNSelector{{MatchPattern: "*.googleapis.com"}, {MatchName: "api.stripe.com"}},
					ToPorts: []policy.CiliumPortRule{{Ports: []policy.CiliumPortProtocol{{Port: "443", Protocol: "TCP"}}}}},
				{ToEndpoints: []policy.CiliumSelector{{MatchLabels: map[string]string{"k8s-app": "kube-dns", policy.CiliumNamespaceLabel: "kube-system"}}},
					ToPorts: []policy.CiliumPortRule{{Ports: []policy.CiliumPortProtocol{{Port: "53", Protocol: "UDP"}},
						Rules: &policy.CiliumL7Rules{DNS: []policy.CiliumFQDNSelector{{MatchPattern: "*.googleapis.com"}, {MatchName: "api.stripe.com"}}}}}},
				{ToCIDR: []string{"169.254.20.10/32"},
					ToPorts: []policy.CiliumPortRule{{Ports: []policy.CiliumPortProtocol{{Port: "53", Protocol: "UDP"}},
						Rules: &policy.CiliumL7Rules{DNS: []policy.CiliumFQDNSelector{{MatchPattern: "*.googleapis.com"}, {MatchName: "api.stripe.com"}}}}}},
			},
		},
	}
	calico := &policy.CalicoNetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: policy.CalicoAPIVersion, Kind: policy.CalicoNetworkPolicyKind},
		ObjectMeta: pluginMeta(policy.LogDeniedName, policy.DenyWave),
		Spec: policy.CalicoPolicySpec{Order: &order, Selector: "all()", Types: []string{"Ingress", "Egress"},
			Ingress: []policy.CalicoRule{{Action: "Log"}, {Action: "Deny"}}, Egress: []policy.CalicoRule{{Action: "Log"}, {Action: "Deny"}}},
	}
	return &policy.Set{
		Environments: []string{"dev", "prod"},
		Overlays:     make([][]*networkingv1.NetworkPolicy, 2),
		Plugins: []policy.PluginObjects{
			{Env: "dev", Plugin: schema.PluginCalico, Audit: true, Calico: []*policy.CalicoNetworkPolicy{calico}},
			{Env: "prod", Plugin: schema.PluginCilium, Cilium: []*policy.CiliumNetworkPolicy{cnp}},
		},
	}
}

// TestValidateSetPluginObjects: the design's objects pass; each broken one
// fails the run naming the object, its source and the field.
func TestValidateSetPluginObjects(t *testing.T) {
	if err := generator.ValidateSet(pluginSet()); err != nil {
		t.Fatalf("valid plugin objects refused: %v", err)
	}
	cnp := func(s *policy.Set) *policy.CiliumNetworkPolicy { return s.Plugins[1].Cilium[0] }
	cal := func(s *policy.Set) *policy.CalicoNetworkPolicy { return s.Plugins[0].Calico[0] }
	tests := []struct {
		name   string
		mutate func(*policy.Set)
		want   []string
	}{
		{"name not a subdomain", func(s *policy.Set) { cnp(s).Name = "Payment_hosts" }, []string{"ciliumnetworkpolicy payments/Payment_hosts", "metadata.name"}},
		{"port out of range", func(s *policy.Set) { cnp(s).Spec.Egress[0].ToPorts[0].Ports[0].Port = "70000" }, []string{"spec.egress[0].toPorts[0].ports[0].port", "70000"}},
		{"named port", func(s *policy.Set) { cnp(s).Spec.Egress[0].ToPorts[0].Ports[0].Port = "https" }, []string{"ports[0].port", "https"}},
		{"endPort below port", func(s *policy.Set) { cnp(s).Spec.Egress[0].ToPorts[0].Ports[0].EndPort = 80 }, []string{"ports[0].endPort"}},
		{"bad protocol", func(s *policy.Set) { cnp(s).Spec.Egress[0].ToPorts[0].Ports[0].Protocol = "ICMP" }, []string{"ports[0].protocol", "ICMP"}},
		{"pattern inside", func(s *policy.Set) { cnp(s).Spec.Egress[0].ToFQDNs[0].MatchPattern = "a*.googleapis.com" }, []string{"spec.egress[0].toFQDNs[0].matchPattern"}},
		{"both name and pattern", func(s *policy.Set) { cnp(s).Spec.Egress[0].ToFQDNs[1].MatchPattern = "*.stripe.com" }, []string{"toFQDNs[1]: want exactly one of matchName and matchPattern"}},
		{"one label", func(s *policy.Set) { cnp(s).Spec.Egress[0].ToFQDNs[1].MatchName = "localhost" }, []string{"toFQDNs[1].matchName", "two labels"}},
		{"default deny on", func(s *policy.Set) { on := true; cnp(s).Spec.EnableDefaultDeny.Egress = &on }, []string{"spec.enableDefaultDeny"}},
		{"no default deny field", func(s *policy.Set) { cnp(s).Spec.EnableDefaultDeny = nil }, []string{"spec.enableDefaultDeny"}},
		{"fqdn with endpoints", func(s *policy.Set) { cnp(s).Spec.Egress[1].ToFQDNs = cnp(s).Spec.Egress[0].ToFQDNs }, []string{"spec.egress[1]: want exactly one of"}},
		{"dns names differ", func(s *policy.Set) {
			cnp(s).Spec.Egress[1].ToPorts[0].Rules.DNS = cnp(s).Spec.Egress[1].ToPorts[0].Rules.DNS[:1]
		}, []string{"rules.dns names *.googleapis.com, the policy allows *.googleapis.com,api.stripe.com"}},
		{"no dns rule", func(s *policy.Set) { cnp(s).Spec.Egress = cnp(s).Spec.Egress[:1] }, []string{"no rule to the DNS servers"}},
		{"cidr with host bits", func(s *policy.Set) { cnp(s).Spec.Egress[2].ToCIDR[0] = "169.254.20.10/24" }, []string{"spec.egress[2].toCIDR[0]", "host bits"}},
		{"every endpoint", func(s *policy.Set) { cnp(s).Spec.EndpointSelector.MatchLabels = nil }, []string{"spec.endpointSelector"}},
		{"endpoint without namespace", func(s *policy.Set) {
			delete(cnp(s).Spec.Egress[1].ToEndpoints[0].MatchLabels, policy.CiliumNamespaceLabel)
		}, []string{"toEndpoints[0]: no k8s:io.kubernetes.pod.namespace"}},
		{"no managed-by", func(s *policy.Set) { cnp(s).Labels = nil }, []string{"metadata.labels"}},
		{"cilium on calico", func(s *policy.Set) { s.Plugins[0].Cilium = s.Plugins[1].Cilium }, []string{"environment dev: ciliumnetworkpolicies on plugin calico"}},
		{"order before kubernetes", func(s *policy.Set) { o := 1000.0; cal(s).Spec.Order = &o }, []string{"calico networkpolicy payments/netdep-log-denied", "spec.order"}},
		{"selector", func(s *policy.Set) { cal(s).Spec.Selector = "app == 'x'" }, []string{"spec.selector"}},
		{"bad action", func(s *policy.Set) { cal(s).Spec.Egress[0].Action = "Logg" }, []string{"spec.egress[0].action", "Logg"}},
		{"rules without type", func(s *policy.Set) { cal(s).Spec.Types = []string{"Ingress"} }, []string{"spec.egress: rules for a direction types does not name"}},
		{"type twice", func(s *policy.Set) { cal(s).Spec.Types = []string{"Ingress", "Ingress"} }, []string{"spec.types[1]"}},
		{"staged cluster policies", func(s *policy.Set) {
			s.ClusterBase = []*v1beta1.ClusterNetworkPolicy{{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Spec: v1beta1.ClusterNetworkPolicySpec{Tier: v1beta1.AdminTier, Priority: 1}}}
		}, []string{"environment dev: mode audit on calico with 1 clusternetworkpolicies"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := pluginSet()
			tt.mutate(s)
			err := generator.ValidateSet(s)
			if err == nil {
				t.Fatal("passed")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not name %q:\n%v", w, err)
				}
			}
		})
	}
}
