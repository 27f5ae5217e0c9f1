package scaffold

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRenderRefusesEveryReservedName: every name the loader reserves is
// refused before the templates run, not only default-deny and allow-dns
// (allow-egress, allow-dns-ingress and kustomization used to reach the
// loader and come back as "a bug in netdep's templates").
func TestRenderRefusesEveryReservedName(t *testing.T) {
	for _, name := range []string{"default-deny", "allow-dns", "allow-dns-ingress", "allow-egress", "kustomization"} {
		_, err := Render(Options{Namespace: "shop", Services: []string{name}, Port: 8080})
		var inv *InvalidError
		if !asInvalid(err, &inv) || !strings.Contains(inv.Error(), "namespace-wide policy") {
			t.Errorf("service %q: err %v, want an InvalidError naming the reserved name", name, err)
		}
	}
}

func asInvalid(err error, target **InvalidError) bool {
	e, ok := err.(*InvalidError)
	*target = e
	return ok
}

// TestRenderGeneratesAndWriteNeverOverwrites: a scaffold renders the
// project and dependency files, and Write refuses when either exists,
// writing nothing.
func TestRenderGeneratesAndWriteNeverOverwrites(t *testing.T) {
	files, err := Render(Options{Namespace: "shop", Environments: []string{"dev", "prod"}, Services: []string{"web", "api"}, Port: 9090})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files["netdep.yaml"]; !ok {
		t.Errorf("no project file in %v", sortedKeys(files))
	}
	if !strings.Contains(string(files["shop/deps.yaml"]), "9090") {
		t.Errorf("shop/deps.yaml does not carry the port:\n%s", files["shop/deps.yaml"])
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "shop"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "shop", "deps.yaml"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(dir, files); err == nil || !strings.Contains(err.Error(), "never overwrites") {
		t.Fatalf("Write over an existing file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "netdep.yaml")); err == nil {
		t.Errorf("netdep.yaml was written although deps.yaml exists")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "shop", "deps.yaml")); string(b) != "mine" {
		t.Errorf("the existing file changed: %q", b)
	}
}
