package e2e

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestSelectAgents(t *testing.T) {
	tests := []struct {
		spec    string
		want    []string
		wantErr bool
	}{
		{"", []string{"kube-router", "kube-network-policies"}, false},
		{"kube-network-policies", []string{"kube-network-policies"}, false},
		{" kube-network-policies , kube-router,kube-router", []string{"kube-network-policies", "kube-router"}, false},
		{"calico", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			kinds, err := SelectAgents(tt.spec)
			if (err != nil) != tt.wantErr {
				t.Fatalf("SelectAgents(%q) error = %v, want error %v", tt.spec, err, tt.wantErr)
			}
			var got []string
			for _, k := range kinds {
				got = append(got, k.Name)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("SelectAgents(%q) = %v, want %v", tt.spec, got, tt.want)
			}
		})
	}
}

// An agent runs a scenario only if it enforces every API the scenario's
// objects use, and kube-network-policies turns on exactly the flags for the
// APIs the scenario uses.
func TestAgentAPIs(t *testing.T) {
	kinds := AgentKinds()
	byName := func(n string) AgentKind {
		i := slices.IndexFunc(kinds, func(k AgentKind) bool { return k.Name == n })
		if i < 0 {
			t.Fatalf("no agent %s", n)
		}
		return kinds[i]
	}
	kr, knp := byName("kube-router"), byName("kube-network-policies")
	tests := []struct {
		name      string
		apis      []API
		router    bool
		knpFlags  []string
		knpNoFlag []string
	}{
		{"NetworkPolicy only", nil, true, nil, []string{"--admin-network-policy", "--baseline-admin-network-policy"}},
		{"admin", []API{AdminNetworkPolicy}, false, []string{"--admin-network-policy"}, []string{"--baseline-admin-network-policy"}},
		{"baseline", []API{BaselineAdminNetworkPolicy}, false, []string{"--baseline-admin-network-policy"}, []string{"--admin-network-policy"}},
		{"both", []API{AdminNetworkPolicy, BaselineAdminNetworkPolicy}, false, []string{"--admin-network-policy", "--baseline-admin-network-policy"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := kr.Enforces(tt.apis); got != tt.router {
				t.Errorf("kube-router Enforces(%v) = %v, want %v", tt.apis, got, tt.router)
			}
			if !knp.Enforces(tt.apis) {
				t.Errorf("kube-network-policies does not enforce %v", tt.apis)
			}
			args := knp.New(Binaries{}, tt.apis).(*KubeNetworkPolicies).Args()
			for _, f := range tt.knpFlags {
				if !slices.Contains(args, f) {
					t.Errorf("args %v lack %s", args, f)
				}
			}
			for _, f := range tt.knpNoFlag {
				if slices.Contains(args, f) {
					t.Errorf("args %v have %s", args, f)
				}
			}
		})
	}
}

// The admin-policy fixture is what it claims: its NetworkPolicies alone
// (netdep's evaluator) allow a flow that its AdminNetworkPolicy denies and
// deny flows that it allows, so an agent that ignored the admin tier would
// fail the declared graph. The evaluator is not among its oracles.
func TestANPFixture(t *testing.T) {
	sc, err := LoadFixture("testdata/scenarios/anp-deny")
	if err != nil {
		t.Fatal(err)
	}
	if got := sc.APIs(); !slices.Equal(got, []API{AdminNetworkPolicy}) {
		t.Errorf("APIs = %v, want [%s]", got, AdminNetworkPolicy)
	}
	if len(sc.Oracles) != 1 || sc.Oracles[0].Name() != "declared graph" {
		t.Fatalf("oracles: want the declared graph alone, got %d", len(sc.Oracles))
	}
	npOnly, err := NewEvalOracle(sc.Universe, nil, sc.Policies)
	if err != nil {
		t.Fatal(err)
	}
	u := sc.Universe
	tests := []struct {
		name, from, to string
		port           int32
		graph, npOnly  bool
	}{
		{"Deny over an allowed flow", "shop/frontend", "shop/checkout", 5050, false, true},
		{"Allow over a denied flow", "monitoring/prometheus", "shop/cart", 7070, true, false},
		{"Allow over a denied flow, namespace subject", "monitoring/prometheus", "shop/unlabelled", 7070, true, false},
		{"Pass of higher precedence than Allow", "monitoring/prometheus", "shop/checkout", 7070, false, false},
		{"Pass to an allowing NetworkPolicy", "monitoring/prometheus", "shop/checkout", 9090, true, true},
		{"untouched by the admin tier", "shop/frontend", "shop/cart", 7070, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Flow{From: u.Endpoint(tt.from), To: u.Endpoint(tt.to), Probe: Probe{tt.port, corev1.ProtocolTCP}}
			if f.From == nil || f.To == nil {
				t.Fatalf("unknown endpoint %s or %s", tt.from, tt.to)
			}
			if got := sc.Oracles[0].Allowed(f); got != tt.graph {
				t.Errorf("declared graph: %v, want %v", got, tt.graph)
			}
			if got := npOnly.Allowed(f); got != tt.npOnly {
				t.Errorf("NetworkPolicy alone (evaluator): %v, want %v", got, tt.npOnly)
			}
		})
	}
}

// The examples' trees are NetworkPolicy only: an admin policy there is an
// error, not a scenario that kube-router silently skips.
func TestLoadPoliciesRefusesAdminPolicies(t *testing.T) {
	if _, err := LoadPolicies("testdata/scenarios/anp-deny/policies"); err == nil {
		t.Fatal("LoadPolicies accepted AdminNetworkPolicy objects")
	}
}

