package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse as a dependency file next to a
// fixed valid one. Parse must not panic or hang, must return either a Spec or
// errors, and every problem must carry the file and the expected format.
// Seeds are every input under testdata, the CLI catalogue of mistakes and
// the examples.
func FuzzParse(f *testing.F) {
	for _, root := range []string{"testdata", "../tests/testdata/catalog", "../examples"} {
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() && d.Name() == "netpol" {
				return filepath.SkipDir
			}
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".yaml") {
				if data, err := os.ReadFile(p); err == nil {
					f.Add(data)
				}
			}
			return nil
		})
	}
	other := []byte("netdep: v1\nnamespace: shop\nservices:\n  cart: {ports: {grpc: 7070}}\n")
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, explicit := range []bool{true, false} {
			spec, probs := Parse([]File{
				{Path: "fuzz.yaml", Data: data, Explicit: explicit},
				{Path: "other.yaml", Data: other, Explicit: true},
			})
			if (spec == nil) != (len(probs.Errors()) > 0) {
				t.Fatalf("spec %v with problems %q", spec != nil, probs.Error())
			}
			for _, p := range probs {
				if p.Pos.File != "fuzz.yaml" && p.Pos.File != "other.yaml" {
					t.Fatalf("problem without a file: %q", p.String())
				}
				if p.Message == "" || strings.HasSuffix(p.Message, ".") {
					t.Fatalf("badly formed message: %q", p.String())
				}
			}
		}
	})
}
