package tests

import (
	"encoding/json"
	"github.com/netdep/netdep/generator/gitrev/gitrevtest"
	"path/filepath"
	"strings"
	"testing"
)

// A guardrail added by hand to the shop example's committed tree: an Admin
// tier Deny of the frontend's calls to cart, listed in the base.
const (
	shopBase      = "examples/shop/netpol/base/kustomization.yaml"
	guardrailFile = "examples/shop/netpol/base/cluster/no-frontend-to-cart.yaml"
	guardrailRes  = "- catalog/allow-egress.yaml\n"
	guardrail     = `apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata:
  name: no-frontend-to-cart
spec:
  tier: Admin
  priority: 10
  subject:
    pods:
      namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: storefront}}
      podSelector: {matchLabels: {app: cart}}
  ingress:
  - name: deny-frontend
    action: Deny
    from:
    - pods:
        namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: storefront}}
        podSelector: {matchLabels: {app: frontend}}
`
)

// guardrailRepo is shopRepo with a second commit that only adds the
// guardrail to the committed tree.
func guardrailRepo(t *testing.T) *gitrevtest.Repo {
	t.Helper()
	g := shopRepo(t)
	g.Write(guardrailFile, guardrail)
	editFile(t, g, shopBase, guardrailRes, "- cluster/no-frontend-to-cart.yaml\n"+guardrailRes)
	g.Commit("guardrail: no frontend to cart")
	return g
}

// TestDiffClusterPolicy: two revisions that differ only in an Admin Deny
// ClusterNetworkPolicy of the committed tree. The flows it removes are
// flow changes like any other, and the object is in the policy diffs, in
// every format. (Before: "no flow changes", the object not listed.)
func TestDiffClusterPolicy(t *testing.T) {
	g := guardrailRepo(t)
	for _, format := range []string{"text", "markdown", "json"} {
		t.Run(format, func(t *testing.T) {
			res := run(t, g.Dir, "diff", "examples/shop", "--base", "HEAD~1", "--head", "HEAD", "--format", format)
			if res.code != 1 {
				t.Fatalf("exit %d, want 1; stdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			if strings.Contains(res.stderr, "not evaluated") || strings.Contains(res.stderr, "ignored") {
				t.Errorf("stderr warns about the ClusterNetworkPolicy:\n%s", res.stderr)
			}
			ext := map[string]string{"text": ".txt", "markdown": ".md", "json": ".json"}[format]
			checkGolden(t, filepath.Join("diff", "cluster-policy"+ext), g.Scrub(res.stdout))
			switch format {
			case "text":
				if !containsFlow(res.stdout, "-", "storefront/frontend", "storefront/cart", "7070/TCP") {
					t.Errorf("no removed flow storefront/frontend -> storefront/cart 7070/TCP:\n%s", res.stdout)
				}
				if !strings.Contains(res.stdout, "ClusterNetworkPolicy no-frontend-to-cart") {
					t.Errorf("the added ClusterNetworkPolicy is not listed:\n%s", res.stdout)
				}
			case "markdown":
				if !strings.Contains(res.stdout, "no-frontend-to-cart") {
					t.Errorf("the added ClusterNetworkPolicy is not listed:\n%s", res.stdout)
				}
			case "json":
				var doc struct {
					Environments []struct {
						Name  string
						Audit *struct{ Base, Head bool }
						Flows struct {
							Removed []struct {
								From, To struct{ Name string }
							}
						}
						Policies []struct{ Action, Kind, Namespace, Name string }
					}
				}
				mustUnmarshal(t, res.stdout, &doc)
				for _, e := range doc.Environments {
					if e.Audit != nil {
						// dev (calico, mode: audit) stages everything in
						// a standalone overlay: Calico cannot stage a
						// ClusterNetworkPolicy, and the base's does not
						// reach it.
						if len(e.Flows.Removed) > 0 || len(e.Policies) > 0 {
							t.Errorf("%s (audit): the base's ClusterNetworkPolicy changed it: %+v", e.Name, e)
						}
						continue
					}
					removed, listed := false, false
					for _, f := range e.Flows.Removed {
						removed = removed || f.From.Name == "storefront/frontend" && f.To.Name == "storefront/cart"
					}
					for _, p := range e.Policies {
						listed = listed || p.Action == "added" && p.Kind == "ClusterNetworkPolicy" && p.Name == "no-frontend-to-cart" && p.Namespace == ""
					}
					if !removed || !listed {
						b, _ := json.MarshalIndent(e, "", "  ")
						t.Errorf("removed flow %v, policy listed %v in:\n%s", removed, listed, b)
					}
				}
			}
		})
	}
}

// TestDiffStaleClusterPolicy: `netdep diff --out` notices a
// ClusterNetworkPolicy added to the tree by hand, listed in its
// kustomization, and still notices it after a hand edit of it.
func TestDiffStaleClusterPolicy(t *testing.T) {
	g := guardrailRepo(t)
	for _, edit := range []bool{false, true} {
		if edit {
			editFile(t, g, guardrailFile, "action: Deny", "action: Accept")
		}
		res := run(t, g.Dir, "diff", "examples/shop", "--out", shopTree)
		if res.code != 1 {
			t.Fatalf("edit %v: exit %d, want 1 (stale); stdout:\n%s\nstderr:\n%s", edit, res.code, res.stdout, res.stderr)
		}
		for _, want := range []string{"extra    base/cluster/no-frontend-to-cart.yaml", "-- cluster/no-frontend-to-cart.yaml"} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("edit %v: the report does not say %q:\n%s", edit, want, res.stdout)
			}
		}
	}
}

