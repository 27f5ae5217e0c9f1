package app

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/generator/gitrev/gitrevtest"
	"github.com/netdep/netdep/generator/kustomize"
	"github.com/netdep/netdep/tests/synth"
)

// TestDiffSidesConcurrentEqualSequential: `diff --base` runs the base and
// head pipelines concurrently; its stdout, stderr and exit code are the
// same as when the base side runs first and the head after it, between
// revisions, against the working tree, with a committed tree on the base
// only, and when either side fails.
func TestDiffSidesConcurrentEqualSequential(t *testing.T) {
	g := gitrevtest.New(t)
	write := func(seed int64, services int) {
		for _, f := range synth.Org(synth.Options{Services: services, PerNamespace: 5, Seed: seed}) {
			g.Write(filepath.ToSlash(f.Path), string(f.Data))
		}
	}
	write(1, 40)
	out, err := generator.FromFiles(synth.Org(synth.Options{Services: 40, PerNamespace: 5, Seed: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if err := kustomize.Write(filepath.Join(g.Dir, "netpol"), out.Tree, kustomize.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	g.Commit("base")
	g.Tag("v1")
	write(2, 40) // most calls move: a large diff
	g.Commit("head")
	g.Write("org/broken.yaml", "netdep: v1\nnamespace: broken\nservices:\n    svc-x:\n        calls:\n            - no-such-service:http\n")
	g.Commit("broken")
	g.Tag("broken1")
	g.Remove("org/broken.yaml")
	g.Write("org/broken2.yaml", "netdep: v1\nnamespace: broken2\nservices:\n    svc-y:\n        from:\n            - nobody\n")
	g.Commit("broken again, differently")
	g.Remove("org/broken2.yaml")
	write(3, 40) // uncommitted

	t.Chdir(g.Dir)
	run := func(args []string, sequential bool) string {
		t.Helper()
		sequentialDiffSides = sequential
		defer func() { sequentialDiffSides = false }()
		var stdout, stderr bytes.Buffer
		code := Main(args, Streams{In: strings.NewReader(""), Out: &stdout, Err: &stderr})
		return "exit " + string(rune('0'+code)) + "\nstdout:\n" + stdout.String() + "\nstderr:\n" + stderr.String()
	}
	for _, args := range [][]string{
		{"diff", "--base", "v1", "--head", "HEAD~2"},
		{"diff", "--base", "v1", "--head", "HEAD~2", "-o", "json"},
		{"diff", "--base", "HEAD~2", "--head", "v1", "-o", "markdown"},
		{"diff", "--base", "v1", "--head", "HEAD~2", "org"},
		{"diff", "--base", "v1"},                        // the working tree
		{"diff", "--base", "HEAD"},                      // a base that does not parse
		{"diff", "--base", "v1", "--head", "HEAD"},      // a head that does not parse
		{"diff", "--base", "broken1", "--head", "HEAD"}, // both fail: the base's error
		{"diff", "--base", "nosuchref"},                 // a base that does not exist
	} {
		seq, conc := run(args, true), run(args, false)
		if seq != conc {
			t.Errorf("netdep %s: concurrent sides differ from sequential:\n--- sequential\n%s\n--- concurrent\n%s", strings.Join(args, " "), seq, conc)
		}
		want := "exit 1"
		if a := strings.Join(args, " "); a == "diff --base HEAD" || strings.HasSuffix(a, "--head HEAD") || strings.Contains(a, "nosuchref") {
			want = "exit 2" // an error
		}
		if a := strings.Join(args, " "); strings.Contains(a, "broken1") && (!strings.Contains(seq, "broken1:org/broken.yaml") || strings.Contains(seq, "broken2")) {
			t.Errorf("netdep %s: want the base's error only (a sequential run stops there), got\n%s", a, seq)
		}
		if !strings.HasPrefix(seq, want) {
			t.Errorf("netdep %s: want %s, got\n%s", strings.Join(args, " "), want, seq)
		}
	}
}
