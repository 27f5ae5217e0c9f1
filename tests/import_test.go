package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/generator/importer"
)

// TestImportPolicies runs every case of testdata/import that has a
// manifests directory: `netdep import policies --manifests manifests --out
// teams` (plus the flags in the case's args file) in a copy of the case, as a
// user would in their own checkout. The written files and the report are
// goldens. Then the rule of the import: its report is what `netdep verify
// teams --manifests manifests` says about the same files, line for line
// (the verdict and every difference with verify's reason), and every
// difference has a reason the import means.
func TestImportPolicies(t *testing.T) {
	root := repoRoot(t)
	cases := importCases(t, root, "manifests")
	if len(cases) < 12 {
		t.Errorf("%d import cases, want at least 12 (one per finding of the adoption issue)", len(cases))
	}
	for _, name := range cases {
		t.Run(name, func(t *testing.T) {
			caseDir := filepath.Join(root, "tests", "testdata", "import", name)
			work := t.TempDir()
			copyDir(t, filepath.Join(caseDir, "manifests"), filepath.Join(work, "manifests"))
			flags := caseArgs(t, caseDir)
			res := run(t, work, append([]string{"import", "policies", "--manifests", "manifests", "--out", "teams"}, flags...)...)
			if res.code != 0 {
				t.Fatalf("exit %d:\n%s", res.code, res.stderr)
			}
			checkGolden(t, "import/"+name+"/report.txt", res.stderr)
			got := readTree(t, filepath.Join(work, "teams"))
			golden := filepath.Join(caseDir, "want")
			if *update {
				writeTree(t, golden, got)
			}
			compareTrees(t, readTree(t, golden), got, golden)
			if strings.Contains(res.stderr, "not expected") {
				t.Errorf("a difference without a reason:\n%s", res.stderr)
			}

			t.Chdir(work)
			gen, err := generator.FromPaths([]string{"teams"})
			if err != nil {
				t.Fatalf("the imported files do not generate: %v", err)
			}
			if len(gen.Warnings) > 0 {
				t.Errorf("generating the imported files warns: %v", gen.Warnings)
			}
			var vflags []string
			for i, f := range flags {
				if f == "--namespace" && i+1 < len(flags) {
					vflags = append(vflags, f, flags[i+1])
				}
			}
			v := run(t, work, append([]string{"verify", "teams", "--manifests", "manifests"}, vflags...)...)
			if v.code != 0 && v.code != 1 {
				t.Fatalf("verify: exit %d\n%s", v.code, v.stderr)
			}
			verdict, vdiffs := verifyText(v.stdout)
			summary := ""
			for _, line := range strings.Split(res.stderr, "\n") {
				if rest, ok := strings.CutPrefix(line, "netdep verify teams --manifests manifests"); ok {
					_, summary, _ = strings.Cut(rest, ": ")
				}
			}
			if summary != verdict {
				t.Errorf("the import says %q, netdep verify --manifests says %q", summary, verdict)
			}
			if diff := cmp.Diff(vdiffs, reportDifferences(res.stderr)); diff != "" {
				t.Errorf("the report's differences and netdep verify --manifests's disagree (-verify +report):\n%s", diff)
			}
			if (v.code == 0) != (summary != "" && strings.HasPrefix(summary, "exact")) {
				t.Errorf("verify exits %d, the import says %q", v.code, summary)
			}
		})
	}
}

// importCases are the cases of testdata/import holding entry.
func importCases(t *testing.T, root, entry string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "tests", "testdata", "import"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(root, "tests", "testdata", "import", e.Name(), entry)); err == nil {
			out = append(out, e.Name())
		}
	}
	return out
}

// caseArgs are the extra flags in a case's args file, if any.
func caseArgs(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "args"))
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}

// verifyText splits verify's text output for one environment into its
// verdict (after the environment's name) and its differences, each as its
// two lines, sorted.
func verifyText(out string) (string, []string) {
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	_, verdict, _ := strings.Cut(lines[0], ": ")
	var diffs []string
	// Headings (directions, policies) and the closing count stand between
	// them; a difference is its line and the reason below it.
	for i := 1; i+1 < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "missing ") || strings.HasPrefix(l, "excess ") {
			diffs = append(diffs, l+"\n"+strings.TrimSpace(lines[i+1]))
			i++
		}
	}
	sort.Strings(diffs)
	return verdict, diffs
}

// reportDifferences are the differences an import report lists under its
// reasons, in verifyText's form.
func reportDifferences(report string) []string {
	lines := strings.Split(report, "\n")
	var diffs []string
	for i := 0; i+1 < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "  missing  ") || strings.HasPrefix(l, "  excess   ") {
			diffs = append(diffs, strings.TrimSpace(l)+"\n"+strings.TrimSpace(lines[i+1]))
			i++
		}
	}
	sort.Strings(diffs)
	return diffs
}

