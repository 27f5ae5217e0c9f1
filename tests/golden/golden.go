// Package golden is netdep's one way to compare output with a golden file:
// one -update flag for every test binary that imports it, one comparison
// that shows a difference as a readable line diff. `make golden` rewrites
// every golden file with it.
package golden

import (
	"bytes"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Update is -update: rewrite golden files from the current output instead
// of comparing with them.
var Update = flag.Bool("update", false, "rewrite golden files from the current output")

// Check compares got with the golden file at path (relative to the test's
// package directory, as go test runs it); with -update it writes got there,
// creating directories. A missing golden fails: it is written only on
// request.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("golden file %s is missing (run go test -run '%s' -update to write it)", path, t.Name())
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("output differs from %s (-want +got; run go test -run '%s' -update to accept):\n%s", path, t.Name(), Diff(want, got))
	}
}

// Diff is a line diff of two texts, for failure messages.
func Diff(want, got []byte) string {
	return cmp.Diff(strings.SplitAfter(string(want), "\n"), strings.SplitAfter(string(got), "\n"))
}
