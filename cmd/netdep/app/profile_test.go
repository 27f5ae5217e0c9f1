package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProfileFlag: --profile cpu and heap write a profile, and an unknown
// kind is a usage error.
func TestProfileFlag(t *testing.T) {
	dir := t.TempDir()
	for _, kind := range []string{"cpu", "heap"} {
		out := filepath.Join(dir, kind+".pprof")
		var stderr bytes.Buffer
		code := Main([]string{"verify", "../../../examples/shop", "--out", "../../../examples/shop/netpol", "--quiet", "--profile", kind, "--profile-output", out},
			Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &stderr})
		if code != ExitOK {
			t.Fatalf("%s: exit %d: %s", kind, code, stderr.String())
		}
		if st, err := os.Stat(out); err != nil || st.Size() == 0 {
			t.Fatalf("%s: no profile written (%v)", kind, err)
		}
	}
	var stderr bytes.Buffer
	code := Main([]string{"version", "--profile", "bogus"}, Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &stderr})
	if code != ExitError || !strings.Contains(stderr.String(), `--profile "bogus"`) {
		t.Fatalf("--profile bogus: exit %d, %q; want a usage error", code, stderr.String())
	}
}
