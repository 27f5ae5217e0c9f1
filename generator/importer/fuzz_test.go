package importer

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadObserved: whatever a flow file holds, reading it either reports
// problems, each at a line and column of the file, or yields observations
// that import into files netdep loads (Flows checks them; a file that
// does not load is a netdep bug, the failure this looks for).
func FuzzReadObserved(f *testing.F) {
	for _, glob := range []string{"../../tests/testdata/import/*/*.json", "../../tests/testdata/import/*/*.yaml", "../../tests/testdata/catalog/import-flows-*/*"} {
		files, _ := filepath.Glob(glob)
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 && !strings.HasPrefix(filepath.Base(p), "want.") && filepath.Base(p) != "args" && filepath.Base(p) != "setup" {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		obs, probs := ReadObserved("flows", bytes.NewReader(data))
		for _, p := range probs {
			if p.Pos.File != "flows" || p.Pos.Line == 0 && !strings.HasSuffix(p.Message, "more problems not shown") {
				t.Fatalf("problem without a position: %s", p)
			}
		}
		if len(probs) > 0 {
			return
		}
		if _, err := Flows(obs, FlowOptions{Out: "teams", Inputs: []string{"flows"}}); err != nil {
			t.Fatalf("flows that read cleanly do not import: %v", err)
		}
	})
}
