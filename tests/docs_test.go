package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// The pages whose every fenced block TestDocs checks: README.md and docs/*.md.
//
// The convention for blocks, one per info string:
//
//	```console   commands run in order: a line "$ cmd" is a command, the
//	             lines up to the next "$ " its output (stdout, then stderr).
//	             "$ netdep ..." runs netdep in process; any other command
//	             runs through sh. Commands run in the page's own fresh copy
//	             of what a clone holds (examples/, tests/testdata/), from its
//	             root, so a page's later blocks see what earlier ones wrote.
//	```yaml      must parse as YAML (every document); when its first line
//	             is "# <path>" of a file in the copy, the rest is that file.
//	```json      must parse as JSON.
//	```X no-run  anything shown and not checked (a sketch with "…", a
//	             session that needs a git history, a file tree, a script);
//	             counted. Any other block is an error: say what it is.
func docPages(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{filepath.Join(root, "README.md")}, pages...)
}

// docBlock is one fenced block of a page.
type docBlock struct {
	info string // the fence's info string: "console", "yaml", "sh no-run"
	body string
	line int // of the opening fence, 1-based
}

func fencedBlocks(t *testing.T, name, page string) []docBlock {
	t.Helper()
	var out []docBlock
	var cur *docBlock
	for i, l := range strings.Split(page, "\n") {
		switch {
		case cur == nil && strings.HasPrefix(l, "```"):
			cur = &docBlock{info: strings.TrimSpace(strings.TrimPrefix(l, "```")), line: i + 1}
		case cur != nil && l == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.body += l + "\n"
		}
	}
	if cur != nil {
		t.Errorf("%s:%d: block not closed", name, cur.line)
	}
	return out
}

// docCommand is one "$ ..." line of a console block and the output the
// page shows for it.
type docCommand struct {
	cmd  string
	want string
	line int
}

func consoleCommands(t *testing.T, name string, b docBlock) []docCommand {
	t.Helper()
	var out []docCommand
	for i, l := range strings.Split(strings.TrimSuffix(b.body, "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "$ "):
			out = append(out, docCommand{cmd: strings.TrimPrefix(l, "$ "), line: b.line + 1 + i})
		case len(out) > 0:
			out[len(out)-1].want += l + "\n"
		default:
			t.Errorf("%s:%d: output before any command", name, b.line+1+i)
		}
	}
	return out
}

// docCounts are what TestDocs checked, for its log and the note.
type docCounts struct{ console, commands, yaml, json, noRun int }

// TestDocs checks every block of every page by the convention above. A
// page that shows output netdep does not print fails here, so the docs
// cannot drift from the program.
func TestDocs(t *testing.T) {
	var total docCounts
	for _, page := range docPages(t) {
		rel, _ := filepath.Rel(root, page)
		t.Run(filepath.ToSlash(rel), func(t *testing.T) {
			c := checkPage(t, page, filepath.ToSlash(rel))
			total.console += c.console
			total.commands += c.commands
			total.yaml += c.yaml
			total.json += c.json
			total.noRun += c.noRun
		})
	}
	t.Logf("docs: %d console blocks run (%d commands), %d yaml and %d json blocks parsed, %d blocks marked no-run",
		total.console, total.commands, total.yaml, total.json, total.noRun)
	// The pages hold at least this much that runs: a page that loses its
	// console blocks (or a convention that stops matching) fails.
	if total.commands < 14 {
		t.Errorf("only %d commands run in the docs, want at least 14", total.commands)
	}
}

// freshClone is what a clone holds that pages use: the examples and the
// test inputs some pages point at.
func freshClone(t *testing.T) string {
	t.Helper()
	clone := t.TempDir()
	copyDir(t, filepath.Join(root, "examples"), filepath.Join(clone, "examples"))
	copyDir(t, filepath.Join(root, "tests", "testdata"), filepath.Join(clone, "tests", "testdata"))
	return clone
}

