package e2e

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestFixturesLoad runs everywhere (no root, no gate): the scenarios parse,
// their universes complete, and the declared graph answers the questions the
// fixture's comments promise.
func TestFixturesLoad(t *testing.T) {
	scs, err := LoadScenarios()
	if err != nil {
		t.Fatal(err)
	}
	if len(scs) == 0 {
		t.Fatal("no scenario under testdata/scenarios")
	}
	for _, sc := range scs {
		// An audit tree holds staged objects only.
		if len(sc.Policies) == 0 && len(sc.NotEnforced) == 0 || len(sc.Universe.Pods) == 0 {
			t.Errorf("%s: empty scenario", sc.Name)
		}
	}
}

func TestShopOracle(t *testing.T) {
	sc, err := LoadFixture("testdata/scenarios/shop")
	if err != nil {
		t.Fatal(err)
	}
	u := sc.Universe
	tests := []struct {
		name, from, to string
		port           int32
		proto          string
		want           bool
	}{
		{"declared edge", "shop/frontend", "shop/cart", 7070, "TCP", true},
		{"declared edge, other port", "shop/frontend", "shop/cart", 9090, "TCP", false},
		{"reverse of an edge", "shop/cart", "shop/frontend", 8080, "TCP", false},
		{"dns udp", "shop/unlabelled", "kube-system/coredns", 53, "UDP", true},
		{"dns tcp", "shop/cart", "kube-system/coredns", 53, "TCP", true},
		{"dns pod, other port", "shop/cart", "kube-system/coredns", 8080, "TCP", false},
		{"cross-namespace AND", "shop/checkout", "legacy/batch", 8000, "TCP", true},
		{"cross-namespace AND, other pod", "shop/checkout", "legacy/unlabelled", 8000, "TCP", false},
		{"egress open in payments", "payments/gateway", "legacy/unlabelled", 4999, "UDP", true},
		{"ingress isolated in shop", "payments/gateway", "shop/cart", 7070, "TCP", false},
		{"range start", "payments/gateway", "payments/ledger", 9000, "TCP", true},
		{"range end", "payments/gateway", "payments/ledger", 9005, "TCP", true},
		{"past the range", "payments/gateway", "payments/ledger", 9006, "TCP", false},
		{"udp edge", "legacy/batch", "payments/gateway", 8125, "UDP", true},
		{"udp edge, wrong protocol", "legacy/batch", "payments/gateway", 8125, "TCP", false},
		{"raw peer", "legacy/batch", "shop/cart", 9090, "TCP", true},
		{"raw peer, unlabelled", "legacy/unlabelled", "shop/cart", 9090, "TCP", false},
		{"cidr egress", "shop/checkout", "external/partner", 443, "TCP", true},
		{"cidr egress, except", "shop/checkout", "external/partner-excluded", 443, "TCP", false},
		{"cidr ingress", "external/partner-excluded", "shop/frontend", 8080, "TCP", true},
		{"outside to unmanaged", "external/partner", "legacy/batch", 8000, "TCP", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to := u.Endpoint(tt.from), u.Endpoint(tt.to)
			if from == nil || to == nil {
				t.Fatalf("unknown endpoint %s or %s", tt.from, tt.to)
			}
			got := sc.Oracles[0].Allowed(Flow{From: from, To: to, Probe: Probe{tt.port, corev1.Protocol(tt.proto)}})
			if got != tt.want {
				t.Errorf("Allowed(%s -> %s %d/%s) = %v, want %v", tt.from, tt.to, tt.port, tt.proto, got, tt.want)
			}
		})
	}
}

// TestScenarioSizes logs what each scenario will probe (go test -v).
func TestScenarioSizes(t *testing.T) {
	scs, err := LoadScenarios()
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scs {
		probes, unprobed := sc.Universe.ProbePorts()
		t.Logf("%s: %d policies, %d admin policies, %d pods, %d outside hosts, %d probe ports (%d SCTP not probed), %d flows",
			sc.Name, len(sc.Policies), len(sc.Objects), len(sc.Universe.Pods), len(sc.Universe.External), len(probes), len(unprobed), len(Flows(sc.Universe)))
		if sc.Unenforceable != "" {
			t.Logf("%s: not enforceable by any agent here: %s", sc.Name, sc.Unenforceable)
		}
		for _, p := range sc.NotEnforced {
			t.Logf("%s: not enforced by any agent here: %s", sc.Name, p)
		}
		for _, h := range sc.Unprobed {
			t.Logf("%s: not probed: %s", sc.Name, h)
		}
	}
}
