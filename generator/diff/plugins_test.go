package diff

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netdep/netdep/generator/kustomize"
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
	// dev stages everything: its new policy is listed as the staged kind,
	// never as an enforced NetworkPolicy.
	ids = nil
	for _, o := range r.Environments[0].Objects {
		ids = append(ids, string(o.Action)+" "+o.ID())
	}
	if d := cmp.Diff([]string{"added StagedKubernetesNetworkPolicy payments/payment.dev"}, ids); d != "" {
		t.Errorf("dev objects (-want +got):\n%s", d)
	}
	for format, want := range map[string][]string{
		"text":     {"+ payments/payment -> host api.stripe.com  443/TCP", "dev (audit: would be)", "added    CiliumNetworkPolicy payments/payment.hosts"},
		"markdown": {"host api.stripe.com", "`dev` (audit: would be)", "CiliumNetworkPolicy payments/payment.hosts"},
		"json":     {`"name": "host api.stripe.com"`, `"note": "audit: would be"`, `"kind": "CiliumNetworkPolicy"`, `"kind": "StagedKubernetesNetworkPolicy"`},
	} {
		var out strings.Builder
		if err := (Output{Report: r}).Write(&out, format); err != nil {
			t.Fatal(err)
		}
		for _, s := range want {
			if !strings.Contains(out.String(), s) {
				t.Errorf("%s output lacks %q:\n%s", format, s, out.String())
			}
		}
	}

	// Read from the trees generate writes for each side, through verify's
	// reader, the report is the same.
	trees := func(out *Input, tree kustomize.Tree) {
		dir := filepath.Join(t.TempDir(), "netpol")
		if err := kustomize.Write(dir, tree, kustomize.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		out.Tree = &Tree{Dir: "netpol", root: dir, shown: dir}
	}
	bi := Input{Spec: b.Spec, Set: b.Set, Generated: b.Tree, Side: Side{Ref: "base"}}
	hi := Input{Spec: h.Spec, Set: h.Set, Generated: h.Tree, Side: WorkingTree}
	trees(&bi, b.Tree)
	trees(&hi, h.Tree)
	rt, err := Compare(bi, hi)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range rt.Environments {
		g := r.Environments[i]
		if d := cmp.Diff(flowStrings(g.FlowsAdded), flowStrings(e.FlowsAdded)); d != "" {
			t.Errorf("%s from the trees (-set +trees):\n%s", e.Name, d)
		}
		if d := cmp.Diff(g.Objects, e.Objects); d != "" {
			t.Errorf("%s objects from the trees (-set +trees):\n%s", e.Name, d)
		}
		if d := cmp.Diff(g.Audit, e.Audit); d != "" {
			t.Errorf("%s audit from the trees (-set +trees):\n%s", e.Name, d)
		}
	}
}
