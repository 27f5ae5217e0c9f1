package tests

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"

	"github.com/netdep/netdep/generator/gitrev/gitrevtest"
	"github.com/netdep/netdep/generator/importer"
)

// minCatalog is how many distinct mistakes the catalogue must hold at least.
const minCatalog = 40

// TestCatalog is the catalogue of mistakes and hostile input, each with the
// exact text netdep prints for it. Every directory of testdata/catalog is
// one case, run in process as `netdep ARGS`:
//
//	<case>/...           the input files, as the command reads them.
//	<case>/args          the command line after "netdep", split on white
//	                     space; optional. When its first word is a command
//	                     (generate, verify, diff, import, render, graph,
//	                     explain) it is the whole command line; otherwise its
//	                     words are PATH arguments of generate, for files that
//	                     must be named explicitly. Default: the case's
//	                     directory. generate is always given --out $OUT, unless
//	                     the args name --out themselves.
//	                     $OUT stands for a path in a fresh temporary directory
//	                     (it must not exist after a failed run, and nothing may
//	                     appear beside it); $CASE for the case's directory as
//	                     the command sees it; $TMP for a fresh temporary
//	                     directory (for output that is not checked).
//	<case>/git/<commit>/ the case runs at the root of a fresh git repository
//	                     (gitrevtest) holding one commit per directory of git/,
//	                     in lexical order, each the whole tree of its commit;
//	                     git/worktree, if present, is written on top of the
//	                     last commit and not committed. $CASE is then ".".
//	<case>/setup         the name of a function in catalogSetups that adds what
//	                     cannot be committed (a 9 MiB file, symlinks, a mount,
//	                     a git tree git itself refuses to write); optional.
//	                     A case with git/ or setup runs in a temporary copy
//	                     of itself, under its own name.
//	<case>/want.stderr   the exact stderr. In it and in want.stdout, $OUT and
//	                     $RUN (the directory the command ran in) stand for
//	                     the temporary paths.
//	<case>/want.stdout   the exact stdout; optional, default nothing.
//	<case>/want.code     the exit code; optional, default 2.
//	<case>/want.strict.stderr
//	                     makes the case a warning of generate: exit 0, the
//	                     tree written and want.stderr printed (run with
//	                     --quiet); with --strict, exit 2, this stderr and
//	                     nothing written.
//
// A case that exits 2 prints nothing on stdout; its last line is
// "netdep: ..."; when problems come before it, they are sorted by file and
// position and the last line counts them, adding that nothing was written
// if and only if the command writes files (generate, import policies,
// import flows). It leaves the directory it ran in as it was, byte for
// byte, and creates nothing at $OUT. A case of generate that exits 0 writes the tree at $OUT.
//
// The goldens are rewritten with go test ./tests -run TestCatalog -update.
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
		c := loadCase(t, catalog, e.Name())
		switch {
		case c.strict:
			warningCases++
		case c.code == 2:
			errorCases++
		}
		t.Run(c.name, c.run)
	}
	if errorCases < minCatalog {
		t.Errorf("the catalogue holds %d error cases, want at least %d", errorCases, minCatalog)
	}
	if warningCases == 0 {
		t.Errorf("the catalogue holds no warning case")
	}
}

// catalogCase is one directory of the catalogue.
type catalogCase struct {
	name, dir string   // the case's name and its directory in testdata
	args      []string // the command line, placeholders unexpanded
	setup     string
	git       bool
	code      int
	strict    bool // a warning case
}

// commands are the first words that make args a whole command line.
var commands = []string{"generate", "verify", "diff", "import", "render", "graph", "explain"}