// TestImportFlows imports Hubble flow logs and Otterize intents, compares
// the files with goldens, and checks the round trip: the observations the
// files were built from show no drift against them.
func TestImportFlows(t *testing.T) {
	root := repoRoot(t)
	for _, tc := range []struct {
		name  string
		dir   string // the case's directory, when not name
		args  []string
		drift bool // every observation has a port: drift must be clean
	}{
		{name: "hubble", args: []string{"tests/testdata/import/hubble/flows.json", "--unmanaged", "kube-system,ingress-nginx"}, drift: true},
		{name: "otterize", args: []string{"tests/testdata/import/otterize/intents.yaml", "--manifests", "tests/testdata/import/otterize/workloads.yaml"}},
		// Two Deployments share an app label: each is its own service,
		// named after its workload; node traffic is not a health probe.
		{name: "hubble-workloads", args: []string{"tests/testdata/import/hubble-workloads/flows.json", "--manifests", "tests/testdata/import/hubble-workloads/workloads.yaml"}, drift: true},
		{name: "hubble-workloads-no-manifests", dir: "hubble-workloads", args: []string{"tests/testdata/import/hubble-workloads/flows.json"}, drift: true},
		// Every target becomes a call or a note: a Service's target port,
		// HTTP and Kafka intents as L4 calls, malformed and non-network
		// targets listed.
		{name: "otterize-targets", args: []string{"tests/testdata/import/otterize-targets/intents.yaml", "--manifests", "tests/testdata/import/otterize-targets/workloads.yaml"}},
		{name: "otterize-targets-no-manifests", dir: "otterize-targets", args: []string{"tests/testdata/import/otterize-targets/intents.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "teams")
			res := run(t, root, append([]string{"import", "flows", "--out", out}, tc.args...)...)
			if res.code != 0 {
				t.Fatalf("exit %d:\n%s", res.code, res.stderr)
			}
			dir, suffix := tc.name, ""
			if tc.dir != "" {
				dir, suffix = tc.dir, strings.TrimPrefix(tc.name, tc.dir)
			}
			checkGolden(t, "import/"+dir+"/report"+suffix+".txt", res.stderr)
			got := readTree(t, out)
			golden := filepath.Join(root, "tests/testdata/import", dir, "want"+suffix)
			if *update {
				writeTree(t, golden, got)
			}
			compareTrees(t, readTree(t, golden), got, golden)
			if _, err := generator.FromPaths([]string{out}); err != nil {
				t.Fatalf("the imported files do not generate: %v", err)
			}
			if tc.drift {
				// Only the flows that were dropped where they were seen may
				// be undeclared: the import leaves them out on purpose.
				d := run(t, root, "import", "drift", "--observed", tc.args[0], "-o", "json", out)
				var reports []importer.DriftReport
				if err := json.Unmarshal([]byte(d.stdout), &reports); err != nil || len(reports) != 1 {
					t.Fatalf("drift: exit %d, %v\n%s%s", d.code, err, d.stdout, d.stderr)
				}
				if len(reports[0].Unused) > 0 {
					t.Errorf("declared but not observed: %+v", reports[0].Unused)
				}
				for _, u := range reports[0].Undeclared {
					if !u.Dropped {
						t.Errorf("observed but not declared: %+v", u)
					}
				}
			}
		})
	}
}

// TestImportDrift: declared-but-unused and used-but-undeclared dependencies,
// exit 1.
func TestImportDrift(t *testing.T) {
	root := repoRoot(t)
	for _, format := range []string{"text", "json"} {
		res := run(t, root, "import", "drift", "--observed", "tests/testdata/import/hubble/flows.json",
			"-o", format, "tests/testdata/import/drift/teams")
		if res.code != 1 {
			t.Errorf("%s: exit %d, want 1\n%s", format, res.code, res.stderr)
		}
		checkGolden(t, "import/drift/report."+format, res.stdout)
	}
}

// TestImportRefusesToOverwrite: an existing file is left alone without
// --force, and nothing else is written either.
func TestImportRefusesToOverwrite(t *testing.T) {
	root := repoRoot(t)
	out := filepath.Join(t.TempDir(), "teams")
	args := []string{"import", "policies", "--manifests", "tests/testdata/import/cross-namespace/manifests", "--out", out}
	if res := run(t, root, args...); res.code != 0 {
		t.Fatalf("first import: exit %d\n%s", res.code, res.stderr)
	}
	edited := []byte("# edited by hand\nnetdep: v1\nnamespace: payments\n")
	if err := os.WriteFile(filepath.Join(out, "payments.yaml"), edited, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(out, "storefront.yaml")); err != nil {
		t.Fatal(err)
	}
	before := readTree(t, out)
	res := run(t, root, args...)
	if res.code != 2 || !strings.Contains(res.stderr, "would overwrite") || !strings.Contains(res.stderr, "--force") {
		t.Errorf("second import: exit %d, stderr %q; want 2 and a hint at --force", res.code, res.stderr)
	}
	compareTrees(t, before, readTree(t, out), "the files before the refused import")
	if res := run(t, root, append(args, "--force")...); res.code != 0 {
		t.Fatalf("--force: exit %d\n%s", res.code, res.stderr)
	}
	if got := readTree(t, out)["payments.yaml"]; string(got) == string(edited) {
		t.Errorf("--force left payments.yaml as it was")
	}
}
