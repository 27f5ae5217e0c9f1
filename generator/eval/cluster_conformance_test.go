package eval_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/netdep/netdep/generator/eval"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// The conformance suite of sigs.k8s.io/network-policy-api v0.3.0
// (conformance/tests), replayed on the evaluator: the same manifests
// (testdata/network-policy-api), the same mutations between steps, the same
// probes and expected outcomes. The universe is conformance/base/manifests.yaml:
// four houses of two pods each, and an empty namespace.

var houses = []struct{ house, pod string }{
	{"gryffindor", "harry-potter"},
	{"slytherin", "draco-malfoy"},
	{"hufflepuff", "cedric-diggory"},
	{"ravenclaw", "luna-lovegood"},
}

func conformanceUniverse() eval.Universe {
	var u eval.Universe
	for h, x := range houses {
		ns := "network-policy-conformance-" + x.house
		u.Namespaces = append(u.Namespaces, eval.Namespace{Name: ns, Labels: map[string]string{"conformance-house": x.house}})
		for i := range 2 {
			u.Pods = append(u.Pods, eval.Pod{
				Namespace: ns, Name: fmt.Sprintf("%s-%d", x.pod, i),
				Labels: map[string]string{"conformance-house": x.house},
				Ports: []corev1.ContainerPort{
					{Name: "web", ContainerPort: 80, Protocol: corev1.ProtocolTCP},
					{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
				},
				IPs: []netip.Addr{netip.AddrFrom4([4]byte{10, 244, byte(h), byte(i + 1)})},
			})
		}
	}
	u.Namespaces = append(u.Namespaces, eval.Namespace{Name: "network-policy-conformance-forbidden-forrest", Labels: map[string]string{"conformance-house": "forbidden-forrest"}})
	return u
}

func readConformance(t *testing.T, file string) ([]*networkingv1.NetworkPolicy, []*v1beta1.ClusterNetworkPolicy) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "network-policy-api", file))
	if err != nil {
		t.Fatal(err)
	}
	ds := eval.ParseDocuments(data)
	nps, err := ds.Policies()
	if err != nil {
		t.Fatal(err)
	}
	cnps, err := ds.ClusterNetworkPolicies()
	if err != nil {
		t.Fatal(err)
	}
	return nps, cnps
}

