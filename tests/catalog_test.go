package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// minCatalog is how many distinct mistakes the catalogue must hold at least.
const minCatalog = 40

// TestCatalog is the catalogue of mistakes people make in dependency and
// project files, each with the exact text `netdep generate` prints for it.
// Every directory of testdata/catalog is one case: its input files, run as
// `netdep generate <case> --out <tmp>` from testdata/catalog (or with the
// arguments listed in <case>/args, for files that must be named explicitly),
// and want.stderr.
//
// A case without want.strict.stderr is an error: exit 2, nothing on stdout,
// nothing written. A case with it is a warning: exit 0, the tree written and
// want.stderr printed; with --strict, exit 2, want.strict.stderr and nothing
// written.
func TestCatalog(t *testing.T) {
	catalog := filepath.Join(repoRoot(t), "tests", "testdata", "catalog")
	entries, err := os.ReadDir(catalog)
	if err != nil {
		t.Fatal(err)
	}
	var errorCases, warningCases int
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		dir := filepath.Join(catalog, name)
		args := []string{name}
		if b, err := os.ReadFile(filepath.Join(dir, "args")); err == nil {
			args = strings.Fields(string(b))
		}
		if _, err := os.Stat(filepath.Join(dir, "want.strict.stderr")); err == nil {
			warningCases++
			t.Run(name, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "netpol")
				res := run(t, catalog, append([]string{"generate", "--quiet", "--out", out}, args...)...)
				if res.code != 0 {
					t.Errorf("exit code = %d, want 0 (warnings only)", res.code)
				}
				if !strings.Contains(res.stderr, "warning: ") {
					t.Errorf("no warning printed")
				}
				checkCaseGolden(t, filepath.Join(dir, "want.stderr"), res.stderr)
				if _, err := os.Stat(filepath.Join(out, "base", "kustomization.yaml")); err != nil {
					t.Errorf("warnings stopped the write: %v", err)
				}

				out = filepath.Join(t.TempDir(), "netpol")
				res = run(t, catalog, append([]string{"generate", "--strict", "--out", out}, args...)...)
				expectFailure(t, res, out)
				checkCaseGolden(t, filepath.Join(dir, "want.strict.stderr"), res.stderr)
			})
			continue
		}
		errorCases++
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "netpol")
			res := run(t, catalog, append([]string{"generate", "--out", out}, args...)...)
			expectFailure(t, res, out)
			if strings.Contains(res.stderr, "warning: ") {
				t.Errorf("warnings printed with errors:\n%s", res.stderr)
			}
			checkCaseGolden(t, filepath.Join(dir, "want.stderr"), res.stderr)
		})
	}
	if errorCases < minCatalog {
		t.Errorf("the catalogue holds %d error cases, want at least %d", errorCases, minCatalog)
	}
	if warningCases == 0 {
		t.Errorf("the catalogue holds no warning case")
	}
}

// expectFailure checks what every failed run promises: exit 2, nothing on
// stdout, the problems sorted by file and position, the closing count, and
// no output directory (nor a temporary one beside it).
func expectFailure(t *testing.T, res result, out string) {
	t.Helper()
	if res.code != 2 {
		t.Errorf("exit code = %d, want 2", res.code)
	}
	if res.stdout != "" {
		t.Errorf("stdout = %q, want nothing", res.stdout)
	}
	lines := strings.Split(strings.TrimSuffix(res.stderr, "\n"), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "netdep: ") || !strings.HasSuffix(last, ", nothing written") {
		t.Errorf("last line = %q, want the count of errors", last)
	}
	if !sortedProblems(lines[:len(lines)-1]) {
		t.Errorf("problems not sorted by file and position:\n%s", res.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s exists after a failed run (err %v)", out, err)
	}
	if left, _ := os.ReadDir(filepath.Dir(out)); len(left) > 0 {
		t.Errorf("a failed run left %v beside the output directory", left[0].Name())
	}
}

// sortedProblems checks the order of file:line:col prefixes.
func sortedProblems(lines []string) bool {
	type key struct {
		file      string
		line, col int
	}
	parse := func(s string) key {
		var k key
		parts := strings.SplitN(s, ":", 4)
		k.file = parts[0]
		if len(parts) > 1 {
			k.line = atoi(parts[1])
		}
		if len(parts) > 2 {
			k.col = atoi(parts[2])
		}
		return k
	}
	for i := 1; i < len(lines); i++ {
		a, b := parse(lines[i-1]), parse(lines[i])
		if a.file > b.file || a.file == b.file && (a.line > b.line || a.line == b.line && a.col > b.col) {
			return false
		}
	}
	return true
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return n
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// checkCaseGolden compares got with a golden file of the catalogue (or
// rewrites it under -update). A missing golden fails.
func checkCaseGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tests -run %s -update)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("stderr differs from %s (-want +got):\n%s", path, cmp.Diff(string(want), got))
	}
}
