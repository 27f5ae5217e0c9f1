package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/netdep/netdep/schema"
)

// TestFluxChangesApply: the changes TestFluxGitOps pushes apply, in order,
// to the example as committed, and leave dependency files netdep loads
// without error. It needs no root, so an edit of the example that breaks
// the scripted changes fails here, in `go test ./...`, not only in the
// e2e run. (It failed before the order-export change took the exception
// the example's checkout file gained.)
func TestFluxChangesApply(t *testing.T) {
	work := t.TempDir()
	example := filepath.Join("examples", fluxExample)
	if err := os.CopyFS(filepath.Join(work, example), os.DirFS(filepath.Join("..", "..", example))); err != nil {
		t.Fatal(err)
	}
	r := &Repo{Work: work, Example: example}
	for _, c := range fluxChanges {
		if err := r.Apply(c); err != nil {
			t.Fatal(err)
		}
		if _, probs := schema.Load([]string{filepath.Join(work, example)}); len(probs.Errors()) > 0 {
			t.Fatalf("after %q: %v", c.Name, probs.Errors())
		}
	}
}