func loadCase(t *testing.T, catalog, name string) catalogCase {
	t.Helper()
	c := catalogCase{name: name, dir: filepath.Join(catalog, name), code: 2}
	c.args = []string{"generate", "$CASE"}
	if b, err := os.ReadFile(filepath.Join(c.dir, "args")); err == nil {
		words := strings.Fields(string(b))
		if len(words) > 0 && slices.Contains(commands, words[0]) {
			c.args = words
		} else {
			c.args = append([]string{"generate"}, words...)
		}
	}
	if c.args[0] == "generate" && !slices.Contains(c.args, "--out") {
		c.args = append([]string{"generate", "--out", "$OUT"}, c.args[1:]...)
	}
	if b, err := os.ReadFile(filepath.Join(c.dir, "setup")); err == nil {
		c.setup = strings.TrimSpace(string(b))
	}
	if fi, err := os.Stat(filepath.Join(c.dir, "git")); err == nil && fi.IsDir() {
		c.git = true
	}
	if b, err := os.ReadFile(filepath.Join(c.dir, "want.code")); err == nil {
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatalf("%s/want.code: %v", name, err)
		}
		c.code = n
	}
	if _, err := os.Stat(filepath.Join(c.dir, "want.strict.stderr")); err == nil {
		c.strict, c.code = true, 0
	}
	return c
}

// caseRun is where one case runs.
type caseRun struct {
	dir  string // the directory the command runs in
	self string // $CASE
	out  string // $OUT
	repo *gitrevtest.Repo
}

// caseFiles are the files of a case directory that are not its input.
func caseFile(rel string) bool {
	return rel == "args" || rel == "setup" || strings.HasPrefix(rel, "want.") || rel == "git" || strings.HasPrefix(rel, "git/")
}

func (c catalogCase) prepare(t *testing.T) *caseRun {
	t.Helper()
	r := &caseRun{dir: filepath.Dir(c.dir), self: c.name, out: filepath.Join(t.TempDir(), "netpol")}
	if c.git {
		r.repo = gitrevtest.New(t)
		r.dir, r.self = r.repo.Dir, "."
		commits, err := os.ReadDir(filepath.Join(c.dir, "git"))
		if err != nil {
			t.Fatal(err)
		}
		for _, commit := range commits {
			if commit.Name() == "worktree" {
				continue
			}
			clearWorktree(t, r.repo.Dir)
			copyInputs(t, filepath.Join(c.dir, "git", commit.Name()), r.repo.Dir, nil)
			r.repo.Commit(commit.Name())
		}
		if _, err := os.Stat(filepath.Join(c.dir, "git", "worktree")); err == nil {
			copyInputs(t, filepath.Join(c.dir, "git", "worktree"), r.repo.Dir, nil)
		}
	} else if c.setup != "" {
		r.dir = t.TempDir()
		copyInputs(t, c.dir, filepath.Join(r.dir, c.name), caseFile)
	}
	if c.setup != "" {
		fn, ok := catalogSetups[c.setup]
		if !ok {
			t.Fatalf("setup %q is not in catalogSetups", c.setup)
		}
		fn(t, r)
	}
	return r
}

func (r *caseRun) expand(t *testing.T, args []string, extra ...string) []string {
	out := []string{args[0]}
	out = append(out, extra...)
	for _, a := range args[1:] {
		a = strings.ReplaceAll(a, "$OUT", r.out)
		a = strings.ReplaceAll(a, "$CASE", r.self)
		if strings.Contains(a, "$TMP") {
			a = strings.ReplaceAll(a, "$TMP", t.TempDir())
		}
		out = append(out, a)
	}
	return out
}

// unexpand writes $OUT and $RUN back into what a run printed, so goldens
// hold no temporary paths.
func (r *caseRun) unexpand(res result) result {
	for _, s := range []*string{&res.stdout, &res.stderr} {
		*s = strings.ReplaceAll(*s, r.out, "$OUT")
		*s = strings.ReplaceAll(*s, r.dir, "$RUN")
	}
	return res
}

