package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// docCommand is one `$ netdep ...` line of a console block and the output
// the page shows for it.
type docCommand struct {
	args []string
	want string
	line int
}

// consoleCommands are the commands of every ```console block of a page,
// in order.
func consoleCommands(t *testing.T, page string) []docCommand {
	t.Helper()
	var out []docCommand
	in := false
	for i, l := range strings.Split(page, "\n") {
		switch {
		case l == "```console":
			in = true
		case in && l == "```":
			in = false
		case in && strings.HasPrefix(l, "$ "):
			f := strings.Fields(strings.TrimPrefix(l, "$ "))
			if len(f) == 0 || f[0] != "netdep" {
				t.Fatalf("line %d: a console block runs %q; only netdep commands can be checked", i+1, l)
			}
			out = append(out, docCommand{args: f[1:], line: i + 1})
		case in && len(out) > 0:
			out[len(out)-1].want += l + "\n"
		case in:
			t.Fatalf("line %d: output before any command", i+1)
		}
	}
	return out
}

// yamlBlocks are the ```yaml blocks of a page.
func yamlBlocks(page string) []string {
	var out []string
	for _, part := range strings.Split(page, "```yaml\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		out = append(out, block)
	}
	return out
}

// TestAdoptionDoc runs docs/adoption.md as written, every command in
// order, in a copy of the files a fresh clone has (examples and the import
// test cases the page uses), and compares each command's output (stdout,
// then stderr) with the page. A command exits 0, or 1 where a difference
// is its answer (verify, import drift). The files the page imports are the
// committed examples/adopt/teams (but for the schema modeline, relative in
// this repository), and the file the page shows is the one written.
func TestAdoptionDoc(t *testing.T) {
	root := repoRoot(t)
	page, err := os.ReadFile(filepath.Join(root, "docs", "adoption.md"))
	if err != nil {
		t.Fatal(err)
	}
	clone := t.TempDir()
	copyDir(t, filepath.Join(root, "examples"), filepath.Join(clone, "examples"))
	copyDir(t, filepath.Join(root, "tests", "testdata", "import"), filepath.Join(clone, "tests", "testdata", "import"))
	cmds := consoleCommands(t, string(page))
	if len(cmds) < 6 {
		t.Fatalf("%d commands in docs/adoption.md, want at least 6", len(cmds))
	}
	for _, c := range cmds {
		res := run(t, clone, c.args...)
		answers := c.args[0] == "verify" || len(c.args) > 1 && c.args[0] == "import" && c.args[1] == "drift"
		if res.code != 0 && !(res.code == 1 && answers) {
			t.Errorf("docs/adoption.md:%d: netdep %s: exit %d\n%s", c.line, strings.Join(c.args, " "), res.code, res.stderr)
		}
		if got := res.stdout + res.stderr; got != c.want {
			t.Errorf("docs/adoption.md:%d: netdep %s prints (-page +got):\n%s", c.line, strings.Join(c.args, " "), cmp.Diff(c.want, got))
		}
	}

	imported := readTree(t, filepath.Join(clone, "teams"))
	committed := readTree(t, filepath.Join(root, "examples", "adopt", "teams"))
	dropModeline := func(files map[string][]byte) map[string][]byte {
		out := map[string][]byte{}
		for p, b := range files {
			_, rest, _ := strings.Cut(string(b), "\n")
			out[p] = []byte(rest)
		}
		return out
	}
	compareTrees(t, dropModeline(committed), dropModeline(imported), "examples/adopt/teams")

	blocks := yamlBlocks(string(page))
	web, err := os.ReadFile(filepath.Join(clone, "teams", "web.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) == 0 || blocks[0] != string(web) {
		t.Errorf("docs/adoption.md shows teams/web.yaml as (-page +written):\n%s", cmp.Diff(strings.Join(blocks[:min(1, len(blocks))], ""), string(web)))
	}
}
