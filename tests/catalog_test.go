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
			k.line = catalogAtoi(parts[1])
		}
		if len(parts) > 2 {
			k.col = catalogAtoi(parts[2])
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

func catalogAtoi(s string) int {
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

// TestCatalogFileSystem covers hostile trees that cannot be committed as
// they are (symlinks leaving the repository, files of many megabytes) or
// whose bytes git might rewrite (CRLF): each is built in a temporary
// directory and run from there, so paths read as the user typed them.
func TestCatalogFileSystem(t *testing.T) {
	const deps = "netdep: v1\nnamespace: shop\nservices:\n  cart:\n    ports: {grpc: 7070}\n"
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		args  []string
		code  int
		want  string // stderr
	}{
		{
			name: "bom-and-crlf-accepted",
			setup: func(t *testing.T, dir string) {
				catalogWrite(t, dir, "in/deps.yaml", "\xef\xbb\xbf"+strings.ReplaceAll(deps, "\n", "\r\n"))
			},
			args: []string{"in"},
		},
		{
			name: "symlink-loop",
			setup: func(t *testing.T, dir string) {
				catalogWrite(t, dir, "in/deps.yaml", deps)
				catalogSymlink(t, "..", filepath.Join(dir, "in", "parent"))
				catalogSymlink(t, "b.yaml", filepath.Join(dir, "in", "a.yaml"))
				catalogSymlink(t, "a.yaml", filepath.Join(dir, "in", "b.yaml"))
			},
			args: []string{"in"},
			want: "in/a.yaml: warning: symlink not followed: too many levels of symbolic links (a symlink loop)\n" +
				"in/b.yaml: warning: symlink not followed: too many levels of symbolic links (a symlink loop)\n" +
				"in/parent: warning: symlink not followed: it points outside in\n",
		},
		{
			name: "symlink-out-of-the-tree",
			setup: func(t *testing.T, dir string) {
				catalogWrite(t, dir, "in/deps.yaml", deps)
				catalogWrite(t, dir, "secret/other.yaml", "netdep: v1\nnamespace: other\nservices:\n  x: {ports: {http: 80}}\n")
				catalogSymlink(t, filepath.Join(dir, "secret", "other.yaml"), filepath.Join(dir, "in", "other.yaml"))
				catalogSymlink(t, "../secret", filepath.Join(dir, "in", "secret"))
			},
			args: []string{"in"},
			want: "in/other.yaml: warning: symlink not followed: it points outside in\n" +
				"in/secret: warning: symlink not followed: it points outside in\n",
		},
		{
			name: "file-too-large",
			setup: func(t *testing.T, dir string) {
				catalogWrite(t, dir, "in/deps.yaml", deps+"# "+strings.Repeat("x", 8<<20)+"\n")
			},
			args: []string{"in/deps.yaml"},
			code: 2,
			want: "in/deps.yaml: file is larger than the 8 MiB limit for netdep files\n" +
				"netdep: 1 error, nothing written\n",
		},
		{
			name: "large-foreign-file-skipped",
			setup: func(t *testing.T, dir string) {
				catalogWrite(t, dir, "in/deps.yaml", deps)
				catalogWrite(t, dir, "in/generated.yaml", "kind: List\nitems:\n"+strings.Repeat("- {kind: ConfigMap}\n", 500_000))
			},
			args: []string{"in"},
		},
		{
			name:  "missing-path",
			setup: func(t *testing.T, dir string) {},
			args:  []string{"nope"},
			code:  2,
			want:  "nope: cannot read: no such file or directory\nnetdep: 1 error, nothing written\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(t, dir)
			out := filepath.Join(t.TempDir(), "netpol")
			res := run(t, dir, append([]string{"generate", "--quiet", "--out", out}, tc.args...)...)
			if res.code != tc.code {
				t.Errorf("exit code = %d, want %d", res.code, tc.code)
			}
			if res.stderr != tc.want {
				t.Errorf("stderr (-want +got):\n%s", cmp.Diff(tc.want, res.stderr))
			}
			if tc.code != 0 {
				expectFailure(t, res, out)
				return
			}
			if _, err := os.Stat(filepath.Join(out, "base", "shop", "cart.yaml")); err != nil {
				t.Errorf("the tree was not written: %v", err)
			}
			res = run(t, dir, append([]string{"generate", "--strict", "--out", out + "-strict"}, tc.args...)...)
			if want := map[bool]int{true: 0, false: 2}[tc.want == ""]; res.code != want {
				t.Errorf("--strict: exit code = %d, want %d", res.code, want)
			}
		})
	}
}

func catalogWrite(t *testing.T, dir, name, data string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func catalogSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
}
