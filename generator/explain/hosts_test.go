package explain

import (
	"strings"
	"testing"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/schema"
)

const payDeps = `netdep: v1
namespace: payments
services:
  payment:
    ports: {http: 8080}
`

// The design's CiliumNetworkPolicy for payment (generator/eval's fixture).
const payCNP = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: payment.hosts
  namespace: payments
  annotations: {netdep.io/source: payments/deps.yaml}
spec:
  endpointSelector: {matchLabels: {app: payment}}
  enableDefaultDeny: {egress: false, ingress: false}
  egress:
  - toFQDNs: [{matchName: api.stripe.com}]
    toPorts: [{ports: [{port: "443", protocol: TCP}]}]
  - toEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}]
    toPorts: [{ports: [{port: "53", protocol: UDP}, {port: "53", protocol: TCP}], rules: {dns: [{matchName: api.stripe.com}]}}]
`

func TestParseHostEndpoint(t *testing.T) {
	env := &schema.Environment{Name: "staging", Hosts: []schema.PinnedHost{{Name: "api.stripe.com", CIDRs: []string{"203.0.113.10/32"}}}}
	for _, c := range []struct {
		in, text, host string
		addr           bool
	}{
		{"api.stripe.com", "host api.stripe.com (203.0.113.10/32)", "api.stripe.com", true},
		{"host:API.example.org", "host api.example.org", "api.example.org", false},
		{"*.googleapis.com", "host *.googleapis.com", "*.googleapis.com", false},
	} {
		e, err := ParseEndpoint(env, c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if e.Text != c.text || e.Host != c.host || e.IsAddr != c.addr {
			t.Errorf("%s: %+v", c.in, e)
		}
	}
	if _, err := ParseEndpoint(env, "payment"); err == nil {
		t.Error("a bare name that is no service and no DNS name parsed")
	}
}

func TestExplainHost(t *testing.T) {
	spec := loadSpec(t, map[string]string{"netdep.yaml": "netdep: v1\ncluster:\n  dns: {namespace: kube-system, selector: {k8s-app: kube-dns}, ports: [53/UDP, 53/TCP]}\nenvironments:\n  dev: {}\n", "payments/deps.yaml": payDeps})
	set, err := policy.Generate(spec)
	if err != nil {
		t.Fatal(err)
	}
	env := spec.Environment("dev")
	pl, err := eval.ParseDocuments([]byte(payCNP)).Plugins()
	if err != nil {
		t.Fatal(err)
	}
	ask := func(dst string) Answer {
		t.Helper()
		q, err := Parse(env, "payments/payment", dst)
		if err != nil {
			t.Fatal(err)
		}
		as, err := Evaluate(spec, "dev", set.Render("dev"), q, Options{Plugins: pl.Plugins})
		if err != nil {
			t.Fatal(err)
		}
		return as[0]
	}
	a := ask("api.stripe.com:443")
	if !a.Verdict.Allowed || !strings.Contains(a.String(), "-> host api.stripe.com on 443/TCP") ||
		!strings.Contains(a.String(), "allowed by CiliumNetworkPolicy payments/payment.hosts egress[0] (payments/deps.yaml)") ||
		!strings.Contains(a.String(), "ingress at host api.stripe.com: a host outside the cluster") {
		t.Errorf("api.stripe.com:443:\n%s", a)
	}
	// A host nobody names: a class of its own, denied.
	if a := ask("example.org:443"); a.Verdict.Allowed {
		t.Errorf("example.org:443:\n%s", a)
	}
	a = ask("kube-system/{k8s-app=kube-dns}:53/UDP")
	if !a.Verdict.Allowed || !strings.Contains(a.String(), "note: CiliumNetworkPolicy payments/payment.hosts egress[1] also limits DNS lookups to api.stripe.com") {
		t.Errorf("dns:\n%s", a)
	}
}
