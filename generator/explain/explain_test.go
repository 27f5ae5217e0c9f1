package explain

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/generator/verify"
	"github.com/netdep/netdep/schema"
)

// loadSpec writes files (slash path -> content) to a temporary directory
// and loads them as netdep does from there, so sources are relative to it.
func loadSpec(t *testing.T, files map[string]string) *schema.Spec {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	spec, probs := schema.Load([]string{"."})
	if len(probs.Errors()) > 0 {
		t.Fatalf("loading the spec:\n%v", probs)
	}
	return spec
}

const (
	project = "netdep: v1\nenvironments:\n  dev: {}\n  prod: {}\n"
	webDeps = `netdep: v1
namespace: web
services:
  frontend:
    calls:
      - api/api:http
      - {to: toolbox:http, environments: [dev]}
  toolbox:
    environments: [dev]
    ports: {http: 9000}
`
	apiDeps = "netdep: v1\nnamespace: api\nservices:\n  api:\n    ports: {http: 8080}\n"
)

// TestExplainEnvironments: an environment lacking DST is skipped when
// others are answered, and is an *ArgError when none is.
func TestExplainEnvironments(t *testing.T) {
	spec := loadSpec(t, map[string]string{"netdep.yaml": project, "web/deps.yaml": webDeps, "api/deps.yaml": apiDeps})
	set, err := policy.Generate(spec)
	if err != nil {
		t.Fatal(err)
	}
	generated := verify.FromSet(set)

	r, err := Explain(spec, []string{"dev", "prod"}, generated, "frontend", "web/toolbox")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Environments) != 2 || r.Environments[0].Skipped != nil || r.Environments[1].Skipped == nil {
		t.Fatalf("want dev answered and prod skipped, got %+v", r.Environments)
	}
	if !r.Allowed() {
		t.Errorf("Allowed() = false for an allowed connection")
	}
	want := `dev:
allowed: web/frontend -> web/toolbox on 9000/TCP (http)
  egress at web/frontend: allowed by web/frontend.dev egress[0] (web/deps.yaml)
  ingress at web/toolbox: allowed by web/toolbox ingress[0] (web/deps.yaml)

prod: skipped: DST "web/toolbox": no service "toolbox" in namespace "web" exists in environment prod
`
	if got := r.String(); got != want {
		t.Errorf("String():\n%s\nwant:\n%s", got, want)
	}

	_, err = Explain(spec, []string{"prod"}, generated, "frontend", "web/toolbox")
	var ae *ArgError
	if !errors.As(err, &ae) || !errors.Is(err, ErrNotInEnvironment) {
		t.Errorf("one environment lacking DST: error %#v, want an *ArgError matching ErrNotInEnvironment", err)
	}

	r, err = Explain(spec, []string{"dev", "prod"}, generated, "api/api", "web/frontend:80")
	if err != nil {
		t.Fatal(err)
	}
	if r.Allowed() {
		t.Errorf("Allowed() = true for a connection nothing declares:\n%s", r)
	}
}

// TestExplainNamespaceLabels: a namespaceSelector on a label selects the
// namespace only when the policies' Namespace objects give it that label.
func TestExplainNamespaceLabels(t *testing.T) {
	spec := loadSpec(t, map[string]string{"web/deps.yaml": "netdep: v1\nnamespace: web\nservices:\n  frontend: {}\n", "api/deps.yaml": apiDeps})
	ingress := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: "api", Name: "api"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "web"}},
			}}}},
		},
	}
	for _, tc := range []struct {
		name    string
		ns      []eval.Namespace
		allowed bool
	}{
		{"no Namespace objects", nil, false},
		{"other labels", []eval.Namespace{{Name: "web", Labels: map[string]string{"team": "shop"}}}, false},
		{"the label", []eval.Namespace{{Name: "web", Labels: map[string]string{"team": "web"}}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			policies := verify.FromManifests(&verify.Manifests{Policies: []*networkingv1.NetworkPolicy{ingress}, Namespaces: tc.ns})
			r, err := Explain(spec, []string{""}, policies, "web/frontend", "api/api:http")
			if err != nil {
				t.Fatal(err)
			}
			if r.Allowed() != tc.allowed {
				t.Errorf("Allowed() = %v, want %v:\n%s", r.Allowed(), tc.allowed, r)
			}
		})
	}
}

// TestExplainAuditSaysWouldBe: in mode: audit nothing netdep emits is
// enforced, so the answer is what its objects would do, and the report
// says so for that environment, single or not. (Before: "denied" with no
// word that dev, on calico in audit mode, denies nothing.)
func TestExplainAuditSaysWouldBe(t *testing.T) {
	proj := "netdep: v1\nenvironments:\n  dev: {plugin: calico, mode: audit}\n  prod: {plugin: cilium, mode: audit}\n  staging: {}\n"
	spec := loadSpec(t, map[string]string{"netdep.yaml": proj, "web/deps.yaml": webDeps, "api/deps.yaml": apiDeps})
	set, err := policy.Generate(spec)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Explain(spec, []string{"dev", "prod", "staging"}, verify.FromSet(set), "api/api", "web/frontend:80")
	if err != nil {
		t.Fatal(err)
	}
	got := r.String()
	for _, want := range []string{
		"dev (audit: what the staged policies would do; nothing netdep emits is enforced):\ndenied:",
		"prod (audit: what the policies do once the Cilium agent's policy audit mode is off):\ndenied:",
		"staging:\ndenied:",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	one, err := Explain(spec, []string{"dev"}, verify.FromSet(set), "api/api", "web/frontend:80")
	if err != nil {
		t.Fatal(err)
	}
	if got := one.String(); !strings.HasPrefix(got, "dev (audit: ") {
		t.Errorf("a single audit environment is not labelled:\n%s", got)
	}
}
