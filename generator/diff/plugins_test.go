package diff

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pluginProject has prod on cilium (a host call is allowed by a
// CiliumNetworkPolicy only), dev on calico in mode: audit (every object is
// staged) with the host pinned, and staging on plain NetworkPolicy with it
// pinned.
const pluginProject = `netdep: v1
cluster:
  dns: {namespace: kube-system, selector: {k8s-app: kube-dns}, ports: [53/UDP, 53/TCP]}
environments:
  dev:
    plugin: calico
    mode: audit
    hosts: {api.stripe.com: [203.0.113.10/32]}
  staging:
    hosts: {api.stripe.com: [203.0.113.10/32]}
  prod:
    plugin: cilium
`

const pluginTeam = `netdep: v1
namespace: payments
services:
  payment:
    ports: {grpc: 50051}
    calls:
      - {namespace: shop, selector: {app: ledger}, ports: [8080]}
`

const pluginHostCall = "      - {host: api.stripe.com, ports: [443]}\n"

// TestPluginHostFlows: a host call added on a cilium environment is allowed
// by a CiliumNetworkPolicy alone, so a diff of NetworkPolicies only saw
// "no flow changes" there (the bug this test was written for, failing
// before diff evaluated the plugins' objects). The flow shows by name; dev
// (calico, audit) compares its would-be set and says so.
func TestPluginHostFlows(t *testing.T) {
	b := mustGenerate(t, files("netdep.yaml", pluginProject, "teams/payments.yaml", pluginTeam))
	h := mustGenerate(t, files("netdep.yaml", pluginProject, "teams/payments.yaml", pluginTeam+pluginHostCall))
	r, err := compareRuns(b, h, Side{Ref: "base"}, WorkingTree)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"dev":     {"payments/payment -> 203.0.113.10/32 443/TCP"},
		"prod":    {"payments/payment -> host api.stripe.com 443/TCP"},
		"staging": {"payments/payment -> 203.0.113.10/32 443/TCP"},
	}
	for _, e := range r.Environments {
		if d := cmp.Diff(want[e.Name], flowStrings(e.FlowsAdded)); d != "" {
			t.Errorf("%s: added (-want +got):\n%s", e.Name, d)
		}
		if len(e.FlowsRemoved) > 0 {
			t.Errorf("%s: removed %v", e.Name, flowStrings(e.FlowsRemoved))
		}
	}
	prod := r.Environments[1]
	if prod.Name != "prod" || len(prod.FlowsAdded) != 1 || len(prod.FlowsAdded[0].Sources) != 1 || prod.FlowsAdded[0].Sources[0].File != "teams/payments.yaml" {
		t.Errorf("prod's host flow names no dependency-file line: %+v", prod.FlowsAdded)
	}
	var ids []string
	for _, o := range prod.Objects {
		ids = append(ids, string(o.Action)+" "+o.ID())
	}
	if d := cmp.Diff([]string{"added CiliumNetworkPolicy payments/payment.hosts"}, ids); d != "" {
		t.Errorf("prod objects (-want +got):\n%s", d)
	}
	var text strings.Builder
	if err := (Output{Report: r}).Write(&text, "text"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"host api.stripe.com", "dev (audit: would be)"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text output lacks %q:\n%s", s, text.String())
		}
	}
}