func TestLoadCRDs(t *testing.T) {
	dir := t.TempDir()
	crd := "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: adminnetworkpolicies.policy.networking.k8s.io\n"
	if err := os.WriteFile(dir+"/"+apiKinds[AdminNetworkPolicy].CRDFile, []byte(crd), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCRDs(dir, []API{AdminNetworkPolicy})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].GetName() != "adminnetworkpolicies.policy.networking.k8s.io" {
		t.Errorf("LoadCRDs: got %v", got)
	}
	if _, err := LoadCRDs(dir, []API{BaselineAdminNetworkPolicy}); err == nil {
		t.Error("LoadCRDs: no error for a missing CRD file")
	}
}

// HoldQueue makes a second bind of the same queue fail, which is what keeps
// kube-network-policies' DNS snooper from starting (knp.go). Root only.
func TestHoldQueue(t *testing.T) {
	if os.Getenv("NETDEP_E2E") != "1" || os.Geteuid() != 0 {
		t.Skip("SKIPPED: needs NETDEP_E2E=1 and root (it creates a network namespace)")
	}
	ns, err := NewNetNS(context.Background(), runTag()+"-holdq")
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Delete(context.Background())
	h, err := HoldQueue(ns, 101)
	if err != nil {
		t.Fatal(err)
	}
	_, err = HoldQueue(ns, 101)
	if !errors.Is(err, syscall.EPERM) {
		t.Errorf("second bind of queue 101: %v, want EPERM", err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	h2, err := HoldQueue(ns, 101)
	if err != nil {
		t.Fatalf("bind after release: %v", err)
	}
	h2.Close()
}

func TestTallyWrite(t *testing.T) {
	tally := NewTally([]AgentKind{{Name: "kube-router"}, {Name: "kube-network-policies"}})
	kr, knp := tally.Agent("kube-router"), tally.Agent("kube-network-policies")
	kr.Scenarios, kr.Probes, kr.Passed, kr.Skipped = 8, 85836, 89136, []string{"anp-deny"}
	knp.Scenarios, knp.Probes, knp.Passed, knp.Failed, knp.Aborted = 9, 86256, 89555, 1, 1
	tally.Compared, tally.ComparedFlows, tally.Disagreed = 8, 42918, 2
	var b strings.Builder
	tally.Write(&b)
	want := `
== per agent (probes: packets sent in the negative control and the enforcement sweep; verdicts: each probe against each oracle)
kube-router            8 scenarios, 85,836 probes, 89,136 verdicts as expected, 0 not; not run (APIs it does not enforce): anp-deny
kube-network-policies  9 scenarios, 86,256 probes, 89,555 verdicts as expected, 1 not (1 scenarios did not finish)
agents compared on 8 scenarios, 42,918 flows: 2 disagreements

178691 passed, 3 failed
`
	if got := b.String(); got != want {
		t.Errorf("Write:\n%s\nwant:\n%s", got, want)
	}
}

// Tally.Add counts a run for its agent and keeps the run's own figures,
// printed per scenario and agent; an unfinished run is one failure more.
func TestTallyAdd(t *testing.T) {
	tally := NewTally([]AgentKind{{Name: "kube-network-policies"}})
	check := func(ok bool) Check {
		return Check{Expect: true, Got: map[bool]Outcome{true: Passed, false: TimedOut}[ok]}
	}
	r1 := &Run{Scenario: &Scenario{Name: "guardrails"}, Enforced: make([]Observation, 3),
		Phases: []*Phase{{Checks: []Check{check(true), check(true)}}, {Checks: []Check{check(true), check(false), check(true)}}}}
	r2 := &Run{Scenario: &Scenario{Name: "anp-deny"}, Phases: []*Phase{{Checks: []Check{check(true)}}}}
	tally.Add(r1, "kube-network-policies", true)
	tally.Add(r2, "kube-network-policies", false)
	a := tally.Agent("kube-network-policies")
	if a.Scenarios != 1 || a.Aborted != 1 || a.Probes != 6 || a.Passed != 5 || a.Failed != 2 {
		t.Errorf("agent tally %+v", *a)
	}
	var b strings.Builder
	tally.Write(&b)
	for _, want := range []string{
		"\n== per scenario and agent\nguardrails  kube-network-policies  5 probes, 4 verdicts as expected, 1 not\n",
		"anp-deny    kube-network-policies  1 probes, 1 verdicts as expected, 1 not (did not finish)\n",
		"\n5 passed, 2 failed\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Write:\n%s\nlacks:\n%s", b.String(), want)
		}
	}
}

// A scenario no agent can enforce is named with its reason, once, and
// counts neither as passed nor as failed.
func TestTallyUnenforceable(t *testing.T) {
	tally := NewTally([]AgentKind{{Name: "kube-network-policies"}})
	tally.Unenforceable = append(tally.Unenforceable, Unenforceable{Scenario: "example-x-prod", Reason: "refused:\nline two"})
	var b strings.Builder
	tally.Write(&b)
	want := "\n== not enforceable by any agent here (not run, not failed)\nexample-x-prod: refused:; line two\n\n0 passed, 0 failed\n"
	if !strings.HasSuffix(b.String(), want) {
		t.Errorf("Write:\n%s\nwant it to end in:\n%s", b.String(), want)
	}
}