// TestDiffGeneratedClusterPolicy: two revisions that commit no tree and
// differ only in a guardrail (the monitoring Accept goes): both sides are
// generated, and the scrapes it accepted are removed flows, its
// ClusterNetworkPolicy a removed object. (Before: a generated side's
// ClusterNetworkPolicies were not compared, and the diff said nothing
// changed in connectivity.)
func TestDiffGeneratedClusterPolicy(t *testing.T) {
	g := gitrevtest.New(t)
	for p, b := range readTree(t, filepath.Join(repoRoot(t), "examples/guardrails")) {
		if strings.HasPrefix(p, "netpol/") {
			continue
		}
		g.Write("examples/guardrails/"+p, string(b))
	}
	g.Commit("the guardrails example, no tree committed")
	editFile(t, g, "examples/guardrails/netdep.yaml", "    monitoring:\n      - {namespace: monitoring, selector: {app: prometheus}, ports: [9102]}\n", "")
	g.Commit("no monitoring guardrail")
	res := run(t, g.Dir, "diff", "examples/guardrails", "--base", "HEAD~1", "--head", "HEAD", "-o", "json")
	if res.code != 1 {
		t.Fatalf("exit %d, want 1 (changes); stdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	var doc struct {
		Environments []struct {
			Name  string
			Flows struct {
				Removed []struct {
					From, To struct{ Name string }
				}
			}
			Policies []struct{ Action, Kind, Name string }
		}
	}
	mustUnmarshal(t, res.stdout, &doc)
	if len(doc.Environments) != 2 {
		t.Fatalf("want prod and staging, got %d environments:\n%s", len(doc.Environments), res.stdout)
	}
	for _, e := range doc.Environments {
		scrapes, listed := 0, false
		for _, f := range e.Flows.Removed {
			if f.From.Name == "monitoring/prometheus" {
				scrapes++
			}
		}
		for _, p := range e.Policies {
			listed = listed || p.Action == "removed" && strings.Contains(p.Kind, "NetworkPolicy") && strings.Contains(p.Name, "monitoring")
		}
		if scrapes == 0 || !listed {
			t.Errorf("%s: %d removed scrapes from monitoring/prometheus, guardrail listed removed %v:\n%s", e.Name, scrapes, listed, res.stdout)
		}
	}
}