func checkPage(t *testing.T, page, name string) docCounts {
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	var c docCounts
	clone := ""
	for _, blk := range fencedBlocks(t, name, string(b)) {
		kind, mark, _ := strings.Cut(blk.info, " ")
		switch {
		case mark == "no-run":
			c.noRun++
		case mark != "":
			t.Errorf("%s:%d: unknown mark %q on a %s block (expected no-run)", name, blk.line, mark, kind)
		case kind == "console":
			if clone == "" {
				clone = freshClone(t)
			}
			c.console++
			for _, cmd := range consoleCommands(t, name, blk) {
				c.commands++
				got := runDocCommand(t, clone, cmd.cmd)
				if got != cmd.want {
					t.Errorf("%s:%d: $ %s prints (-page +got):\n%s", name, cmd.line, cmd.cmd, cmp.Diff(cmd.want, got))
				}
			}
		case kind == "yaml":
			c.yaml++
			checkYAMLBlock(t, name, blk, root)
		case kind == "json":
			c.json++
			dec := json.NewDecoder(strings.NewReader(blk.body))
			for dec.More() {
				var v any
				if err := dec.Decode(&v); err != nil {
					t.Errorf("%s:%d: a json block that is not JSON: %v", name, blk.line, err)
					break
				}
			}
		default:
			t.Errorf("%s:%d: a %q block is neither console, yaml nor json: mark it no-run if it is not meant to be checked", name, blk.line, blk.info)
		}
	}
	if name == "docs/adoption.md" {
		checkAdoption(t, clone, string(b))
	}
	// Every relative link names a file of the repository: a page citing a
	// file a clone does not have sends its reader nowhere.
	for _, m := range docLink.FindAllStringSubmatch(string(b), -1) {
		target := m[1]
		if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
			continue
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(page), filepath.FromSlash(target))); err != nil {
			t.Errorf("%s: links to %s, which is not in the repository", name, target)
		}
	}
	return c
}

var docLink = regexp.MustCompile(`\]\(([^)#\s]+)[^)]*\)`)

// TestOtterizeVersionsAgree: the ClientIntents versions docs/adoption.md
// names are the ones `netdep import flows --help` lists.
func TestOtterizeVersionsAgree(t *testing.T) {
	help := run(t, root, "import", "flows", "--help").stdout
	_, list, ok := strings.Cut(help, "ClientIntents (k8s.otterize.com ")
	list, _, _ = strings.Cut(list, ")")
	if !ok || list == "" {
		t.Fatalf("import flows --help names no ClientIntents versions:\n%s", help)
	}
	page, err := os.ReadFile(filepath.Join(root, "docs", "adoption.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(page)), " ")
	want := strings.Split(list, ", ")
	last := want[len(want)-1]
	shown := "k8s.otterize.com " + strings.Join(want[:len(want)-1], ", ") + " and " + last
	if !strings.Contains(text, shown) {
		t.Errorf("docs/adoption.md does not name the versions help lists: want %q", shown)
	}
}

// runDocCommand runs one command of a console block in dir: netdep in
// process, anything else through sh. The output is stdout then stderr.
func runDocCommand(t *testing.T, dir, line string) string {
	t.Helper()
	if args, ok := strings.CutPrefix(line, "netdep "); ok && !strings.ContainsAny(args, "|><;&$'\"`") {
		res := run(t, dir, strings.Fields(args)...)
		return res.stdout + res.stderr
	}
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = dir
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("$ %s: %v", line, err)
		}
	}
	return stdout.String() + stderr.String()
}

func checkYAMLBlock(t *testing.T, name string, blk docBlock, root string) {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(blk.body))
	for {
		var v any
		err := dec.Decode(&v)
		if err != nil {
			if err.Error() != "EOF" {
				t.Errorf("%s:%d: a yaml block that is not YAML: %v", name, blk.line, err)
			}
			break
		}
	}
	first, rest, _ := strings.Cut(blk.body, "\n")
	if p, ok := strings.CutPrefix(first, "# "); ok && !strings.Contains(p, " ") {
		want, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
		if err != nil {
			return // a file the page names but a clone does not hold (a sketch of a user's file)
		}
		if rest != string(want) {
			t.Errorf("%s:%d: the block shows %s as (-file +page):\n%s", name, blk.line, p, cmp.Diff(string(want), rest))
		}
	}
}

// checkAdoption: docs/adoption.md's import writes exactly the committed
// examples/adopt/teams (but for the schema modeline, relative in this
// repository), and the file the page shows is the one written.
func checkAdoption(t *testing.T, clone, page string) {
	t.Helper()
	if clone == "" {
		t.Fatal("docs/adoption.md runs no command")
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
	web, err := os.ReadFile(filepath.Join(clone, "teams", "web.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var shown string
	for _, blk := range fencedBlocks(t, "docs/adoption.md", page) {
		if blk.info == "yaml" {
			shown = blk.body
			break
		}
	}
	if shown != string(web) {
		t.Errorf("docs/adoption.md shows teams/web.yaml as (-page +written):\n%s", cmp.Diff(shown, string(web)))
	}
}
