package schema

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSensitive: the cluster's sensitive list holds in every environment
// that sets none, an environment's list replaces it (here with nothing),
// and the names come out sorted, each once.
func TestSensitive(t *testing.T) {
	files := []File{
		{Path: "deps.yaml", Explicit: true, Data: []byte("netdep: v1\nnamespace: shop\n---\nnetdep: v1\nnamespace: payments\n---\nnetdep: v1\nnamespace: vault\nmanaged: false\n")},
		{Path: "netdep.yaml", Explicit: true, Data: []byte(`netdep: v1
cluster:
  sensitive: [vault, payments, vault]
environments:
  dev: {sensitive: []}
  prod: {}
  staging: {sensitive: [shop]}
`)},
	}
	spec, probs := Parse(files)
	if len(probs.Errors()) > 0 {
		t.Fatal(probs.Error())
	}
	got := map[string][]string{}
	for _, e := range spec.Environments {
		got[e.Name] = e.Sensitive
	}
	want := map[string][]string{"dev": {}, "prod": {"payments", "vault"}, "staging": {"shop"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("sensitive per environment (-want +got):\n%s", d)
	}
}