func (c catalogCase) run(t *testing.T) {
	r := c.prepare(t)
	if c.strict {
		res := r.unexpand(run(t, r.dir, r.expand(t, c.args, "--quiet")...))
		if res.code != 0 {
			t.Errorf("exit code = %d, want 0 (warnings only)", res.code)
		}
		if !strings.Contains(res.stderr, "warning: ") {
			t.Errorf("no warning printed")
		}
		checkCaseGolden(t, filepath.Join(c.dir, "want.stderr"), res.stderr)
		if _, err := os.Stat(filepath.Join(r.out, "base", "kustomization.yaml")); err != nil {
			t.Errorf("warnings stopped the write: %v", err)
		}
		r.out = filepath.Join(t.TempDir(), "netpol")
		before := snapshot(t, r.dir)
		res = r.unexpand(run(t, r.dir, r.expand(t, c.args, "--strict")...))
		expectFailure(t, res, c.writes(), r.out)
		checkCaseGolden(t, filepath.Join(c.dir, "want.strict.stderr"), res.stderr)
		expectUnchanged(t, before, r.dir)
		return
	}
	before := snapshot(t, r.dir)
	res := r.unexpand(run(t, r.dir, r.expand(t, c.args)...))
	if res.code != c.code {
		t.Errorf("exit code = %d, want %d", res.code, c.code)
	}
	checkCaseGolden(t, filepath.Join(c.dir, "want.stderr"), res.stderr)
	if _, err := os.Stat(filepath.Join(c.dir, "want.stdout")); err == nil || (*update && res.stdout != "") {
		checkCaseGolden(t, filepath.Join(c.dir, "want.stdout"), res.stdout)
	} else if res.stdout != "" {
		t.Errorf("stdout = %q, want nothing (or a want.stdout)", res.stdout)
	}
	if res.code == 2 {
		expectFailure(t, res, c.writes(), r.out)
		expectUnchanged(t, before, r.dir)
		if strings.Contains(res.stderr, "warning: ") {
			t.Errorf("warnings printed with errors:\n%s", res.stderr)
		}
	}
	if res.code == 0 && c.args[0] == "generate" && slices.Contains(c.args, "$OUT") {
		if _, err := os.Stat(filepath.Join(r.out, "base", "kustomization.yaml")); err != nil {
			t.Errorf("the tree was not written: %v", err)
		}
	}
}

// writes says whether the case's command writes files, so that a failure
// says nothing was written.
func (c catalogCase) writes() bool {
	switch c.args[0] {
	case "generate":
		return true
	case "import":
		return len(c.args) > 1 && (c.args[1] == "policies" || c.args[1] == "flows")
	}
	return false
}