func cnpNamed(t *testing.T, cnps []*v1beta1.ClusterNetworkPolicy, name string) *v1beta1.ClusterNetworkPolicy {
	t.Helper()
	for _, p := range cnps {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no ClusterNetworkPolicy %s", name)
	return nil
}

// probeAll checks lines "HOUSE/POD -> HOUSE/POD PROTO/PORT true|false"
// with Explain and Reachability alike.
func probeAll(t *testing.T, u eval.Universe, nps []*networkingv1.NetworkPolicy, cnps []*v1beta1.ClusterNetworkPolicy, table string) {
	t.Helper()
	e, err := eval.NewWithClusterPolicies(u, nps, cnps)
	if err != nil {
		t.Fatal(err)
	}
	reach := e.Reachability()
	pod := func(s string) eval.Endpoint {
		house, name, _ := strings.Cut(s, "/")
		i, ok := e.PodIndex("network-policy-conformance-"+house, name)
		if !ok {
			t.Fatalf("no pod %s", s)
		}
		return eval.PodEndpoint(i)
	}
	for _, line := range strings.Split(strings.TrimSpace(table), "\n") {
		f := strings.Fields(line)
		if len(f) != 5 || f[1] != "->" {
			t.Fatalf("bad probe %q", line)
		}
		proto, portS, _ := strings.Cut(f[3], "/")
		port, _ := strconv.Atoi(portS)
		want := f[4] == "true"
		q := eval.Query{Src: pod(f[0]), Dst: pod(f[2]), Protocol: corev1.Protocol(strings.ToUpper(proto)), Port: int32(port)}
		v := e.Explain(q)
		got := reach.Ports(q.Src, q.Dst).Contains(q.Protocol, q.Port)
		if v.Allowed != want || got != want {
			t.Errorf("%s: want %v, Explain %v, Reachability %v\n%s", line, want, v.Allowed, got, v)
		}
	}
}

func TestConformanceAdminIntegration(t *testing.T) {
	u := conformanceUniverse()
	nps, cnps := readConformance(t, "api_integration/standard-anp-np-banp.yaml")
	if len(nps) != 1 || len(cnps) != 2 {
		t.Fatalf("decoded %d NetworkPolicies, %d ClusterNetworkPolicies", len(nps), len(cnps))
	}
	// Admin Deny beats the NetworkPolicy that allows slytherin.
	probeAll(t, u, nps, cnps, `
slytherin/draco-malfoy-0 -> gryffindor/harry-potter-0 tcp/80 false
slytherin/draco-malfoy-1 -> gryffindor/harry-potter-0 tcp/8080 false
gryffindor/harry-potter-0 -> slytherin/draco-malfoy-0 tcp/80 false
gryffindor/harry-potter-1 -> slytherin/draco-malfoy-0 tcp/8080 false`)
	// Pass defers to the NetworkPolicy, which allows.
	pass := cnpNamed(t, cnps, "pass-example")
	pass.Spec.Ingress[0].Action = v1beta1.ClusterNetworkPolicyRuleActionPass
	probeAll(t, u, nps, cnps, `
slytherin/draco-malfoy-0 -> gryffindor/harry-potter-0 tcp/80 true
slytherin/draco-malfoy-1 -> gryffindor/harry-potter-0 tcp/8080 true`)
	pass.Spec.Egress[0].Action = v1beta1.ClusterNetworkPolicyRuleActionPass
	probeAll(t, u, nps, cnps, `
gryffindor/harry-potter-0 -> slytherin/draco-malfoy-0 tcp/80 true
gryffindor/harry-potter-1 -> slytherin/draco-malfoy-0 tcp/8080 true`)
	// Without the NetworkPolicy the Baseline Deny applies.
	probeAll(t, u, nil, cnps, `
slytherin/draco-malfoy-0 -> gryffindor/harry-potter-0 tcp/80 false
slytherin/draco-malfoy-1 -> gryffindor/harry-potter-0 tcp/8080 false
gryffindor/harry-potter-0 -> slytherin/draco-malfoy-0 tcp/80 false
gryffindor/harry-potter-1 -> slytherin/draco-malfoy-0 tcp/8080 false`)
}

func TestConformanceAdminPriority(t *testing.T) {
	u := conformanceUniverse()
	_, cnps := readConformance(t, "admin_tier/standard-priority-field.yaml")
	probeAll(t, u, nil, cnps, `
slytherin/draco-malfoy-0 -> gryffindor/harry-potter-0 tcp/80 false
slytherin/draco-malfoy-1 -> gryffindor/harry-potter-0 tcp/8080 false
gryffindor/harry-potter-0 -> slytherin/draco-malfoy-0 tcp/80 false
gryffindor/harry-potter-1 -> slytherin/draco-malfoy-0 tcp/8080 false`)
	cnpNamed(t, cnps, "old-priority-60-new-priority-40-example").Spec.Priority = 40
	probeAll(t, u, nil, cnps, `
slytherin/draco-malfoy-0 -> gryffindor/harry-potter-0 tcp/80 true
slytherin/draco-malfoy-1 -> gryffindor/harry-potter-0 tcp/8080 true
gryffindor/harry-potter-0 -> slytherin/draco-malfoy-0 tcp/80 true
gryffindor/harry-potter-1 -> slytherin/draco-malfoy-0 tcp/8080 true`)
}

func TestConformanceAdminSamePriority(t *testing.T) {
	u := conformanceUniverse()
	_, cnps := readConformance(t, "admin_tier/standard-same-priority.yaml")
	probeAll(t, u, nil, cnps, `
slytherin/draco-malfoy-0 -> gryffindor/harry-potter-0 tcp/80 false
gryffindor/harry-potter-0 -> slytherin/draco-malfoy-0 tcp/80 false
hufflepuff/cedric-diggory-0 -> gryffindor/harry-potter-0 tcp/80 false
gryffindor/harry-potter-1 -> hufflepuff/cedric-diggory-0 tcp/80 false
slytherin/draco-malfoy-1 -> hufflepuff/cedric-diggory-0 tcp/8080 false
hufflepuff/cedric-diggory-1 -> slytherin/draco-malfoy-0 tcp/8080 false
slytherin/draco-malfoy-0 -> gryffindor/harry-potter-0 tcp/8080 true
gryffindor/harry-potter-0 -> slytherin/draco-malfoy-0 tcp/8080 true
slytherin/draco-malfoy-1 -> hufflepuff/cedric-diggory-0 tcp/80 true
hufflepuff/cedric-diggory-0 -> slytherin/draco-malfoy-0 tcp/80 true
ravenclaw/luna-lovegood-0 -> gryffindor/harry-potter-0 tcp/80 true
gryffindor/harry-potter-1 -> ravenclaw/luna-lovegood-0 tcp/80 true`)
}

// The gress-rules tests of both tiers share their probes.
const (
	gressAllow = `
gryffindor/harry-potter-0 -> ravenclaw/luna-lovegood-0 tcp/80 true
gryffindor/harry-potter-1 -> ravenclaw/luna-lovegood-0 udp/53 true
gryffindor/harry-potter-0 -> ravenclaw/luna-lovegood-0 sctp/9003 true
ravenclaw/luna-lovegood-0 -> gryffindor/harry-potter-0 tcp/80 true
ravenclaw/luna-lovegood-1 -> gryffindor/harry-potter-0 udp/53 true
ravenclaw/luna-lovegood-1 -> gryffindor/harry-potter-0 sctp/9003 true`
	gressPorts = `
gryffindor/harry-potter-0 -> hufflepuff/cedric-diggory-1 tcp/8080 true
gryffindor/harry-potter-1 -> hufflepuff/cedric-diggory-1 tcp/80 false
gryffindor/harry-potter-0 -> hufflepuff/cedric-diggory-1 udp/5353 true
gryffindor/harry-potter-1 -> hufflepuff/cedric-diggory-1 udp/53 false
gryffindor/harry-potter-0 -> hufflepuff/cedric-diggory-1 sctp/9003 true
gryffindor/harry-potter-1 -> hufflepuff/cedric-diggory-1 sctp/9005 false
hufflepuff/cedric-diggory-0 -> gryffindor/harry-potter-1 tcp/80 true
hufflepuff/cedric-diggory-1 -> gryffindor/harry-potter-1 tcp/8080 false
hufflepuff/cedric-diggory-0 -> gryffindor/harry-potter-1 udp/5353 true
hufflepuff/cedric-diggory-1 -> gryffindor/harry-potter-1 udp/53 false
hufflepuff/cedric-diggory-0 -> gryffindor/harry-potter-1 sctp/9003 true
hufflepuff/cedric-diggory-1 -> gryffindor/harry-potter-1 sctp/9005 false`
	gressDeny = `
gryffindor/harry-potter-0 -> ravenclaw/luna-lovegood-1 tcp/80 false
gryffindor/harry-potter-1 -> ravenclaw/luna-lovegood-1 udp/53 false
gryffindor/harry-potter-0 -> ravenclaw/luna-lovegood-1 sctp/9003 false
ravenclaw/luna-lovegood-0 -> gryffindor/harry-potter-1 tcp/80 false
ravenclaw/luna-lovegood-1 -> gryffindor/harry-potter-1 udp/53 false
ravenclaw/luna-lovegood-1 -> gryffindor/harry-potter-1 sctp/9003 false`
	gressDenyPorts = `
gryffindor/harry-potter-0 -> slytherin/draco-malfoy-0 tcp/80 false
gryffindor/harry-potter-1 -> slytherin/draco-malfoy-0 tcp/8080 true
gryffindor/harry-potter-0 -> slytherin/draco-malfoy-0 udp/53 false
gryffindor/harry-potter-1 -> slytherin/draco-malfoy-0 udp/5353 true
gryffindor/harry-potter-0 -> slytherin/draco-malfoy-0 sctp/9003 false
gryffindor/harry-potter-1 -> slytherin/draco-malfoy-0 sctp/9005 true
slytherin/draco-malfoy-0 -> gryffindor/harry-potter-0 tcp/80 false
slytherin/draco-malfoy-1 -> gryffindor/harry-potter-0 tcp/8080 true
slytherin/draco-malfoy-0 -> gryffindor/harry-potter-0 udp/53 false
slytherin/draco-malfoy-1 -> gryffindor/harry-potter-0 udp/5353 true
slytherin/draco-malfoy-0 -> gryffindor/harry-potter-0 sctp/9003 false
slytherin/draco-malfoy-1 -> gryffindor/harry-potter-0 sctp/9005 true`
)

func swapRules(p *v1beta1.ClusterNetworkPolicy, i, j int) {
	p.Spec.Egress[i], p.Spec.Egress[j] = p.Spec.Egress[j], p.Spec.Egress[i]
	p.Spec.Ingress[i], p.Spec.Ingress[j] = p.Spec.Ingress[j], p.Spec.Ingress[i]
}

func TestConformanceAdminGressRules(t *testing.T) {
	u := conformanceUniverse()
	_, cnps := readConformance(t, "admin_tier/standard-gress-rules-combined.yaml")
	probeAll(t, u, nil, cnps, gressAllow)
	probeAll(t, u, nil, cnps, gressPorts)
	p := cnpNamed(t, cnps, "gress-rules")
	swapRules(p, 0, 1) // deny first
	probeAll(t, u, nil, cnps, gressDeny)
	probeAll(t, u, nil, cnps, gressDenyPorts)
	swapRules(p, 0, 2) // pass first: nothing else decides, allowed
	probeAll(t, u, nil, cnps, `
gryffindor/harry-potter-0 -> ravenclaw/luna-lovegood-0 tcp/80 true
gryffindor/harry-potter-0 -> ravenclaw/luna-lovegood-0 udp/5353 true
gryffindor/harry-potter-0 -> ravenclaw/luna-lovegood-0 sctp/9003 true
ravenclaw/luna-lovegood-0 -> gryffindor/harry-potter-0 tcp/80 true
ravenclaw/luna-lovegood-1 -> gryffindor/harry-potter-0 udp/53 true
ravenclaw/luna-lovegood-1 -> gryffindor/harry-potter-0 sctp/9003 true`)
}

func TestConformanceBaselineGressRules(t *testing.T) {
	u := conformanceUniverse()
	_, cnps := readConformance(t, "baseline_tier/standard-gress-rules-combined.yaml")
	probeAll(t, u, nil, cnps, gressAllow)
	probeAll(t, u, nil, cnps, gressPorts)
	swapRules(cnpNamed(t, cnps, "default"), 0, 1)
	probeAll(t, u, nil, cnps, gressDeny)
	probeAll(t, u, nil, cnps, gressDenyPorts)
}

// Every standard conformance manifest decodes, validates and compiles.
func TestConformanceManifestsDecode(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "network-policy-api", "*", "*.yaml"))
	if err != nil || len(files) < 20 {
		t.Fatalf("%d files, %v", len(files), err)
	}
	for _, f := range files {
		rel, _ := filepath.Rel(filepath.Join("testdata", "network-policy-api"), f)
		nps, cnps := readConformance(t, rel)
		if len(cnps) == 0 {
			t.Errorf("%s: no ClusterNetworkPolicy decoded", rel)
		}
		if _, err := eval.NewWithClusterPolicies(conformanceUniverse(), nps, cnps); err != nil {
			t.Errorf("%s: %v", rel, err)
		}
	}
}