// expectFailure checks what every failed run promises: exit 2, nothing on
// stdout, a last line from netdep, problems before it sorted by file and
// position and counted (saying nothing was written when the command writes
// and only then), and no output directory (nor a temporary one beside it).
func expectFailure(t *testing.T, res result, writes bool, out string) {
	t.Helper()
	if res.code != 2 {
		t.Errorf("exit code = %d, want 2", res.code)
	}
	if res.stdout != "" {
		t.Errorf("stdout = %q, want nothing", res.stdout)
	}
	lines := strings.Split(strings.TrimSuffix(res.stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "netdep: ") {
		t.Errorf("last line = %q, want netdep's own", last)
	}
	if len(lines) > 1 && !strings.HasPrefix(lines[len(lines)-2], "Run 'netdep") {
		switch count := regexp.MustCompile(`^netdep: \d+ errors?(, nothing written)?$`).FindStringSubmatch(last); {
		case count == nil:
			t.Errorf("last line = %q, want the count of errors", last)
		case writes && count[1] == "":
			t.Errorf("last line = %q, want it to say nothing was written", last)
		case !writes && count[1] != "":
			t.Errorf("last line = %q: the command writes nothing, so it need not say so", last)
		}
		if !sortedProblems(lines[:len(lines)-1]) {
			t.Errorf("problems not sorted by file and position:\n%s", res.stderr)
		}
	}
	if _, err := os.Lstat(out); !os.IsNotExist(err) {
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
	lines = slices.DeleteFunc(slices.Clone(lines), func(l string) bool { return strings.HasPrefix(l, "netdep: ") })
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

// snapshot records every entry under dir: a file's bytes, a link's target,
// a directory's existence, and every mode.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			snap[rel] = "link " + target
		case d.IsDir():
			snap[rel] = "dir " + info.Mode().String()
		case info.Size() > 1<<20:
			snap[rel] = fmt.Sprintf("file %s %d bytes", info.Mode(), info.Size()) // the big inputs of setups
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			snap[rel] = "file " + info.Mode().String() + " " + string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot of %s: %v", dir, err)
	}
	return snap
}

func expectUnchanged(t *testing.T, before map[string]string, dir string) {
	t.Helper()
	if d := cmp.Diff(before, snapshot(t, dir)); d != "" {
		t.Errorf("a failed run changed %s (-before +after):\n%s", dir, d)
	}
}

// copyInputs copies the tree at from to to, leaving out what skip names
// (slash paths relative to from).
func copyInputs(t *testing.T, from, to string, skip func(rel string) bool) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return os.MkdirAll(to, 0o755)
		}
		if skip != nil && skip(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		dst := filepath.Join(to, filepath.FromSlash(rel))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// clearWorktree removes everything in a repository's working tree but .git.
func clearWorktree(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == ".git" {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
}

// catalogSetups build the inputs of cases that cannot be committed as they
// are. Each gets the case's temporary copy (r.dir/r.self) or, in a git
// case, the repository with the case's commits made.
var catalogSetups = map[string]func(t *testing.T, r *caseRun){
	// CRLF line ends and a byte order mark, which git might rewrite.
	"bom-and-crlf": func(t *testing.T, r *caseRun) {
		catalogWrite(t, r.dir, r.self+"/deps.yaml", "\xef\xbb\xbf"+strings.ReplaceAll(catalogDeps, "\n", "\r\n"))
	},
	"symlink-loop": func(t *testing.T, r *caseRun) {
		catalogSymlink(t, "..", filepath.Join(r.dir, r.self, "parent"))
		catalogSymlink(t, "b.yaml", filepath.Join(r.dir, r.self, "a.yaml"))
		catalogSymlink(t, "a.yaml", filepath.Join(r.dir, r.self, "b.yaml"))
	},
	"symlink-out-of-the-tree": func(t *testing.T, r *caseRun) {
		catalogWrite(t, r.dir, "secret/other.yaml", "netdep: v1\nnamespace: other\nservices:\n  x: {ports: {http: 80}}\n")
		catalogSymlink(t, filepath.Join(r.dir, "secret", "other.yaml"), filepath.Join(r.dir, r.self, "other.yaml"))
		catalogSymlink(t, "../secret", filepath.Join(r.dir, r.self, "secret"))
	},
	// One byte over the limit: the file is named, so it must be a netdep
	// file, and it is not read past the limit.
	"file-too-large": func(t *testing.T, r *caseRun) {
		pad := 8<<20 - len(catalogDeps) - len("# \n") + 1
		catalogWrite(t, r.dir, r.self+"/deps.yaml", catalogDeps+"# "+strings.Repeat("x", pad)+"\n")
	},
	// Values of megabytes: a message repeats the first characters of each
	// and its length, never the whole.
	"long-values": func(t *testing.T, r *caseRun) {
		long := func(c string, n int) string { return strings.Repeat(c, n) }
		catalogWrite(t, r.dir, r.self+"/namespace.yaml", "netdep: v1\nnamespace: \""+long("a", 7_000_000)+"\"\n")
		catalogWrite(t, r.dir, r.self+"/service.yaml", "netdep: v1\nnamespace: shop\nservices:\n  ? "+long("s", 3000)+"\n  : {ports: {grpc: [7070]}}\n  cart:\n    calls: [\""+long("b", 7_000_000)+"\", 999999999999999999999"+long("9", 3000)+"]\n")
	},
	// Revisions whose trees hold entries git never writes: each is named,
	// rather than read as if sound ("directory not found").
	"git-tree-dotdot":    hostileTree(object.TreeEntry{Name: "..", Mode: filemode.Dir}),
	"git-tree-dot":       hostileTree(object.TreeEntry{Name: ".", Mode: filemode.Regular}),
	"git-tree-dotgit":    hostileTree(object.TreeEntry{Name: ".GIT", Mode: filemode.Dir}),
	"git-tree-duplicate": hostileTree(object.TreeEntry{Name: "shop.yaml", Mode: filemode.Regular}),
	// A revision holding a blob of 9 MiB that claims to be a netdep file,
	// and 20 MiB of files beside it that do not: the first is one error,
	// read no further than the limit, the others are not read at all.
	"git-large-blobs": func(t *testing.T, r *caseRun) {
		r.repo = gitrevtest.New(t)
		r.dir, r.self = r.repo.Dir, "."
		r.repo.Write("teams/shop.yaml", catalogDeps)
		r.repo.Write("teams/generated.yaml", "netdep: v1\n"+strings.Repeat("# generated\n", 9<<20/12))
		r.repo.Write("teams/dump.yaml", strings.Repeat("kind: ConfigMap\n", 10<<20/16))
		r.repo.Write("teams/dump.bin", strings.Repeat("\x00binary", 10<<20/7))
		r.repo.Commit("large files")
		r.repo.Remove("teams/generated.yaml")
	},
	// A committed tree at the base revision holding a file larger than
	// any generate writes: refused before it is copied out of the
	// revision, naming it in git's notation.
	"git-tree-large-file": func(t *testing.T, r *caseRun) {
		r.repo = gitrevtest.New(t)
		r.dir, r.self = r.repo.Dir, "."
		r.repo.Write("teams/shop.yaml", catalogDeps)
		r.repo.Write("netpol/.netdep-tree", "# Code generated by netdep. DO NOT EDIT.\n")
		r.repo.Write("netpol/base/huge.yaml", strings.Repeat("# padding\n", 9<<20/10))
		r.repo.Commit("a huge file in the tree")
	},
	// An output directory holding only placeholders, so that git keeps
	// it: as good as empty.
	"placeholders": func(t *testing.T, r *caseRun) {
		catalogWrite(t, r.dir, r.self+"/netpol/.gitkeep", "")
		catalogWrite(t, r.dir, r.self+"/netpol/overlays/prod/.gitkeep", "# keep this directory\n")
		if err := os.MkdirAll(filepath.Join(r.dir, r.self, "netpol", "base"), 0o755); err != nil {
			t.Fatal(err)
		}
	},
	// A repository's metadata directory beside the input.
	"dot-git": func(t *testing.T, r *caseRun) {
		catalogWrite(t, r.dir, r.self+"/.git/HEAD", "ref: refs/heads/main\n")
		catalogWrite(t, r.dir, r.self+"/.git/refs/heads/main", "0000000000000000000000000000000000000000\n")
		if err := os.MkdirAll(filepath.Join(r.dir, r.self, ".git", "objects"), 0o755); err != nil {
			t.Fatal(err)
		}
	},
	// A flow one byte longer than a flow line may be: refused at its
	// start, not read to its end.
	"flow-line-too-long": func(t *testing.T, r *caseRun) {
		catalogWrite(t, r.dir, r.self+"/flows.json", `{"flow":{"verdict":"FORWARDED","summary":"`+strings.Repeat("a", importer.MaxFlowLine)+"\"}}\n")
	},
	// A generated manifest of many megabytes beside the dependency files:
	// no netdep: line, so it is not netdep's business.
	"large-foreign-file": func(t *testing.T, r *caseRun) {
		catalogWrite(t, r.dir, r.self+"/generated.yaml", "kind: List\nitems:\n"+strings.Repeat("- {kind: ConfigMap}\n", 500_000))
	},
}

// hostileTree commits, on top of a sound first commit, a tree whose
// teams/ directory holds shop.yaml and bad, an entry no git command
// writes; the working tree stays the sound one.
func hostileTree(bad object.TreeEntry) func(t *testing.T, r *caseRun) {
	return func(t *testing.T, r *caseRun) {
		r.repo = gitrevtest.New(t)
		r.dir, r.self = r.repo.Dir, "."
		r.repo.Write("teams/shop.yaml", catalogDeps)
		r.repo.Commit("sound")
		blob := r.repo.Blob(catalogDeps)
		switch bad.Mode {
		case filemode.Dir:
			bad.Hash = r.repo.Tree(object.TreeEntry{Name: "x.yaml", Mode: filemode.Regular, Hash: blob})
		default:
			bad.Hash = blob
		}
		entries := []object.TreeEntry{{Name: "shop.yaml", Mode: filemode.Regular, Hash: blob}, bad}
		slices.SortStableFunc(entries, func(a, b object.TreeEntry) int { return strings.Compare(a.Name, b.Name) }) // go-git's Encode wants them sorted
		teams := r.repo.Tree(entries...)
		r.repo.CommitTree("hostile", r.repo.Tree(object.TreeEntry{Name: "teams", Mode: filemode.Dir, Hash: teams}))
	}
}

// catalogDeps is a small valid dependency file for setups.
const catalogDeps = "netdep: v1\nnamespace: shop\nservices:\n  cart:\n    ports: {grpc: 7070}\n"

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
